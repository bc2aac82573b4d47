import ArchiveCore
import ArchiveService
import ArchiveStore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Testing
import TestSupport

/// The sync pipeline over a scripted homeserver and a real SQLite store: what a run stores, where the next
/// run resumes, and which errors end one room or the whole run.
///
/// Each script lists, in order, the requests the pipeline makes: per room `/state`, then the `/messages`
/// pages its planner asks for (a new room: backward from now until a page without `end`, then forward from
/// where the walk began). The store holds no backup key, so the run starts without `/room_keys/version`.
@Suite struct SyncPipelineTests {
    let store: ArchiveStore

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-sync"))
    }

    /// One run over `transport`, with a token that cannot be refreshed and retries that never sleep.
    func sync(_ transport: ScriptedTransport, _ roomIDs: [String], followUpgrades: Bool = false,
              pageSize: Int = 1000) async throws -> [RoomSyncResult] {
        let credentials = Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                      accessToken: "token", refreshToken: nil)
        let client = MatrixClient(credentials: credentials, transport: transport,
                                  retryPolicy: RetryPolicy(maxAttempts: 2), sleeper: { _ in })
        return try await SyncPipeline(client: client, store: store, observer: nil)
            .run(SyncOptions(roomIDs: roomIDs, followUpgrades: followUpgrades, pageSize: pageSize))
    }

    func timeline(_ roomID: String) throws -> [String] {
        var eventIDs: [String] = []
        try store.timeline(roomID: roomID) { eventIDs.append($0.eventID) }
        return eventIDs
    }

    @Test func aFailedPageIsResumedFromTheStoredCursor() async throws {
        var room = EventFactory(roomID: "!resume:hs.test")
        let create = room.create()
        let messages = (0..<5).map { room.message("m\($0)") }

        // The newest page is stored; the next older one fails twice (the retry too), which ends the room.
        let failing = ScriptedTransport([
            Reply.state([create]),
            Reply.page([messages[3], messages[2]], start: "now", end: "b1"), Reply.context(end: "now"),
            .drop, .drop,
        ])
        let failed = try await sync(failing, [room.roomID])
        #expect(failed.count == 1 && failed[0].error != nil)
        #expect(try store.room(room.roomID)?.cursors == RoomCursors(backward: .at("b1"), forward: "now"))
        #expect(try timeline(room.roomID) == [messages[2], messages[3]].map(\.eventID))

        // The next run finishes the backward walk from b1 (the server repeats one event), then walks forward
        // from where the first run began and finds a message sent since.
        let resuming = ScriptedTransport([
            Reply.state([create]),
            Reply.page([messages[2], messages[1], messages[0]], start: "b1", end: "b2"),
            Reply.page([], start: "b2", end: nil),
            Reply.page([messages[4]], start: "now", end: "f1"),
            Reply.page([], start: "f1", end: nil),
        ])
        let resumed = try await sync(resuming, [room.roomID])
        #expect(resumed.map(\.error) == [nil])
        #expect(resumed.map(\.newEvents) == [3])
        #expect(resuming.requests.compactMap { $0.query("from") }.first == "b1")
        #expect(try timeline(room.roomID) == messages.map(\.eventID))
        #expect(try store.room(room.roomID)?.cursors == RoomCursors(backward: .complete, forward: "f1"))
    }

    /// Issue 12.5: a page too big to read (over the transport's 64 MiB cap) is asked for again with half the
    /// events from the same cursor, and the size grows back after pages that fit; it once failed the room at
    /// the same cursor every night.
    @Test func aPageTooLargeToReadIsFetchedAgainSmaller() async throws {
        var room = EventFactory(roomID: "!big:hs.test")
        let create = room.create()
        let messages = (0..<8).map { room.message("m\($0)") }
        let transport = ScriptedTransport([
            Reply.state([create]),
            .tooLarge,
            Reply.page(Array(messages[4...].reversed()), start: "now", end: "b1"), Reply.context(end: "now"),
            .tooLarge,
            Reply.page(Array(messages[..<4].reversed()), start: "b1", end: "b2"),
            Reply.page([], start: "b2", end: nil),
            Reply.page([], start: "now", end: nil),
        ])
        let results = try await sync(transport, [room.roomID], pageSize: 8)
        #expect(results.map(\.error) == [nil])
        #expect(try timeline(room.roomID) == messages.map(\.eventID))
        #expect(transport.requests.filter { $0.url.contains("/messages") }.compactMap { $0.query("limit") }
                == ["8", "4", "8", "4", "8", "8"])
    }

    /// Issue 12.6: a reply that fits the byte cap but holds more values than the parser keeps (tiny values
    /// that would grow many times over in memory) is "too large" as well: the page is asked for again smaller.
    @Test func aPageOfTooManyValuesIsFetchedAgainSmaller() async throws {
        var room = EventFactory(roomID: "!tiny:hs.test")
        let create = room.create()
        let message = room.message("after the flood")
        let flood = "{\"chunk\":[],\"start\":\"now\",\"end\":\"b1\",\"pad\":["
            + String(repeating: "0,", count: JSONParser.maxValues) + "0]}"
        let transport = ScriptedTransport([
            Reply.state([create]),
            .reply(200, flood),
            Reply.page([message], start: "now", end: "b1"), Reply.context(end: "now"),
            Reply.page([], start: "b1", end: nil),
            Reply.page([], start: "now", end: nil),
        ])
        let results = try await sync(transport, [room.roomID], pageSize: 8)
        #expect(results.map(\.error) == [nil])
        #expect(try timeline(room.roomID) == [message.eventID])
        #expect(transport.requests.filter { $0.url.contains("/messages") }.compactMap { $0.query("limit") }.prefix(2)
                == ["8", "4"])
    }

    /// Down to one event, which is read with a larger cap; one event too large even for that ends the room
    /// with the reason, not after a night of retries.
    @Test func oneHugeEventIsReadWithALargerCapOrEndsTheRoomClearly() async throws {
        var room = EventFactory(roomID: "!huge:hs.test")
        let create = room.create()
        let huge = room.message("huge")
        let readable = ScriptedTransport([
            Reply.state([create]), .tooLarge,
            Reply.page([huge], start: "now", end: "b1"), Reply.context(end: "now"),
            Reply.page([], start: "b1", end: nil), Reply.page([], start: "now", end: nil),
        ])
        #expect(try await sync(readable, [room.roomID], pageSize: 2).map(\.error) == [nil])
        #expect(try timeline(room.roomID) == [huge.eventID])
        #expect(readable.requests[2].maxResponseBytes == 256 * 1024 * 1024)
        #expect(readable.requests[1].maxResponseBytes == nil)

        var other = EventFactory(roomID: "!huger:hs.test")
        let unreadable = ScriptedTransport([Reply.state([other.create()]), .tooLarge, .tooLarge])
        let failed = try await sync(unreadable, [other.roomID], pageSize: 2)
        #expect(failed.first?.error?.contains("larger than mxarchive reads") == true)
        #expect(unreadable.requests.count == 3)
    }

    /// Issue 9.5: a tombstone (or a create event's predecessor) is followed only when the other room names
    /// this one back. A room admin who writes a private room's id into a public room's tombstone must not
    /// splice the private room into the public room's archive.
    @Test(arguments: [UpgradeLink.Kind.successor, .predecessor])
    func anUpgradeLinkTheOtherRoomDoesNotConfirmIsNotFollowed(_ kind: UpgradeLink.Kind) async throws {
        var publicRoom = EventFactory(roomID: "!public:hs.test")
        var privateRoom = EventFactory(roomID: "!private:hs.test")
        let publicState = kind == .successor
            ? [publicRoom.create(), publicRoom.tombstone(replacement: privateRoom.roomID)]
            : [publicRoom.create(predecessor: privateRoom.roomID)]
        let publicMessage = publicRoom.message("public")
        // The private room is an ordinary room: no predecessor, no tombstone naming the public room.
        let privateState = [privateRoom.create()]
        let transport = ScriptedTransport(Reply.newRoom(state: publicState, messages: [publicMessage])
                                          + [Reply.state(privateState)])
        let results = try await sync(transport, [publicRoom.roomID], followUpgrades: true)
        #expect(results.map(\.roomID) == [publicRoom.roomID])
        #expect(try store.room(privateRoom.roomID) == nil, "the private room was spliced into the archive")
        #expect(transport.requests.filter { $0.url.contains("/messages") && $0.url.contains("private") }.isEmpty)
        #expect(try store.upgradeChain(of: publicRoom.roomID) == [publicRoom.roomID])
    }

    /// Issue 9.6: the forward cursor of a new room comes from `/context`'s `end` at the newest event of the
    /// first backward page, a token the spec defines for forward pagination, not from the backward page's
    /// `start` ("servers are not required to support this").
    @Test func theForwardCursorComesFromContextNotFromABackwardStart() async throws {
        var room = EventFactory(roomID: "!fresh:hs.test")
        let create = room.create()
        let messages = (0..<2).map { room.message("m\($0)") }
        let transport = ScriptedTransport([
            Reply.state([create]),
            Reply.page(messages.reversed(), start: "backward-start", end: "b1"),
            Reply.context(end: "forward-from-newest"),
            Reply.page([], start: "b1", end: nil),
            Reply.page([], start: "forward-from-newest", end: nil),
        ])
        #expect(try await sync(transport, [room.roomID]).map(\.error) == [nil])
        let context = try #require(transport.requests.first { $0.url.contains("/context/") })
        #expect(context.url.contains(TestURL.segment(messages[1].eventID)))
        #expect(transport.requests.last?.query("from") == "forward-from-newest")
        #expect(transport.requests.last?.query("dir") == "f")
        #expect(try store.room(room.roomID)?.cursors == RoomCursors(backward: .complete, forward: "forward-from-newest"))
    }

    /// A server whose /context fails does not fail the new room: the first page's `start` is used instead.
    @Test func aFailingContextFallsBackToThePagesStart() async throws {
        var room = EventFactory(roomID: "!nocontext:hs.test")
        let create = room.create()
        let message = room.message("kept")
        let transport = ScriptedTransport([
            Reply.state([create]),
            Reply.page([message], start: "backward-start", end: "b1"),
            Reply.error(404, "M_NOT_FOUND"),
            Reply.page([], start: "b1", end: nil),
            Reply.page([], start: "backward-start", end: nil),
        ])
        #expect(try await sync(transport, [room.roomID]).map(\.error) == [nil])
        #expect(try timeline(room.roomID) == [message.eventID])
        #expect(transport.requests.last?.query("from") == "backward-start")
    }

    @Test func aForbiddenRoomIsReportedAndTheNextOneStillSyncs() async throws {
        let closed = "!closed:hs.test"
        var open = EventFactory(roomID: "!open:hs.test")
        let create = open.create()
        let message = open.message("archived anyway")
        let transport = ScriptedTransport(
            [Reply.error(403, "M_FORBIDDEN")] + Reply.newRoom(state: [create], messages: [message]))
        let results = try await sync(transport, [closed, open.roomID])
        #expect(results.map(\.roomID) == [closed, open.roomID])
        #expect(results[0].error?.contains("M_FORBIDDEN") == true)
        #expect(results[1].error == nil)
        #expect(try timeline(open.roomID) == [message.eventID])
    }

    @Test func aRevokedTokenEndsTheRunBeforeTheNextRoom() async throws {
        var first = EventFactory(roomID: "!first:hs.test")
        let later = "!later:hs.test"
        let transport = ScriptedTransport([
            Reply.state([first.create()]),
            Reply.error(401, "M_UNKNOWN_TOKEN"),
        ])
        let error = await #expect(throws: MatrixError.self) { try await sync(transport, [first.roomID, later]) }
        #expect(error?.errcode == "M_UNKNOWN_TOKEN")
        #expect(transport.roomsRequested == [first.roomID])
    }

    enum Link: Sendable, CaseIterable {
        /// The room synced first has an `m.room.tombstone` naming its replacement.
        case tombstone
        /// The room synced first has an `m.room.create` naming its predecessor.
        case predecessor
    }

    @Test(arguments: [true, false], Link.allCases)
    func upgradesAreFollowedOnlyWhenAsked(followUpgrades: Bool, link: Link) async throws {
        var old = EventFactory(roomID: "!old:hs.test")
        var new = EventFactory(roomID: "!new:hs.test")
        // Both rooms name each other, as after a real upgrade; the room synced first must not be synced again.
        let oldState = [old.create(), old.tombstone(replacement: new.roomID)]
        let newState = [new.create(predecessor: old.roomID)]
        let oldMessage = old.message("before the upgrade")
        let newMessage = new.message("after the upgrade")
        let (first, linked) = link == .tombstone
            ? (Reply.newRoom(state: oldState, messages: [oldMessage]), Reply.newRoom(state: newState, messages: [newMessage]))
            : (Reply.newRoom(state: newState, messages: [newMessage]), Reply.newRoom(state: oldState, messages: [oldMessage]))
        let (firstID, linkedID) = link == .tombstone ? (old.roomID, new.roomID) : (new.roomID, old.roomID)

        let transport = ScriptedTransport(first + (followUpgrades ? linked : []))
        let results = try await sync(transport, [firstID], followUpgrades: followUpgrades)
        #expect(results.map(\.roomID) == (followUpgrades ? [firstID, linkedID] : [firstID]))
        #expect(results.allSatisfy { $0.error == nil })
        #expect(transport.roomsRequested == (followUpgrades ? [firstID, linkedID] : [firstID]))
        #expect(try timeline(linkedID).count == (followUpgrades ? 1 : 0))
    }
}

/// Homeserver answers, as JSON bodies for the scripted transport.
enum Reply {
    static func state(_ events: [RawEvent]) -> ScriptedTransport.Step {
        .reply(200, JSONCoding.encode(.array(events.map(\.json))))
    }

    /// A `/messages` page; `end: nil` is the server saying there is nothing further.
    static func page(_ events: [RawEvent], start: String, end: String?) -> ScriptedTransport.Step {
        var reply: [String: JSONValue] = ["chunk": .array(events.map(\.json)), "start": .string(start)]
        if let end { reply["end"] = .string(end) }
        return .reply(200, JSONCoding.encode(.object(reply)))
    }

    /// `/context/{event}?limit=0` of the newest event of a first backward page: its `end` is the token for
    /// paginating forward from there.
    static func context(end: String) -> ScriptedTransport.Step {
        .reply(200, JSONCoding.encode(["start": "ctx-start", "end": .string(end), "events_before": [], "events_after": []]))
    }

    static func error(_ status: Int, _ errcode: String) -> ScriptedTransport.Step {
        .reply(status, JSONCoding.encode(["errcode": .string(errcode)]))
    }

    /// Every request of a first sync of a room whose history fits in one page: its state, the backward walk
    /// from now (one page, then the empty one), and the forward walk from there, which finds nothing newer.
    static func newRoom(state: [RawEvent], messages: [RawEvent]) -> [ScriptedTransport.Step] {
        [Reply.state(state),
         page(messages.reversed(), start: "now", end: "b1"),
         context(end: "now"),
         page([], start: "b1", end: nil),
         page([], start: "now", end: nil)]
    }
}

extension EventFactory {
    mutating func create(predecessor: String? = nil) -> RawEvent {
        var content: [String: JSONValue] = ["room_version": "12"]
        if let predecessor { content["predecessor"] = ["room_id": .string(predecessor)] }
        return event(type: "m.room.create", stateKey: "", content: .object(content))
    }

    mutating func tombstone(replacement: String) -> RawEvent {
        event(type: "m.room.tombstone", stateKey: "",
              content: ["body": "This room has been replaced", "replacement_room": .string(replacement)])
    }
}

extension HTTPRequestSpec {
    /// A query parameter, percent-decoded.
    func query(_ name: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value
    }
}

extension ScriptedTransport {
    /// The rooms named in request paths (`/rooms/{id}/…`), in the order first requested.
    var roomsRequested: [String] {
        var rooms: [String] = []
        for request in requests {
            let path = URLComponents(string: request.url)?.path.split(separator: "/").map(String.init) ?? []
            if let index = path.firstIndex(of: "rooms"), index + 1 < path.count, !rooms.contains(path[index + 1]) {
                rooms.append(path[index + 1])
            }
        }
        return rooms
    }
}

enum TestURL {
    /// A path segment as the client escapes it.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
