import ArchiveCore
import Foundation
import Testing
import TestSupport

/// One archive holding the export room, the big room and the space, synced once and shared by the
/// export tests (each export goes to its own folder).
actor ExportFixture {
    static let shared = ExportFixture()
    private var cached: Archive?

    func archive() throws -> Archive {
        if let cached { return cached }
        let archive = try Archive.loggedIn()
        try archive.sync(["--room", "#export:localhost", "--room", "#big:localhost", "--from-start"])
        try archive.sync(["--space", try archive.seed.roomID("space"), "--from-start"])
        cached = archive
        return archive
    }
}

/// A fresh folder for one test's outputs.
func scratch(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-export-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func readText(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

/// Runs a program to completion and returns its status and output (stdout and stderr together).
@discardableResult
func shell(_ command: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

extension Archive {
    @discardableResult
    func export(_ arguments: [String], environment: [String: String] = [:]) throws -> RunResult {
        let result = try run(["export"] + arguments, environment: environment)
        #expect(result.status == 0, "export \(arguments) failed: \(result.stderr)")
        return result
    }
}

/// An export folder read back: its manifest and files.
struct ExportedTree {
    let root: URL
    let manifest: JSONValue

    init(_ root: URL) throws {
        self.root = root
        manifest = try JSONCoding.decode(Data(contentsOf: root.appendingPathComponent("manifest.json")))
    }

    func room(_ roomID: String) -> JSONValue? {
        manifest["rooms"]?.arrayValue?.first { $0["room_id"] == .string(roomID) }
    }

    /// The JSONL lines of a room's event files, in the order room.json lists them.
    func eventLines(_ roomID: String) throws -> [String] {
        guard let path = room(roomID)?["path"]?.stringValue else { return [] }
        let roomJSON = try JSONCoding.decode(Data(contentsOf: root.appendingPathComponent(path)))
        var lines: [String] = []
        for file in roomJSON["event_files"]?.arrayValue ?? [] {
            let text = try readText(root.appendingPathComponent(file["path"]?.stringValue ?? ""))
            lines += text.split(separator: "\n").map(String.init)
        }
        return lines
    }
}

@Suite(.serialized) struct ExportTests {
    /// The JSON export of a room is exactly `events --jsonl` for that room, split by month, and every
    /// document matches its schema.
    @Test func jsonEqualsEventsAndMatchesTheSchemas() async throws {
        let archive = try await ExportFixture.shared.archive()
        let out = try scratch("json").appendingPathComponent("export")
        try archive.export(["--format", "json", "--room", "#big:localhost", "--room", "#export:localhost", "--output", out.path])
        let tree = try ExportedTree(out)
        for alias in ["#big:localhost", "#export:localhost"] {
            let roomID = try archive.seed.roomID(String(alias.dropFirst().prefix { $0 != ":" }))
            let lines = try tree.eventLines(roomID)
            #expect(lines == (try archive.eventLines(alias)), "\(alias)")
            #expect(try SchemaValidator.errors(lines, schema: "event.schema.json") == [])
            let path = try #require(tree.room(roomID)?["path"]?.stringValue)
            #expect(path.hasPrefix("rooms/") && path.hasSuffix("/room.json"))
            let roomJSON = try readText(out.appendingPathComponent(path)).trimmingCharacters(in: .newlines)
            #expect(try SchemaValidator.errors([roomJSON], schema: "export-room.schema.json") == [])
            let room = try JSONCoding.decode(roomJSON)
            #expect(room["members"]?.arrayValue?.contains { $0["user_id"] == .string(archive.seed.userID("bob")) } == true)
            #expect(tree.room(roomID)?["events"]?.int64Value == Int64(lines.count))
        }
        let manifest = try readText(out.appendingPathComponent("manifest.json")).trimmingCharacters(in: .newlines)
        #expect(try SchemaValidator.errors([manifest], schema: "manifest.schema.json") == [])
        let big = try #require(tree.room(try archive.seed.roomID("big")))
        let truth = try archive.seed.messages("big")
        #expect(big["messages"]?.int64Value == Int64(truth.count))
        #expect(big["redacted"]?.int64Value == Int64(truth.filter { $0["redacted"] == .bool(true) }.count))
        #expect(big["undecryptable"] == 0)
        #expect(tree.manifest.value(at: "source", "homeserver") == .string(archive.seed.homeserver))
    }

    /// A date range and a sender filter select the same events as `events --since --until` filtered by
    /// sender.
    @Test func dateRangeAndSenderFilter() async throws {
        let archive = try await ExportFixture.shared.archive()
        let all = try archive.events("#big:localhost")
        let from = try #require(all[300]["origin_server_ts"]?.int64Value)
        let to = try #require(all[900]["origin_server_ts"]?.int64Value)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let since = iso.string(from: Date(timeIntervalSince1970: Double(from) / 1000))
        let until = iso.string(from: Date(timeIntervalSince1970: Double(to) / 1000))
        let bob = archive.seed.userID("bob")
        let out = try scratch("range").appendingPathComponent("export")
        try archive.export(["--format", "json", "--room", "#big:localhost", "--since", since, "--until", until,
                            "--sender", bob, "--output", out.path])
        let expected = try archive.eventLines("#big:localhost", ["--since", since, "--until", until])
            .filter { (try? JSONCoding.decode($0))?["sender"] == .string(bob) }
        #expect(expected.count > 100)
        let tree = try ExportedTree(out)
        #expect(try tree.eventLines(try archive.seed.roomID("big")) == expected)
        #expect(tree.manifest.value(at: "options", "senders") == [.string(bob)])
        #expect(tree.manifest.value(at: "options", "since") == .string(since))
    }

    /// `verify-export` passes on a fresh export and names the file after one byte changes, one file goes
    /// missing or one appears.
    @Test func verifyExportFindsEveryChange() async throws {
        let archive = try await ExportFixture.shared.archive()
        let out = try scratch("verify").appendingPathComponent("export")
        try archive.export(["--format", "txt", "--room", "#export:localhost", "--output", out.path])
        let ok = try archive.run(["verify-export", out.path])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("export OK"))

        let tree = try ExportedTree(out)
        let files = tree.manifest["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        let victim = try #require(files.first { $0.hasSuffix(".txt") && !$0.hasSuffix("room.txt") })
        let url = out.appendingPathComponent(victim)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: url)
        let altered = try archive.run(["verify-export", out.path, "--json"])
        #expect(altered.status == 1)
        let report = try #require(altered.jsonLines.first)
        #expect(report["ok"] == false)
        #expect(report["problems"] == [["kind": "altered", "path": .string(victim)]])

        let roomFile = try #require(files.first { $0.hasSuffix("room.txt") })
        try FileManager.default.removeItem(at: out.appendingPathComponent(roomFile))
        try Data("x".utf8).write(to: out.appendingPathComponent("rooms/intruder.txt"))
        let more = try archive.run(["verify-export", out.path])
        #expect(more.status == 1)
        #expect(more.stdout.contains("missing: \(roomFile)"))
        #expect(more.stdout.contains("extra: rooms/intruder.txt"))
        #expect(more.stdout.contains("altered: \(victim)"))
    }

    /// With SOURCE_DATE_EPOCH, two exports are byte-identical in every archive format; the archives open
    /// with tar, zstd, xz and unzip, hold exactly the manifest's files, and verify.
    @Test func archivesAreReproducibleAndOpenWithStandardTools() async throws {
        let archive = try await ExportFixture.shared.archive()
        let dir = try scratch("archives")
        let epoch = ["SOURCE_DATE_EPOCH": "1700000000"]
        let common = ["--format", "html", "--room", "#export:localhost", "--room", "#big:localhost"]
        let folder = dir.appendingPathComponent("folder")
        try archive.export(common + ["--output", folder.path], environment: epoch)
        let folderManifest = try Data(contentsOf: folder.appendingPathComponent("manifest.json"))
        let tree = try ExportedTree(folder)
        let expectedNames = Set((tree.manifest["files"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue } + ["manifest.json"])
        #expect(tree.manifest["exported_at"] == "2023-11-14T22:13:20Z")

        let listers: [(String, String)] = [
            ("tar.gz", "tar -tzf"), ("tgz", "tar -tzf"), ("tar.zst", "zstd -dc %@ | tar -t -f -"),
            ("tar.xz", "tar -tJf"), ("zip", "unzip -Z1"),
        ]
        for (suffix, lister) in listers {
            let one = dir.appendingPathComponent("one.\(suffix)")
            let two = dir.appendingPathComponent("two.\(suffix)")
            try archive.export(common + ["--output", one.path], environment: epoch)
            try archive.export(common + ["--output", two.path], environment: epoch)
            let first = try Data(contentsOf: one)
            #expect(first == (try Data(contentsOf: two)), "\(suffix) exports differ")
            let command = lister.contains("%@") ? lister.replacingOccurrences(of: "%@", with: quoted(one.path))
                : lister + " " + quoted(one.path)
            let listing = try shell(command)
            #expect(listing.status == 0, "\(command): \(listing.output)")
            #expect(Set(listing.output.split(separator: "\n").map(String.init)) == expectedNames, "\(suffix) listing")
            let verify = try archive.run(["verify-export", one.path])
            #expect(verify.status == 0, "\(suffix): \(verify.stdout)")
            if suffix == "zip" {
                #expect(try shell("unzip -tq \(quoted(one.path))").status == 0)
            }
            // The manifest does not depend on where the export went.
            let extracted = try shell(suffix == "zip" ? "unzip -p \(quoted(one.path)) manifest.json"
                                      : (suffix == "tar.zst" ? "zstd -dc \(quoted(one.path)) | tar -xOf - manifest.json"
                                         : "tar -xOf \(quoted(one.path)) manifest.json"))
            #expect(Data(extracted.output.utf8) == folderManifest, "\(suffix) manifest differs from the folder's")
        }

        // `-`: a plain tar on standard output, the summary on standard error.
        let stdoutTar = dir.appendingPathComponent("stdout.tar")
        let piped = try shell("\(quoted(Archive.binary.path)) --store \(quoted(archive.store.path)) export "
                              + common.map(quoted).joined(separator: " ") + " --output - > \(quoted(stdoutTar.path))",
                              environment: epoch)
        #expect(piped.status == 0, "\(piped.output)")
        #expect(piped.output.contains("exported 2 rooms"))
        let listing = try shell("tar -tf \(quoted(stdoutTar.path))")
        #expect(Set(listing.output.split(separator: "\n").map(String.init)) == expectedNames)
        #expect(try archive.run(["verify-export", stdoutTar.path]).status == 0)

        // Altering one byte inside an archive is found too.
        let gz = dir.appendingPathComponent("one.tar.gz")
        let work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        #expect(try shell("tar -xzf \(quoted(gz.path)) -C \(quoted(work.path))").status == 0)
        let css = work.appendingPathComponent("assets/style.css")
        try (try readText(css) + " ").write(to: css, atomically: true, encoding: .utf8)
        let repacked = dir.appendingPathComponent("repacked.tar.gz")
        #expect(try shell("tar -czf \(quoted(repacked.path)) -C \(quoted(work.path)) .").status == 0)
        let bad = try archive.run(["verify-export", repacked.path])
        #expect(bad.status == 1)
        #expect(bad.stdout == "altered: assets/style.css\n")
    }

    /// TXT: one line per event in the documented shape, edits applied, thread replies indented.
    @Test func textExport() async throws {
        let archive = try await ExportFixture.shared.archive()
        let out = try scratch("txt").appendingPathComponent("export")
        try archive.export(["--format", "txt", "--room", "#export:localhost", "--output", out.path])
        let tree = try ExportedTree(out)
        let roomID = try archive.seed.roomID("export")
        let files = tree.room(roomID)?["files"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let monthFiles = files.filter { !$0.hasSuffix("room.txt") }
        #expect(!monthFiles.isEmpty)
        var text = ""
        for file in monthFiles { text += try readText(out.appendingPathComponent(file)) }
        let lines = text.split(separator: "\n").map(String.init)
        let head = try Regex(#"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\] (    ↳ )?.+ \(@[a-z]+:localhost\): "#)
        // The room's creation comes before its creator's join: no member yet, so no display name, only the id.
        let creation = try Regex(#"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\] @alice:localhost: created the room "#)
        for line in lines where !line.hasPrefix(" ") {
            #expect(line.contains(head) || line.contains(creation), "\(line)")
        }
        #expect(lines.contains { $0.hasSuffix("Alice (@alice:localhost): export: hello (edited) (edited)  [👍 1]") })
        #expect(lines.contains { $0.contains("UTC]     ↳ ") && $0.contains("export thread reply 1 in thread") })
        #expect(lines.contains { $0.contains("[message deleted]") })
        #expect(lines.contains { $0.hasSuffix("(in reply to Alice: \"export: hello (edited)\") export: a reply from bob") })
        #expect(!text.contains("export: this will be deleted"))
        #expect(tree.room(roomID)?["redacted"] == 1)
    }

    /// A space exports itself and its archived children; the HTML index nests the children under it.
    @Test func spaceExportNestsRoomsInTheIndex() async throws {
        let archive = try await ExportFixture.shared.archive()
        let spaceID = try archive.seed.roomID("space")
        let children = try archive.seed.room("space")["children"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let out = try scratch("space").appendingPathComponent("site")
        try archive.export(["--format", "html", "--space", spaceID, "--output", out.path])
        let tree = try ExportedTree(out)
        let exported = Set(tree.manifest["rooms"]?.arrayValue?.compactMap { $0["room_id"]?.stringValue } ?? [])
        #expect(exported == Set([spaceID] + children))
        let index = try readText(out.appendingPathComponent("index.html"))
        let spaceName = try #require(archive.seed.room("space")["name"]?.stringValue)
        let spaceAt = try #require(index.range(of: spaceName))
        let nested = index[spaceAt.upperBound...]
        for key in ["child_a", "child_b"] {
            let name = try #require(archive.seed.room(key)["name"]?.stringValue)
            let childAt = try #require(nested.range(of: name), "\(name) not after the space")
            // Inside the space's nested list: an opening <ul> comes between the space and the child.
            #expect(nested[..<childAt.lowerBound].contains("<ul class=\"rooms\">"))
        }
        #expect(try archive.run(["verify-export", out.path]).status == 0)
        for room in tree.manifest["rooms"]?.arrayValue ?? [] {
            let path = try #require(room["path"]?.stringValue)
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(path).path))
        }
    }

    /// Legal hold: from an archive synced with --retain-redacted (a redaction arriving after the message
    /// was archived), the default export still shows the message as deleted; `export --retain-redacted`
    /// keeps its content, marked redacted. (Uses the "live" room, which tests may change.)
    @Test func redactedContentOnlyUnderRetainRedacted() async throws {
        let archive = try Archive.loggedIn()
        let roomID = try archive.seed.roomID("live")
        let sender = try await TestSender.login(seed: archive.seed, user: "bob")
        let secret = "legal hold \(UUID().uuidString)"
        let gone = try await sender.send(roomID: roomID, body: secret)
        try archive.sync(["--room", "#live:localhost"])
        try await sender.redact(roomID: roomID, eventID: gone)
        try archive.sync(["--retain-redacted"])
        func exported(_ extra: [String]) throws -> JSONValue? {
            let out = try scratch("hold").appendingPathComponent("export")
            try archive.export(["--format", "json", "--room", "#live:localhost", "--output", out.path] + extra)
            return try ExportedTree(out).eventLines(roomID).compactMap { try? JSONCoding.decode($0) }
                .first { $0["event_id"] == .string(gone) }
        }
        let stripped = try #require(try exported([]))
        #expect(stripped["redacted"] == true)
        #expect(stripped["content"] == .object([:]))
        let kept = try #require(try exported(["--retain-redacted"]))
        #expect(kept["redacted"] == true)
        #expect(kept.value(at: "content", "body") == .string(secret))
    }

    /// Issue 12.7: an export of decrypted history is created private (files 0600, folders 0700, an archive
    /// file 0600) whatever the umask; `--mode 0644` publishes it (folders 0755); a bad mode is a usage error.
    @Test func exportsArePrivateUnlessAModeIsGiven() async throws {
        let archive = try await ExportFixture.shared.archive()
        let dir = try scratch("mode")
        func mode(_ url: URL) throws -> Int? { try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int }
        func modes(_ root: URL) throws -> (files: Set<Int>, folders: Set<Int>) {
            var files: Set<Int> = [], folders: Set<Int> = [try mode(root) ?? -1]
            for relative in FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? [] {
                let url = root.appendingPathComponent(relative)
                let isFolder = (try FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType) == .typeDirectory
                if isFolder { folders.insert(try mode(url) ?? -1) } else { files.insert(try mode(url) ?? -1) }
            }
            return (files, folders)
        }
        let privateSite = dir.appendingPathComponent("private")
        try archive.export(["--format", "html", "--room", "#export:localhost", "--output", privateSite.path])
        let seen = try modes(privateSite)
        #expect(seen.files == [0o600] && seen.folders == [0o700], "\(seen)")

        let published = dir.appendingPathComponent("published")
        try archive.export(["--format", "html", "--room", "#export:localhost", "--mode", "0644", "--output", published.path])
        let widened = try modes(published)
        #expect(widened.files == [0o644] && widened.folders == [0o755], "\(widened)")
        #expect(try archive.run(["verify-export", published.path]).status == 0)

        let packed = dir.appendingPathComponent("export.zip")
        try archive.export(["--format", "txt", "--room", "#export:localhost", "--output", packed.path])
        #expect(try mode(packed) == 0o600)
        let unpacked = dir.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        #expect(try shell("cd \(quoted(unpacked.path)) && unzip -q \(quoted(packed.path))").status == 0)
        #expect(try mode(unpacked.appendingPathComponent("manifest.json")) == 0o600)

        for bad in ["0666", "644x", "0400"] {
            let result = try archive.run(["export", "--format", "json", "--mode", bad, "--output", dir.appendingPathComponent("bad").path])
            #expect(result.status == 2, "\(bad): \(result.stderr)")
            #expect(result.stderr.contains("--mode '\(bad)'"), "\(bad): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
    }

    /// Bad input is one line and exit 2; an existing folder with files is never written into.
    @Test func usageErrors() async throws {
        let archive = try await ExportFixture.shared.archive()
        let dir = try scratch("usage")
        try Data("keep".utf8).write(to: dir.appendingPathComponent("keep.txt"))
        let cases: [[String]] = [
            ["--format", "pdf", "--output", dir.appendingPathComponent("x").path],
            ["--format", "json", "--since", "yesterday", "--output", dir.appendingPathComponent("x").path],
            ["--format", "json", "--sender", "alice", "--output", dir.appendingPathComponent("x").path],
            ["--format", "json", "--output", dir.path],
        ]
        for arguments in cases {
            let result = try archive.run(["export"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.lowercased().hasPrefix("error: "), "\(arguments): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["keep.txt"])
        let unknown = try archive.run(["export", "--format", "json", "--room", "#nope:localhost", "--output", dir.appendingPathComponent("y").path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("#nope:localhost"))
        let missing = try archive.run(["verify-export", dir.appendingPathComponent("absent.tar.gz").path])
        #expect(missing.status == 2)
    }
}
