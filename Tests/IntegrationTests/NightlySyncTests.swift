import ArchiveCore
import Foundation
import Testing

/// Issue 10.1 on the real Synapse: the nightly `sync` learns from one /sync what changed and fetches only
/// that, and gives the same archive as the per-room walk (`sync --walk-all`) of a copy of the same store.
/// The rooms come from `scripts/seed_org.py` (fresh users each time); the archiving account is the org's
/// member, so its `leave` news is the account leaving the room.
@Suite(.serialized) struct NightlySyncTests {
    @Test func nightlyRunOf200RoomsEqualsTheWalkAtATenthOfTheRequests() throws {
        let org = try Org.create(rooms: 200)
        let nightly = try org.archive()
        try nightly.sync(["--all-joined", "--no-index"])
        let walk = try org.archive()
        try nightly.copyDatabase(to: walk)

        let news = try org.news(rooms: 6, messages: 2, kinds: "rename,leave,redact,edit")
        let changed = news["changed"]?.arrayValue ?? []
        #expect(changed.count == 6)

        let fast = try nightly.sync(["--no-index"])
        let slow = try walk.sync(["--no-index", "--walk-all"])
        let fastHTTP = Org.http(fast), slowHTTP = Org.http(slow)
        #expect(fastHTTP.requests > 0 && fastHTTP.requests <= 30, "nightly run made \(fastHTTP.requests) requests")
        #expect(slowHTTP.requests >= 10 * fastHTTP.requests,
                "the walk made \(slowHTTP.requests) requests, the nightly run \(fastHTTP.requests)")
        #expect(fastHTTP.bytes <= 250 * 1024, "nightly run read \(fastHTTP.bytes) bytes")

        // Every room's archive is the same, event for event and field for field.
        for room in org.roomIDs {
            let a = try nightly.eventLines(room), b = try walk.eventLines(room)
            #expect(a == b, "room \(room) differs between the nightly run and the walk")
        }
        // The news is in it: the new messages, the rename, the leave, the redaction, the edit.
        let counts = nightly.syncCounts(fast)
        for room in changed {
            let roomID = room["room_id"]?.stringValue ?? ""
            #expect((counts[roomID]?.new ?? 0) >= 2, "room \(roomID) got no news")
            let events = try nightly.events(roomID)
            let ids = Set(events.compactMap { $0["event_id"]?.stringValue })
            for message in room["messages"]?.arrayValue ?? [] {
                #expect(ids.contains(message.stringValue ?? "?"), "message of \(roomID) missing")
            }
            switch room["kind"]?.stringValue {
            case "rename":
                let status = try nightly.run(["status", "--json"]).jsonLines.first
                let stored = status?["rooms"]?.arrayValue?.first { $0["room_id"]?.stringValue == roomID }
                #expect(stored?["name"]?.stringValue == room["name"]?.stringValue)
            case "leave":
                let status = try nightly.run(["status", "--json"]).jsonLines.first
                let stored = status?["rooms"]?.arrayValue?.first { $0["room_id"]?.stringValue == roomID }
                #expect(stored?["left_at"]?.int64Value != nil, "the left room is not marked left")
            case "redact", "edit":
                let target = room[room["kind"]?.stringValue == "redact" ? "redacted" : "edited"]?.stringValue
                #expect(ids.contains(target ?? "?"))
            default: break
            }
        }
    }

    /// More news in a room than the /sync timeline holds (`limited`): the walk from the forward cursor fills
    /// the gap exactly, each event once and in order.
    @Test func limitedTimelineGapIsFilledExactly() throws {
        let org = try Org.create(rooms: 3)
        let nightly = try org.archive()
        try nightly.sync(["--all-joined", "--no-index"])
        let walk = try org.archive()
        try nightly.copyDatabase(to: walk)
        let news = try org.news(rooms: 1, messages: 120, kinds: "")
        let sent = (news["changed"]?.arrayValue?.first?["messages"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(sent.count == 120)
        let roomID = org.roomIDs[0]

        let result = try nightly.sync(["--no-index"])
        #expect(nightly.syncCounts(result)[roomID]?.new == 120)
        let stored = try nightly.events(roomID).compactMap { $0["event_id"]?.stringValue }
        #expect(Array(stored.suffix(120)) == sent, "the gap is not the sent messages, once each, in order")
        #expect(Set(stored).count == stored.count)
        try walk.sync(["--no-index", "--walk-all"])
        #expect(try nightly.eventLines(roomID) == walk.eventLines(roomID))
        // A second nightly run has nothing to add.
        let again = try nightly.sync(["--no-index"])
        #expect(nightly.syncCounts(again)[roomID]?.new == 0)
    }

    /// A room with no news costs nothing: a nightly run is its one /sync request, with or without news that
    /// fits the timeline. A room the account left is archived up to the leave, shown left, and not fetched
    /// again.
    @Test func quietRoomsCostNothingAndALeftRoomIsKeptUpToTheLeave() throws {
        let org = try Org.create(rooms: 4)
        let archive = try org.archive()
        try archive.sync(["--all-joined", "--no-index"])

        let quiet = try archive.sync(["--no-index"])
        #expect(Org.http(quiet).requests == 1, "a run without news made \(Org.http(quiet).requests) requests")
        #expect(archive.syncCounts(quiet).count == 4)

        let news = try org.news(rooms: 2, messages: 3, kinds: "leave,none")
        let left = org.roomIDs[0]
        let talked = org.roomIDs[1]
        #expect(news["changed"]?.arrayValue?.first?["kind"]?.stringValue == "leave")
        let nightly = try archive.sync(["--no-index"])
        #expect(Org.http(nightly).requests == 1, "news that fits the timeline cost \(Org.http(nightly).requests) requests")
        let counts = archive.syncCounts(nightly)
        #expect(counts[left]?.new == 4)  // three messages and the leave
        #expect(counts[talked]?.new == 3)

        let events = try archive.events(left)
        let last = events.last
        #expect(last?["type"]?.stringValue == "m.room.member" && last?["state_key"]?.stringValue == org.memberID,
                "the left room's archive does not end with the leave")
        let status = try archive.run(["status", "--json"]).jsonLines.first
        let room = status?["rooms"]?.arrayValue?.first { $0["room_id"]?.stringValue == left }
        #expect(room?["left_at"]?.int64Value != nil)

        // Later runs leave it alone: a plain sync does not name it, and still costs one request.
        _ = try org.news(rooms: 2, messages: 1, kinds: "")
        let after = try archive.sync(["--no-index"])
        #expect(archive.syncCounts(after)[left] == nil)
        #expect(archive.syncCounts(after)[talked]?.new == 1)
        #expect(Org.http(after).requests == 1)
        #expect(try archive.events(left).count == events.count)

        // Invited back by the admin and joined again: the plain sync's /sync names the room under `join`,
        // so it is walked from its cursor (what was said while away, the invite, the join), is no longer
        // left, and follows the token again like any other room.
        let rejoin = try org.news(rooms: 1, messages: 2, kinds: "rejoin")
        let whileAway = (rejoin["changed"]?.arrayValue?.first?["messages"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(whileAway.count == 2)
        let back = try archive.sync(["--no-index"])
        #expect(back.status == 0, "\(back.stderr)")
        // Five: the message of the night before (sent to the first two rooms while the account was away),
        // the two of tonight, the invite and the join.
        #expect(archive.syncCounts(back)[left]?.new == 5, "\(archive.syncCounts(back))")
        let rejoined = try archive.events(left)
        let rejoinedIDs = Set(rejoined.compactMap { $0["event_id"]?.stringValue })
        #expect(rejoinedIDs.isSuperset(of: whileAway))
        #expect(rejoined.last?["state_key"]?.stringValue == org.memberID
                && rejoined.last?["content"]?["membership"]?.stringValue == "join")
        let statusBack = try archive.run(["status", "--json"]).jsonLines.first
        let roomBack = statusBack?["rooms"]?.arrayValue?.first { $0["room_id"]?.stringValue == left }
        #expect(roomBack?["left_at"] == .null, "\(String(describing: roomBack?["left_at"]))")
        _ = try org.news(rooms: 1, messages: 1, kinds: "")
        let next = try archive.sync(["--no-index"])
        #expect(archive.syncCounts(next)[left]?.new == 1)
        #expect(Org.http(next).requests == 1, "the re-joined room is not followed again")
    }
}

/// An organisation of small rooms made by `scripts/seed_org.py`, and stores logged in as its member.
struct Org {
    let seed: Seed
    let stateFile: URL
    let state: JSONValue

    var roomIDs: [String] { (state["rooms"]?.arrayValue ?? []).compactMap { $0["room_id"]?.stringValue } }
    var memberID: String { state.value(at: "users", "member", "user_id")?.stringValue ?? "" }

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/seed_org.py")
    }

    static func create(rooms: Int) throws -> Org {
        let seed = try Seed.load()
        guard let secretFile = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_REGISTRATION_SECRET_FILE"] else {
            throw HarnessError("MXARCHIVE_TEST_REGISTRATION_SECRET_FILE is not set: run through scripts/test")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-org-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let stateFile = folder.appendingPathComponent("org.json")
        let prefix = "org" + UUID().uuidString.prefix(8).lowercased()
        _ = try python(["create", "--homeserver", seed.homeserver,
                        "--data-dir", URL(fileURLWithPath: secretFile).deletingLastPathComponent().path,
                        "--rooms", String(rooms), "--prefix", prefix, "--out", stateFile.path])
        let state = try JSONCoding.decode(Data(contentsOf: stateFile))
        return Org(seed: seed, stateFile: stateFile, state: state)
    }

    /// `seed_org.py news`: what it did, as it prints it.
    func news(rooms: Int, messages: Int, kinds: String) throws -> JSONValue {
        let out = try Self.python(["news", "--homeserver", seed.homeserver, "--state", stateFile.path,
                                   "--rooms", String(rooms), "--messages", String(messages), "--kinds", kinds,
                                   "--seed", UUID().uuidString.prefix(6).lowercased()])
        return try JSONCoding.decode(out)
    }

    func archive() throws -> Archive {
        try Archive.loggedIn(seed: seed, userID: memberID,
                             password: state.value(at: "users", "member", "password")?.stringValue ?? "")
    }

    static func http(_ result: RunResult) -> (requests: Int, bytes: Int64) {
        let http = result.jsonLines.last?["http"]
        return (Int(http?["requests"]?.int64Value ?? -1), http?["bytes_received"]?.int64Value ?? -1)
    }

    @discardableResult
    static func python(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("seed_org.py \(arguments[0]) failed") }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Archive {
    /// Puts a copy of this store's archive into `other` (logged in on its own, so the two never share a
    /// refresh token): both then start from the same archive.
    func copyDatabase(to other: Archive) throws {
        let files = FileManager.default
        for suffix in ["", "-wal", "-shm"] {
            let target = other.store.appendingPathComponent("archive.sqlite" + suffix)
            if files.fileExists(atPath: target.path) { try files.removeItem(at: target) }
        }
        for suffix in ["", "-wal"] {
            let source = store.appendingPathComponent("archive.sqlite" + suffix)
            if files.fileExists(atPath: source.path) {
                try files.copyItem(at: source, to: other.store.appendingPathComponent("archive.sqlite" + suffix))
            }
        }
    }
}
