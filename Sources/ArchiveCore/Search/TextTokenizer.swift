/// Splits a message's text into the terms the search index makes of it (SearchIndex's `XapianTokenizer`
/// is the one implementation: the static search of the HTML export must find what the CLI finds, so it
/// asks the index's own term generator rather than having a tokeniser of its own).
public protocol TextTokenizer: Sendable {
    /// Each term of `parts` (case-folded, unstemmed; CJK as n-grams) once, with its word positions in
    /// ascending order (empty for terms that carry none). Parts are far apart: no phrase spans two.
    func terms(of parts: [String]) throws -> [(term: String, positions: [UInt32])]
}

extension SearchDocument {
    /// The text parts the index reads for a message (`SearchDocument.textParts`), or nil when the event is
    /// not searched at all: the same rule as `action(for:)`, for views that build their own index from
    /// exported items (the HTML export's static search).
    public static func searchedText(type: String, content: JSONValue, stripped: Bool) -> [String]? {
        guard type == "m.room.message", !stripped else { return nil }
        let event = IndexableEvent(changeSeq: 0, eventID: "", roomID: "", sender: "", type: type, originServerTS: 0,
                                   isTimelineItem: true, content: content, stripped: false, threadRoot: nil)
        guard case .put(let document) = action(for: event) else { return nil }
        return document.textParts
    }
}
