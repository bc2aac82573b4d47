import ArchiveCore
import ArchiveService
import ArchiveStore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Synchronization
import Testing
import TestSupport

/// `SyncOptions.jobs` (issue 10.2) over a scripted homeserver that answers each room from its own script,
/// after a delay of the room's own, and a real SQLite store: results come back in the order the rooms were
/// named, no more than `jobs` rooms (and one fetched page per room) are in flight, and an error that ends
/// the run stops the rooms beside it and starts no others.
@Suite struct ParallelSyncPipelineTests {
    let store: ArchiveStore

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-parallel"))
    }

    func sync(_ transport: RoomRoutedTransport, _ roomIDs: [String], jobs: Int,
              observer: (any SyncObserver)? = nil) async throws -> [RoomSyncResult] {
        let credentials = Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                      accessToken: "token", refreshToken: nil)
        let client = MatrixClient(credentials: credentials, transport: transport,
                                  retryPolicy: RetryPolicy(maxAttempts: 2), sleeper: { _ in })
        return try await SyncPipeline(client: client, store: store, observer: observer)
            .run(SyncOptions(roomIDs: roomIDs, jobs: jobs))
    }

    func timeline(_ roomID: String) throws -> [String] {
        var eventIDs: [String] = []
        try store.timeline(roomID: roomID) { eventIDs.append($0.eventID) }
        return eventIDs
    }

    /// `count` new rooms of one message each, the first ones slowest (`delay` ms per reply, less for each
    /// later room), so that with several jobs they finish in another order than named.
    func rooms(_ count: Int, delay: Int) -> (ids: [String], messages: [String: String], scripts: [String: RoomScript]) {
        var ids: [String] = []
        var messages: [String: String] = [:]
        var scripts: [String: RoomScript] = [:]
        for index in 0..<count {
            var room = EventFactory(roomID: "!room\(index):hs.test", idPrefix: "r\(index)e")
            let message = room.message("message of room \(index)")
            ids.append(room.roomID)
            messages[room.roomID] = message.eventID
            scripts[room.roomID] = RoomScript(steps: Reply.newRoom(state: [room.create()], messages: [message]),
                                              delayMilliseconds: max(1, delay - index * delay / count))
        }
        return (ids, messages, scripts)
    }

    @Test func resultsKeepTheNamedOrderWhateverOrderRoomsFinishIn() async throws {
        let (ids, messages, scripts) = rooms(6, delay: 40)
        let transport = RoomRoutedTransport(scripts)
        let finished = FinishOrder()
        let results = try await sync(transport, ids, jobs: 6, observer: finished)
        #expect(results.map(\.roomID) == ids)
        #expect(results.allSatisfy { $0.error == nil && $0.newEvents == 1 })
        // The rooms did run at once: the last named (fastest) finished before the first (slowest).
        let order = finished.rooms
        #expect(Set(order) == Set(ids))
        #expect(order.firstIndex(of: ids[5])! < order.firstIndex(of: ids[0])!)
        for id in ids { #expect(try timeline(id) == [messages[id]!]) }
    }

    @Test func jobsBoundTheRoomsAndPagesInFlight() async throws {
        let (ids, messages, scripts) = rooms(10, delay: 10)
        let transport = RoomRoutedTransport(scripts)
        let results = try await sync(transport, ids, jobs: 3, observer: transport)
        #expect(results.map(\.roomID) == ids)
        let peak = transport.peak
        #expect(peak.requests <= 3, "at most one request per room, three rooms at once")
        #expect(peak.requests >= 2, "the rooms overlapped")
        #expect(peak.requestsPerRoom == 1)
        // (Per room at most one page waits by construction: the room's loop stores each page before it
        // asks for the next; what --jobs bounds is the pages of all rooms.)
        #expect(peak.unstoredPages <= 3)
        #expect(peak.unstoredPages >= 1)
        for id in ids { #expect(try timeline(id) == [messages[id]!]) }
    }

    @Test func oneJobSyncsTheRoomsOneAfterAnother() async throws {
        let (ids, _, scripts) = rooms(4, delay: 5)
        let transport = RoomRoutedTransport(scripts)
        _ = try await sync(transport, ids, jobs: 1, observer: transport)
        #expect(transport.peak.requests == 1)
        #expect(transport.roomsInOrderRequested == ids)
    }

    // The first room's revoked token must stop the room beside it within that room's first request. The
    // run's loop (the task group's parent) is what cancels the other rooms, so it must not wait for a thread
    // of the shared pool: rooms run on the store writer's queue, and a pool kept busy by blocking work (the
    // whole test suite did it; a CLI run could too) left the parent unable to act while the room beside it
    // went on to fetch and store all five replies. Here every thread of the pool is made busy on purpose
    // when the second room asks for its state, and only once all of them are taken is the first room's
    // refusal let through (a gate, not a timer: timers are late on a busy pool). The pool is given back as
    // soon as the second room is cancelled, or after 2 s on a scheduler that does not cancel it meanwhile.
    @Test func anErrorThatEndsTheRunCancelsTheRoomsBesideItAndStartsNoOthers() async throws {
        let (ids, _, slow) = rooms(6, delay: 300)
        var scripts = slow
        scripts[ids[0]] = RoomScript(steps: [Reply.error(401, "M_UNKNOWN_TOKEN")], delayMilliseconds: 0)
        let refusal = Gate()
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let taken = DispatchSemaphore(value: 0)
        let giveBack = DispatchSemaphore(value: 0)
        let giveBackThePool: @Sendable () -> Void = { for _ in 0..<threads { giveBack.signal() } }
        // Given back from the writer's queue when the second room is cancelled: the test's own body runs on
        // the pool, so it could not do it before the blocking tasks time out.
        let transport = RoomRoutedTransport(scripts, gates: [ids[0]: refusal],
                                            whenCancelled: [ids[1]: giveBackThePool], whenFirstAsked: [ids[1]: {
            for _ in 0..<threads {
                Task.detached {
                    taken.signal()
                    _ = giveBack.wait(timeout: .now() + 2)
                }
            }
            // On the writer's queue, not the pool: waits until every thread of the pool is held (in the
            // whole suite other tests may hold some of them: busy either way, which is the point).
            for _ in 0..<threads { _ = taken.wait(timeout: .now() + 3) }
            refusal.open()
        }])
        let error = await #expect(throws: MatrixError.self) { try await sync(transport, ids, jobs: 2) }
        #expect(error?.errcode == "M_UNKNOWN_TOKEN")
        #expect(transport.roomsInOrderRequested == [ids[0], ids[1]])
        // The second room was stopped in its first request (its state), before it stored anything.
        #expect(transport.requests(of: ids[1]) == 1)
        #expect(try store.room(ids[1]) == nil)
    }
}

/// Holds requests until opened, once.
final class Gate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if !state.isOpen { state.waiting.append(continuation) }
                return state.isOpen
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.isOpen = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// One room's answers, in order, each after `delayMilliseconds`.
struct RoomScript: Sendable {
    var steps: [ScriptedTransport.Step]
    var delayMilliseconds: Int
}

/// Answers each `/rooms/{id}/…` request from that room's script and keeps count of what is in flight: the
/// requests under way, and (as the observer of the sync) the `/messages` pages delivered but not yet stored.
final class RoomRoutedTransport: HTTPTransport, SyncObserver {
    struct Peak: Sendable {
        var requests = 0
        var requestsPerRoom = 0
        var unstoredPages = 0
        var unstoredPagesPerRoom = 0
    }

    private struct State {
        var scripts: [String: RoomScript]
        var requested: [String] = []
        var inFlight: [String: Int] = [:]
        var delivered: [String: Int] = [:]
        var stored: [String: Int] = [:]
        var peak = Peak()
    }

    private let state: Mutex<State>
    /// A room's requests are answered only once its gate is open.
    private let gates: [String: Gate]
    /// Called on a room's first request, before it is answered.
    private let whenFirstAsked: [String: @Sendable () -> Void]
    /// Called when a room's request is cancelled while it waits for its answer.
    private let whenCancelled: [String: @Sendable () -> Void]

    init(_ scripts: [String: RoomScript], gates: [String: Gate] = [:],
         whenCancelled: [String: @Sendable () -> Void] = [:], whenFirstAsked: [String: @Sendable () -> Void] = [:]) {
        state = Mutex(State(scripts: scripts))
        self.gates = gates
        self.whenCancelled = whenCancelled
        self.whenFirstAsked = whenFirstAsked
    }

    var peak: Peak { state.withLock { $0.peak } }

    /// The rooms in the order their first request came.
    var roomsInOrderRequested: [String] {
        state.withLock { state in
            var seen: Set<String> = []
            return state.requested.filter { seen.insert($0).inserted }
        }
    }

    func requests(of roomID: String) -> Int { state.withLock { $0.requested.filter { $0 == roomID }.count } }

    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData {
        let path = URLComponents(string: request.url)?.path.split(separator: "/").map(String.init) ?? []
        guard let index = path.firstIndex(of: "rooms"), index + 1 < path.count else {
            return HTTPResponseData(status: 404, body: Data(#"{"errcode":"M_UNRECOGNIZED"}"#.utf8))
        }
        let roomID = path[index + 1]
        let isPage = path.last == "messages"
        let (step, delay, isFirst) = state.withLock { state -> (ScriptedTransport.Step, Int, Bool) in
            let isFirst = !state.requested.contains(roomID)
            state.requested.append(roomID)
            state.inFlight[roomID, default: 0] += 1
            state.peak.requests = max(state.peak.requests, state.inFlight.values.reduce(0, +))
            state.peak.requestsPerRoom = max(state.peak.requestsPerRoom, state.inFlight[roomID] ?? 0)
            var script = state.scripts[roomID] ?? RoomScript(steps: [], delayMilliseconds: 1)
            let step = script.steps.isEmpty ? .reply(500, "{}") : script.steps.removeFirst()
            state.scripts[roomID] = script
            return (step, script.delayMilliseconds, isFirst)
        }
        if isFirst { whenFirstAsked[roomID]?() }
        await gates[roomID]?.wait()
        defer { state.withLock { $0.inFlight[roomID, default: 1] -= 1 } }
        if delay > 0 {
            do {
                try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
            } catch {
                whenCancelled[roomID]?()
                throw error
            }
        }
        guard case .reply(let status, let body) = step else { throw TransportFailure("not scripted") }
        if isPage {
            state.withLock { state in
                state.delivered[roomID, default: 0] += 1
                let unstored = state.delivered.map { $0.value - (state.stored[$0.key] ?? 0) }
                state.peak.unstoredPages = max(state.peak.unstoredPages, unstored.reduce(0, +))
                state.peak.unstoredPagesPerRoom = max(state.peak.unstoredPagesPerRoom, unstored.max() ?? 0)
            }
        }
        return HTTPResponseData(status: status, body: Data(body.utf8))
    }

    // The sync's observer: a page counts as stored once the store has committed it.
    func roomStarted(roomID: String, name: String?) {}
    func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {
        state.withLock { $0.stored[roomID] = pages }
    }
    func roomFinished(_ result: RoomSyncResult) {}
}

/// The order rooms finished in, as the sync reported them.
final class FinishOrder: SyncObserver {
    private let finished = Mutex<[String]>([])
    var rooms: [String] { finished.withLock { $0 } }

    func roomStarted(roomID: String, name: String?) {}
    func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {}
    func roomFinished(_ result: RoomSyncResult) { finished.withLock { $0.append(result.roomID) } }
}
