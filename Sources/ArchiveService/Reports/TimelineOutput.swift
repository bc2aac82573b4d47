import ArchiveCore
import Exporters

/// `mxarchive events`: a room's normalised timeline, one line per item: the `events --jsonl` object
/// (schemas/event.schema.json) or a line for people.
public struct TimelineRequest: Sendable {
    public var room: String
    public var dates: DateRange
    public var followUpgrades: Bool

    public init(room: String, dates: DateRange, followUpgrades: Bool) {
        self.room = room
        self.dates = dates
        self.followUpgrades = followUpgrades
    }
}

extension Archive {
    /// Streams the timeline (rooms can hold millions of events): `line` is called once per item.
    public func events(_ request: TimelineRequest, jsonl: Bool, line: (String) -> Void) throws {
        let roomID = try resolve(request.room)
        let rooms = request.followUpgrades ? try store.upgradeChain(of: roomID) : [roomID]
        for roomID in rooms {
            try store.timeline(roomID: roomID, since: request.dates.sinceMillis, until: request.dates.untilMillis) { item in
                line(jsonl ? JSONCoding.encode(item.jsonValue) : TimelineText.line(item))
            }
        }
    }
}

/// The human line of a timeline item (`events` without `--jsonl`): one line, its body's own line breaks
/// as indented continuation lines, controls and bidi overrides escaped (`DisplayText`).
enum TimelineText {
    static func line(_ item: TimelineItem) -> String {
        let time = Timestamp(milliseconds: item.originServerTS).display
        let who = DisplayText.sender(item.sender, displayName: item.senderDisplayName)
        var text: String
        // An event that was not decrypted shows no cleartext body (anyone can plant one beside the ciphertext):
        // it is `[m.room.encrypted]`.
        let content = item.shownContent
        if item.redacted && item.content.objectValue?.isEmpty != false {
            text = "[redacted]"
        } else if let body = ReplyFallback.body(of: content) {
            text = body
        } else if let description = EventText.stateSentence(item) {
            text = description
        } else {
            text = "[\(item.type)]"
        }
        if item.edited { text += " (edited)" }
        if item.redacted, item.content.objectValue?.isEmpty == false { text += " (redacted, retained)" }
        if !item.reactions.isEmpty {
            text += " " + item.reactions.sorted { $0.key < $1.key }
                .map { "\(DisplayText.singleLine($0.key))×\($0.value)" }.joined(separator: " ")
        }
        let indent = item.threadRoot == nil ? "" : "    ↳ "
        return "[\(time)] \(indent)\(who): " + DisplayText.indented(text, by: indent.isEmpty ? 4 : 10)
    }
}
