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
    /// `--jobs`: rooms fetched at once. Four keep a homeserver busy without crowding it: a first sync of
    /// many small rooms waits on round trips, not on the server's work.
    public var jobs = SyncRequest.defaultJobs
    public static let defaultJobs = 4
    public static let maxJobs = 16
    /// `--walk-all`: every room walked with `/state` and `/messages`, ignoring the stored /sync token.
    public var walkAll = false

    public init() {}

    /// What `validate()` says about the request: nil when it can run, else the message.
    public var problem: String? {
        if fromStart && since != nil { return "--from-start and --since cannot be combined" }
        if let problem = DateRange.problem(option: "--since", value: since) { return problem }
        guard (1...1000).contains(pageSize) else { return "--page-size must be between 1 and 1000" }
        guard (1...Self.maxJobs).contains(jobs) else { return "--jobs must be between 1 and \(Self.maxJobs)" }
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
    /// Wall time of the run (room selection to the index's catch-up), for the log and the metrics.
    public let seconds: Double
    /// What the run cost the server: requests sent and reply bytes read.
    var http = HTTPTraffic()
    /// Things that went wrong beside the rooms (the key backup, the sender-key check), each a warning of
    /// the outcome: the archive is fine, but someone should look.
    var runWarnings: [String] = []
    /// Why the /sync since the stored token failed, when it did (the run walked every room instead).
    var syncFallback: String? = nil

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
            if result.newlyWaitingForKeys > 0 {
                object["newly_waiting_for_keys"] = .int(Int64(result.newlyWaitingForKeys))
            }
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

    /// Encrypted events of the synced rooms still waiting for keys after this run.
    public var waitingForKeys: Int { rooms.reduce(0) { $0 + $1.waitingForKeys } }

    /// Attachments that failed in this run and need a look. `too_large` is the size cap the operator chose,
    /// not a failure, so it alone does not make a warning.
    public var mediaFailed: Int {
        rooms.reduce(0) { total, room in
            total + (room.media?.failed.filter { $0.key != .tooLarge }.values.reduce(0, +) ?? 0)
        }
    }

    /// Of `mediaFailed`, those that had not failed the same way when a sync last reported the room: the
    /// warning's count.
    public var mediaNewlyFailed: Int {
        mediaFailed - rooms.reduce(0) { total, room in
            total + (room.media?.failedAsBefore.filter { $0.key != .tooLarge }.values.reduce(0, +) ?? 0)
        }
    }

    /// Events stored without their keys since the rooms were last reported: the warning's count.
    public var newlyWaitingForKeys: Int { rooms.reduce(0) { $0 + $1.newlyWaitingForKeys } }

    /// Events stored by this run, over all rooms.
    public var newEvents: Int { rooms.reduce(0) { $0 + $1.newEvents } }

    /// Exit 1 only when nothing could be synced (every room failed); a run that archived some rooms but
    /// not others, or stored events that wait for keys, or had attachments fail that had not failed so
    /// before, is done with warnings (exit 3), so that a nightly job tells "look at this" apart from "it
    /// did not run".
    public var outcome: RunOutcome {
        if !rooms.isEmpty && failedRooms == rooms.count {
            return .failed(.failure("\(failedRooms) of \(rooms.count) rooms failed to sync"))
        }
        var warnings: [String] = []
        if let syncFallback {
            // Not silent: a token that keeps failing turns every nightly run into a full walk.
            warnings.append("the /sync from the stored batch token failed (\(syncFallback)); every room was walked instead")
        }
        if failedRooms > 0 {
            warnings.append("\(failedRooms) of \(rooms.count) rooms failed to sync (the others are archived)")
        }
        // New ones only: what waited or failed when a sync last reported it was warned about then, and a warning
        // that comes every night (an event no key will come for, a dead link) is one nobody reads.
        if newlyWaitingForKeys > 0 {
            warnings.append("\(newlyWaitingForKeys) more encrypted events wait for keys (\(waitingForKeys) in all; "
                            + "`mxarchive keys backup` or `keys import`)")
        }
        if mediaNewlyFailed > 0 {
            warnings.append("\(mediaNewlyFailed) attachments failed to download (the next `sync --media` tries again)")
        }
        let stopped = rooms.filter { $0.error == nil && $0.stoppedEarly }.count
        if stopped > 0 {
            warnings.append("\(stopped) rooms stopped early: the server kept sending pages with nothing new "
                            + "(the next sync goes on from there)")
        }
        warnings += runWarnings
        return warnings.isEmpty ? .done : .doneWithWarnings(warnings)
    }
}

extension Archive {
    public func sync(_ request: SyncRequest, progress: SyncProgressDisplay) async throws -> SyncReport {
        let started = Date()
        let client = try await client()
        let roomIDs = try await RoomSelector(client: client, store: store)
            .select(rooms: request.rooms, spaces: request.spaces, allJoined: request.allJoined)
        var options = SyncOptions(roomIDs: roomIDs, start: request.start, followUpgrades: request.followUpgrades,
                                  retainRedacted: request.retainRedacted, pageSize: request.pageSize,
                                  media: request.mediaOptions, jobs: request.jobs)
        options.walkAll = request.walkAll
        options.usesSyncToken = true
        options.addsRejoinedRooms = request.rooms.isEmpty && request.spaces.isEmpty && !request.allJoined
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
        let report = SyncReport(rooms: results, indexed: indexed, keyBackup: progress.keyBackup,
                                seconds: Date().timeIntervalSince(started), http: await client.traffic,
                                runWarnings: progress.runWarnings, syncFallback: progress.syncFallback)
        report.logSummary()
        return report
    }
}

/// Progress for a sync: a live line on a terminal (standard error), one summary line per room on
/// standard output as each room finishes.
public final class SyncProgressDisplay: SyncObserver, @unchecked Sendable {
    private let live: Bool
    private let summaries: Bool
    private let lock = NSLock()
    private var line = SyncProgressLine(started: Date())
    /// Room labels by id, for the live line.
    private var labels: [String: String] = [:]
    /// When each room in progress started (several at once with --jobs), for its record's duration.
    private var starts: [String: Date] = [:]
    /// When the live line was last drawn: pages of several rooms at once would redraw it faster than it
    /// can be read.
    private var drawnAt = Date.distantPast
    /// What the stored backup key fetched at the start (for `--json`).
    private(set) var keyBackup: JSONValue?
    /// What went wrong beside the rooms, for the run's outcome (exit 3).
    private var warnings: [String] = []
    var runWarnings: [String] { lock.withLock { warnings } }
    /// Why the /sync from the stored token failed, if it did (a warning of the run).
    private(set) var syncFallback: String?

    /// - Parameters:
    ///   - live: redraw a progress line (standard error is a terminal).
    ///   - summaries: print a line per room (not with `--json`).
    public init(live: Bool, summaries: Bool) {
        self.live = live
        self.summaries = summaries
    }

    public func roomsScheduled(_ count: Int) {
        lock.withLock { line.scheduled(count) }
        draw(force: true)
    }

    public func roomStarted(roomID: String, name: String?) {
        lock.withLock {
            let label = DisplayText.singleLine(name.map { "\($0) (\(roomID))" } ?? roomID)
            labels[roomID] = label
            starts[roomID] = Date()
            line.roomStarted(roomID, label: label)
        }
        draw(force: false)
        Console.record("room started", fields: LogFields(room: roomID, phase: "fetch"))
    }

    public func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {
        guard live else { return }
        lock.withLock { line.pageStored(roomID, label: labels[roomID] ?? roomID, newEvents: newEvents) }
        draw(force: false)
    }

    /// Redraws the live line, at most ten times a second unless `force`.
    private func draw(force: Bool, suffix: String = "") {
        guard live else { return }
        let now = Date()
        let text = lock.withLock { () -> String? in
            guard force || now.timeIntervalSince(drawnAt) >= 0.1 else { return nil }
            drawnAt = now
            return line.text(now: now) + suffix
        }
        if let text { Console.progress(text) }
    }

    public func roomFinished(_ result: RoomSyncResult) {
        let started = lock.withLock { () -> Date? in
            line.roomFinished(result.roomID)
            labels[result.roomID] = nil
            return starts.removeValue(forKey: result.roomID)
        }
        if live { Console.progress("") }
        let label = DisplayText.singleLine(result.name.map { "\(result.roomID) (\($0))" } ?? result.roomID)
        let seconds = started.map { Date().timeIntervalSince($0) } ?? 0
        if let error = result.error {
            Console.error("\(label): \(error)", fields: LogFields(room: result.roomID, phase: "fetch",
                                                                 durations: ["room": seconds]))
        } else if !summaries || Console.logsJSON {
            // `--json` or a JSON log: the room's numbers as one record (nothing on standard output).
            Console.record("room synced", fields: result.logFields(seconds: seconds))
            if result.stoppedEarly { Console.warning(Self.stoppedEarlyWarning(label), fields: result.logFields(seconds: seconds)) }
        } else {
            var line = "\(label): \(result.newEvents) new events, \(result.totalEvents) archived, \(result.pages) pages"
            if result.malformed > 0 { line += ", \(result.malformed) malformed events skipped (recorded)" }
            if result.waitingForKeys > 0 {
                line += ", \(result.waitingForKeys) encrypted events wait for keys (`mxarchive keys backup` or `keys import`)"
            }
            Console.note(line)
            if let media = result.media { Console.note("  media: " + media.summary) }
            if result.stoppedEarly { Console.warning(Self.stoppedEarlyWarning(label)) }
            Console.flush()
        }
        draw(force: true)
    }

    static func stoppedEarlyWarning(_ label: String) -> String {
        "\(label): the server kept sending pages with nothing new (or repeated a token); stopped for this run, "
            + "the next sync goes on from there"
    }

    public func syncTokenFallback(reason: String) {
        lock.withLock { syncFallback = reason }
    }

    public func keyBackupChecked(_ report: KeyImportReport?, error: String?) {
        lock.withLock { keyBackup = error.map { ["error": .string($0)] } ?? report?.jsonValue }
        if let error {
            // A warning, not an error: the sync goes on and archives; the outcome makes it exit 3.
            Console.warning("key backup: \(error) (syncing on with the keys already stored)",
                            fields: LogFields(phase: "key_backup"))
            lock.withLock { warnings.append("the key backup could not be checked for new sessions (see above)") }
        } else if let report, !summaries || Console.logsJSON {
            Console.record("key backup checked", fields: LogFields(phase: "key_backup", counts: [
                "new_sessions": report.outcome.added + report.outcome.improved,
                "rejected": report.rejected.count, "decrypted": report.retry.decrypted,
            ]))
        } else if let report {
            Console.note("key backup: \(report.outcome.added + report.outcome.improved) new sessions"
                         + (report.rejected.isEmpty ? "" : ", \(report.rejected.count) rejected")
                         + (report.retry.decrypted > 0 ? ", \(report.retry.decrypted) waiting events decrypted" : ""))
        }
    }

    public func senderKeysChecked(_ outcome: SenderKeyCheckOutcome) {
        if let error = outcome.error {
            Console.warning("sender keys: could not read the senders' devices (\(error)); "
                            + "\(outcome.checked) decrypted events stay unknown until the next sync",
                            fields: LogFields(phase: "sender_keys"))
            lock.withLock { warnings.append("the senders' devices could not be read (see above)") }
        }
        // Only mismatches found by this run: one already reported is checked again every night, and is
        // `verify`'s to count from then on.
        if outcome.newMismatches > 0 {
            let mismatches = outcome.newMismatches
            Console.warning("\(mismatches) decrypted events were encrypted in a session of another user's "
                            + "device (sender_key: mismatch in `events --jsonl`; counted by `verify`)",
                        fields: LogFields(phase: "sender_keys", counts: ["mismatches": mismatches]))
            lock.withLock {
                warnings.append("\(mismatches) decrypted events were found in a session of another user's device")
            }
        }
    }

    public func upgradeLinkRefused(roomID: String, linkedFrom: String) {
        lock.withLock { line.roomFinished(roomID) }
        Console.warning("not following the upgrade of \(linkedFrom) to \(roomID): the two rooms do not name "
                        + "each other (m.room.create predecessor and m.room.tombstone replacement_room)",
                        fields: LogFields(room: roomID, phase: "upgrades"))
    }

    public func mediaProgress(roomID: String, done: Int, total: Int) {
        draw(force: done == total, suffix: ", media \(done) of \(total)")
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
            let asBefore = failedAsBefore.values.reduce(0, +)
            if asBefore > 0 { text += ", \(asBefore) of them as in the run before" }  // see failedAsBefore
        }
        if deferred > 0 { text += ", \(deferred) not found or forbidden before, left for a later run" }
        if removed > 0 { text += ", \(removed) files of redacted events deleted" }
        return text
    }

    /// The `media` object of `sync --json` (schemas/sync-result.schema.json).
    var json: JSONValue {
        var failures: [String: JSONValue] = [:]
        for (status, count) in failed { failures[status.rawValue] = .int(Int64(count)) }
        var failuresAsBefore: [String: JSONValue] = [:]
        for (status, count) in failedAsBefore { failuresAsBefore[status.rawValue] = .int(Int64(count)) }
        return [
            "downloaded": .int(Int64(downloaded)),
            "reused": .int(Int64(reused)),
            "already_done": .int(Int64(skipped)),
            "deferred": .int(Int64(deferred)),
            "failed": .object(failures),
            "failed_as_before": .object(failuresAsBefore),
            "bytes_downloaded": .int(bytes),
            "removed": .int(Int64(removed)),
        ]
    }
}

extension RoomSyncResult {
    /// The room's numbers for a JSON log record.
    func logFields(seconds: Double) -> LogFields {
        var counts = ["new_events": newEvents, "total_events": totalEvents, "pages": pages]
        if malformed > 0 { counts["malformed"] = malformed }
        if waitingForKeys > 0 { counts["waiting_for_keys"] = waitingForKeys }
        if newlyWaitingForKeys > 0 { counts["newly_waiting_for_keys"] = newlyWaitingForKeys }
        if let media {
            counts["media_downloaded"] = media.downloaded
            counts["media_failed"] = media.failedTotal
            counts["media_failed_as_before"] = media.failedAsBefore.values.reduce(0, +)
            counts["media_deferred"] = media.deferred
            counts["media_bytes"] = Int(media.bytes)
        }
        return LogFields(room: roomID, phase: "fetch", counts: counts, durations: ["room": seconds])
    }
}

extension SyncReport {
    /// The run's totals as one record of a JSON log (the text format's per-room lines say the same).
    func logSummary() {
        var counts = ["rooms": rooms.count, "rooms_failed": failedRooms, "new_events": newEvents,
                      "waiting_for_keys": waitingForKeys, "newly_waiting_for_keys": newlyWaitingForKeys]
        if rooms.contains(where: { $0.media != nil }) {
            counts["media_failed"] = mediaFailed
            counts["media_newly_failed"] = mediaNewlyFailed
        }
        if let indexed {
            counts["documents_written"] = indexed.documentsWritten
            counts["documents_removed"] = indexed.documentsRemoved
        }
        Console.record("sync finished", fields: LogFields(phase: "sync", counts: counts, durations: ["run": seconds]))
    }
}
