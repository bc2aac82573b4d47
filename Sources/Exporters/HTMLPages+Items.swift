import ArchiveCore

extension HTMLPages {
    /// Where an item's attachment and thumbnail are in this export (nil: not included).
    struct MediaLinks: Equatable {
        var file: String?
        var thumbnail: String?
        static let none = MediaLinks(file: nil, thumbnail: nil)
    }

    /// A state event shown as one line ("Alice joined"); it quotes nothing and has no body.
    static func isStateLine(_ item: TimelineItem) -> Bool {
        item.stateKey != nil && EventText.stateSentence(item) != nil
    }

    /// The item's content is shown (not deleted, not undecryptable), with its edit history when edited.
    static func showsContent(_ item: TimelineItem) -> Bool {
        !EventText.isStripped(item) && !EventText.isUndecryptable(item)
    }

    /// One item of a month or thread page. `replyTarget` is the event it replies to when this export may
    /// quote it (`RoomContext.quotedEvent`); `versions` its content versions (`ExportSource.contentVersions`)
    /// when edited.
    static func item(_ item: TimelineItem, replyTarget: EventSummary?, versions: [ContentVersion], media: MediaLinks,
                     plan: HTMLRoomPlan, onThreadPage: Bool) -> String {
        let id = attr(item.eventID)
        let time = UTCTime(millis: item.originServerTS)
        let name = item.senderName
        let permalink = "<a class=\"time\" href=\"#\(id)\"><time datetime=\"\(time.iso8601)\">\(time.clock)</time></a>"
        let sender = "<span class=\"sender\" title=\"\(attr(item.sender))\">\(isolated(name))</span>"
        if item.stateKey != nil, let sentence = EventText.stateSentence(item) {
            return "<div class=\"msg state\" id=\"\(id)\">\(sender) \(isolated(sentence)) \(permalink)</div>\n"
        }
        // The header shows the user id beside every sender already: the display name alone there, or an
        // ambiguous sender's id would stand twice. (A state line has no id beside it: it keeps the label.)
        let headerName = item.senderDisplayName.flatMap { MemberName.comparisonKey($0).isEmpty ? nil : $0 } ?? item.sender
        let headerSender = "<span class=\"sender\" title=\"\(attr(item.sender))\">\(isolated(headerName))</span>"
        var html = "<article class=\"msg\" id=\"\(id)\">\n<header>\(headerSender)"
        html += "<span class=\"mxid\">\(esc(item.sender))</span>\(permalink)</header>\n"
        if item.inReplyTo != nil {
            // Another room's event is never quoted, whoever handed it over.
            if let replyTarget, replyTarget.roomID == plan.roomID {
                html += quote(replyTarget, label: "In reply to", plan: plan, onThreadPage: onThreadPage)
            } else {
                html += "<blockquote class=\"reply\">In reply to a message that is not in this export</blockquote>\n"
            }
        }
        if EventText.isStripped(item) {
            html += "<p class=\"notice redacted\">Message deleted</p>\n"
        } else if EventText.isUndecryptable(item) {
            html += "<p class=\"notice undecryptable\">Unable to decrypt this message (\(esc(item.decryption.rawValue)))</p>\n"
        } else {
            if item.redacted { html += "<p class=\"notice redacted\">Deleted by its sender; the content is kept under legal hold.</p>\n" }
            html += "<div class=\"body\">" + body(item.shownContent, type: item.type, senderName: name, media: media) + "</div>\n"
            if item.edited { html += editHistory(item, versions: versions) }
        }
        if !item.reactions.isEmpty {
            html += "<ul class=\"reactions\" aria-label=\"Reactions\">"
            for (key, count) in item.reactions.sorted(by: { $0.key < $1.key }) {
                html += "<li>\(isolated(key)) <span class=\"count\">\(count)</span></li>"
            }
            html += "</ul>\n"
        }
        if let thread = item.thread, plan.hasThreadPage(item.eventID) {
            let href = (onThreadPage ? "../" : "") + HTMLRoomPlan.threadPath(item.eventID)
            let label = thread.replyCount == 1 ? "1 reply" : "\(thread.replyCount) replies"
            html += "<p class=\"thread-link\"><a href=\"\(attr(href))\">\(label) in thread</a></p>\n"
        }
        return html + "</article>\n"
    }

    /// What stands in for an item that could not be rendered (the export goes on, and counts it).
    static func badEvent(_ item: TimelineItem) -> String {
        "<article class=\"msg bad-event\" id=\"\(attr(item.eventID))\"><p class=\"notice\">This event could not be shown.</p></article>\n"
    }

    /// A quoted event (reply target, thread root) with a link to it when it is in this export.
    static func quote(_ summary: EventSummary, label: String, plan: HTMLRoomPlan, onThreadPage: Bool) -> String {
        let name = isolated(summary.senderName)
        var text = summary.redacted && summary.content["body"] == nil ? "[message deleted]"
            : TextRenderer.snippet(ReplyFallback.body(of: summary.content) ?? "[\(summary.content["msgtype"]?.stringValue ?? "event")]")
        if text.isEmpty { text = "…" }
        var head = "\(esc(label)) <b>\(name)</b>"
        if let href = plan.href(of: summary) {
            head = "<a href=\"\(attr((onThreadPage ? "../" : "") + href))\">\(head)</a>"
        }
        return "<blockquote class=\"reply\">\(head): \(isolated(text))</blockquote>\n"
    }

    /// The earlier versions of an edited message (all of `versions` but the current one), oldest first,
    /// in a `<details>`.
    static func editHistory(_ item: TimelineItem, versions: [ContentVersion]) -> String {
        var html = "<details class=\"edits\"><summary>edited</summary><ol>"
        for version in versions where version.eventID != item.replacedBy {
            let time = UTCTime(millis: version.originServerTS)
            html += "<li><time datetime=\"\(time.iso8601)\">\(time.display)</time>: "
                + body(version.content, type: item.type, senderName: item.senderName) + "</li>"
        }
        return html + "</ol></details>\n"
    }

    /// A message's content: attachments as links (or a note that they are not included), locations,
    /// sanitised `formatted_body`, else the escaped `body`; a reply without its fallback (`ReplyFallback`).
    static func body(_ content: JSONValue, type: String, senderName: String, media: MediaLinks = .none) -> String {
        let body = content["body"]?.stringValue ?? ""
        // A sticker has no msgtype: it is an image.
        let msgtype = type == "m.sticker" ? "m.image" : content["msgtype"]?.stringValue
        switch msgtype {
        case "m.image", "m.file", "m.video", "m.audio":
            let label = type == "m.sticker" ? "Sticker"
                : ["m.image": "Image", "m.file": "File", "m.video": "Video", "m.audio": "Audio"][msgtype!]!
            let fileName = content["filename"]?.stringValue ?? body
            let size = content.value(at: "info", "size")?.int64Value.map { " (\(byteCount($0)))" } ?? ""
            var html = ""
            // Files are named by their SHA-256 in media/ and the type their bytes show (`MediaSniffer`):
            // every link carries `download` (with the real name), so that a file is saved, never opened as
            // a page of the archive's own origin, and only a file that is an image is shown as one.
            if msgtype == "m.image",
               let shown = [media.thumbnail, media.file].compactMap({ $0 }).first(where: MediaSniffer.isImagePath) {
                html += "<a class=\"image\" href=\"\(attr(media.file ?? shown))\" download=\"\(attr(fileName))\">"
                    + "<img src=\"\(attr(shown))\" alt=\"\(attr(fileName))\" loading=\"lazy\"></a>"
            }
            if let file = media.file {
                html += "<a class=\"attachment\" href=\"\(attr(file))\" download=\"\(attr(fileName))\">\(label): "
                    + "\(isolated(fileName))\(size)</a>"
            } else {
                html += "<span class=\"attachment\">\(label): \(isolated(fileName))\(size) — not included in this export</span>"
            }
            if let caption = content["filename"]?.stringValue, caption != body, !body.isEmpty {
                html += "<p>\(plainHTML(body))</p>"
            }
            return html
        case "m.location":
            return "<span class=\"attachment\">Location: \(isolated(body)) \(isolated(content["geo_uri"]?.stringValue ?? ""))</span>"
        default:
            break
        }
        var html: String
        if content["format"]?.stringValue == "org.matrix.custom.html", let formatted = ReplyFallback.formattedBody(of: content) {
            html = HTMLSanitizer.sanitize(formatted)
        } else if let text = ReplyFallback.body(of: content) {
            html = plainHTML(text)
        } else {
            html = "<span class=\"notice\">[\(esc(type))]</span>"
        }
        if msgtype == "m.emote" { html = "<span class=\"emote\">* \(isolated(senderName))</span> " + html }
        return html
    }

    static func plainHTML(_ text: String) -> String {
        // Foundation's replace is slow on Linux and most messages are one line.
        let escaped = esc(text)
        return escaped.utf8.contains(0x0A) ? escaped.replacingOccurrences(of: "\n", with: "<br>") : escaped
    }

    static func byteCount(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return "\(bytes / 1024) KB" }
        return "\(bytes >> 20) MB"
    }
}
