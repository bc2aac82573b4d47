import ArchiveCore
import ArchiveStore
import ArgumentParser
import Exporters
import Foundation
import ArchiveService

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
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, DateArgument.parse(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a date (use YYYY-MM-DD or 2024-03-01T12:00:00Z)")
            }
        }
    }

    func run() throws {
        let store = try global.openStore()
        let roomID = try store.resolveRoom(room)
        let sinceMillis = since.flatMap(DateArgument.parse)
        var untilMillis = until.flatMap(DateArgument.parse)
        if let until, DateArgument.isDay(until), let day = untilMillis { untilMillis = day + DateArgument.dayMillis }
        let rooms = followUpgrades ? try store.upgradeChain(of: roomID) : [roomID]
        for roomID in rooms {
            try store.timeline(roomID: roomID, since: sinceMillis, until: untilMillis) { item in
                emit(jsonl ? JSONCoding.encode(item.jsonValue) : Self.humanLine(item))
            }
        }
    }

    static func humanLine(_ item: TimelineItem) -> String {
        let time = DateArgument.format(item.originServerTS).replacingOccurrences(of: "T", with: " ")
            .replacingOccurrences(of: "Z", with: " UTC")
        let who = item.senderDisplayName.map { "\($0) (\(item.sender))" } ?? item.sender
        var text: String
        if item.redacted && item.content.objectValue?.isEmpty != false {
            text = "[redacted]"
        } else if let body = item.content["body"]?.stringValue {
            text = body
        } else if let description = EventText.stateSentence(item) {
            text = description
        } else {
            text = "[\(item.type)]"
        }
        if item.edited { text += " (edited)" }
        if item.redacted, item.content.objectValue?.isEmpty == false { text += " (redacted, retained)" }
        if !item.reactions.isEmpty {
            text += " " + item.reactions.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        }
        let indent = item.threadRoot == nil ? "" : "    ↳ "
        return "[\(time)] \(indent)\(who): \(text)"
    }
}
