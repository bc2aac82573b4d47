import ArchiveCore
import Crypto
import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The tests' own uploads and sends for media (independent of mxarchive).
extension TestSender {
    func createRoom(name: String) async throws -> String {
        let reply = try await Self.post(homeserver + "/_matrix/client/v3/createRoom",
                                        body: ["name": .string(name), "preset": "private_chat"], token: token)
        return reply["room_id"]?.stringValue ?? ""
    }

    func send(roomID: String, type: String = "m.room.message", content: JSONValue) async throws -> String {
        let room = roomID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? roomID
        let reply = try await Self.request("PUT", homeserver + "/_matrix/client/v3/rooms/\(room)/send/\(type)/\(UUID().uuidString)",
                                           body: content, token: token)
        return reply["event_id"]?.stringValue ?? ""
    }

    /// `POST /_matrix/media/v3/upload`: the bytes as they are; returns the mxc URI.
    func upload(_ data: Data) async throws -> String {
        var request = URLRequest(url: URL(string: homeserver + "/_matrix/media/v3/upload?filename=upload.bin")!)
        request.httpMethod = "POST"
        request.httpBody = data
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
              let uri = try JSONCoding.decode(body)["content_uri"]?.stringValue else {
            throw HarnessError("upload failed: \(String(decoding: body, as: UTF8.self))")
        }
        return uri
    }
}

/// Encrypts with Python's `cryptography` (scripts/encrypt-attachment), never with mxarchive's code.
struct EncryptedFixture {
    let ciphertext: Data
    let file: JSONValue
    let plaintextSHA256: String

    static func make(_ plaintext: Data) throws -> EncryptedFixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-enc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("plain")
        let output = folder.appendingPathComponent("cipher")
        try plaintext.write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3",
                             SchemaValidator.repository.appendingPathComponent("scripts/encrypt-attachment").path,
                             input.path, output.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let printed = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("encrypt-attachment failed") }
        let json = try JSONCoding.decode(printed)
        return EncryptedFixture(ciphertext: try Data(contentsOf: output), file: json["file"] ?? .null,
                                plaintextSHA256: json["plaintext_sha256"]?.stringValue ?? "")
    }

    func file(url: String) -> JSONValue {
        var object = file.objectValue ?? [:]
        object["url"] = .string(url)
        return .object(object)
    }
}

func sha256Hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

func randomBytes(_ count: Int) -> Data { Data((0..<count).map { _ in UInt8.random(in: 0...255) }) }

@Suite(.serialized) struct MediaSyncTests {
    /// Plain and encrypted attachments of a fresh room: stored once each under their plaintext's digest,
    /// a tampered ciphertext refused, the size limit honoured, and nothing downloaded twice.
    @Test func attachmentsAreDownloadedCheckedDecryptedAndStoredOnce() async throws {
        let archive = try Archive.loggedIn()
        let alice = try await TestSender.login(seed: archive.seed, user: "alice")
        let roomID = try await alice.createRoom(name: "media \(UUID().uuidString)")

        let image = randomBytes(3000)
        let thumbnail = randomBytes(700)
        let big = randomBytes(300 * 1024)
        let secret = randomBytes(5000)
        let tamperedPlain = randomBytes(2000)
        let encrypted = try EncryptedFixture.make(secret)
        let tampered = try EncryptedFixture.make(tamperedPlain)
        #expect(encrypted.plaintextSHA256 == sha256Hex(secret))

        let imageURI = try await alice.upload(image)
        let thumbnailURI = try await alice.upload(thumbnail)
        let bigURI = try await alice.upload(big)
        let encryptedURI = try await alice.upload(encrypted.ciphertext)
        var altered = tampered.ciphertext
        altered[100] ^= 0xFF
        let tamperedURI = try await alice.upload(altered)

        _ = try await alice.send(roomID: roomID, content: [
            "msgtype": "m.image", "body": "../../etc/passwd", "url": .string(imageURI),
            "info": ["mimetype": "image/png", "thumbnail_url": .string(thumbnailURI)],
        ])
        _ = try await alice.send(roomID: roomID, content: ["msgtype": "m.file", "body": "same image again",
                                                           "url": .string(imageURI)])
        _ = try await alice.send(roomID: roomID, content: ["msgtype": "m.image", "body": "secret.png",
                                                           "file": encrypted.file(url: encryptedURI)])
        let tamperedEvent = try await alice.send(roomID: roomID, content: [
            "msgtype": "m.file", "body": "tampered", "file": tampered.file(url: tamperedURI)])
        _ = try await alice.send(roomID: roomID, content: ["msgtype": "m.video", "body": "big", "url": .string(bigURI)])
        _ = try await alice.send(roomID: roomID, content: ["msgtype": "m.file", "body": "hostile",
                                                           "url": "mxc://localhost/../../credentials"])
        // A link to a file the server does not have: it fails every run, and is warned about once.
        _ = try await alice.send(roomID: roomID, content: ["msgtype": "m.file", "body": "gone",
                                                           "url": "mxc://localhost/NoSuchMediaAnywhere"])

        // First run, with a limit below the big file.
        let first = try archive.sync(["--room", roomID, "--media", "--max-media-size", "100K"])
        let firstMedia = try #require(first.jsonLines.last?["rooms"]?.arrayValue?.first?["media"])
        #expect(firstMedia["downloaded"] == .int(3))  // image, thumbnail, encrypted
        #expect(firstMedia["reused"] == .int(1))      // the second event of the same image
        #expect(firstMedia["failed"] == ["hash_mismatch": 1, "too_large": 1, "invalid": 1, "not_found": 1])
        #expect(firstMedia["failed_as_before"] == [:])
        #expect(first.status == 3 && first.stderr.contains("attachments failed to download"), "\(first.stderr)")
        #expect(try SchemaValidator.errors([first.lines.last ?? ""], schema: "sync-result.schema.json").isEmpty)

        for (bytes, digest) in [(image, sha256Hex(image)), (thumbnail, sha256Hex(thumbnail)),
                                (secret, encrypted.plaintextSHA256)] {
            let path = archive.store.appendingPathComponent("media/\(digest.prefix(2))/\(digest.dropFirst(2))")
            #expect(FileManager.default.contents(atPath: path.path) == bytes, "media file \(digest) differs")
            #expect((try FileManager.default.attributesOfItem(atPath: path.path)[.posixPermissions] as? Int) == 0o600)
        }
        let stored = try Self.storedFiles(archive)
        #expect(stored.count == 3)
        #expect(!stored.contains(sha256Hex(tamperedPlain)) && !stored.contains(sha256Hex(altered)))
        #expect(!stored.contains(sha256Hex(big)))

        // Second run: nothing new; only the too-large file is tried again (and still too large).
        let second = try archive.sync(["--media", "--max-media-size", "100K"])
        let secondMedia = try #require(second.jsonLines.last?["rooms"]?.arrayValue?.first { $0["room_id"] == .string(roomID) }?["media"])
        #expect(secondMedia["downloaded"] == .int(0))
        #expect(secondMedia["reused"] == .int(0))
        #expect(secondMedia["already_done"] == .int(6))  // 4 ok, hash_mismatch, invalid
        #expect(secondMedia["failed"] == ["too_large": 1, "not_found": 1])
        // The same failures as the run before: nothing new to look at, so no warning and exit 0.
        #expect(secondMedia["failed_as_before"] == ["too_large": 1, "not_found": 1])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("warning:"), "\(second.stderr)")

        // A day later (every last try moved back 21 hours in the store), without the low limit: the big file
        // comes, and the missing one is tried again. Its second 404 in a row: the two answers of the first
        // day count once.
        try Self.moveMediaAttemptsBack(archive, hours: 21)
        let third = try archive.sync(["--room", roomID, "--media"])
        let thirdMedia = try #require(third.jsonLines.last?.value(at: "rooms")?.arrayValue?.first?["media"])
        #expect(thirdMedia["downloaded"] == .int(1))
        #expect(thirdMedia["deferred"] == .int(0))
        #expect(thirdMedia["failed"] == ["not_found": 1])
        #expect(try Self.storedFiles(archive).contains(sha256Hex(big)))
        #expect(try SchemaValidator.errors([third.lines.last ?? ""], schema: "sync-result.schema.json").isEmpty)

        let status = try archive.run(["status", "--json"])
        let room = status.jsonLines.first?["rooms"]?.arrayValue?.first { $0["room_id"] == .string(roomID) }
        #expect(room?["media"] == ["ok": 5, "hash_mismatch": 1, "invalid": 1, "not_found": 1])
        #expect(try SchemaValidator.errors([status.stdout.trimmingCharacters(in: .newlines)],
                                           schema: "status.schema.json").isEmpty)
        let text = try archive.run(["status"])
        #expect(text.stdout.contains("media: 5 stored, 1 hash_mismatch, 1 invalid"))
        #expect(try archive.run(["verify"]).status == 0)

        // The human summary names what happened: after two 404s a day apart, the missing file is left alone
        // until 20 hours after the second.
        let human = try archive.run(["sync", "--room", roomID, "--media"])
        #expect(human.stdout.contains("media: 0 downloaded (0 bytes), 0 reused, 7 already done, 0 failed, "
                                      + "1 not found or forbidden before, left for a later run"), "\(human.stdout)")

        // Another day later it is tried again, fails as before, and is not warned about.
        try Self.moveMediaAttemptsBack(archive, hours: 21)
        let later = try archive.sync(["--room", roomID, "--media"])
        let laterMedia = try #require(later.jsonLines.last?.value(at: "rooms")?.arrayValue?.first?["media"])
        #expect(laterMedia["deferred"] == .int(0))
        #expect(laterMedia["failed"] == ["not_found": 1])
        #expect(laterMedia["failed_as_before"] == ["not_found": 1])
        #expect(later.status == 0, "\(later.stderr)")
        // The third 404 in a row: the next try waits three times as long, so 21 hours are not enough now.
        try Self.moveMediaAttemptsBack(archive, hours: 21)
        let nextDay = try archive.sync(["--room", roomID, "--media"])
        #expect(nextDay.jsonLines.last?.value(at: "rooms")?.arrayValue?.first?.value(at: "media", "deferred") == .int(1))

        // `export --include-media` hands the stored files over as media/<sha256>.<type>, listed in the
        // manifest; random bytes have no known signature, so they are all .bin.
        let exported = archive.store.deletingLastPathComponent().appendingPathComponent("export-\(UUID().uuidString)")
        let export = try archive.run(["export", "--format", "json", "--room", roomID, "--include-media",
                                      "--output", exported.path])
        #expect(export.status == 0, "export failed: \(export.stderr)")
        // 5 attachments stored, 4 distinct files (two events share the image).
        #expect(export.stdout.contains("media: 4 stored files included under media/<sha256>.<type>"))
        for (bytes, digest) in [(image, sha256Hex(image)), (secret, encrypted.plaintextSHA256), (big, sha256Hex(big))] {
            #expect(FileManager.default.contents(atPath: exported.appendingPathComponent("media/\(digest).bin").path) == bytes)
        }
        #expect(try archive.run(["verify-export", exported.path]).status == 0)

        // Redacting the tampered event forgets its record; the stored files are untouched.
        try await alice.redact(roomID: roomID, eventID: tamperedEvent)
        try archive.sync(["--room", roomID, "--media"])
        let after = try archive.run(["status", "--json"]).jsonLines.first?["rooms"]?.arrayValue?
            .first { $0["room_id"] == .string(roomID) }
        #expect(after?["media"] == ["ok": 5, "invalid": 1, "not_found": 1])
    }

    /// Issue 12.2: attachments that would become pages. Each exported file is named by what its bytes
    /// are (an allowlist of inert types), never by the sender's name or mimetype: an HTML page sent as
    /// photo.png with image/png, an SVG with a script and an encrypted HTML file are all `.bin`; the
    /// index keeps what the event claimed beside what the bytes are; pages and text lines link the
    /// written names; the web-server rules ship in the export and are covered by the manifest.
    @Test func exportedMediaAreNamedByTheirSniffedContentAndServedAsDownloads() async throws {
        let archive = try Archive.loggedIn()
        let alice = try await TestSender.login(seed: archive.seed, user: "alice")
        let roomID = try await alice.createRoom(name: "hostile media \(UUID().uuidString)")

        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + randomBytes(400)
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0]) + randomBytes(400)
        let pdf = Data("%PDF-1.4\n".utf8) + randomBytes(200)
        let page = Data("<!DOCTYPE html><html><body><script>fetch('/steal?c='+document.cookie)</script>\(UUID())".utf8)
        let svg = Data("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script>\(UUID())</svg>".utf8)
        let hidden = Data("<html><script>alert('encrypted')</script>\(UUID())".utf8)
        let encrypted = try EncryptedFixture.make(hidden)

        let sends: [(Data, JSONValue)] = [
            (png, ["msgtype": "m.image", "body": "real.png", "info": ["mimetype": "image/png"]]),
            (jpeg, ["msgtype": "m.image", "body": "holiday", "info": ["mimetype": "image/jpeg"]]),
            (pdf, ["msgtype": "m.file", "body": "report.pdf", "info": ["mimetype": "application/pdf"]]),
            (page, ["msgtype": "m.image", "body": "photo.png", "info": ["mimetype": "image/png"]]),
            (svg, ["msgtype": "m.image", "body": "logo.svg", "info": ["mimetype": "image/svg+xml"]]),
        ]
        for (bytes, content) in sends {
            var object = content.objectValue ?? [:]
            object["url"] = .string(try await alice.upload(bytes))
            _ = try await alice.send(roomID: roomID, content: .object(object))
        }
        _ = try await alice.send(roomID: roomID, content: [
            "msgtype": "m.file", "body": "invoice.pdf", "info": ["mimetype": "application/pdf"],
            "file": encrypted.file(url: try await alice.upload(encrypted.ciphertext))])
        try archive.sync(["--room", roomID, "--media"])

        let expected: [String: (name: String, declared: String, ext: String, sniffed: String)] = [
            sha256Hex(png): ("real.png", "image/png", "png", "image/png"),
            sha256Hex(jpeg): ("holiday", "image/jpeg", "jpg", "image/jpeg"),
            sha256Hex(pdf): ("report.pdf", "application/pdf", "pdf", "application/pdf"),
            sha256Hex(page): ("photo.png", "image/png", "bin", "application/octet-stream"),
            sha256Hex(svg): ("logo.svg", "image/svg+xml", "bin", "application/octet-stream"),
            encrypted.plaintextSHA256: ("invoice.pdf", "application/pdf", "bin", "application/octet-stream"),
        ]
        let site = archive.store.deletingLastPathComponent().appendingPathComponent("site-\(UUID().uuidString)")
        let export = try archive.run(["export", "--format", "html", "--room", roomID, "--include-media", "--output", site.path])
        #expect(export.status == 0, "export failed: \(export.stderr)")

        // The files: each under its digest and sniffed extension, nothing without one.
        let media = try FileManager.default.contentsOfDirectory(atPath: site.appendingPathComponent("media").path)
        #expect(Set(media) == Set(expected.map { "\($0.key).\($0.value.ext)" } + ["index.json", ".htaccess"]))
        #expect(FileManager.default.contents(atPath: site.appendingPathComponent("media/\(sha256Hex(page)).bin").path) == page)

        // The index: the sender's name and type beside the sniffed one; valid by its schema.
        let indexText = try String(contentsOf: site.appendingPathComponent("media/index.json"), encoding: .utf8)
        #expect(try SchemaValidator.errors([indexText.trimmingCharacters(in: .newlines)], schema: "export-media.schema.json").isEmpty)
        let entries = try JSONCoding.decode(indexText)["files"]?.arrayValue ?? []
        #expect(entries.count == expected.count)
        for entry in entries {
            let digest = entry["sha256"]?.stringValue ?? ""
            let want = try #require(expected[digest], "unexpected entry \(digest)")
            #expect(entry["file"] == .string("media/\(digest).\(want.ext)"))
            #expect(entry["name"] == .string(want.name))
            #expect(entry["mimetype"] == .string(want.declared))
            #expect(entry["sniffed_type"] == .string(want.sniffed))
        }

        // The pages link the written names, and never a bare digest.
        var html = ""
        for relative in FileManager.default.enumerator(atPath: site.path)?.allObjects as? [String] ?? [] where relative.hasSuffix(".html") {
            html += try String(contentsOf: site.appendingPathComponent(relative), encoding: .utf8)
        }
        #expect(html.contains("media/\(sha256Hex(page)).bin\""))
        #expect(html.contains("media/\(sha256Hex(png)).png\""))
        #expect(!html.contains("media/\(sha256Hex(page))\""))

        // The web-server rules: in the export, in its manifest, and checked by verify-export.
        func text(_ path: String) throws -> String { try String(contentsOf: site.appendingPathComponent(path), encoding: .utf8) }
        #expect(try text(".htaccess").contains("X-Content-Type-Options \"nosniff\""))
        let mediaRules = try text("media/.htaccess")
        #expect(mediaRules.contains("Content-Disposition \"attachment\"") && mediaRules.contains("Content-Security-Policy \"sandbox\""))
        let nginx = try text("server-rules/nginx.conf")
        #expect(nginx.contains("add_header X-Content-Type-Options \"nosniff\" always;")
                && nginx.contains("add_header Content-Disposition \"attachment\" always;")
                && nginx.contains("add_header Content-Security-Policy \"sandbox\" always;"))
        let caddy = try text("server-rules/Caddyfile")
        #expect(caddy.contains("X-Content-Type-Options \"nosniff\"") && caddy.contains("Content-Security-Policy \"sandbox\""))
        let manifest = try JSONCoding.decode(Data(contentsOf: site.appendingPathComponent("manifest.json")))
        let listed = Set(manifest["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? [])
        #expect(listed.isSuperset(of: [".htaccess", "media/.htaccess", "server-rules/nginx.conf", "server-rules/Caddyfile"]))
        #expect(try archive.run(["verify-export", site.path]).status == 0)
        try Data("# nothing\n".utf8).write(to: site.appendingPathComponent("media/.htaccess"))
        let altered = try archive.run(["verify-export", site.path])
        #expect(altered.status == 1 && altered.stdout.contains("altered: media/.htaccess"), "\(altered.stdout)")

        // The text export names the same files after each attachment.
        let txt = archive.store.deletingLastPathComponent().appendingPathComponent("txt-\(UUID().uuidString)")
        try #require(try archive.run(["export", "--format", "txt", "--room", roomID, "--include-media", "--output", txt.path]).status == 0)
        var lines = ""
        for relative in FileManager.default.enumerator(atPath: txt.path)?.allObjects as? [String] ?? []
        where relative.hasSuffix(".txt") && !relative.hasSuffix("room.txt") {
            lines += try String(contentsOf: txt.appendingPathComponent(relative), encoding: .utf8)
        }
        #expect(lines.contains("[image: photo.png] (media/\(sha256Hex(page)).bin)"))
        #expect(lines.contains("[file: report.pdf] (media/\(sha256Hex(pdf)).pdf)"))
        #expect(FileManager.default.fileExists(atPath: txt.appendingPathComponent("server-rules/nginx.conf").path))
    }

    @Test func sizeOptionsAreChecked() throws {
        let archive = try Archive.loggedIn()
        #expect(try archive.run(["sync", "--max-media-size", "20M"]).status == 2)
        let bad = try archive.run(["sync", "--media", "--max-media-size", "12X"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--max-media-size '12X'"))
    }

    /// Moves every attachment's last try back in time, straight in the store's SQLite file (another
    /// process, Python's sqlite3), as if the runs had been that much earlier.
    static func moveMediaAttemptsBack(_ archive: Archive, hours: Int) throws {
        let python = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE media_refs SET attempted_at = attempted_at - ?", (int(sys.argv[2]) * 3600000,))
            db.commit()
            """, archive.store.appendingPathComponent("archive.sqlite").path, String(hours)]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// The digests of the files under media/ (folder name + file name).
    static func storedFiles(_ archive: Archive) throws -> Set<String> {
        let root = archive.store.appendingPathComponent("media")
        var names: Set<String> = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: root.path) {
            for file in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)
            where !file.hasPrefix(".") {
                names.insert(folder + file)
            }
        }
        return names
    }
}
