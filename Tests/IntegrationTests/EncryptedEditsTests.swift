import ArchiveCore
import Foundation
import Testing
import TestSupport

/// The seeder's hostile edits in room "encrypted" (issue 9.3, `seed_hostile_edits` in scripts/seed_e2e.py,
/// encrypted with vodozemac): a plaintext edit of an encrypted message, encrypted edits whose clear content
/// plants another `m.new_content`, a payload-only `m.replace`, and a payload relation naming another
/// message than the clear one (rejected). Checked through `events --jsonl` on both paths: decrypted later (`keys backup` after the sync)
/// and decrypted while syncing (keys first).
@Suite(.serialized) struct EncryptedEditsTests {
    func secretFile(_ archive: Archive, _ name: String, _ text: String) throws -> String {
        let url = archive.store.deletingLastPathComponent().appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data((text + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
        return url.path
    }

    func items(_ archive: Archive, _ room: String) throws -> [String: JSONValue] {
        Dictionary(try archive.events(room).map { ($0["event_id"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    func cases(_ seed: Seed) throws -> [String: JSONValue] {
        try seed.room("encrypted")["hostile_edits"]?.objectValue ?? [:]
    }

    /// Every message a hostile edit names (either relation) and every hostile event that is a message of its
    /// own has exactly the truth's body, edits and winner; no forged or planted body shows anywhere.
    func expectHostileEditsAsTruth(_ byID: [String: JSONValue], seed: Seed,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let cases = try cases(seed)
        #expect(cases.count == 5, "\(cases.keys)", sourceLocation: sourceLocation)
        let truth = Dictionary(try seed.messages("encrypted").map { ($0["event_id"]?.stringValue ?? "", $0) },
                               uniquingKeysWith: { a, _ in a })
        var named: Set<String> = []
        for (_, entry) in cases {
            for key in ["target", "payload_target"] { if let id = entry[key]?.stringValue { named.insert(id) } }
        }
        if let payloadOnly = cases["payload_only_replace"]?["event_id"]?.stringValue { named.insert(payloadOnly) }
        #expect(named.count == 7, sourceLocation: sourceLocation)
        for id in named.sorted() {
            guard let message = truth[id], let item = byID[id] else {
                Issue.record("\(id) missing from the truth or the archive", sourceLocation: sourceLocation)
                continue
            }
            #expect(item["decryption"] == "ok", "\(id)", sourceLocation: sourceLocation)
            #expect(item.value(at: "content", "body") == message["body"], "\(id) body", sourceLocation: sourceLocation)
            #expect(item["edits"] == message["edits"], "\(id) edits", sourceLocation: sourceLocation)
            #expect(item["replaced_by"] == message["replaced_by"], "\(id) replaced_by", sourceLocation: sourceLocation)
            #expect(item["edited"] == message["edited"], "\(id) edited", sourceLocation: sourceLocation)
        }
        // The truth itself says what the spec says (so that the checks above test the rules).
        #expect(truth[cases["plaintext_edit"]?["target"]?.stringValue ?? ""]?["edits"] == .array([]), sourceLocation: sourceLocation)
        #expect(truth[cases["clear_new_content"]?["target"]?.stringValue ?? ""]?["body"] == cases["clear_new_content"]?["body"],
                sourceLocation: sourceLocation)
        for key in ["target", "payload_target"] {
            #expect(truth[cases["payload_names_other_target"]?[key]?.stringValue ?? ""]?["edits"] == .array([]),
                    "\(key)", sourceLocation: sourceLocation)
        }
        try expectNoForgedBody(byID, seed: seed, sourceLocation: sourceLocation)
    }

    func expectNoForgedBody(_ byID: [String: JSONValue], seed: Seed,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let cases = try cases(seed)
        let forged = Set(cases.values.flatMap { [$0["forged_body"], $0["planted_body"], $0["moved_body"]] }
            .compactMap { $0?.stringValue })
        #expect(forged.count == 3, sourceLocation: sourceLocation)
        for (id, item) in byID {
            if let body = item.value(at: "content", "body")?.stringValue {
                #expect(!forged.contains(body), "\(id) shows \(body)", sourceLocation: sourceLocation)
            }
        }
        // The plaintext edit, the edit without m.new_content inside and the edit moved onto another
        // message are no one's edits.
        let invalid = ["plaintext_edit", "clear_only_new_content", "payload_names_other_target"]
            .compactMap { cases[$0]?["event_id"] }
        #expect(invalid.count == 3, sourceLocation: sourceLocation)
        for (id, item) in byID {
            for edit in invalid { #expect(item["edits"]?.arrayValue?.contains(edit) != true, "\(id)", sourceLocation: sourceLocation) }
        }
    }

    @Test func editsDecryptedAfterTheSyncFollowTheEncryptedRules() async throws {
        let archive = try Archive.loggedIn(as: "alice")
        let seed = archive.seed
        let room = try seed.roomID("encrypted")
        // (`sync` checks the exit code: 3 while the events wait for keys.)
        try archive.sync(["--room", room, "--from-start"])
        // No keys yet: the encrypted messages wait, and neither the plaintext edit nor a clear m.new_content
        // of a waiting edit changes them.
        let waiting = try items(archive, room)
        for (name, entry) in try cases(seed) {
            let target = entry["target"]?.stringValue ?? ""
            #expect(waiting[target]?["decryption"] == "missing_key", "\(name)")
            #expect(waiting[target]?["edited"] == false, "\(name)")
            #expect(waiting[target]?["edits"] == .array([]), "\(name)")
        }
        try expectNoForgedBody(waiting, seed: seed)

        let backup = try archive.run(["keys", "backup", "--recovery-key-file",
                                      try secretFile(archive, "recovery",
                                                     seed.json.value(at: "e2e", "modern", "recovery_key")?.stringValue ?? "")])
        #expect(backup.status == 0, "\(backup.stderr)")
        let lines = try archive.eventLines(room)
        #expect(try SchemaValidator.errors(lines, schema: "event.schema.json") == [])
        try expectHostileEditsAsTruth(try items(archive, room), seed: seed)
    }

    @Test func editsDecryptedWhileSyncingFollowTheEncryptedRules() async throws {
        let archive = try Archive.loggedIn(as: "alice")
        let seed = archive.seed
        let room = try seed.roomID("encrypted")
        let keys = try archive.run(["keys", "backup", "--passphrase-file",
                                    try secretFile(archive, "pass",
                                                   seed.json.value(at: "e2e", "modern", "passphrase")?.stringValue ?? "")])
        #expect(keys.status == 0, "\(keys.stderr)")
        // Backward from now in small pages: the edits arrive before the messages they name.
        try archive.sync(["--room", room, "--page-size", "25"])
        try expectHostileEditsAsTruth(try items(archive, room), seed: seed)
    }
}
