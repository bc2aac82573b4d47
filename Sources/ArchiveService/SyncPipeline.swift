import ArchiveCore
import ArchiveStore
import Foundation
import MatrixAPI
import MatrixCrypto

/// What to archive and how.
public struct SyncOptions: Sendable {
    public enum Start: Sendable, Hashable {
        /// Walk backward from now (the default).
        case latest
        /// Walk forward from the room's first visible event.
        case fromStart
        /// Start a new room's archive at this time (milliseconds since the epoch).
        case since(Int64)
    }

    public var roomIDs: [String]
    public var start: Start
    public var followUpgrades: Bool
    public var retainRedacted: Bool
    /// Events per `/messages` request; Synapse caps it at 1,000.
    public var pageSize: Int
    /// `--media`: after a room's events, download its attachments. Nil: events only.
    public var media: MediaOptions?
    /// `--jobs`: rooms synced at once (`RoomScheduler`); 1 syncs them one after another, in order.
    public var jobs: Int
    /// `--walk-all`: every room takes the per-room walk (`/state`, then `/messages`), as before the nightly
    /// run learnt what changed from /sync.
    public var walkAll = false
    /// The run makes one /sync (and stores its `next_batch`) to learn which rooms changed: what `mxarchive
    /// sync` does. Off, no /sync is made and every room is walked (callers that script the server's replies).
    public var usesSyncToken = false
    /// Timeline events per room in the nightly /sync; a room with more news is walked with `/messages`.
    public var syncTimelineLimit = 50
    /// `roomIDs` are every archived room the account has not left (a bare `mxarchive sync`): a left room
    /// that the nightly /sync names under `join` (joined again) is synced too.
    public var addsRejoinedRooms = false

    public init(roomIDs: [String], start: Start = .latest, followUpgrades: Bool = false,
                retainRedacted: Bool = false, pageSize: Int = 1000, media: MediaOptions? = nil, jobs: Int = 1) {
        self.roomIDs = roomIDs
        self.jobs = jobs
        self.start = start
        self.followUpgrades = followUpgrades
        self.retainRedacted = retainRedacted
        self.pageSize = pageSize
        self.media = media
    }
}

public struct RoomSyncResult: Sendable {
    public let roomID: String
    public let name: String?
    public var newEvents: Int
    public var totalEvents: Int
    public var pages: Int
    public var malformed: Int
    public var error: String?
    /// The media pass (with `--media`; nil otherwise, or when the room failed before it).
    public var media: MediaSyncCounts?
    /// Encrypted events of the room still waiting for keys after this run (missing_key, unknown_index).
    public var waitingForKeys = 0
    /// The walk stopped for this run (a long run of pages with nothing new, or a token cycle); the next
    /// sync goes on from the stored cursor.
    public var stoppedEarly = false
}

/// Hears about a sync as it goes, for progress displays.
public protocol SyncObserver: Sendable {
    func roomStarted(roomID: String, name: String?)
    func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int)
    func roomFinished(_ result: RoomSyncResult)
    /// `count` more rooms are about to be synced (the rooms named, then each generation of upgrade links).
    func roomsScheduled(_ count: Int)
    /// New sessions came from the stored key backup at the start of the sync (or it failed: `error`).
    func keyBackupChecked(_ report: KeyImportReport?, error: String?)
    /// The media pass of a room has settled `done` of its `total` attachments.
    func mediaProgress(roomID: String, done: Int, total: Int)
    /// `--follow-upgrades` did not follow `linkedFrom`'s link to `roomID`: the rooms do not name each other.
    func upgradeLinkRefused(roomID: String, linkedFrom: String)
    /// The sync's sender-key check (issue 9.8) settled the events decrypted since the last one.
    func senderKeysChecked(_ outcome: SenderKeyCheckOutcome)
    /// The /sync since the stored batch token failed (`reason`): this run walks every room instead.
    func syncTokenFallback(reason: String)
}

extension SyncObserver {
    public func roomsScheduled(_ count: Int) {}
    public func keyBackupChecked(_ report: KeyImportReport?, error: String?) {}
    public func mediaProgress(roomID: String, done: Int, total: Int) {}
    public func upgradeLinkRefused(roomID: String, linkedFrom: String) {}
    public func senderKeysChecked(_ outcome: SenderKeyCheckOutcome) {}
    public func syncTokenFallback(reason: String) {}
}

/// How a room was reached with `--follow-upgrades`: from a room whose create event names it as its
/// predecessor, or whose tombstone names it as its replacement.
public struct UpgradeLink: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case predecessor, successor }
    public let from: String
    public let kind: Kind

    /// An upgrade counts only when both rooms say so: a room admin can write any room id into a tombstone
    /// or a create event, and must not be able to splice another (private) room into this room's archive.
    public func isConfirmed(by linked: RoomMetadata) -> Bool {
        switch kind {
        case .successor: linked.predecessor == from
        case .predecessor: linked.successor == from
        }
    }
}

/// The sync pipeline: for each room, read its state, then fetch pages as the pagination state machine asks
/// and store each page (with its cursor) in one transaction.
public struct SyncPipeline {
    let client: MatrixClient
    let store: ArchiveStore
    let observer: (any SyncObserver)?
    /// The rooms' media passes, one at a time across rooms (see `AsyncGate`).
    let mediaGate = AsyncGate()

    public init(client: MatrixClient, store: ArchiveStore, observer: (any SyncObserver)?) {
        self.client = client
        self.store = store
        self.observer = observer
    }

    /// Syncs every room; a room that fails is reported and the others still run. Errors that make every
    /// further request fail (a revoked token) end the run.
    public func run(_ options: SyncOptions) async throws -> [RoomSyncResult] {
        // With a stored backup key, new sessions are fetched first, so this sync's pages decrypt as they
        // are stored and older waiting events are retried. A backup that fails does not stop the archive.
        do {
            if let report = try await KeyImport(store: store).refreshFromStoredBackup(client: client) {
                observer?.keyBackupChecked(report, error: nil)
            } else {
                // Keys stored by an import that was interrupted before its retry finished.
                _ = try KeyImport(store: store).retryWaitingEvents()
            }
        } catch let error as MatrixError where error.endsRun {
            throw error
        } catch {
            observer?.keyBackupChecked(nil, error: "\(error)")
        }
        var nightly = options.usesSyncToken
            ? try await NightlyRun.begin(client: client, store: store, options: options, observer: observer) : nil
        var roomIDs = options.roomIDs
        if options.addsRejoinedRooms, let nightly {
            // Left, and named under `join` now: the account is back, so the room is walked again from its
            // forward cursor (its `/state` then says `join`).
            for roomID in try nightly.rejoined(among: store.leftRooms()) where !roomIDs.contains(roomID) {
                try store.clearLeft(roomID: roomID)
                roomIDs.append(roomID)
            }
        }
        var results: [RoomSyncResult] = []
        // Rooms named by the user, then rooms reached through an upgrade link (with the room that names them),
        // a generation at a time so that the order (and which link reaches a room first) is the same
        // whatever order the rooms of a generation finish in.
        var generation: [(roomID: String, linkedFrom: UpgradeLink?)] = roomIDs.map { ($0, nil) }
        var seen: Set<String> = []
        let scheduler = RoomScheduler(jobs: options.jobs)
        let pipeline = WriterConfined(value: self)
        while !generation.isEmpty {
            // Rooms the stored batch token covers learn from this run's /sync what changed, if anything
            // (decided here, before the rooms run at once, so that the run's record stays in one place).
            let batch = generation.filter { seen.insert($0.roomID).inserted }.map {
                RoomToSync(roomID: $0.roomID, linkedFrom: $0.linkedFrom,
                           route: $0.linkedFrom == nil ? nightly?.route($0.roomID) : nil)
            }
            observer?.roomsScheduled(batch.count)
            let outcomes = try await scheduler.run(batch) {
                try await pipeline.value.syncReportingFailure($0, options: options)
            }
            generation = []
            for case let (result, metadata)? in outcomes {
                nightly?.finished(result)
                results.append(result)
                guard options.followUpgrades, let metadata else { continue }
                if let predecessor = metadata.predecessor, !seen.contains(predecessor) {
                    generation.append((predecessor, UpgradeLink(from: result.roomID, kind: .predecessor)))
                }
                if let successor = metadata.successor, !seen.contains(successor) {
                    generation.append((successor, UpgradeLink(from: result.roomID, kind: .successor)))
                }
            }
        }
        // Last, so that a run killed before here leaves the previous token, which names this run's rooms again.
        try nightly?.finish(store: store)
        // After every room, so that one /keys/query covers the senders of all the events decrypted in this
        // run (and by imports since the last one); `unknown` and `mismatch` ones are asked about again.
        let check = try await SenderKeyCheck(client: client, store: store).run()
        if check.checked > 0 { observer?.senderKeysChecked(check) }
        return results
    }

    /// Syncs one room and reports it finished; a failure of the room alone becomes its result (metadata nil),
    /// errors that end the run are thrown. Nil: an upgrade link the room does not confirm.
    private func syncReportingFailure(_ room: RoomToSync, options: SyncOptions) async throws
        -> (RoomSyncResult, RoomMetadata?)? {
        do {
            if let route = room.route {
                // With its metadata: a tombstone that arrived through /sync queues the successor too.
                let (result, metadata) = try await syncFromBatch(roomID: room.roomID, route: route, options: options)
                observer?.roomFinished(result)
                return (result, metadata)
            }
            guard let (result, metadata) = try await sync(roomID: room.roomID, linkedFrom: room.linkedFrom,
                                                          options: options) else { return nil }
            observer?.roomFinished(result)
            return (result, metadata)
        } catch let error as MatrixError where !error.endsRun {
            let known = try? store.room(room.roomID)
            let result = RoomSyncResult(roomID: room.roomID, name: known?.metadata.name, newEvents: 0,
                                        totalEvents: known?.eventCount ?? 0, pages: 0, malformed: 0,
                                        error: error.description)
            observer?.roomFinished(result)
            return (result, nil)
        }
    }

    /// Syncs one room; nil when the room was reached through an upgrade link that it does not confirm
    /// (nothing of it is stored).
    private func sync(roomID: String, linkedFrom: UpgradeLink?, options: SyncOptions) async throws
        -> (RoomSyncResult, RoomMetadata)? {
        let stateJSON = try await client.state(roomID: roomID)
        let state = stateJSON.compactMap { try? RawEvent.parse($0, roomID: roomID).get() }
        let metadata = RoomMetadata(roomID: roomID, state: state)
        if let linkedFrom, !linkedFrom.isConfirmed(by: metadata) {
            observer?.upgradeLinkRefused(roomID: roomID, linkedFrom: linkedFrom.from)
            return nil
        }
        let existing = try store.room(roomID)
        try store.updateRoom(metadata, state: state)
        let userID = await client.credentials.userID
        let ownMembership = state.first { $0.type == "m.room.member" && $0.stateKey == userID }?
            .content["membership"]?.stringValue
        let accountLeft = ["leave", "ban"].contains(ownMembership ?? "")
        // Joined again after a leave: the room is synced again by every plain sync.
        if ownMembership == "join" { try store.clearLeft(roomID: roomID) }
        observer?.roomStarted(roomID: roomID, name: metadata.name)

        var result = RoomSyncResult(roomID: roomID, name: metadata.name, newEvents: 0,
                                    totalEvents: existing?.eventCount ?? 0, pages: 0, malformed: 0, error: nil)
        var cursors = existing?.cursors ?? .new
        if cursors.isNew, case .since(let timestamp) = options.start {
            cursors = try await startAtDate(roomID: roomID, metadata: metadata, timestamp: timestamp,
                                            options: options, result: &result)
        }
        try await walk(roomID: roomID, cursors: cursors, metadata: metadata, options: options, result: &result)
        // Archived up to the leave (the server shows a departed member no later event); not walked again.
        if accountLeft { try store.markLeft(roomID: roomID) }
        try await finishRoom(roomID: roomID, options: options, result: &result)
        return (result, metadata)
    }

    /// Walks the room's pages as the pagination state machine asks, from `cursors`, storing each page with
    /// its cursors in one transaction.
    func walk(roomID: String, cursors: RoomCursors, metadata: RoomMetadata, options: SyncOptions,
              result: inout RoomSyncResult) async throws {
        var planner = PaginationPlanner(cursors: cursors,
                                        startMode: options.start == .fromStart ? .fromStart : .latest)
        var pageSize = PageSize(requested: options.pageSize)
        while let request = planner.nextRequest() {
            try Task.checkCancellation()
            let page: MessagesPage
            do {
                page = try await client.messages(roomID: roomID, direction: request.direction, from: request.from,
                                                 limit: pageSize.current, maxResponseBytes: pageSize.responseCap)
            } catch let error as MatrixError where error.replyTooLarge {
                // A page too big to read (large events with bundled thread summaries) is asked for again,
                // smaller, from the same cursor; it never blocks the room for good.
                guard pageSize.shrink() else { throw error }
                continue
            }
            pageSize.succeeded()
            // The forward cursor of a new room comes from /context's `end` at the newest event of the first
            // backward page (chunk[0]): a token the spec defines for forward pagination.
            // When /context fails (or has no `end`), the page's `start` is still a good guess on most servers:
            // a new room must not fail every night for want of a better token.
            var forwardToken: String?
            if planner.needsForwardToken(request), let newest = page.chunk.first?["event_id"]?.stringValue {
                do {
                    forwardToken = try await client.context(roomID: roomID, eventID: newest).end
                } catch let error as MatrixError where !error.endsRun {
                    forwardToken = nil
                }
            }
            let placement = planner.apply(PageReply(start: page.start, end: page.end, eventCount: page.chunk.count,
                                                    forwardToken: forwardToken),
                                          to: request)
            let before = result.newEvents
            try store(page: page, placement: placement, cursors: planner.cursors, metadata: metadata,
                      options: options, result: &result)
            planner.recordStored(newEvents: result.newEvents - before)
        }
        result.stoppedEarly = planner.stoppedForThisRun
    }

    /// After a room's events: its media (with `--media`), what still waits for keys, the sync time.
    func finishRoom(roomID: String, options: SyncOptions, result: inout RoomSyncResult) async throws {
        if let media = options.media {
            let observer = observer
            result.media = try await mediaGate.exclusively {
                try await MediaFetcher(client: client, store: store, options: media) { done, total in
                    observer?.mediaProgress(roomID: roomID, done: done, total: total)
                }.run(roomID: roomID)
            }
        }
        let decryption = try store.decryptionSummary(roomID: roomID)
        result.waitingForKeys = DecryptionStatus.awaitingKeys.reduce(0) { $0 + (decryption.counts[$1] ?? 0) }
        try store.markSynced(roomID: roomID)
    }

    /// `--since`: the archive of a new room begins with the first event at or after the date; nothing older
    /// is fetched, and later syncs walk forward from there.
    private func startAtDate(roomID: String, metadata: RoomMetadata, timestamp: Int64, options: SyncOptions,
                             result: inout RoomSyncResult) async throws -> RoomCursors {
        try store.setArchiveStart(roomID: roomID, timestamp: timestamp)
        guard let eventID = try await client.eventAt(roomID: roomID, timestamp: timestamp) else {
            // Nothing after the date yet: remember "now" so the next sync picks up what comes next.
            let latest = try await client.messages(roomID: roomID, direction: .backward, from: nil, limit: 1)
            let cursors = RoomCursors(backward: .complete, forward: latest.start)
            try store(page: MessagesPage(chunk: [], start: nil, end: nil, state: []), placement: .after,
                      cursors: cursors, metadata: metadata, options: options, result: &result)
            return cursors
        }
        let context = try await client.context(roomID: roomID, eventID: eventID)
        let cursors = RoomCursors(backward: .complete, forward: context.end)
        try store(page: MessagesPage(chunk: context.event.map { [$0] } ?? [], start: context.start,
                                     end: context.end, state: []),
                  placement: .after, cursors: cursors, metadata: metadata, options: options, result: &result)
        return cursors
    }

    func store(page: MessagesPage, placement: Placement, cursors: RoomCursors, metadata: RoomMetadata,
                       options: SyncOptions, result: inout RoomSyncResult) throws {
        var events: [RawEvent] = []
        var malformed: [(MalformedEvent, JSONValue)] = []
        events.reserveCapacity(page.chunk.count)
        for json in page.chunk {
            switch RawEvent.parse(json, roomID: metadata.roomID) {
            case .success(let event): events.append(event)
            case .failure(let problem): malformed.append((problem, json))
            }
        }
        let members = page.state.compactMap { try? RawEvent.parse($0, roomID: metadata.roomID).get() }
        // Megolm events are decrypted on all cores first; the store then records each result in order.
        let payloads = events.compactMap { EncryptedPayload($0, roomID: metadata.roomID) }
        let decrypted = try PageDecryption.decrypt(payloads, store: store)
        let outcome = try store.ingest(PageIngest(
            roomID: metadata.roomID, roomVersion: metadata.roomVersion, events: events, placement: placement,
            cursors: cursors, memberState: members, malformed: malformed, retainRedacted: options.retainRedacted),
            decrypt: { decrypted[$0.eventID] ?? .missingKey })
        result.pages += 1
        result.newEvents += outcome.newEvents
        result.totalEvents += outcome.newEvents
        result.malformed += malformed.count + outcome.malformed
        observer?.pageStored(roomID: metadata.roomID, pages: result.pages, newEvents: result.newEvents,
                             totalEvents: result.totalEvents)
    }
}

/// A room for the scheduler: its id, and the upgrade link it was reached through (nil: named by the user).
struct RoomToSync: Sendable {
    let roomID: String
    let linkedFrom: UpgradeLink?
    /// What the nightly /sync said of the room; nil: the per-room walk.
    var route: NightlyRun.Route? = nil
}

/// The `/messages` page size of one room's walk: halved while a reply is too large to read, down to one
/// event, which is read with a larger cap; grown back towards what was asked for after pages that fit.
struct PageSize {
    let requested: Int
    private(set) var current: Int
    /// A single event may be this large (four times the transport's usual 64 MiB reply cap), so that one
    /// huge event is archived rather than blocking its room.
    static let singleEventCap = 256 * 1024 * 1024

    init(requested: Int) {
        self.requested = requested
        current = requested
    }

    /// The cap for the next request: the transport's own, except for a page of one event.
    var responseCap: Int? { current == 1 ? Self.singleEventCap : nil }

    /// After a reply too large to read: false when a page of one event, with the larger cap, did not fit.
    mutating func shrink() -> Bool {
        guard current > 1 else { return false }
        current = max(1, current / 2)
        return true
    }

    mutating func succeeded() {
        if current < requested { current = min(requested, current * 2) }
    }
}
