import ArchiveCore

/// Plain-text views of timeline items shared by the text and HTML exports and `mxarchive events`.
public enum EventText {
    /// What a non-message event did, as a sentence ("joined as Bob", "named the room …"), or nil for
    /// message-like events.
    public static func stateSentence(_ item: TimelineItem) -> String? {
        guard let stateKey = item.stateKey else { return nil }
        let content = item.content
        switch item.type {
        case "m.room.create": return "created the room (version \(content["room_version"]?.stringValue ?? "1"))"
        case "m.room.name": return "named the room “\(content["name"]?.stringValue ?? "")”"
        case "m.room.topic": return "set the topic to “\(content["topic"]?.stringValue ?? "")”"
        case "m.room.avatar": return "changed the room's picture"
        case "m.room.canonical_alias": return "set the room's address to \(content["alias"]?.stringValue ?? "none")"
        case "m.room.tombstone": return "upgraded the room to \(content["replacement_room"]?.stringValue ?? "?")"
        case "m.room.encryption": return "turned on end-to-end encryption"
        case "m.room.join_rules": return "set who can join to \(content["join_rule"]?.stringValue ?? "?")"
        case "m.room.history_visibility": return "set history visibility to \(content["history_visibility"]?.stringValue ?? "?")"
        case "m.room.power_levels": return "changed the power levels"
        case "m.room.guest_access": return "set guest access to \(content["guest_access"]?.stringValue ?? "?")"
        case "m.space.child": return content["via"] == nil ? "removed a room from the space" : "added \(stateKey) to the space"
        case "m.space.parent": return "set the room's space to \(stateKey)"
        case "m.room.member":
            return MembershipSentence.sentence(sender: item.sender, stateKey: stateKey, content: content,
                                               previous: item.previousContent)
        default: return "changed \(item.type)"
        }
    }

    /// True when the content is gone (redacted and not retained).
    static func isStripped(_ item: TimelineItem) -> Bool {
        item.redacted && (item.content["body"] == nil || item.content.objectValue?.isEmpty != false)
    }

    static func isUndecryptable(_ item: TimelineItem) -> Bool {
        item.decryption.isUndecryptable
    }

    /// The message's text: its body, with attachments named, or a notice.
    static func body(_ item: TimelineItem) -> String {
        if isStripped(item) { return "[message deleted]" }
        if isUndecryptable(item) { return "[unable to decrypt: \(item.decryption.rawValue)]" }
        if let sentence = stateSentence(item) { return sentence }
        let content = item.shownContent
        let body = ReplyFallback.body(of: content)
        switch content["msgtype"]?.stringValue {
        case "m.image": return "[image: \(body ?? "")]"
        case "m.file": return "[file: \(body ?? "")]"
        case "m.video": return "[video: \(body ?? "")]"
        case "m.audio": return "[audio: \(body ?? "")]"
        case "m.location": return "[location: \(body ?? "") \(content["geo_uri"]?.stringValue ?? "")]"
        case "m.emote": return "* \(body ?? "")"
        default:
            if let body { return body }
            if item.type == "m.sticker" { return "[sticker]" }
            return "[\(item.type)]"
        }
    }
}

/// Per room and month: `rooms/<id>/<YYYY-MM>.txt`, one line per event,
/// `[2024-01-02 13:04:05 UTC] Alice (@alice:example.org): text`, edits applied, thread replies indented,
/// continuation lines of a long message indented; `rooms/<id>/room.txt` describes the room. Every line
/// break other people wrote becomes a continuation line and names stay on their line (`DisplayText`):
/// a line that starts with a time is always one the export wrote.
final class TextRenderer: ExportRenderer {
    let roomEntryName = "room.txt"

    func begin(rooms: [StoredRoom], writer: ExportWriter) throws {}

    /// `replyTo` is the reply's target as this export may quote it (`RoomContext.quotedEvent`).
    /// `mediaPath` is the export path of the item's stored attachment (`--include-media`), named after
    /// its text so that a reader of the text export finds the file.
    static func line(_ item: TimelineItem, replyTo: EventSummary?, mediaPath: String? = nil) -> String {
        var text = EventText.body(item)
        if let mediaPath, !EventText.isStripped(item), !EventText.isUndecryptable(item) { text += " (\(mediaPath))" }
        if item.edited && !EventText.isStripped(item) { text += " (edited)" }
        if item.redacted && !EventText.isStripped(item) { text += " (redacted, retained)" }
        if !item.reactions.isEmpty {
            text += "  [" + item.reactions.sorted { $0.key < $1.key }
                .map { "\(DisplayText.singleLine($0.key)) \($0.value)" }.joined(separator: ", ") + "]"
        }
        if let replyTo {
            let name = DisplayText.singleLine(replyTo.senderName)
            let quoted = replyTo.redacted ? "[message deleted]" : ReplyFallback.body(of: replyTo.content) ?? ""
            text = "(in reply to \(name): \"\(Self.snippet(quoted))\") " + text
        } else if item.inReplyTo != nil {
            text = "(in reply to a message not in this export) " + text
        }
        let indent = item.threadRoot == nil ? "" : "    ↳ "
        let who = DisplayText.sender(item.sender, displayName: item.senderDisplayName)
        let head = "[\(UTCTime(millis: item.originServerTS).display)] \(indent)\(who): "
        return head + DisplayText.indented(text, by: indent.isEmpty ? 4 : 10) + "\n"
    }

    static func snippet(_ text: String) -> String {
        let flat = DisplayText.lines(text).filter { !$0.isEmpty }.joined(separator: " ")
        return flat.count > 80 ? String(flat.prefix(80)) + "…" : flat
    }

    func renderRoom(_ context: RoomContext, result: inout RoomExportResult, writer: ExportWriter,
                    progress: (_ eventsSoFar: Int) -> Void) throws {
        var months = MonthCursor()
        var file: ExportFile?
        var month = ""
        var monthList: [(String, Int)] = []
        var inMonth = 0
        var localResult = result
        var mediaPaths: [String: String] = [:]
        if context.options.includeMedia {
            for (key, ref) in try context.source.mediaRefs(roomID: context.roomID) where ref.status == .ok {
                if let digest = ref.sha256 { mediaPaths[key] = context.mediaNames.path(of: digest) }
            }
        }
        func flush() throws {
            guard let current = file else { return }
            try writer.add(context.directory + "/" + month + ".txt", current)
            monthList.append((month, inMonth))
            file = nil
            progress(localResult.events)
        }
        try context.forEachItem { item in
            let (key, isNew) = months.month(for: item.originServerTS)
            if isNew || file == nil {
                try flush()
                file = ExportFile()
                month = key
                inMonth = 0
            }
            let replyTo = try item.inReplyTo.flatMap { try context.quotedEvent($0) }
            file?.append(Self.line(item, replyTo: replyTo, mediaPath: mediaPaths[MediaRef.key(item.eventID, .file)]))
            inMonth += 1
            localResult.count(item)
            if localResult.events % 5000 == 0 { progress(localResult.events) }
        }
        try flush()
        result = localResult
        let metadata = context.room.metadata
        var overview = "\(DisplayText.singleLine(context.displayName))\n"
        overview += "room id: \(metadata.roomID)\n"
        if let alias = metadata.canonicalAlias { overview += "address: \(DisplayText.singleLine(alias))\n" }
        if let topic = metadata.topic { overview += "topic: \(DisplayText.singleLine(topic, breaks: .space))\n" }
        overview += "events: \(result.events) (messages \(result.messages), redacted \(result.redacted), undecryptable \(result.undecryptable))\n"
        overview += "times are UTC\n\nmonths:\n"
        for (key, count) in monthList { overview += "  \(key).txt  \(count) events\n" }
        try writer.add(context.directory + "/room.txt", text: overview)
    }

    func finish(rooms: [RoomExportResult], spaces: [String: [String]], writer: ExportWriter) throws {}
}
