import ArchiveService
import ArgumentParser

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a room's normalised timeline from the archive (offline).",
        discussion: """
            Timeline order is the room's own order (as /messages with dir=f gives it), whichever direction
            the archive was filled in. Edits are applied (the winning edit's content), reactions counted,
            redactions applied; edit, reaction and redaction events are not listed on their own.
            With --jsonl, one JSON object per line as described by schemas/event.schema.json:
              mxarchive events --room '#team:example.org' --since 2024-01-01 --until 2024-03-31 --jsonl
            A bare day in --until includes that whole day (UTC).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The room id (!…) or alias (#…), as archived.", valueName: "id-or-alias"))
    var room: String

    @Option(help: ArgumentHelp("Only events at or after this date (YYYY-MM-DD or ISO 8601, UTC).", valueName: "date"))
    var since: String?

    @Option(help: ArgumentHelp("Only events before this time; a bare day includes that day.", valueName: "date"))
    var until: String?

    @Flag(help: "Also list the rooms this room replaced or was replaced by, oldest first, as one history.")
    var followUpgrades = false

    @Flag(help: "One JSON object per line (schemas/event.schema.json).")
    var jsonl = false

    func validate() throws {
        try ValidationError.checkDate("--since", since)
        try ValidationError.checkDate("--until", until)
    }

    func run() throws {
        let request = TimelineRequest(room: room, dates: try DateRange(since: since, until: until),
                                      followUpgrades: followUpgrades)
        try global.open(.read).events(request, jsonl: jsonl, line: Console.line)
    }
}
