import ArchiveCore
import ArchiveStore
import Foundation
import MatrixAPI

/// The nightly run's one `/sync` (issue 10.1): which rooms the stored batch token covers, what /sync said
/// about them, and which rooms this run brought up to its new token.
///
/// Every run makes one /sync before any room is fetched. With a stored token (and without `--walk-all`) it
/// is a /sync since that token, whose reply routes each covered room: no news, news that fits the timeline,
/// or a `limited` gap to walk. Without one, it is a /sync with no rooms at all, only for its `next_batch`:
/// taken before the walks, so an event sent while the rooms are walked is named by the next run's /sync
/// (and stored once), where a token taken after the walks would silently skip it.
struct NightlyRun {
    enum Route: Sendable {
        /// /sync named nothing of the room: it is up to date, and no request is made for it.
        case quiet
        /// What /sync had for the room, and the reply's `next_batch`, the room's new forward cursor.
        case news(SyncedRoom, nextBatch: String)
    }

    /// This run's `next_batch`, stored by `finish` for the next run.
    let nextBatch: String
    /// The /sync ran since the stored token: it speaks for every room that follows that token.
    let sinceStoredToken: Bool
    let following: Set<String>
    let news: [String: SyncedRoom]
    private var upToDate: Set<String> = []
    private var failed: Set<String> = []

    /// Nil when not even a token-only /sync answered: the run walks every room and stores no token.
    static func begin(client: MatrixClient, store: ArchiveStore, options: SyncOptions) async throws -> NightlyRun? {
        if !options.walkAll, let token = try store.syncBatch() {
            do {
                let reply = try await client.sync(filter: SyncFilter.news(timelineLimit: options.syncTimelineLimit),
                                                  since: token)
                return NightlyRun(nextBatch: reply.nextBatch, sinceStoredToken: true,
                                  following: try store.roomsFollowingSync(),
                                  news: Dictionary(reply.rooms.map { ($0.roomID, $0) }, uniquingKeysWith: { $1 }))
            } catch let error as MatrixError where !error.endsRun {
                // An expired token or a reply too large to read: this run walks every room, as before.
            }
        }
        do {
            let reply = try await client.sync(filter: SyncFilter.tokenOnly, since: nil)
            return NightlyRun(nextBatch: reply.nextBatch, sinceStoredToken: false, following: [], news: [:])
        } catch let error as MatrixError where !error.endsRun {
            return nil
        }
    }

    /// How the room is synced: nil for the per-room walk (rooms the stored token does not cover).
    func route(_ roomID: String) -> Route? {
        guard sinceStoredToken, following.contains(roomID) else { return nil }
        if let room = news[roomID], room.hasNews { return .news(room, nextBatch: nextBatch) }
        return .quiet
    }

    /// Records a room's outcome: only a room that finished without error or early stop is up to date.
    mutating func finished(_ result: RoomSyncResult) {
        if result.error == nil, !result.stoppedEarly {
            upToDate.insert(result.roomID)
        } else {
            failed.insert(result.roomID)
        }
    }

    /// Stores `nextBatch` with the rooms it covers from now on. A room /sync named with news that this run
    /// did not store (it failed, or was not asked for) stops following: its next sync walks it.
    func finish(store: ArchiveStore) throws {
        let unstoredNews = Set(news.values.filter(\.hasNews).map(\.roomID)).subtracting(upToDate)
        try store.storeSyncBatch(nextBatch, covered: upToDate, uncovered: failed.union(unstoredNews),
                                 onlyCovered: !sinceStoredToken)
    }
}

extension SyncPipeline {
    /// Syncs a room the stored batch token covers from what this run's /sync said: nothing to do; news that
    /// fits the timeline, stored as one page after the archive with the forward cursor moved to
    /// `next_batch` (a /sync token is a valid `from` for forward `/messages`) in the same transaction; or
    /// a `limited` timeline, whose gap is walked with `/messages` from the room's forward cursor. State
    /// changes update the stored state and metadata first, as `/state` does on the walk, so a page's
    /// redactions are judged by the power levels the room has now.
    func syncFromBatch(roomID: String, route: NightlyRun.Route, options: SyncOptions) async throws -> RoomSyncResult {
        guard let existing = try store.room(roomID) else {
            throw ArchiveError.failure("room \(roomID) follows the sync token but is not archived")
        }
        guard case .news(let room, let nextBatch) = route else {
            var result = RoomSyncResult(roomID: roomID, name: existing.metadata.name, newEvents: 0,
                                        totalEvents: existing.eventCount, pages: 0, malformed: 0, error: nil)
            try await finishRoom(roomID: roomID, options: options, result: &result)
            return result
        }
        let stateEvents = (room.state + room.timeline)
            .compactMap { try? RawEvent.parse($0, roomID: roomID).get() }
            .filter { $0.stateKey != nil }
        let metadata = try store.applyStateChanges(roomID: roomID, events: stateEvents)
        observer?.roomStarted(roomID: roomID, name: metadata.name)
        var result = RoomSyncResult(roomID: roomID, name: metadata.name, newEvents: 0,
                                    totalEvents: existing.eventCount, pages: 0, malformed: 0, error: nil)
        if room.limited {
            // More news than the timeline holds: the walk from the forward cursor fills the gap exactly
            // (it reaches the /sync's events too; they are stored once).
            try await walk(roomID: roomID, cursors: existing.cursors, metadata: metadata, options: options,
                           result: &result)
        } else if !room.timeline.isEmpty {
            let members = room.state.filter { $0["type"]?.stringValue == "m.room.member" }
            try store(page: MessagesPage(chunk: room.timeline, start: room.prevBatch, end: nextBatch, state: members),
                      placement: .after,
                      cursors: RoomCursors(backward: existing.cursors.backward, forward: nextBatch),
                      metadata: metadata, options: options, result: &result)
        }
        if room.membership == .leave { try store.markLeft(roomID: roomID) }
        try await finishRoom(roomID: roomID, options: options, result: &result)
        return result
    }
}
