import ArchiveCore
import ArchiveStore
import Foundation
import MatrixAPI

/// What `mxarchive sync` asks for, as typed (validated by the CLI, parsed here).
public struct SyncRequest: Sendable {
    public var rooms: [String] = []
    public var spaces: [String] = []
    public var allJoined = false
    public var fromStart = false
    public var since: String?
    public var followUpgrades = false
    public var retainRedacted = false
    public var pageSize = 1000
    public var index = true
    public var media = false
    public var maxMediaSize: String?
    /// `--walk-all`: every room walked with `/state` and `/messages`, ignoring the stored /sync token.
    public var walkAll = false

    public init() {}

    /// What `validate()` says about the request: nil when it can run, else the message.
    public var problem: String? {
        if fromStart && since != nil { return "--from-start and --since cannot be combined" }
        if let problem = DateRange.problem(option: "--since", value: since) { return problem }
        guard (1...1000).contains(pageSize) else { return "--page-size must be between 1 and 1000" }
        if let maxMediaSize {
            guard media else { return "--max-media-size needs --media" }
            guard let bytes = ByteSize.parse(maxMediaSize), bytes > 0, bytes <= 2 << 30 else {
                return "--max-media-size '\(maxMediaSize)' is not a size between 1 byte and 2G "
                    + "(use a number with an optional K, M or G)"
            }
        }
        return nil
    }

    var start: SyncOptions.Start {
        if fromStart { return .fromStart }
        if let since, let date = DateArgument(since) { return .since(date.start.milliseconds) }
        return .latest
    }

    var mediaOptions: MediaOptions? {
        guard media else { return nil }
        return MediaOptions(maxBytes: maxMediaSize.flatMap(ByteSize.parse).map { Int($0) } ?? MediaOptions.defaultMaxBytes,
                            retainRedacted: retainRedacted)
    }
}

/// `mxarchive sync`: each room's outcome, the index's catch-up and the key backup's refresh
/// (schemas/sync-result.schema.json).
public struct SyncReport: CommandReport {
    public let rooms: [RoomSyncResult]
    let indexed: IndexRunResult?
    let keyBackup: JSONValue?
    /// What the run cost the server: requests sent and reply bytes read.
    let http: HTTPTraffic

    public var failedRooms: Int { rooms.filter { $0.error != nil }.count }

    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["rooms": .array(rooms.map { result in
            var object: [String: JSONValue] = [
                "room_id": .string(result.roomID),
                "new_events": .int(Int64(result.newEvents)),
                "total_events": .int(Int64(result.totalEvents)),
            ]
            if let error = result.error { object["error"] = .string(error) }
            if result.waitingForKeys > 0 { object["waiting_for_keys"] = .int(Int64(result.waitingForKeys)) }
            if let media = result.media { object["media"] = media.json }
            return .object(object)
        })]
        if let indexed {
            object["index"] = [
                "documents_written": .int(Int64(indexed.documentsWritten)),
                "documents_removed": .int(Int64(indexed.documentsRemoved)),
                "rebuilt": .bool(indexed.rebuilt),
            ]
        }
        if let keyBackup { object["key_backup"] = keyBackup }
        object["http"] = ["requests": .int(Int64(http.requests)), "bytes_received": .int(http.bytesReceived)]
        return .object(object)
    }

    /// The rooms' lines were printed as each finished (by `SyncProgressDisplay`); what is left is the index.
    public func humanOutput(terminal: Bool) -> [OutputLine] {
        guard let indexed else { return [] }
        return [.result("search index: \(indexed.documentsWritten) messages indexed, \(indexed.documentsRemoved) removed"
                        + (indexed.rebuilt ? " (built from the archive)" : ""))]
    }

    /// A run where some rooms failed ends with exit 1 after the others were stored.
    public func failureIfAny() -> ArchiveError? {
        failedRooms == 0 ? nil : .failure("\(failedRooms) of \(rooms.count) rooms failed to sync")
    }
}

extension Archive {
    public func sync(_ request: SyncRequest, progress: SyncProgressDisplay) async throws -> SyncReport {
        let client = try await client()
        let roomIDs = try await RoomSelector(client: client, store: store)
            .select(rooms: request.rooms, spaces: request.spaces, allJoined: request.allJoined)
        var options = SyncOptions(roomIDs: roomIDs, start: request.start, followUpgrades: request.followUpgrades,
                                  retainRedacted: request.retainRedacted, pageSize: request.pageSize,
                                  media: request.mediaOptions)
        options.walkAll = request.walkAll
        options.usesSyncToken = true
        // The index is written on its own thread from its own connection, beside fetching and storing.
        let indexer = request.index ? try BackgroundIndexer(storeDirectory: directory) : nil
        indexer?.start()
        let observer: any SyncObserver = indexer.map { IndexingSyncObserver(base: progress, indexer: $0) as any SyncObserver }
            ?? progress
        let results: [RoomSyncResult]
        do {
            results = try await SyncPipeline(client: client, store: store, observer: observer).run(options)
        } catch {
            _ = try? indexer?.finish()
            throw error
        }
        progress.finish()
        let indexed: IndexRunResult?
        do {
            indexed = try indexer?.finish()
        } catch {
            throw ArchiveError.failure("the archive is up to date but the search index could not be: \(error); "
                                       + "run `mxarchive reindex`")
        }
        return SyncReport(rooms: results, indexed: indexed, keyBackup: progress.keyBackup, http: await client.traffic)
    }
}

/// Progress for a sync: a live line on a terminal (standard error), one summary line per room on
/// standard output as each room finishes.
public final class SyncProgressDisplay: SyncObserver, @unchecked Sendable {
    private let live: Bool
    private let summaries: Bool
    private let lock = NSLock()
    private var roomStart = Date()
    private var currentName = ""
    /// What the stored backup key fetched at the start (for `--json`).
    private(set) var keyBackup: JSONValue?

    /// - Parameters:
    ///   - live: redraw a progress line (standard error is a terminal).
    ///   - summaries: print a line per room (not with `--json`).
    public init(live: Bool, summaries: Bool) {
        self.live = live
        self.summaries = summaries
    }

    public func roomStarted(roomID: String, name: String?) {
        lock.withLock {
            roomStart = Date()
            currentName = DisplayText.singleLine(name.map { "\($0) (\(roomID))" } ?? roomID)
        }
        if live { Console.progress("\(currentName): reading…") }
    }

    public func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {
        guard live else { return }
        let elapsed = max(Date().timeIntervalSince(lock.withLock { roomStart }), 0.001)
        Console.progress("\(currentName): \(pages) pages, \(newEvents) new events (\(totalEvents) archived), "
                         + "\(Int(Double(newEvents) / elapsed)) events/s")
    }

    public func roomFinished(_ result: RoomSyncResult) {
        if live { Console.progress("") }
        let label = DisplayText.singleLine(result.name.map { "\(result.roomID) (\($0))" } ?? result.roomID)
        if let error = result.error {
            Console.error("\(label): \(error)")
        } else if summaries {
            var line = "\(label): \(result.newEvents) new events, \(result.totalEvents) archived, \(result.pages) pages"
            if result.malformed > 0 { line += ", \(result.malformed) malformed events skipped (recorded)" }
            if result.waitingForKeys > 0 {
                line += ", \(result.waitingForKeys) encrypted events wait for keys (`mxarchive keys backup` or `keys import`)"
            }
            Console.line(line)
            if let media = result.media { Console.line("  media: " + media.summary) }
            if result.stoppedEarly {
                Console.error("warning: \(label): the server kept sending pages with nothing new (or repeated a "
                              + "token); stopped for this run, the next sync goes on from there")
            }
            Console.flush()
        }
    }

    public func keyBackupChecked(_ report: KeyImportReport?, error: String?) {
        lock.withLock { keyBackup = error.map { ["error": .string($0)] } ?? report?.jsonValue }
        if let error {
            Console.error("key backup: \(error) (syncing on with the keys already stored)")
        } else if let report, summaries {
            Console.line("key backup: \(report.outcome.added + report.outcome.improved) new sessions"
                         + (report.rejected.isEmpty ? "" : ", \(report.rejected.count) rejected")
                         + (report.retry.decrypted > 0 ? ", \(report.retry.decrypted) waiting events decrypted" : ""))
        }
    }

    public func senderKeysChecked(_ outcome: SenderKeyCheckOutcome) {
        if let error = outcome.error {
            Console.error("sender keys: could not read the senders' devices (\(error)); "
                          + "\(outcome.checked) decrypted events stay unknown until the next sync")
        }
        if let mismatches = outcome.statuses[.mismatch], mismatches > 0 {
            Console.error("warning: \(mismatches) decrypted events were encrypted in a session of another user's "
                          + "device (sender_key: mismatch in `events --jsonl`; counted by `verify`)")
        }
    }

    public func upgradeLinkRefused(roomID: String, linkedFrom: String) {
        Console.error("warning: not following the upgrade of \(linkedFrom) to \(roomID): the two rooms do not name "
                      + "each other (m.room.create predecessor and m.room.tombstone replacement_room)")
    }

    public func mediaProgress(roomID: String, done: Int, total: Int) {
        guard live else { return }
        Console.progress("\(lock.withLock { currentName }): media \(done) of \(total)")
    }

    func finish() { if live { Console.progress("") } }
}

extension MediaSyncCounts {
    /// `2 downloaded (1.5 MiB), 1 reused, 4 already done, 1 failed (1 hash_mismatch)`.
    var summary: String {
        var text = "\(downloaded) downloaded (\(ByteSize.format(bytes))), \(reused) reused, \(skipped) already done, "
            + "\(failedTotal) failed"
        if failedTotal > 0 {
            text += " (" + failed.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ") + ")"
        }
        if removed > 0 { text += ", \(removed) files of redacted events deleted" }
        return text
    }

    /// The `media` object of `sync --json` (schemas/sync-result.schema.json).
    var json: JSONValue {
        var failures: [String: JSONValue] = [:]
        for (status, count) in failed { failures[status.rawValue] = .int(Int64(count)) }
        return [
            "downloaded": .int(Int64(downloaded)),
            "reused": .int(Int64(reused)),
            "already_done": .int(Int64(skipped)),
            "failed": .object(failures),
            "bytes_downloaded": .int(bytes),
            "removed": .int(Int64(removed)),
        ]
    }
}
