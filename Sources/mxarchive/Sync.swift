import ArchiveService
import ArgumentParser

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch new history of rooms into the archive (resumable, incremental).",
        // Spelled out: past a length ArgumentParser shortens the generated line to "<options>".
        usage: """
            mxarchive sync [--store <dir>] [--room <id-or-alias> ...] [--space <id> ...] [--all-joined] \
            [--from-start | --since <date>] [--follow-upgrades] [--[no-]retain-redacted] [--page-size <n>] [--jobs <n>] [--no-index] \
            [--[no-]media [--max-media-size <size>]] [--then-export] [--metrics-file <path>] [--walk-all] [--json] [--quiet] [--log-format <text|json>]
            """,
        discussion: """
            A first sync of a room walks backward from now (or forward from its first event with
            --from-start, or from a date with --since). Every later sync fetches only what is new and
            finishes any walk an earlier, interrupted run left. Each page is stored with its cursor in one
            transaction: killing a sync loses nothing, and rerunning it duplicates nothing.

            With no room named, every room already in the archive is synced (the nightly cron line):
              mxarchive sync

            With --jobs N (default 4, at most 16), up to N rooms are fetched at once; one writer stores
            each room's pages in its own order, so the archive is the same as with --jobs 1, which syncs
            the rooms one after another.

            <store>/config.toml can name the rooms to follow and set the other settings and export jobs
            (see `mxarchive config`); a flag given here wins over the file.

            After a first run, one /sync request tells what changed since the last run: a room with no
            news costs no request, and only a room with more news than /sync carries is walked with
            /messages. A room the account left is archived up to the leave and not fetched again.
            --walk-all walks every room with /state and /messages instead.

            With --media, each room's attachments and thumbnails are downloaded after its events
            (encrypted ones checked and decrypted) and kept once each under media/ in the store; failed
            downloads are tried again by the next sync --media, except files the server answered "not
            found" or "forbidden" for on two days in a row: those wait 20 hours, then longer after each
            answer (at most 30 days).

            Exit 3 (done with warnings) when some rooms failed while others were archived, encrypted
            events were stored that wait for keys, or attachments failed that had not failed the same
            way when a sync last reported them (not those over the size cap): what was warned about
            once is not warned about every night. Exit 1 when every room failed. For cron:
            `mxarchive --quiet sync` prints nothing unless something is wrong. --metrics-file writes Prometheus text for node_exporter's textfile collector
            (replaced whole after every run, a failed one too).
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var settings: SyncSettingOptions

    @Flag(help: "New rooms: walk forward from the room's first visible event instead of backward from now.")
    var fromStart = false

    @Option(help: ArgumentHelp("New rooms: start the archive at this date (YYYY-MM-DD or ISO 8601, UTC).", valueName: "date"))
    var since: String?

    @Flag(help: "Also archive the rooms this room replaced or was replaced by (room upgrades).")
    var followUpgrades = false

    @Flag(help: "Leave the search index alone; the next sync or `mxarchive reindex` catches it up.")
    var noIndex = false

    @Flag(help: "After a sync in which no room failed, run every export job of config.toml (see `export --job`).")
    var thenExport = false

    @Option(help: ArgumentHelp("Write the run's Prometheus metrics to this file (atomically replaced).",
                               valueName: "path"))
    var metricsFile: String?

    @Flag(help: "Walk every room with /state and /messages instead of learning from /sync what changed.")
    var walkAll = false

    @Flag(help: "Print one JSON object {\"rooms\":[{\"room_id\",\"new_events\",\"total_events\",\"error\",\"media\",\"waiting_for_keys\",\"newly_waiting_for_keys\"}],\"index\",\"key_backup\",\"http\":{\"requests\",\"bytes_received\"}} at the end (schemas/sync-result.schema.json).")
    var json = false

    /// The flags over config.toml over the defaults.
    func request(config: ArchiveConfig?) -> SyncRequest {
        var base = SyncRequest()
        base.fromStart = fromStart
        base.since = since
        base.followUpgrades = followUpgrades
        base.index = !noIndex
        base.walkAll = walkAll
        return SyncSettings(flags: settings.flags, config: config, base: base).request
    }

    func validate() throws {
        // The flags alone are checked before anything is read; whether media is on may still come from
        // config.toml, so --max-media-size without --media is judged in run().
        var flagsOnly = request(config: nil)
        if settings.media == nil { flagsOnly.media = true }
        if let problem = flagsOnly.problem { throw ValidationError(problem) }
        if let metricsFile, let problem = SyncMetrics.problem(path: metricsFile) { throw ValidationError(problem) }
    }

    func run() async throws {
        let config = try global.config()
        let syncRequest = request(config: config)
        if let problem = syncRequest.problem { throw ValidationError(problem) }
        if thenExport && (config?.exportJobs ?? []).isEmpty {
            throw ValidationError("--then-export runs the export jobs of config.toml, and the store's has none")
        }
        let metrics = metricsFile.map { SyncMetrics(path: $0, storeDirectory: StoreLocation.resolve(global.store)) }
        let progress = SyncProgressDisplay(live: Console.redrawsProgress, summaries: !json && !global.quiet)
        let report: SyncReport
        // Kept open (and so the store's lock held) until the export jobs are done: another sync must not
        // start writing between this one and the exports of what it archived.
        let archive: Archive
        do {
            archive = try global.open(.update)
            report = try await archive.sync(syncRequest, progress: progress)
        } catch {
            metrics?.write(failure: error, exitCode: ErrorReporter.exitCode(for: error))
            throw error
        }
        defer { withExtendedLifetime(archive) {} }
        // The index's line is a note (left out by --quiet, a record in a JSON log); --json as asked.
        if json { Console.print(report, json: true) } else { Console.print(report, results: { Console.note($0) }) }
        metrics?.write(report: report, exitCode: report.outcome.exitCode)
        // The export jobs run after a sync in which no room failed (warnings such as events still waiting
        // for keys do not hold them back); the sync's outcome still decides the exit code afterwards.
        if thenExport, let config {
            if report.failedRooms == 0 {
                // The sync's JSON object stays alone on standard output.
                try ExportJobs.runAll(config.exportJobs, on: archive,
                                      results: json ? Console.lineOnStandardError : { Console.note($0) })
            } else {
                Console.warning("the export jobs did not run: \(report.failedRooms) rooms failed to sync")
            }
        }
        try report.outcome.check()
    }
}
