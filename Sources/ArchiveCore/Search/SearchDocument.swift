import Foundation

/// A stored event as the search index needs to see it: its current content (the winning edit applied and,
/// for an encrypted event, the decrypted payload), and whether a redaction stripped it. The store builds
/// these from its rows; `SearchDocument.action(for:)` decides what the index does with them.
public struct IndexableEvent: Sendable, Hashable {
    /// The store's change counter for this event: the index catches up by it.
    public var changeSeq: Int64
    public var eventID: String
    public var roomID: String
    public var sender: String
    /// The event type after decryption (`m.room.encrypted` while the keys are missing).
    public var type: String
    public var originServerTS: Int64
    public var isTimelineItem: Bool
    /// The current content; nil when there is none to read (undecryptable, or no content).
    public var content: JSONValue?
    /// Redacted and not kept under legal hold: nothing of it may be found.
    public var stripped: Bool
    public var threadRoot: String?

    public init(changeSeq: Int64, eventID: String, roomID: String, sender: String, type: String,
                originServerTS: Int64, isTimelineItem: Bool, content: JSONValue?, stripped: Bool, threadRoot: String?) {
        self.changeSeq = changeSeq
        self.eventID = eventID
        self.roomID = roomID
        self.sender = sender
        self.type = type
        self.originServerTS = originServerTS
        self.isTimelineItem = isTimelineItem
        self.content = content
        self.stripped = stripped
        self.threadRoot = threadRoot
    }
}

/// The prefixed boolean terms of the index. Values longer than Xapian's term limit (245 bytes) are
/// shortened with a hash, so a hostile id can never make indexing fail. A U+0000 in a value becomes
/// U+FFFD: terms reach Xapian separated by NUL, and `"m.text\u{0}Q$victim"` as a msgtype would otherwise
/// add another event's id term to the attacker's document (and a later replace or delete by that id
/// term would take both).
public enum SearchTerm {
    public static func id(_ eventID: String) -> String { make("Q", eventID) }
    public static func sender(_ userID: String) -> String { make("A", userID) }
    public static func room(_ roomID: String) -> String { make("R", roomID) }
    public static func thread(_ rootID: String) -> String { make("T", rootID) }
    public static func msgtype(_ msgtype: String) -> String { make("M", msgtype) }
    public static func has(_ feature: SearchFeature) -> String { "H" + feature.rawValue }

    static func make(_ prefix: String, _ value: String) -> String {
        let term = prefix + (value.utf8.contains(0) ? value.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : value)
        guard term.utf8.count > 240 else { return term }
        let head = String(decoding: Array(term.utf8.prefix(200)), as: UTF8.self)
        return head + "#" + String(FNV1a.hash(term), radix: 16)
    }
}

/// What a message has, for `has:` filters.
public enum SearchFeature: String, Sendable, CaseIterable {
    case image, video, audio, file, link
}

/// One search document: the text parts of a message and its filter terms.
public struct SearchDocument: Sendable, Hashable {
    public var eventID: String
    public var roomID: String
    public var sender: String
    public var originServerTS: Int64
    /// Body (reply fallback removed), the text of `formatted_body` when it says more, and the attachment's
    /// file name when it differs from the body (then the body is the caption).
    public var textParts: [String]
    /// Prefixed boolean terms (see `SearchTerm`), the id term not included.
    public var terms: [String]
    public var threadRoot: String?

    /// A fingerprint of everything indexed, kept in the document so that `verify` can tell a stale document
    /// from a current one without re-indexing.
    public var contentHash: UInt64 {
        var hasher = FNV1a()
        hasher.add(eventID)
        hasher.add(String(originServerTS))
        for part in textParts { hasher.add(part) }
        for term in terms.sorted() { hasher.add(term) }
        return hasher.value
    }

    public enum Action: Sendable, Hashable {
        case put(SearchDocument)
        case delete(eventID: String)
        case skip
    }

    static let attachmentTypes: Set<String> = ["m.image", "m.file", "m.video", "m.audio"]

    /// What the index does with a changed event: index (or re-index) it, remove it, or ignore it (events that
    /// are never messages).
    public static func action(for event: IndexableEvent) -> Action {
        guard event.isTimelineItem else { return .skip }
        switch event.type {
        case "m.room.message": break
        case "m.room.encrypted": return .skip  // nothing readable yet; a late decryption changes the row
        default: return .skip
        }
        guard !event.stripped, let content = event.content, let document = document(for: event, content: content)
        else { return .delete(eventID: event.eventID) }
        return .put(document)
    }

    static func document(for event: IndexableEvent, content: JSONValue) -> SearchDocument? {
        let msgtype = content["msgtype"]?.stringValue
        let body = ReplyFallback.body(of: content) ?? ""
        var parts: [String] = []
        if !body.isEmpty { parts.append(body) }
        var formattedText = ""
        if content["format"]?.stringValue == "org.matrix.custom.html", let html = ReplyFallback.formattedBody(of: content) {
            formattedText = HTMLText.plainText(html)
            if normalise(formattedText) != normalise(body), !formattedText.isEmpty { parts.append(formattedText) }
        }
        if let fileName = content["filename"]?.stringValue, !fileName.isEmpty, fileName != body {
            parts.append(fileName)
        }
        var terms = [SearchTerm.sender(event.sender), SearchTerm.room(event.roomID)]
        if let root = event.threadRoot { terms.append(SearchTerm.thread(root)) }
        if let msgtype { terms.append(SearchTerm.msgtype(msgtype)) }
        let isAttachment = msgtype.map { attachmentTypes.contains($0) } ?? false
            || content["url"] != nil || content["file"] != nil
        if isAttachment { terms.append(SearchTerm.has(.file)) }
        switch msgtype {
        case "m.image": terms.append(SearchTerm.has(.image))
        case "m.video": terms.append(SearchTerm.has(.video))
        case "m.audio": terms.append(SearchTerm.has(.audio))
        default: break
        }
        let rawHTML = content["formatted_body"]?.stringValue ?? ""
        if containsLink(body) || containsLink(formattedText) || contains(rawHTML, "href=") {
            terms.append(SearchTerm.has(.link))
        }
        guard !parts.isEmpty || isAttachment else { return nil }
        return SearchDocument(eventID: event.eventID, roomID: event.roomID, sender: event.sender,
                              originServerTS: event.originServerTS, textParts: parts, terms: terms,
                              threadRoot: event.threadRoot)
    }

    /// The text a search result shows for a message: its body without the reply fallback, else the file name.
    public static func displayText(of content: JSONValue) -> String? {
        if let body = ReplyFallback.body(of: content), !body.isEmpty { return body }
        return content["filename"]?.stringValue
    }

    static func containsLink(_ text: String) -> Bool {
        contains(text, "http://") || contains(text, "https://") || contains(text, "www.")
    }

    /// Byte search in UTF-8 (Foundation's `contains` bridges to NSString: too slow for a million messages).
    static func contains(_ text: String, _ needle: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard let first = pattern.first else { return true }
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= pattern.count else { return false }
            var index = 0
            let last = bytes.count - pattern.count
            while index <= last {
                if bytes[index] == first {
                    var offset = 1
                    while offset < pattern.count, bytes[index + offset] == pattern[offset] { offset += 1 }
                    if offset == pattern.count { return true }
                }
                index += 1
            }
            return false
        }
    }

    static func normalise(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

/// The text of a `formatted_body` (its reply fallback already removed by `ReplyFallback`): tags dropped,
/// the common entities decoded. Only for indexing; exports sanitise HTML with a real parser.
public enum HTMLText {
    static let blockTags: Set<String> = ["br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6",
                                         "blockquote", "pre"]

    public static func plainText(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var inTag = false
        var nameDone = false
        var tagName = ""
        for character in html {
            if inTag {
                if character == ">" {
                    inTag = false
                    let name = tagName.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                    if blockTags.contains(name) { output.append(" ") }
                } else if !nameDone {
                    if character.isWhitespace { nameDone = true } else { tagName.append(character) }
                }
            } else if character == "<" {
                inTag = true
                nameDone = false
                tagName = ""
            } else {
                output.append(character)
            }
        }
        return decodeEntities(output).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&#x27;", with: "'").replacingOccurrences(of: "&nbsp;", with: " ")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// 64-bit FNV-1a: a stable fingerprint (not a security measure).
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        value ^= 0xff
        value = value &* 0x0000_0100_0000_01b3
    }

    public static func hash(_ text: String) -> UInt64 {
        var hasher = FNV1a()
        hasher.add(text)
        return hasher.value
    }
}
