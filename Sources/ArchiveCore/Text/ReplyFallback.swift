import Foundation

/// Rich-reply fallbacks: the quote of the replied-to message that older clients put before a reply, as
/// leading `> ` lines of `body` and a leading `<mx-reply>` element of `formatted_body`. The quote belongs
/// to the other message (exports show it from the archive), so the text shown and indexed is the reply
/// without it. As the Matrix spec says, and no more: only a reply (`m.relates_to.m.in_reply_to`) has a
/// fallback; in `body` only the leading lines that begin with `> ` (with the space) up to the first line
/// without it, and the one blank line after them; in `formatted_body` only an `<mx-reply>` it begins with.
/// A message that starts with a quote of its own, reply or not, keeps everything after the fallback.
public enum ReplyFallback {
    /// The content is a reply: it names the event it replies to, and is not a thread message whose
    /// `m.in_reply_to` only exists for clients without threads (`is_falling_back`; it has no fallback).
    public static func isReply(_ content: JSONValue) -> Bool {
        guard let relatesTo = content["m.relates_to"],
              relatesTo.value(at: "m.in_reply_to", "event_id")?.stringValue != nil else { return false }
        return !(relatesTo["rel_type"]?.stringValue == Relation.Kind.thread.rawValue
                 && relatesTo["is_falling_back"]?.boolValue == true)
    }

    /// `content.body` without the fallback when the content is a reply, unchanged otherwise.
    public static func body(of content: JSONValue) -> String? {
        guard let body = content["body"]?.stringValue else { return nil }
        return isReply(content) ? strippingBody(body) : body
    }

    /// `content.formatted_body` without the fallback when the content is a reply, unchanged otherwise.
    public static func formattedBody(of content: JSONValue) -> String? {
        guard let html = content["formatted_body"]?.stringValue else { return nil }
        return isReply(content) ? strippingFormattedBody(html) : html
    }

    /// The leading `> ` lines removed, and the blank line that separates them from the reply. Lines end at
    /// LF, CRLF or CR (clients on every platform send replies).
    public static func strippingBody(_ body: String) -> String {
        var rest = Substring(body)
        while rest.hasPrefix("> ") { rest = afterFirstLine(rest) }
        guard rest.startIndex != body.startIndex else { return body }
        if let first = rest.first, isLineEnd(first) { rest = rest.dropFirst() }
        return String(rest)
    }

    /// A leading `<mx-reply>…</mx-reply>` removed; one anywhere else is the sender's own markup.
    public static func strippingFormattedBody(_ html: String) -> String {
        guard html.hasPrefix("<mx-reply>"), let end = html.range(of: "</mx-reply>") else { return html }
        return String(html[end.upperBound...])
    }

    /// What follows the first line break (CRLF, LF or CR), or nothing when there is none.
    private static func afterFirstLine(_ text: Substring) -> Substring {
        guard let index = text.firstIndex(where: isLineEnd) else { return text[text.endIndex...] }
        return text[text.index(after: index)...]
    }

    /// "\r\n" is one Character in Swift, so a CRLF is found (and skipped) whole.
    private static func isLineEnd(_ character: Character) -> Bool {
        character == "\n" || character == "\r\n" || character == "\r"
    }
}
