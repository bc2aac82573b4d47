import ArchiveService
import ArgumentParser

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch new history of rooms into the archive (resumable, incremental).",
        // Spelled out: past a length ArgumentParser shortens the generated line to "<options>".
        usage: """
            mxarchive sync [--store <dir>] [--room <id-or-alias> ...] [--space <id> ...] [--all-joined] \
            [--from-start | --since <date>] [--follow-upgrades] [--retain-redacted] [--page-size <n>] [--no-index] \
            [--media [--max-media-size <size>]] [--walk-all] [--json]
            """,
        discussion: """
            A first sync of a room walks backward from now (or forward from its first event with
            --from-start, or from a date with --since). Every later sync fetches only what is new and
            finishes any walk an earlier, interrupted run left. Each page is stored with its cursor in one
            transaction: killing a sync loses nothing, and rerunning it duplicates nothing.

            With no room named, every room already in the archive is synced (the nightly cron line):
              mxarchive sync

            After a first run, one /sync request tells what changed since the last run: a room with no
            news costs no request, and only a room with more news than /sync carries is walked with
            /messages. A room the account left is archived up to the leave and not fetched again.
            --walk-all walks every room with /state and /messages instead.

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

    @Flag(help: "Walk every room with /state and /messages instead of learning from /sync what changed.")
    var walkAll = false

    @Flag(help: "Print one JSON object {\"rooms\":[{\"room_id\",\"new_events\",\"total_events\",\"media\"}],\"http\":{\"requests\",\"bytes_received\"}} at the end.")
    var json = false

    var request: SyncRequest {
        var request = SyncRequest()
        request.rooms = rooms
        request.spaces = spaces
        request.allJoined = allJoined
        request.fromStart = fromStart
        request.since = since
        request.followUpgrades = followUpgrades
        request.retainRedacted = retainRedacted
        request.pageSize = pageSize
        request.index = !noIndex
        request.media = media
        request.maxMediaSize = maxMediaSize
        request.walkAll = walkAll
        return request
    }

    func validate() throws {
        if let problem = request.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        let progress = SyncProgressDisplay(live: Console.isTerminal(2), summaries: !json)
        let report = try await global.open(.update).sync(request, progress: progress)
        Console.print(report, json: json)
        if let failure = report.failureIfAny() { throw failure }
    }
}
