import ArchiveCore
import Foundation
import SearchIndex
import Testing

/// Snippets over a real (small) Xapian index.
@Suite struct SnippetTests {
    /// Found by the FuzzSearchQuery fuzz target (issue 12.11): a message holding the hit markers
    /// themselves (U+0002, U+0003) gave snippets with unbalanced markers, which the terminal output turns
    /// into bold that another message's text switched on.
    @Test func markersTypedBySendersAreNotHitMarkers() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mxarchive-snippet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let layout = SearchIndexLayout(directory: directory, shards: 1, language: "english")
        let writer = try SearchIndexWriter(layout: layout, fresh: true)
        let body = "hello \u{2}world and more"
        let event = IndexableEvent(changeSeq: 1, eventID: "$e", roomID: "!r:x", sender: "@u:x", type: "m.room.message",
                                   originServerTS: 1_700_000_000_000, isTimelineItem: true,
                                   content: ["msgtype": "m.text", "body": .string(body)], stripped: false, threadRoot: nil)
        try writer.submit([SearchDocument.action(for: event)])
        try writer.commit()
        writer.close()
        let reader = try SearchIndexReader(layout: layout)
        let page = try reader.search(try SearchQueryParser.parse("hello"), offset: 0, limit: 10, sortByDate: false,
                                     resolveRoom: { $0 })
        #expect(page.matches.map(\.eventID) == ["$e"])
        let snippet = try page.snippet(of: body, length: 80)
        let starts = snippet.marked.unicodeScalars.filter { $0 == "\u{2}" }.count
        let ends = snippet.marked.unicodeScalars.filter { $0 == "\u{3}" }.count
        #expect(starts == 1 && ends == 1, "\(snippet.marked.debugDescription)")
        #expect(snippet.plain.contains("\u{FFFD}world"))
    }

    /// Found by FuzzSearchQuery in a fresh clone's CI run: the phrase query `"hello world"hello world` made
    /// Xapian mark hits so that the snippet's markers did not pair up; what a terminal is sent must.
    @Test func highlightedSnippetsAreAlwaysBalanced() {
        for marked in ["\u{2}a\u{2}b\u{3}", "a\u{3}b", "\u{2}a", "\u{2}a\u{3}\u{3}b\u{2}c\u{3}"] {
            let shown = Snippet(marked: marked).highlighted(start: "<", end: ">")
            var depth = 0
            for character in shown {
                if character == "<" { depth += 1; #expect(depth == 1, "\(shown)") }
                if character == ">" { depth -= 1; #expect(depth == 0, "\(shown)") }
            }
            #expect(depth == 0, "\(shown)")
        }
        #expect(Snippet(marked: "x \u{2}hello\u{3} y").highlighted(start: "<", end: ">") == "x <hello> y")
    }
}
