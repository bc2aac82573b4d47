import ArchiveCore
import Foundation
import Testing

/// Spaces, upgrades, and rooms that keep growing.
@Suite struct RoomGraphTests {
    @Test func aSpaceArchivesItselfAndItsChildren() throws {
        let archive = try Archive.loggedIn()
        let seed = archive.seed
        let spaceID = try seed.roomID("space")
        let result = try archive.sync(["--space", spaceID])
        let counts = archive.syncCounts(result)
        let children = try seed.room("space")["children"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(children.count == 2)
        #expect(Set(counts.keys) == Set([spaceID] + children))
        for key in ["child_a", "child_b"] {
            let items = try archive.events(try seed.roomID(key)).filter { $0["type"] == "m.room.message" }
            #expect(items.map { $0["event_id"] } == (try seed.messages(key)).map { $0["event_id"] })
        }
    }

    @Test func followUpgradesArchivesTheOldRoomAsOneHistory() throws {
        let archive = try Archive.loggedIn()
        let seed = archive.seed
        let oldID = try seed.roomID("upgraded_old")
        let newID = try seed.roomID("upgraded_new")
        let result = try archive.sync(["--room", newID, "--follow-upgrades", "--from-start"])
        #expect(Set(archive.syncCounts(result).keys) == [oldID, newID])

        let history = try archive.events(newID, ["--follow-upgrades"]).filter { $0["type"] == "m.room.message" }
        let expected = try seed.messages("upgraded_old") + seed.messages("upgraded_new")
        #expect(history.map { $0["event_id"] } == expected.map { $0["event_id"] })
        // Room version 10 names the redacted event in top-level `redacts`, version 12 in the content:
        // both redactions apply.
        for truth in expected where truth["redacted"] == .bool(true) {
            let item = history.first { $0["event_id"] == truth["event_id"] }
            #expect(item?["redacted"] == .bool(true))
            #expect(item?["content"] == .object([:]))
        }
        #expect(expected.filter { $0["redacted"] == .bool(true) }.count == 2)

        let status = try archive.run(["status", "--json"]).jsonLines.first
        let rooms = status?["rooms"]?.arrayValue ?? []
        let old = rooms.first { $0["room_id"] == .string(oldID) }
        #expect(old?["successor"] == .string(newID))
        #expect(old?["room_version"] == "10")
        #expect(rooms.first { $0["room_id"] == .string(newID) }?["predecessor"] == .string(oldID))
    }
}

/// Bad input gets one clear line and the documented exit code; nothing archived is harmed.
@Suite struct FailureTests {
    @Test func anUnknownRoomFailsThatRoomWithOneLine() throws {
        let archive = try Archive.loggedIn()
        try archive.sync(["--room", "#live:localhost"])
        let result = try archive.run(["sync", "--room", "!doesnotexist:localhost", "--room", "#live:localhost"])
        // Done with warnings: the other room is archived (exit 1 is for a run where every room failed).
        #expect(result.status == 3)
        #expect(result.stderr.contains("!doesnotexist:localhost"))
        #expect(!result.stderr.contains("Fatal") && !result.stderr.contains("0x"))
        #expect(try archive.run(["verify"]).status == 0)
    }

    @Test func anUnknownAliasIsOneClearLine() throws {
        let archive = try Archive.loggedIn(as: "bob")
        let result = try archive.run(["sync", "--room", "#no-such-alias:localhost"])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("#no-such-alias:localhost"))
    }

    @Test func aBadTokenEndsTheRunWithAHint() throws {
        let archive = try Archive.loggedIn()
        let result = try archive.run(["sync", "--room", "#live:localhost"],
                                     environment: ["MXARCHIVE_HOMESERVER": archive.seed.homeserver,
                                                   "MXARCHIVE_ACCESS_TOKEN": "syt_not_a_real_token"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("M_UNKNOWN_TOKEN"))
        #expect(result.stderr.contains("mxarchive login"))
        #expect(!result.stderr.contains("syt_not_a_real_token"))
    }

    @Test func usageErrorsExitTwo() throws {
        let archive = try Archive.loggedIn()
        #expect(try archive.run(["sync", "--from-start", "--since", "2024-01-01"]).status == 2)
        #expect(try archive.run(["sync", "--since", "yesterday"]).status == 2)
        #expect(try archive.run(["events"]).status == 2)
        #expect(try archive.run(["frobnicate"]).status == 2)
        #expect(try archive.run(["sync", "--room", "not-a-room"]).status == 2)
        #expect(try archive.run(["--help"]).status == 0)
    }

    @Test func aWrongPasswordIsACleanFailure() throws {
        let archive = try Archive.loggedIn()
        let wrong = archive.store.deletingLastPathComponent().appendingPathComponent("wrong")
        try Data("not the password".utf8).write(to: wrong)
        let result = try archive.run(["login", "--homeserver", archive.seed.homeserver, "--user",
                                      archive.seed.userID("alice"), "--password-file", wrong.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("M_FORBIDDEN"))
        #expect(!result.stderr.contains("not the password"))
    }

    /// The test server's access tokens live 20 s: after that the sync must refresh, persist the new pair
    /// (0600), and succeed.
    @Test func anExpiredAccessTokenIsRefreshedAndPersisted() async throws {
        let archive = try Archive.loggedIn()
        let file = archive.store.appendingPathComponent("credentials.json")
        let before = try JSONCoding.decode(Data(contentsOf: file))
        #expect(before["refresh_token"]?.stringValue?.isEmpty == false)
        try await Task.sleep(nanoseconds: 22_000_000_000)
        try archive.sync(["--room", "#live:localhost"])
        let after = try JSONCoding.decode(Data(contentsOf: file))
        #expect(after["access_token"] != before["access_token"])
        #expect(after["refresh_token"] != before["refresh_token"])
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func storeFolderAndFilesArePrivate() throws {
        let archive = try Archive.loggedIn()
        try archive.sync(["--room", "#live:localhost"])
        let manager = FileManager.default
        #expect(try manager.attributesOfItem(atPath: archive.store.path)[.posixPermissions] as? Int == 0o700)
        // Every file 0600 and every folder (the search index's) 0700, all the way down.
        let names = manager.enumerator(atPath: archive.store.path)
        while let name = names?.nextObject() as? String {
            let attributes = try manager.attributesOfItem(atPath: archive.store.appendingPathComponent(name).path)
            let isFolder = attributes[.type] as? FileAttributeType == .typeDirectory
            #expect(attributes[.posixPermissions] as? Int == (isFolder ? 0o700 : 0o600), "\(name) is not private")
        }
    }
}

/// The live room changes while the tests run, so its tests take turns.
@Suite(.serialized) struct LiveRoomTests {
    /// Messages sent after a sync arrive with the next one, after everything already archived.
    @Test func newMessagesArriveWithTheNextSync() async throws {
        let archive = try Archive.loggedIn()
        let liveID = try archive.seed.roomID("live")
        try archive.sync(["--room", "#live:localhost"])
        let before = try archive.eventLines("#live:localhost")

        let sender = try await TestSender.login(seed: archive.seed, user: "bob")
        let marker = "sent after the first sync \(UUID().uuidString)"
        let eventID = try await sender.send(roomID: liveID, body: marker)

        let next = try archive.sync([])  // no room named: every archived room
        #expect(archive.syncCounts(next)[liveID]?.new ?? 0 >= 1)
        let after = try archive.eventLines("#live:localhost")
        #expect(Array(after.prefix(before.count)) == before)
        let appended = after.dropFirst(before.count).compactMap { try? JSONCoding.decode($0) }
        #expect(appended.contains { $0["event_id"] == .string(eventID) && $0.value(at: "content", "body") == .string(marker) })
    }

    /// A redaction that arrives after the message was archived strips it from the archive; under legal
    /// hold (`--retain-redacted`) the text is kept, marked as redacted.
    @Test func laterRedactionsStripTheArchiveUnlessRetained() async throws {
        let plain = try Archive.loggedIn()
        let hold = try Archive.loggedIn()
        let liveID = try plain.seed.roomID("live")
        let sender = try await TestSender.login(seed: plain.seed, user: "bob")
        let secret = "to be redacted \(UUID().uuidString)"
        let eventID = try await sender.send(roomID: liveID, body: secret)
        try plain.sync(["--room", "#live:localhost"])
        try hold.sync(["--room", "#live:localhost"])
        #expect(try plain.events("#live:localhost").contains { $0["event_id"] == .string(eventID) })

        try await sender.redact(roomID: liveID, eventID: eventID)
        try plain.sync([])
        try hold.sync(["--retain-redacted"])

        let stripped = try plain.events("#live:localhost").first { $0["event_id"] == .string(eventID) }
        #expect(stripped?["redacted"] == .bool(true))
        #expect(stripped?["content"] == .object([:]))
        // Nothing of the text is left on disk either (SQLite's secure_delete zeroes the old row).
        // (The search index is a folder of files: every one of them is checked.)
        let files = FileManager.default.enumerator(atPath: plain.store.path)
        while let name = files?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = plain.store.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(name) still holds the redacted text")
        }

        let kept = try hold.events("#live:localhost").first { $0["event_id"] == .string(eventID) }
        #expect(kept?["redacted"] == .bool(true))
        #expect(kept?.value(at: "content", "body") == .string(secret))
        #expect(try plain.run(["verify"]).status == 0)
    }
}

/// On a terminal, sync draws a live progress line (room, pages, events, rate) on stderr.
@Suite struct ProgressTests {
    @Test func aTerminalGetsALiveProgressLine() throws {
        let archive = try Archive.loggedIn()
        // `script` gives the command a pseudo-terminal, as an admin's shell would.
        let command = [Archive.binary.path, "--store", archive.store.path, "sync", "--room", "#big:localhost",
                       "--page-size", "500"].map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.contains("\r\u{1B}[K"))
        #expect(output.contains("Big room"))
        // The live line of `--jobs` (SyncProgressLine): rooms done of all, events per second, an ETA.
        #expect(output.contains("rooms,") && output.contains("events/s") && output.contains("ETA"))
    }
}
