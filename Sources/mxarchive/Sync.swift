import ArchiveCore
import ArchiveStore
import ArgumentParser
import Foundation
import ArchiveService
import MatrixAPI

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch new history of rooms into the archive (resumable, incremental).",
        // Spelled out: past a length ArgumentParser shortens the generated line to "<options>".
        usage: """
            mxarchive sync [--store <dir>] [--room <id-or-alias> ...] [--space <id> ...] [--all-joined] \
            [--from-start | --since <date>] [--follow-upgrades] [--retain-redacted] [--page-size <n>] [--no-index] \
            [--media [--max-media-size <size>]] [--json]
            """,
        discussion: """
            A first sync of a room walks backward from now (or forward from its first event with
            --from-start, or from a date with --since). Every later sync fetches only what is new and
            finishes any walk an earlier, interrupted run left. Each page is stored with its cursor in one
            transaction: killing a sync loses nothing, and rerunning it duplicates nothing.

            With no room named, every room already in the archive is synced (the nightly cron line):
              mxarchive sync

            With --media, each room's attachments and thumbnails are downloaded after its events
            (encrypted ones checked and decrypted) and kept once each under media/ in the store; failed
            downloads are tried again by the next sync --media.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("room"), help: ArgumentHelp("A room id (!…) or alias (#…); repeatable.", valueName: "id-or-alias"))
    var rooms: [String] = []

    @Option(name: .customLong("space"), help: ArgumentHelp("A space: archive every room in its hierarchy; repeatable.", valueName: "id"))
    var spaces: [String] = []

    @Flag(help: "Archive every room the account has joined.")
    var allJoined = false

    @Flag(help: "New rooms: walk forward from the room's first visible event instead of backward from now.")
    var fromStart = false

    @Option(help: ArgumentHelp("New rooms: start the archive at this date (YYYY-MM-DD or ISO 8601, UTC).", valueName: "date"))
    var since: String?

    @Flag(help: "Also archive the rooms this room replaced or was replaced by (room upgrades).")
    var followUpgrades = false

    @Flag(help: "Legal hold: keep the content of redacted events, marked as redacted.")
    var retainRedacted = false

    @Option(help: ArgumentHelp("Events per /messages request (1–1000).", valueName: "n"))
    var pageSize = 1000

    @Flag(help: "Leave the search index alone; the next sync or `mxarchive reindex` catches it up.")
    var noIndex = false

    @Flag(help: "Also download the rooms' attachments and thumbnails (decrypting encrypted ones).")
    var media = false

    @Option(help: ArgumentHelp("With --media: skip files larger than this (e.g. 500K, 20M, 1G; default 100M).",
                               valueName: "size"))
    var maxMediaSize: String?

    @Flag(help: "Print one JSON object {\"rooms\":[{\"room_id\",\"new_events\",\"total_events\",\"media\"}]} at the end.")
    var json = false

    func validate() throws {
        if fromStart && since != nil { throw ValidationError("--from-start and --since cannot be combined") }
        if let since, DateArgument.parse(since) == nil {
            throw ValidationError("--since '\(since)' is not a date (use YYYY-MM-DD or 2024-03-01T12:00:00Z)")
        }
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size must be between 1 and 1000") }
        if let maxMediaSize {
            guard media else { throw ValidationError("--max-media-size needs --media") }
            guard let bytes = ByteSize.parse(maxMediaSize), bytes > 0, bytes <= 2 << 30 else {
                throw ValidationError("--max-media-size '\(maxMediaSize)' is not a size between 1 byte and 2G "
                                      + "(use a number with an optional K, M or G)")
            }
        }
    }

    func run() async throws {
        let store = try global.openStore()
        let lock = try StoreLock(directory: global.storeURL)
        defer { withExtendedLifetime(lock) {} }
        let client = try global.makeClient()
        let roomIDs = try await RoomSelector(client: client, store: store)
            .select(rooms: rooms, spaces: spaces, allJoined: allJoined)
        let start: SyncOptions.Start = if fromStart { .fromStart }
            else if let since, let millis = DateArgument.parse(since) { .since(millis) }
            else { .latest }
        let mediaOptions = media ? MediaOptions(
            maxBytes: maxMediaSize.flatMap(ByteSize.parse).map { Int($0) } ?? MediaOptions.defaultMaxBytes,
            retainRedacted: retainRedacted) : nil
        let options = SyncOptions(roomIDs: roomIDs, start: start, followUpgrades: followUpgrades,
                                  retainRedacted: retainRedacted, pageSize: pageSize, media: mediaOptions)
        let progress = SyncProgress(live: isTerminal(2), summaries: !json)
        // The index is written on its own thread from its own connection, beside fetching and storing.
        let indexer = noIndex ? nil : try BackgroundIndexer(storeDirectory: global.storeURL)
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
        var indexed: IndexRunResult?
        do {
            indexed = try indexer?.finish()
        } catch {
            throw ArchiveError.failure("the archive is up to date but the search index could not be: \(error); "
                                       + "run `mxarchive reindex`")
        }
        if let indexed, !json {
            emit("search index: \(indexed.documentsWritten) messages indexed, \(indexed.documentsRemoved) removed"
                 + (indexed.rebuilt ? " (built from the archive)" : ""))
        }
        if json {
            let rooms: [JSONValue] = results.map { result in
                var object: [String: JSONValue] = [
                    "room_id": .string(result.roomID),
                    "new_events": .int(Int64(result.newEvents)),
                    "total_events": .int(Int64(result.totalEvents)),
                ]
                if let error = result.error { object["error"] = .string(error) }
                if result.waitingForKeys > 0 { object["waiting_for_keys"] = .int(Int64(result.waitingForKeys)) }
                if let media = result.media { object["media"] = media.json }
                return .object(object)
            }
            var object: [String: JSONValue] = ["rooms": .array(rooms)]
            if let indexed {
                object["index"] = [
                    "documents_written": .int(Int64(indexed.documentsWritten)),
                    "documents_removed": .int(Int64(indexed.documentsRemoved)),
                    "rebuilt": .bool(indexed.rebuilt),
                ]
            }
            if let keyBackup = progress.keyBackup { object["key_backup"] = keyBackup }
            emit(JSONCoding.encode(.object(object)))
        }
        let failed = results.filter { $0.error != nil }
        if !failed.isEmpty {
            throw ArchiveError.failure("\(failed.count) of \(results.count) rooms failed to sync")
        }
    }
}

/// Progress for a sync: a live line on a terminal (stderr), one summary line per room on stdout.
final class SyncProgress: SyncObserver, @unchecked Sendable {
    private let live: Bool
    private let summaries: Bool
    private let lock = NSLock()
    private var roomStart = Date()
    private var currentName = ""
    /// What the stored backup key fetched at the start (for `--json`).
    private(set) var keyBackup: JSONValue?

    init(live: Bool, summaries: Bool) {
        self.live = live
        self.summaries = summaries
    }

    func roomStarted(roomID: String, name: String?) {
        lock.withLock {
            roomStart = Date()
            currentName = name.map { "\($0) (\(roomID))" } ?? roomID
        }
        if live { draw("\(currentName): reading…") }
    }

    func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {
        guard live else { return }
        let elapsed = max(Date().timeIntervalSince(lock.withLock { roomStart }), 0.001)
        draw("\(currentName): \(pages) pages, \(newEvents) new events (\(totalEvents) archived), "
             + "\(Int(Double(newEvents) / elapsed)) events/s")
    }

    func roomFinished(_ result: RoomSyncResult) {
        if live { draw("") }
        let label = result.name.map { "\(result.roomID) (\($0))" } ?? result.roomID
        if let error = result.error {
            ErrorReporter.printError("\(label): \(error)")
        } else if summaries {
            var line = "\(label): \(result.newEvents) new events, \(result.totalEvents) archived, \(result.pages) pages"
            if result.malformed > 0 { line += ", \(result.malformed) malformed events skipped (recorded)" }
            if result.waitingForKeys > 0 {
                line += ", \(result.waitingForKeys) encrypted events wait for keys (`mxarchive keys backup` or `keys import`)"
            }
            emit(line)
            if let media = result.media { emit("  media: " + media.summary) }
            flushStandardOutput()
        }
    }

    func keyBackupChecked(_ report: KeyImportReport?, error: String?) {
        lock.withLock { keyBackup = error.map { ["error": .string($0)] } ?? report?.jsonValue }
        if let error {
            ErrorReporter.printError("key backup: \(error) (syncing on with the keys already stored)")
        } else if let report, summaries {
            emit("key backup: \(report.outcome.added + report.outcome.improved) new sessions"
                 + (report.rejected.isEmpty ? "" : ", \(report.rejected.count) rejected")
                 + (report.retry.decrypted > 0 ? ", \(report.retry.decrypted) waiting events decrypted" : ""))
        }
    }

    func mediaProgress(roomID: String, done: Int, total: Int) {
        guard live else { return }
        draw("\(lock.withLock { currentName }): media \(done) of \(total)")
    }

    func finish() { if live { draw("") } }

    private func draw(_ text: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }
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
