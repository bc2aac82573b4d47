import ArchiveCore
import Crypto
import Foundation
import Testing
import TestSupport

/// Encrypted rooms made by the seeder with vodozemac (an independent megolm implementation), a key backup
/// behind secret storage (alice) and a legacy passphrase backup (carol), and a key-export file.
@Suite(.serialized) struct E2ETests {
    /// Writes a secret to a 0600 file of the archive's folder and returns its path.
    func secretFile(_ archive: Archive, _ name: String, _ text: String) throws -> String {
        let url = archive.store.deletingLastPathComponent().appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data((text + "\n").utf8),
                                       attributes: [.posixPermissions: 0o600])
        return url.path
    }

    /// The truth file's `e2e` section at `path`.
    func e2e(_ seed: Seed, _ path: String...) -> JSONValue? { e2e(seed, path) }

    func e2e(_ seed: Seed, _ path: [String]) -> JSONValue? {
        path.reduce(seed.json["e2e"]) { $0?[$1] }
    }

    func string(_ seed: Seed, _ path: String...) -> String { e2e(seed, path)?.stringValue ?? "" }

    /// Timeline items by event id.
    func items(_ archive: Archive, _ room: String) throws -> [String: JSONValue] {
        Dictionary(try archive.events(room).map { ($0["event_id"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every message of the room as the seeder's plaintext truth says, but for events of `waiting` sessions,
    /// which must still wait with `waitingStatus`.
    func expectMatchesTruth(_ byID: [String: JSONValue], seed: Seed, roomKey: String, waiting: Set<String> = [],
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let truth = try seed.messages(roomKey)
        #expect(truth.count >= 2000 || roomKey != "encrypted", sourceLocation: sourceLocation)
        var checked = 0
        for message in truth {
            let id = message["event_id"]?.stringValue ?? ""
            guard let item = byID[id] else { Issue.record("missing \(id)", sourceLocation: sourceLocation); continue }
            if message["redacted"] == .bool(true) {
                #expect(item["redacted"] == true, "\(id) redacted", sourceLocation: sourceLocation)
                #expect(item["content"] == .object([:]), "\(id) keeps content after redaction", sourceLocation: sourceLocation)
                continue
            }
            if let session = message["session_id"]?.stringValue, waiting.contains(session) {
                #expect(item["decryption"] == "missing_key", "\(id) should wait for its key", sourceLocation: sourceLocation)
                #expect(item["type"] == "m.room.encrypted", sourceLocation: sourceLocation)
                continue
            }
            checked += 1
            #expect(item["decryption"] == "ok", "\(id) decryption \(item["decryption"] ?? .null)", sourceLocation: sourceLocation)
            #expect(item["type"] == "m.room.message", "\(id) type", sourceLocation: sourceLocation)
            #expect(item.value(at: "content", "body") == message["body"], "\(id) body", sourceLocation: sourceLocation)
            #expect(item["edited"] == message["edited"], "\(id) edited", sourceLocation: sourceLocation)
            #expect(item["replaced_by"] == message["replaced_by"], "\(id) replaced_by", sourceLocation: sourceLocation)
            #expect(Set(item["edits"]?.arrayValue ?? []) == Set(message["edits"]?.arrayValue ?? []), "\(id) edits",
                    sourceLocation: sourceLocation)
            #expect(item["reactions"] == message["reactions"], "\(id) reactions", sourceLocation: sourceLocation)
            #expect(item["in_reply_to"] == message["in_reply_to"], "\(id) in_reply_to", sourceLocation: sourceLocation)
            #expect(item["thread_root"] == message["thread_root"], "\(id) thread_root", sourceLocation: sourceLocation)
        }
        #expect(checked > 0 || !waiting.isEmpty, sourceLocation: sourceLocation)
        if waiting.isEmpty {
            for (root, summary) in try seed.room(roomKey)["threads"]?.objectValue ?? [:] {
                #expect(byID[root]?["thread"] == summary, "thread \(root)", sourceLocation: sourceLocation)
            }
        }
    }

    /// The backup opened through secret storage with the recovery key decrypts all but the one session it
    /// lacks; the key-export file brings that one; wrong keys change nothing.
    @Test func recoveryKeyThenKeyExportFileDecryptTheWholeRoom() async throws {
        let archive = try Archive.loggedIn(as: "alice")
        let seed = archive.seed
        let room = try seed.roomID("encrypted")
        let missing = string(seed, "encrypted", "missing_session_id")
        #expect(!missing.isEmpty)
        let firstSync = try archive.sync(["--room", room, "--from-start"])
        #expect(try SchemaValidator.errors(firstSync.lines, schema: "sync-result.schema.json") == [])
        #expect((firstSync.jsonLines.first?["rooms"]?.arrayValue?.first?["waiting_for_keys"]?.int64Value ?? 0) >= 2000)

        // Nothing decrypts yet: every message waits for its key.
        var byID = try items(archive, room)
        let sessions = Set(try seed.messages("encrypted").compactMap { $0["session_id"]?.stringValue })
        #expect(sessions.count >= 5)
        try expectMatchesTruth(byID, seed: seed, roomKey: "encrypted", waiting: sessions)
        let before = try archive.eventLines(room)

        // Wrong inputs: a clear error, exit 1, and nothing archived changes.
        let badParity = try archive.run(["keys", "backup", "--recovery-key-file",
                                         try secretFile(archive, "bad", string(seed, "wrong", "recovery_key_bad_parity"))])
        #expect(badParity.status == 1)
        #expect(badParity.stderr.contains("parity"), "\(badParity.stderr)")
        // A secret file others can read is used, with a warning.
        let readable = try secretFile(archive, "readable", string(seed, "wrong", "recovery_key_bad_parity"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: readable)
        let warned = try archive.run(["keys", "backup", "--recovery-key-file", readable])
        #expect(warned.status == 1)
        #expect(warned.stderr.contains("can be read by other users"), "\(warned.stderr)")
        #expect(!badParity.stderr.contains("can be read by other users"))
        let unrelated = try archive.run(["keys", "backup", "--recovery-key-file",
                                         try secretFile(archive, "unrelated", string(seed, "wrong", "recovery_key_unrelated"))])
        #expect(unrelated.status == 1)
        #expect(unrelated.stderr.contains("neither unlocks secret storage"), "\(unrelated.stderr)")
        let wrongPassphrase = try archive.run(["keys", "backup", "--passphrase-file",
                                               try secretFile(archive, "wrongpass", string(seed, "wrong", "passphrase"))])
        #expect(wrongPassphrase.status == 1)
        #expect(wrongPassphrase.stderr.contains("wrong passphrase"), "\(wrongPassphrase.stderr)")
        #expect(try archive.eventLines(room) == before)
        #expect(try archive.run(["status", "--json"]).jsonLines.first?.value(at: "rooms")?.arrayValue?
            .first { $0["room_id"] == .string(room) }?.value(at: "decryption", "ok") == 0)

        // The recovery key opens secret storage, which holds the backup key.
        let backup = try archive.run(["keys", "backup", "--json", "--recovery-key-file",
                                      try secretFile(archive, "recovery", string(seed, "modern", "recovery_key"))])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(try SchemaValidator.errors(backup.lines, schema: "keys-report.schema.json") == [])
        let report = backup.jsonLines.first
        #expect(report?["rejected"] == .array([]))
        #expect(report?["sessions_added"] == .int(Int64(sessions.count - 1)))
        byID = try items(archive, room)
        try expectMatchesTruth(byID, seed: seed, roomKey: "encrypted", waiting: [missing])

        // status names the session the rest waits for.
        let status = try archive.run(["status", "--json"])
        #expect(try SchemaValidator.errors(status.lines, schema: "status.schema.json") == [])
        let decryption = status.jsonLines.first?.value(at: "rooms")?.arrayValue?
            .first { $0["room_id"] == .string(room) }?["decryption"]
        #expect(decryption?["waiting_sessions"]?.arrayValue?.compactMap { $0["session_id"]?.stringValue } == [missing])

        // The key-export file: a wrong passphrase is refused; the right one brings the last session.
        let exportPath = string(seed, "key_export", "path")
        let wrongExport = try archive.run(["keys", "import", exportPath, "--passphrase-file",
                                           try secretFile(archive, "wrongexport", "not the passphrase")])
        #expect(wrongExport.status == 1)
        #expect(wrongExport.stderr.contains("wrong passphrase"), "\(wrongExport.stderr)")
        let imported = try archive.run(["keys", "import", exportPath, "--passphrase-file",
                                        try secretFile(archive, "export", string(seed, "key_export", "passphrase"))])
        #expect(imported.status == 0, "\(imported.stderr)")
        byID = try items(archive, room)
        try expectMatchesTruth(byID, seed: seed, roomKey: "encrypted")
        let lines = try archive.eventLines(room)
        #expect(try SchemaValidator.errors(lines, schema: "event.schema.json") == [])

        // Decrypted text is searchable once indexed.
        let sample = try seed.messages("encrypted").first {
            $0["redacted"] != .bool(true) && $0["edited"] != .bool(true)
                && ($0["body"]?.stringValue?.split(separator: " ").count ?? 0) >= 3
        }
        if let sample, let body = sample["body"]?.stringValue {
            // The words of the message as a phrase (emoji and punctuation are not indexed terms).
            let words = body.split { !$0.isLetter && !$0.isNumber }.joined(separator: " ")
            let search = try archive.run(["search", "--json", "--limit", "100", "\"\(words)\""])
            #expect(search.status == 0, "\(search.stderr)")
            #expect(search.stdout.contains(sample["event_id"]?.stringValue ?? "?"), "search for a decrypted message")
        }
        // The encrypted image and its thumbnail: downloaded, hash-checked, decrypted to the seeder's bytes.
        let media = try archive.run(["sync", "--room", room, "--media", "--json"])
        // Nothing waits for keys any more (the key-export file had the session the backup lacks), but this
        // is the first sync since the import: its sender-key check finds the seeded impersonation (one event
        // bob sent in alice's session), a warning of this run, so the run is done with warnings.
        #expect(media.status == 3, "\(media.stderr)")
        #expect(media.stderr.contains("another user's device"), "\(media.stderr)")
        #expect(!media.stderr.contains("still wait for keys"), "\(media.stderr)")
        for key in ["sha256", "thumbnail_sha256"] {
            let digest = string(seed, "encrypted", "image", key)
            #expect(digest.count == 64)
            let file = archive.store.appendingPathComponent("media/\(digest.prefix(2))/\(digest.dropFirst(2))")
            let bytes = try Data(contentsOf: file)
            #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == digest, "\(key)")
        }
        let original = try Data(contentsOf: URL(fileURLWithPath: string(seed, "encrypted", "image", "plaintext_path")))
        let stored = string(seed, "encrypted", "image", "sha256")
        #expect(try Data(contentsOf: archive.store.appendingPathComponent("media/\(stored.prefix(2))/\(stored.dropFirst(2))"))
                == original)

        // An HTML export with the media shows the image inline (its thumbnail) and links the full file.
        let exportDir = archive.store.deletingLastPathComponent().appendingPathComponent("html-export")
        let export = try archive.run(["export", "--format", "html", "--room", room, "--include-media",
                                      "--output", exportDir.path])
        #expect(export.status == 0, "\(export.stderr)")
        let imageID = string(seed, "encrypted", "image", "event_id")
        let pages = FileManager.default.enumerator(atPath: exportDir.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".html") } ?? []
        let page = pages.first { (try? String(contentsOf: exportDir.appendingPathComponent($0), encoding: .utf8))?
            .contains("id=\"\(imageID)\"") == true }
        #expect(page != nil, "no page holds the image event")
        if let page {
            let html = try String(contentsOf: exportDir.appendingPathComponent(page), encoding: .utf8)
            let article = html.components(separatedBy: "id=\"\(imageID)\"")[1].components(separatedBy: "</article>")[0]
            let pageDir = exportDir.appendingPathComponent(page).deletingLastPathComponent()
            for (attribute, digest) in [("src", string(seed, "encrypted", "image", "thumbnail_sha256")),
                                        ("href", string(seed, "encrypted", "image", "sha256"))] {
                let link = article.components(separatedBy: "\(attribute)=\"").dropFirst()
                    .map { String($0.prefix { $0 != "\"" }) }.first { $0.hasSuffix("media/" + digest + ".png") }
                // The seeded files are real PNGs (decrypted, then sniffed): named .png.
                #expect(link != nil, "the image's \(attribute) does not point at media/\(digest).png")
                if let link {
                    let bytes = try Data(contentsOf: pageDir.appendingPathComponent(link).standardizedFileURL)
                    #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == digest)
                }
            }
            #expect(article.contains("download=\"photo.png\""))
        }
        // media/index.json maps the event's file and thumbnail to the exported files.
        let indexFile = exportDir.appendingPathComponent("media/index.json")
        let indexText = try String(contentsOf: indexFile, encoding: .utf8)
        #expect(try SchemaValidator.errors([indexText.trimmingCharacters(in: .newlines)], schema: "export-media.schema.json") == [])
        let entries = try JSONCoding.decode(indexText)["files"]?.arrayValue ?? []
        let mapped = Dictionary(entries.filter { $0["event_id"] == .string(imageID) }
            .map { ($0["role"]?.stringValue ?? "", $0["sha256"]?.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(mapped == ["file": string(seed, "encrypted", "image", "sha256"),
                           "thumbnail": string(seed, "encrypted", "image", "thumbnail_sha256")])

        // The seeded room holds one event in a session of another user's device (issue 9.8): the one problem.
        let verify = try archive.run(["verify", "--json"])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.jsonLines.first?["problems"]?.arrayValue?.count == 1, "\(verify.stdout)")
        #expect(verify.jsonLines.first?["sender_key_mismatches"] == 1, "\(verify.stdout)")

        // No key material in any output of this test (checked per run by the harness as well).
        for output in [backup, imported, badParity, unrelated, wrongPassphrase, wrongExport] {
            for secret in [string(seed, "modern", "recovery_key"), string(seed, "modern", "passphrase"),
                           string(seed, "key_export", "passphrase")] where !secret.isEmpty {
                #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret))
            }
        }
    }

    /// Keys first, then sync: the passphrase opens secret storage, and pages decrypt as they are stored.
    @Test func passphraseBeforeSyncDecryptsWhileSyncing() async throws {
        let archive = try Archive.loggedIn(as: "alice")
        let seed = archive.seed
        let room = try seed.roomID("encrypted")
        let keys = try archive.run(["keys", "backup", "--passphrase-file",
                                    try secretFile(archive, "pass", string(seed, "modern", "passphrase"))])
        #expect(keys.status == 0, "\(keys.stderr)")
        // Issue 12.7: the backup key is in its own 0600 file, and not in the database's bytes.
        let keyFile = archive.store.appendingPathComponent("backup-key")
        #expect((try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int) == 0o600)
        let storedKey = try #require(try JSONCoding.decode(Data(contentsOf: keyFile))["private_key"]?.stringValue)
        #expect(storedKey.count > 40)
        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: archive.store.appendingPathComponent("archive.sqlite" + suffix).path) ?? Data()
            #expect(bytes.range(of: Data(storedKey.utf8)) == nil, "archive.sqlite\(suffix) holds the backup key")
        }
        // Backward from now in small pages: edits and reactions arrive before what they change.
        try archive.sync(["--room", room, "--page-size", "97"])
        let missing = string(seed, "encrypted", "missing_session_id")
        try expectMatchesTruth(try items(archive, room), seed: seed, roomKey: "encrypted", waiting: [missing])
        // The backup key stays in the store, so a plain sync fetches sessions by itself: make the store lose
        // every session (and what they decrypted), and the next sync brings them back from the backup.
        try forgetSessions(archive)
        #expect(try items(archive, room).values.filter { $0["decryption"] == "ok" }.isEmpty)
        let resync = try archive.run(["sync", "--room", room, "--json"])
        #expect(resync.status == 3, "\(resync.stderr)")
        #expect(try SchemaValidator.errors(resync.lines, schema: "sync-result.schema.json") == [])
        #expect(resync.jsonLines.first?.value(at: "key_backup", "sessions_added") == .int(Int64(sessionCount(seed) - 1)),
                "\(resync.stdout)")
        try expectMatchesTruth(try items(archive, room), seed: seed, roomKey: "encrypted", waiting: [missing])

        // `keys forget` removes the key: the next sync fetches nothing from the backup.
        let forget = try archive.run(["keys", "forget"])
        #expect(forget.status == 0)
        #expect(forget.stdout.contains("removed"))
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))
        try forgetSessions(archive)
        let after = try archive.run(["sync", "--room", room])
        #expect(after.status == 3)
        #expect(!after.stdout.contains("key backup"))
        #expect(try items(archive, room).values.filter { $0["decryption"] == "ok" }.isEmpty)
    }

    /// Issue 9.8: each sync checks through /keys/query that a decrypted event's session belongs to a device
    /// of its sender. The seeder sent one event of bob's in a session of alice's device (mismatch) and one
    /// from a device of bob's that never uploaded its keys (unknown); every other session is its sender's.
    @Test func senderKeysOfDecryptedEventsMatchTheTruth() async throws {
        let archive = try Archive.loggedIn(as: "alice")
        let seed = archive.seed
        let room = try seed.roomID("encrypted")
        let truth = e2e(seed, "encrypted", "sender_key_status")?.objectValue ?? [:]
        #expect(Set(truth.values) == ["verified", "mismatch", "unknown"], "\(truth.count) truth entries")
        let missing = Set((e2e(seed, "encrypted", "sessions")?.arrayValue ?? [])
            .filter { $0["session_id"]?.stringValue == string(seed, "encrypted", "missing_session_id") }
            .flatMap { $0["events"]?.arrayValue?.compactMap(\.stringValue) ?? [] })
        #expect(!missing.isEmpty)

        let keys = try archive.run(["keys", "backup", "--passphrase-file",
                                    try secretFile(archive, "pass", string(seed, "modern", "passphrase"))])
        #expect(keys.status == 0, "\(keys.stderr)")
        let sync = try archive.sync(["--room", room, "--from-start"])
        #expect(sync.stderr.contains("1 decrypted events were encrypted in a session of another user's device"),
                "\(sync.stderr)")
        // The session the backup lacks arrives by key-export file: its events decrypt but wait for a sync.
        let imported = try archive.run(["keys", "import", string(seed, "key_export", "path"), "--passphrase-file",
                                        try secretFile(archive, "export", string(seed, "key_export", "passphrase"))])
        #expect(imported.status == 0, "\(imported.stderr)")
        func expectTruth(unchecked: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let lines = try archive.eventLines(room)
            #expect(try SchemaValidator.errors(lines, schema: "event.schema.json") == [], sourceLocation: sourceLocation)
            var checked = 0
            for item in lines.compactMap({ try? JSONCoding.decode($0) }) {
                let id = item["event_id"]?.stringValue ?? ""
                guard item["decryption"] == "ok" else {
                    #expect(item["sender_key"] == .null, "\(id)", sourceLocation: sourceLocation)
                    continue
                }
                checked += 1
                let expected: JSONValue = unchecked.contains(id) ? "unchecked" : truth[id] ?? "no truth"
                #expect(item["sender_key"] == expected, "\(id): \(item["sender_key"] ?? .null)", sourceLocation: sourceLocation)
            }
            #expect(checked >= 2000, sourceLocation: sourceLocation)
        }
        try expectTruth(unchecked: missing)
        // The mismatch is shown, not hidden: its plaintext is there.
        let mismatchID = truth.first { $0.value == "mismatch" }?.key ?? ""
        let unknownID = truth.first { $0.value == "unknown" }?.key ?? ""
        let byID = try items(archive, room)
        #expect(byID[mismatchID]?.value(at: "content", "body") == "sender keys: sent by one user in another user's session")
        #expect(byID[unknownID]?["decryption"] == "ok")

        // The next sync checks the imported session's events and asks again about the unknown one.
        try archive.sync(["--room", room])
        try expectTruth(unchecked: [])
        let status = try archive.run(["status", "--json"])
        #expect(try SchemaValidator.errors(status.lines, schema: "status.schema.json") == [])
        let decryption = status.jsonLines.first?.value(at: "rooms")?.arrayValue?
            .first { $0["room_id"] == .string(room) }?["decryption"]
        // Every decrypted event (edits and reactions too, which are no timeline items) has been checked.
        let decrypted = decryption?["ok"]?.int64Value ?? 0
        #expect(decrypted >= 2000)
        #expect(decryption?["sender_keys"] == ["verified": .int(decrypted - 2), "mismatch": 1, "unknown": 1, "unchecked": 0],
                "\(decryption ?? .null)")
        let verify = try archive.run(["verify", "--json"])
        #expect(verify.status == 1)
        #expect(try SchemaValidator.errors(verify.lines, schema: "verify.schema.json") == [])
        #expect(verify.jsonLines.first?["sender_key_mismatches"] == 1)
        #expect(verify.jsonLines.first?["problems"]?.arrayValue?.contains {
            $0.stringValue?.contains("sender key mismatch") == true } == true, "\(verify.stdout)")
    }

    func sessionCount(_ seed: Seed) -> Int { e2e(seed, "encrypted", "sessions")?.arrayValue?.count ?? 0 }

    /// Drops every stored session and decrypted payload straight in the store's SQLite file (another process,
    /// Python's sqlite3), as if the keys had never been imported.
    func forgetSessions(_ archive: Archive) throws {
        let python = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.executescript("DELETE FROM megolm_sessions; DELETE FROM megolm_indexes; "
                "UPDATE events SET decryption = 'missing_key', decrypted_json = NULL, current_content = NULL, "
                "replaced_by = NULL, valid_edits = NULL WHERE session_id IS NOT NULL;")
            db.commit()
            """, archive.store.appendingPathComponent("archive.sqlite").path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// carol's legacy backup (the recovery key is the backup key; a passphrase with auth_data's salt) and the
    /// hostile room: each failure has its documented status, and a tampered session is skipped, not fatal.
    @Test func legacyBackupAndHostileEventsGetTheirStatuses() async throws {
        for secretKind in ["recovery_key", "passphrase"] {
            let archive = try Archive.loggedIn(as: "carol")
            let seed = archive.seed
            let room = try seed.roomID("hostile")
            let expectations = e2e(seed, "hostile", "expect")?.objectValue ?? [:]
            #expect(Set(expectations.values.compactMap(\.stringValue))
                    == ["ok", "replay", "room_mismatch", "failed", "missing_key", "unknown_index"])
            if secretKind == "passphrase" {
                let keys = try archive.run(["keys", "backup", "--json", "--passphrase-file",
                                            try secretFile(archive, "pass", string(seed, "legacy", "passphrase"))])
                #expect(keys.status == 0, "\(keys.stderr)")
                try archive.sync(["--room", room, "--from-start"])
            } else {
                try archive.sync(["--room", room, "--page-size", "3"])
                let keys = try archive.run(["keys", "backup", "--json", "--recovery-key-file",
                                            try secretFile(archive, "rk", string(seed, "legacy", "recovery_key"))])
                #expect(keys.status == 0, "\(keys.stderr)")
                let rejected = keys.jsonLines.first?["rejected"]?.arrayValue ?? []
                #expect(rejected.compactMap { $0["session_id"]?.stringValue } == [string(seed, "hostile", "tampered_session_id")])
            }
            let byID = try items(archive, room)
            let bodies = e2e(seed, "hostile", "plaintext_bodies")?.objectValue ?? [:]
            for (eventID, expected) in expectations {
                #expect(byID[eventID]?["decryption"] == expected, "\(secretKind): \(eventID) should be \(expected)")
                if expected == "ok" {
                    #expect(byID[eventID]?.value(at: "content", "body") == bodies[eventID], "\(eventID) body")
                } else {
                    #expect(byID[eventID]?["type"] == "m.room.encrypted", "\(eventID) must not show a plaintext")
                }
            }
        }
    }
}
