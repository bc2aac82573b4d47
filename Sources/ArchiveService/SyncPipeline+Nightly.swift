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
    /// The token stored by the last run (nil before the first), and the rooms that follow it.
    let storedToken: String?
    let following: Set<String>
    let news: [String: SyncedRoom]
    private var upToDate: Set<String> = []
    private var failed: Set<String> = []

    /// Nil when not even a token-only /sync answered: the run walks every room and stores no token.
    static func begin(client: MatrixClient, store: ArchiveStore, options: SyncOptions,
                      observer: (any SyncObserver)?) async throws -> NightlyRun? {
        let storedToken = try store.syncBatch()
        let following = try store.roomsFollowingSync()
        if !options.walkAll, let token = storedToken {
            do {
                let reply = try await syncSince(token, client: client, timelineLimit: options.syncTimelineLimit)
                return NightlyRun(nextBatch: reply.nextBatch, sinceStoredToken: true, storedToken: token,
                                  following: following,
                                  news: Dictionary(reply.rooms.map { ($0.roomID, $0) }, uniquingKeysWith: { $1 }))
            } catch let error as MatrixError where !error.endsRun {
                // An expired token or a reply too large to read even with one event a room: this run walks
                // every room, as before, and says so (a warning; the next run has a fresh token).
                observer?.syncTokenFallback(reason: error.description)
            }
        }
        do {
            let reply = try await client.sync(filter: SyncFilter.tokenOnly, since: nil)
            return NightlyRun(nextBatch: reply.nextBatch, sinceStoredToken: false, storedToken: storedToken,
                              following: following, news: [:])
        } catch let error as MatrixError where !error.endsRun {
            observer?.syncTokenFallback(reason: error.description)
            return nil
        }
    }

    /// /sync since the stored token; a reply too large to read is asked for again with one timeline event a
    /// room (a room with more news is `limited` and walked from its cursor) before the run gives up on it.
    private static func syncSince(_ token: String, client: MatrixClient, timelineLimit: Int) async throws -> SyncReply {
        do {
            return try await client.sync(filter: SyncFilter.news(timelineLimit: timelineLimit), since: token)
        } catch let error as MatrixError where error.replyTooLarge && timelineLimit > 1 {
            return try await client.sync(filter: SyncFilter.news(timelineLimit: 1), since: token)
        }
    }

    /// Rooms of `left` that this /sync names under `join`: the account joined them again.
    func rejoined(among left: Set<String>) -> [String] {
        guard sinceStoredToken else { return [] }
        return left.filter { news[$0]?.membership == .join }.sorted()
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
        if !sinceStoredToken, let storedToken, !following.isSubset(of: upToDate) {
            // Some rooms walked (`--walk-all --room X`, or a fallback where rooms failed) while others still
            // follow the stored token: it stays, so their news since it is still named; the rooms walked now
            // are archived past it (to after this run's newer token), so they follow it too.
            try store.storeSyncBatch(storedToken, covered: upToDate, uncovered: failed, onlyCovered: false)
            return
        }
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
    /// Returns the room's metadata after the news (a tombstone in it names the successor).
    func syncFromBatch(roomID: String, route: NightlyRun.Route, options: SyncOptions) async throws
        -> (RoomSyncResult, RoomMetadata) {
        guard let existing = try store.room(roomID) else {
            throw ArchiveError.failure("room \(roomID) follows the sync token but is not archived")
        }
        guard case .news(let room, let nextBatch) = route else {
            var result = RoomSyncResult(roomID: roomID, name: existing.metadata.name, newEvents: 0,
                                        totalEvents: existing.eventCount, pages: 0, malformed: 0, error: nil)
            try await finishRoom(roomID: roomID, options: options, result: &result)
            return (result, existing.metadata)
        }
        let stateEvents = (room.state + room.timeline)
            .compactMap { try? RawEvent.parse($0, roomID: roomID).get() }
            .filter { $0.stateKey != nil }
        let metadata = try store.applyStateChanges(roomID: roomID, events: stateEvents)
        observer?.roomStarted(roomID: roomID, name: metadata.name)
        var result = RoomSyncResult(roomID: roomID, name: metadata.name, newEvents: 0,
                                    totalEvents: existing.eventCount, pages: 0, malformed: 0, error: nil)
        let members = room.state.filter { $0["type"]?.stringValue == "m.room.member" }
        if room.limited {
            // More news than the timeline holds: the walk from the forward cursor fills the gap exactly
            // (it reaches the /sync's events too; they are stored once).
            try await walk(roomID: roomID, cursors: existing.cursors, metadata: metadata, options: options,
                           result: &result)
            // Then the /sync's timeline after the archive, its events already walked skipped: a server
            // whose /messages stopped short of its /sync loses none of them. Not after a walk stopped for
            // this run, which left a gap before them.
            if !result.stoppedEarly, !room.timeline.isEmpty, let cursors = try store.room(roomID)?.cursors {
                try store(page: MessagesPage(chunk: room.timeline, start: room.prevBatch, end: nil, state: members),
                          placement: .after, cursors: cursors, metadata: metadata, options: options, result: &result)
            }
        } else if !room.timeline.isEmpty {
            try store(page: MessagesPage(chunk: room.timeline, start: room.prevBatch, end: nextBatch, state: members),
                      placement: .after,
                      cursors: RoomCursors(backward: existing.cursors.backward, forward: nextBatch),
                      metadata: metadata, options: options, result: &result)
        }
        switch room.membership {
        case .leave: try store.markLeft(roomID: roomID)
        case .join: try store.clearLeft(roomID: roomID)
        }
        try await finishRoom(roomID: roomID, options: options, result: &result)
        // Read back: a redaction in the timeline may have changed the state the metadata comes from.
        return (result, try store.room(roomID)?.metadata ?? metadata)
    }
}
