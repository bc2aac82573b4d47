import ArchiveCore
import Foundation
import Testing

/// Issue 10, item 2: `sync --jobs N` fetches several rooms at once with one writer. Against the real
/// Synapse, with 200 small rooms of an organisation of their own (`scripts/seed_org.py`): the archive of a
/// first `--all-joined` sync with `--jobs 4` is the one `--jobs 1` makes, a room that cannot be read fails
/// alone (the others finish, the report keeps the order the rooms were named in), and a `--jobs 4` sync
/// killed mid-run then run again ends with the clean archive.
@Suite(.serialized) struct ParallelSyncTests {
    /// The organisation and a clean `--jobs 1` archive of it, made once for the suite (seeding takes
    /// a minute or two; every test reads the same rooms).
    static let reference = Result { try Reference.make() }

    struct Reference: Sendable {
        let org: OrgSeed
        /// Every room's `events --jsonl`, after its id, in `joined_rooms` order.
        let timelines: [String]
        let rooms: JSONValue

        static func make() throws -> Reference {
            let org = try OrgSeed.create(rooms: 200)
            let archive = try org.loggedIn()
            defer { archive.remove() }
            let result = try archive.run(["sync", "--json", "--all-joined", "--jobs", "1"])
            guard result.status == 0 else { throw HarnessError("sync --jobs 1: \(result.stderr)") }
            return Reference(org: org, timelines: try archive.timelines(org.roomIDs),
                             rooms: try archive.roomsJSON())
        }
    }

    @Test func aParallelFirstSyncStoresWhatASequentialOneStores() async throws {
        let reference = try Self.reference.get()
        // Each room has its creation state and two messages: an archive with nothing in it would compare
        // equal too.
        #expect(reference.timelines.count >= reference.org.roomIDs.count * 4)
        let archive = try reference.org.loggedIn()
        defer { archive.remove() }
        let result = try archive.run(["sync", "--json", "--all-joined", "--jobs", "4"])
        try #require(result.status == 0, "sync --jobs 4: \(result.stderr)")
        let reported = result.jsonLines.last?["rooms"]?.arrayValue?.compactMap { $0["room_id"]?.stringValue }
        #expect(Set(reported ?? []) == Set(reference.org.roomIDs))
        #expect(reported?.count == reference.org.roomIDs.count)
        #expect(try archive.timelines(reference.org.roomIDs) == reference.timelines)
        #expect(try archive.roomsJSON() == reference.rooms)
        let problems = try archive.verifyProblems()
        #expect(problems == nil, "\(problems ?? "")")
    }

    @Test func aRoomThatCannotBeReadFailsAloneAndTheReportKeepsTheNamedOrder() async throws {
        let reference = try Self.reference.get()
        // A room of the main seed: the organisation's member was never in it.
        let closed = try reference.org.seed.roomID("export")
        let open = Array(reference.org.roomIDs.prefix(12))
        let named = Array(open.prefix(6)) + [closed] + Array(open.dropFirst(6))
        let archive = try reference.org.loggedIn()
        defer { archive.remove() }
        let result = try archive.run(["sync", "--json", "--jobs", "4"] + named.flatMap { ["--room", $0] })
        #expect(result.status == 3, "one room failed beside archived ones (done with warnings): \(result.stderr)")
        let rooms = result.jsonLines.last?["rooms"]?.arrayValue ?? []
        #expect(rooms.compactMap { $0["room_id"]?.stringValue } == named)
        for room in rooms {
            let failed = room["room_id"]?.stringValue == closed
            #expect((room["error"] != nil) == failed, "\(room)")
        }
        #expect(try archive.timelines(open) == reference.timelines(of: open))
        let problems = try archive.verifyProblems()
        #expect(problems == nil, "\(problems ?? "")")
    }

    @Test func aParallelSyncKilledMidRunResumesToTheCleanArchive() async throws {
        let reference = try Self.reference.get()
        let arguments = ["sync", "--json", "--all-joined", "--jobs", "4"]
        // How long an uninterrupted run takes here, so that the kill lands in its middle.
        let timing = try reference.org.loggedIn()
        let (clean, duration) = try timing.timedRun(arguments)
        timing.remove()
        try #require(clean.status == 0, "clean sync: \(clean.stderr)")

        var landed = false
        for fraction in [0.5, 0.3, 0.15] where !landed {
            let archive = try reference.org.loggedIn()
            defer { archive.remove() }
            landed = try await archive.runKilled(arguments, after: duration * fraction).landed
            let killed = try archive.verifyProblems()
            #expect(killed == nil, "after the kill at \(fraction) of \(duration) s: \(killed ?? "")")
            let rerun = try archive.run(arguments)
            #expect(rerun.status == 0, "rerun: \(rerun.stderr)")
            #expect(try archive.timelines(reference.org.roomIDs) == reference.timelines, "kill at \(fraction)")
            #expect(try archive.roomsJSON() == reference.rooms)
            let after = try archive.verifyProblems()
            #expect(after == nil, "after the rerun: \(after ?? "")")
        }
        #expect(landed, "no kill landed before the sync ended (clean run \(duration) s)")
    }
}

/// The rooms `scripts/seed_org.py create` made for two fresh users, and the member's login.
struct OrgSeed: Sendable {
    let seed: Seed
    let memberID: String
    let memberPassword: String
    /// The rooms in creation order.
    let roomIDs: [String]

    static func create(rooms: Int) throws -> OrgSeed {
        let seed = try Seed.load()
        let environment = ProcessInfo.processInfo.environment
        guard let secretFile = environment["MXARCHIVE_TEST_REGISTRATION_SECRET_FILE"] else {
            throw HarnessError("MXARCHIVE_TEST_REGISTRATION_SECRET_FILE is not set: run through scripts/test")
        }
        let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-org-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("org.json")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [environment["MXARCHIVE_TEST_PYTHON"] ?? "python3",
                             scripts.appendingPathComponent("seed_org.py").path, "create",
                             "--homeserver", seed.homeserver,
                             "--data-dir", URL(fileURLWithPath: secretFile).deletingLastPathComponent().path,
                             "--rooms", String(rooms), "--prefix", "jobs\(UUID().uuidString.prefix(8).lowercased())",
                             "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: out.path) else {
            throw HarnessError("seed_org.py create failed (exit \(process.terminationStatus))")
        }
        let json = try JSONCoding.decode(data)
        let roomIDs = json["rooms"]?.arrayValue?.compactMap { $0["room_id"]?.stringValue } ?? []
        guard roomIDs.count == rooms else { throw HarnessError("seed_org.py made \(roomIDs.count) of \(rooms) rooms") }
        return OrgSeed(seed: seed, memberID: json.value(at: "users", "member", "user_id")?.stringValue ?? "",
                       memberPassword: json.value(at: "users", "member", "password")?.stringValue ?? "",
                       roomIDs: roomIDs)
    }

    /// A fresh store logged in as the member, who joined every room.
    func loggedIn() throws -> Archive {
        try Archive.loggedIn(seed: seed, userID: memberID, password: memberPassword)
    }
}

extension ParallelSyncTests.Reference {
    /// The reference timelines of some of the rooms, in the same shape as `Archive.timelines`.
    func timelines(of rooms: [String]) -> [String] {
        var byRoom: [String: [String]] = [:]
        var current = ""
        for line in timelines {
            if org.roomIDs.contains(line) { current = line; byRoom[line] = [line] } else { byRoom[current]?.append(line) }
        }
        return rooms.flatMap { byRoom[$0] ?? [] }
    }
}

extension Archive {
    /// Every room's `events --jsonl` after its id, in one list.
    func timelines(_ rooms: [String]) throws -> [String] {
        try rooms.flatMap { room in [room] + (try eventLines(room)) }
    }

    /// `rooms --json`, parsed.
    func roomsJSON() throws -> JSONValue {
        let result = try run(["rooms", "--json"])
        guard result.status == 0 else { throw HarnessError("rooms --json: \(result.stderr)") }
        return try JSONCoding.decode(result.stdout)
    }
}
