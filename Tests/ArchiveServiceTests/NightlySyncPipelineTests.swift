import ArchiveCore
import ArchiveService
import ArchiveStore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Testing
import TestSupport

/// The nightly run (issue 10.1) over a scripted homeserver and a real store: the one /sync, how each room
/// is routed by it, and what token and coverage a run leaves for the next. (The real Synapse runs the same
/// in IntegrationTests/NightlySyncTests.)
@Suite struct NightlySyncPipelineTests {
    let store: ArchiveStore

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-nightly"))
    }

    func sync(_ transport: ScriptedTransport, _ roomIDs: [String], walkAll: Bool = false,
              addsRejoinedRooms: Bool = false, followUpgrades: Bool = false,
              observer: (any SyncObserver)? = nil) async throws -> [RoomSyncResult] {
        let credentials = Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                      accessToken: "token", refreshToken: nil)
        let client = MatrixClient(credentials: credentials, transport: transport,
                                  retryPolicy: RetryPolicy(maxAttempts: 2), sleeper: { _ in })
        var options = SyncOptions(roomIDs: roomIDs)
        options.usesSyncToken = true
        options.walkAll = walkAll
        options.addsRejoinedRooms = addsRejoinedRooms
        options.followUpgrades = followUpgrades
        return try await SyncPipeline(client: client, store: store, observer: observer).run(options)
    }

    func timeline(_ roomID: String) throws -> [String] {
        var eventIDs: [String] = []
        try store.timeline(roomID: roomID) { eventIDs.append($0.eventID) }
        return eventIDs
    }

    static func syncReply(_ nextBatch: String, join: [String: JSONValue] = [:], leave: [String: JSONValue] = [:])
        -> ScriptedTransport.Step {
        .reply(200, JSONCoding.encode(["next_batch": .string(nextBatch),
                                       "rooms": ["join": .object(join), "leave": .object(leave)]]))
    }

    static func room(_ events: [RawEvent], limited: Bool = false, state: [RawEvent] = []) -> JSONValue {
        ["timeline": ["events": .array(events.map(\.json)), "limited": .bool(limited), "prev_batch": "p"],
         "state": ["events": .array(state.map(\.json))]]
    }

    /// Three walked rooms, then a night: one with news that fits, one `limited`, one quiet.
    @Test func eachRoomCostsWhatChanged() async throws {
        var rooms = ["!a:hs.test", "!b:hs.test", "!c:hs.test"].map { EventFactory(roomID: $0, idPrefix: String($0.dropFirst().prefix(1))) }
        let creates = rooms.indices.map { rooms[$0].create() }
        let first = rooms.indices.map { rooms[$0].message("first") }
        let firstRun = ScriptedTransport([Self.syncReply("s1")]
            + rooms.indices.flatMap { Reply.newRoom(state: [creates[$0]], messages: [first[$0]]) })
        _ = try await sync(firstRun, rooms.map(\.roomID))
        // The token came first, from a /sync that names no rooms, before any room was walked.
        #expect(firstRun.requests[0].url.contains("/_matrix/client/v3/sync"))
        #expect(firstRun.requests[0].query("since") == nil)
        #expect(try store.syncBatch() == "s1")
        #expect(try store.roomsFollowingSync() == Set(rooms.map(\.roomID)))

        let fits = rooms[0].message("news that fits")
        let rename = rooms[0].event(type: "m.room.name", stateKey: "", content: ["name": "Renamed"])
        let gap = (0..<3).map { rooms[1].message("gap \($0)") }
        let night = ScriptedTransport([
            Self.syncReply("s2", join: [rooms[0].roomID: Self.room([fits, rename]),
                                        rooms[1].roomID: Self.room([gap[2]], limited: true)]),
            Reply.page(gap, start: "now", end: "f2"),
            Reply.page([], start: "f2", end: nil),
        ])
        let results = try await sync(night, rooms.map(\.roomID))
        #expect(results.map(\.error) == [nil, nil, nil])
        #expect(night.requests.count == 3, "\(night.requests.map(\.url))")
        let syncRequest = night.requests[0]
        #expect(syncRequest.query("since") == "s1" && syncRequest.query("timeout") == "0")
        let filter = try JSONCoding.decode(syncRequest.query("filter") ?? "{}")
        #expect(filter.value(at: "room", "timeline", "limit")?.int64Value == 50)
        #expect(filter.value(at: "room", "state", "lazy_load_members")?.boolValue == true)
        #expect(filter.value(at: "room", "include_leave")?.boolValue == true)
        // No /state for anyone; the limited room walked forward from its own cursor.
        #expect(!night.requests.contains { $0.url.contains("/state") })
        #expect(night.requests[1].query("from") == "now" && night.requests[1].query("dir") == "f")

        #expect(try timeline(rooms[0].roomID) == [first[0], fits, rename].map(\.eventID))
        #expect(try store.room(rooms[0].roomID)?.cursors.forward == "s2")
        #expect(try store.room(rooms[0].roomID)?.metadata.name == "Renamed")
        let limitedTimeline = try timeline(rooms[1].roomID)
        #expect(limitedTimeline == [first[1]].map(\.eventID) + gap.map(\.eventID), "\(limitedTimeline) \(first[1].eventID) \(gap.map(\.eventID))")
        #expect(try store.room(rooms[1].roomID)?.cursors.forward == "f2")
        #expect(results[2].newEvents == 0 && results[2].pages == 0)
        #expect(try store.syncBatch() == "s2")
        #expect(try store.roomsFollowingSync() == Set(rooms.map(\.roomID)))
    }

    /// A room whose news could not be stored stops following the token (its next sync walks it); a room
    /// the account left is stored up to the leave and stops too.
    @Test func aFailedRoomStopsFollowingAndALeftRoomIsMarked() async throws {
        var rooms = ["!a:hs.test", "!b:hs.test"].map { EventFactory(roomID: $0, idPrefix: String($0.dropFirst().prefix(1))) }
        let creates = rooms.indices.map { rooms[$0].create() }
        let first = rooms.indices.map { rooms[$0].message("first") }
        let firstRun = ScriptedTransport([Self.syncReply("s1")]
            + rooms.indices.flatMap { Reply.newRoom(state: [creates[$0]], messages: [first[$0]]) })
        _ = try await sync(firstRun, rooms.map(\.roomID))

        let leave = rooms[0].event(type: "m.room.member", stateKey: "@me:hs.test", content: ["membership": "leave"])
        let night = ScriptedTransport([
            Self.syncReply("s2", join: [rooms[1].roomID: Self.room([rooms[1].message("x")], limited: true)],
                           leave: [rooms[0].roomID: Self.room([leave])]),
            .drop, .drop,
        ])
        let results = try await sync(night, rooms.map(\.roomID))
        #expect(results[0].error == nil && results[1].error != nil)
        #expect(try timeline(rooms[0].roomID).last == leave.eventID)
        #expect(try store.leftRooms() == [rooms[0].roomID])
        #expect(try store.syncBatch() == "s2")
        #expect(try store.roomsFollowingSync().isEmpty)
    }

    /// `--walk-all` walks every room as before, with a fresh token-only /sync first.
    @Test func walkAllWalksEveryRoom() async throws {
        var room = EventFactory(roomID: "!a:hs.test")
        let create = room.create()
        let first = room.message("first")
        _ = try await sync(ScriptedTransport([Self.syncReply("s1")] + Reply.newRoom(state: [create], messages: [first])),
                           [room.roomID])
        let walk = ScriptedTransport([Self.syncReply("s2"), Reply.state([create]), Reply.page([], start: "now", end: nil)])
        _ = try await sync(walk, [room.roomID], walkAll: true)
        #expect(walk.requests[0].query("since") == nil)
        #expect(walk.requests[1].url.hasSuffix("/state"))
        #expect(try store.syncBatch() == "s2")
    }

    /// Two rooms archived and following the token "s1".
    func twoFollowingRooms() async throws -> [EventFactory] {
        var rooms = ["!a:hs.test", "!b:hs.test"].map { EventFactory(roomID: $0, idPrefix: String($0.dropFirst().prefix(1))) }
        let creates = rooms.indices.map { rooms[$0].create() }
        let first = rooms.indices.map { rooms[$0].message("first") }
        _ = try await sync(ScriptedTransport([Self.syncReply("s1")]
            + rooms.indices.flatMap { Reply.newRoom(state: [creates[$0]], messages: [first[$0]]) }), rooms.map(\.roomID))
        #expect(try store.roomsFollowingSync() == Set(rooms.map(\.roomID)))
        return rooms
    }

    /// A left room is not left for good: when /sync names it under `join` again (here under `leave` as well,
    /// as a hostile server might: `join` wins), a plain sync walks it from its cursor, clears `left_at`, and
    /// it follows the token again.
    @Test func aRoomJoinedAgainIsSyncedAgain() async throws {
        var rooms = try await twoFollowingRooms()
        let (a, b) = (rooms[0].roomID, rooms[1].roomID)
        let leave = rooms[0].event(type: "m.room.member", stateKey: "@me:hs.test", content: ["membership": "leave"])
        _ = try await sync(ScriptedTransport([Self.syncReply("s2", leave: [a: Self.room([leave])])]), [a, b])
        #expect(try store.leftRooms() == [a])

        let create = rooms[0].create()
        let join = rooms[0].event(type: "m.room.member", stateKey: "@me:hs.test", content: ["membership": "join"])
        let back = ScriptedTransport([
            Self.syncReply("s3", join: [a: Self.room([join], limited: true)], leave: [a: Self.room([leave])]),
            Reply.state([create, join]),
            Reply.page([join], start: "s2", end: "f3"),
            Reply.page([], start: "f3", end: nil),
        ])
        // What a bare `mxarchive sync` asks for: the archived rooms not left.
        let results = try await sync(back, [b], addsRejoinedRooms: true)
        #expect(results.map(\.roomID) == [b, a])
        #expect(results.allSatisfy { $0.error == nil })
        #expect(back.requests[2].query("from") == "s2" && back.requests[2].query("dir") == "f")
        #expect(try timeline(a).last == join.eventID)
        #expect(try store.leftRooms().isEmpty)
        #expect(try store.leftAt(roomID: a) == nil)
        #expect(try store.roomsFollowingSync() == [a, b])
    }

    /// `--follow-upgrades` on the nightly path: a tombstone that arrives through /sync queues the successor.
    @Test func aTombstoneArrivingThroughSyncQueuesTheSuccessor() async throws {
        var rooms = try await twoFollowingRooms()
        var successor = EventFactory(roomID: "!new:hs.test", idPrefix: "n")
        let tombstone = rooms[0].tombstone(replacement: successor.roomID)
        let night = ScriptedTransport([Self.syncReply("s2", join: [rooms[0].roomID: Self.room([tombstone])])]
            + Reply.newRoom(state: [successor.create(predecessor: rooms[0].roomID)], messages: [successor.message("hi")]))
        let results = try await sync(night, rooms.map(\.roomID), followUpgrades: true)
        #expect(results.map(\.roomID) == rooms.map(\.roomID) + [successor.roomID])
        #expect(results.last?.error == nil && results.last?.newEvents == 1)
        #expect(try store.room(rooms[0].roomID)?.metadata.successor == successor.roomID)
    }

    /// A /sync since the stored token that fails is reported (the run walks every room instead); one whose
    /// reply is too large to read is asked again with one timeline event a room first.
    @Test func theFallbackToAWalkIsReportedAndATooLargeReplyIsRetriedSmaller() async throws {
        var rooms = try await twoFollowingRooms()
        let news = rooms[0].message("news")
        let smaller = ScriptedTransport([.tooLarge, Self.syncReply("s2", join: [rooms[0].roomID: Self.room([news])])])
        let observer = FallbackObserver()
        _ = try await sync(smaller, rooms.map(\.roomID), observer: observer)
        #expect(smaller.requests.count == 2)
        let limits = try smaller.requests.map { try JSONCoding.decode($0.query("filter") ?? "{}").value(at: "room", "timeline", "limit")?.int64Value }
        #expect(limits == [50, 1])
        #expect(try timeline(rooms[0].roomID).last == news.eventID)
        #expect(observer.reasons.isEmpty)

        let creates = rooms.indices.map { rooms[$0].create() }
        let expired = ScriptedTransport([Reply.error(400, "M_UNKNOWN_POS"), Self.syncReply("s3")]
            + rooms.indices.flatMap { [Reply.state([creates[$0]]), Reply.page([], start: "s2", end: nil)] })
        let results = try await sync(expired, rooms.map(\.roomID), observer: observer)
        #expect(results.allSatisfy { $0.error == nil })
        #expect(observer.reasons.count == 1, "\(observer.reasons)")
        #expect(try store.syncBatch() == "s3")
    }

    /// `sync --walk-all --room X` with a stored token walks X only; the other rooms keep following the
    /// stored token (which stays), and X follows it too.
    @Test func walkingOneRoomKeepsTheOthersFollowing() async throws {
        var rooms = try await twoFollowingRooms()
        let create = rooms[0].create()
        let walk = ScriptedTransport([Self.syncReply("s2"), Reply.state([create]), Reply.page([], start: "now", end: nil)])
        _ = try await sync(walk, [rooms[0].roomID], walkAll: true)
        #expect(try store.syncBatch() == "s1")
        #expect(try store.roomsFollowingSync() == Set(rooms.map(\.roomID)))
        // `--room X` without `--walk-all`: the /sync since the token speaks for every room; only X is stored.
        let one = ScriptedTransport([Self.syncReply("s3")])
        _ = try await sync(one, [rooms[0].roomID])
        #expect(try store.syncBatch() == "s3")
        #expect(try store.roomsFollowingSync() == Set(rooms.map(\.roomID)))
    }
}

/// Records the fallbacks a run reports.
final class FallbackObserver: SyncObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    var reasons: [String] { lock.withLock { recorded } }
    func roomStarted(roomID: String, name: String?) {}
    func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {}
    func roomFinished(_ result: RoomSyncResult) {}
    func syncTokenFallback(reason: String) { lock.withLock { recorded.append(reason) } }
}
