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

    public init(roomIDs: [String], start: Start = .latest, followUpgrades: Bool = false,
                retainRedacted: Bool = false, pageSize: Int = 1000, media: MediaOptions? = nil) {
        self.roomIDs = roomIDs
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
}

/// Hears about a sync as it goes, for progress displays.
public protocol SyncObserver: Sendable {
    func roomStarted(roomID: String, name: String?)
    func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int)
    func roomFinished(_ result: RoomSyncResult)
    /// New sessions came from the stored key backup at the start of the sync (or it failed: `error`).
    func keyBackupChecked(_ report: KeyImportReport?, error: String?)
    /// The media pass of a room has settled `done` of its `total` attachments.
    func mediaProgress(roomID: String, done: Int, total: Int)
}

extension SyncObserver {
    public func keyBackupChecked(_ report: KeyImportReport?, error: String?) {}
    public func mediaProgress(roomID: String, done: Int, total: Int) {}
}

/// The sync pipeline: for each room, read its state, then fetch pages as the pagination state machine asks
/// and store each page (with its cursor) in one transaction.
public struct SyncPipeline {
    let client: MatrixClient
    let store: ArchiveStore
    let observer: (any SyncObserver)?

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
        var results: [RoomSyncResult] = []
        var queue = options.roomIDs
        var seen: Set<String> = []
        while !queue.isEmpty {
            let roomID = queue.removeFirst()
            guard seen.insert(roomID).inserted else { continue }
            do {
                let (result, metadata) = try await sync(roomID: roomID, options: options)
                results.append(result)
                observer?.roomFinished(result)
                if options.followUpgrades {
                    for linked in [metadata.predecessor, metadata.successor].compactMap({ $0 }) where !seen.contains(linked) {
                        queue.append(linked)
                    }
                }
            } catch let error as MatrixError where !error.endsRun {
                let known = try? store.room(roomID)
                let result = RoomSyncResult(roomID: roomID, name: known?.metadata.name, newEvents: 0,
                                            totalEvents: known?.eventCount ?? 0, pages: 0, malformed: 0,
                                            error: error.description)
                results.append(result)
                observer?.roomFinished(result)
            }
        }
        return results
    }

    private func sync(roomID: String, options: SyncOptions) async throws -> (RoomSyncResult, RoomMetadata) {
        let stateJSON = try await client.state(roomID: roomID)
        let state = stateJSON.compactMap { try? RawEvent.parse($0, roomID: roomID).get() }
        let metadata = RoomMetadata(roomID: roomID, state: state)
        let existing = try store.room(roomID)
        try store.updateRoom(metadata, state: state)
        observer?.roomStarted(roomID: roomID, name: metadata.name)

        var result = RoomSyncResult(roomID: roomID, name: metadata.name, newEvents: 0,
                                    totalEvents: existing?.eventCount ?? 0, pages: 0, malformed: 0, error: nil)
        var cursors = existing?.cursors ?? .new
        if cursors.isNew, case .since(let timestamp) = options.start {
            cursors = try await startAtDate(roomID: roomID, metadata: metadata, timestamp: timestamp,
                                            options: options, result: &result)
        }
        var planner = PaginationPlanner(cursors: cursors,
                                        startMode: options.start == .fromStart ? .fromStart : .latest)
        while let request = planner.nextRequest() {
            try Task.checkCancellation()
            let page = try await client.messages(roomID: roomID, direction: request.direction, from: request.from,
                                                 limit: options.pageSize)
            let placement = planner.apply(PageReply(start: page.start, end: page.end, eventCount: page.chunk.count),
                                          to: request)
            try store(page: page, placement: placement, cursors: planner.cursors, metadata: metadata,
                      options: options, result: &result)
        }
        if let media = options.media {
            let observer = observer
            result.media = try await MediaFetcher(client: client, store: store, options: media) { done, total in
                observer?.mediaProgress(roomID: roomID, done: done, total: total)
            }.run(roomID: roomID)
        }
        let decryption = try store.decryptionSummary(roomID: roomID)
        result.waitingForKeys = DecryptionStatus.awaitingKeys.reduce(0) { $0 + (decryption.counts[$1] ?? 0) }
        try store.markSynced(roomID: roomID)
        return (result, metadata)
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

    private func store(page: MessagesPage, placement: Placement, cursors: RoomCursors, metadata: RoomMetadata,
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
