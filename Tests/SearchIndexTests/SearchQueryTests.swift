import ArchiveCore
import Foundation
import SearchIndex
import Testing

/// The query language as a pure parser: trees for good queries, one clear message for bad ones.
@Suite struct SearchQueryTests {
    func parse(_ text: String) throws -> SearchExpression { try SearchQueryParser.parse(text) }
    let march1: Int64 = 1_709_251_200_000  // 2024-03-01T00:00:00Z
    let day = Timestamp.dayMilliseconds

    @Test func wordsAreAndedAndTheLastWordIsAPrefix() throws {
        #expect(try parse("deploy migr") == .and([.word("deploy", partial: false), .word("migr", partial: true)]))
        #expect(try parse("go") == .word("go", partial: false))  // too short to expand
        #expect(try parse("migra*") == .word("migra*", partial: false))
    }

    @Test func operatorsPhrasesAndGroups() throws {
        #expect(try parse("a OR b") == .or([.word("a", partial: false), .word("b", partial: false)]))
        #expect(try parse("\"exact words\" -noise") == .and([.phrase("exact words"), .not(.word("noise", partial: false))]))
        #expect(try parse("(red OR blue) NOT green")
                == .and([.or([.word("red", partial: false), .word("blue", partial: false)]),
                         .not(.word("green", partial: false))]))
        #expect(try parse("cats AND dogs") == .and([.word("cats", partial: false), .word("dogs", partial: true)]))
        // Lower-case "or" is a word; hyphens inside words stay.
        #expect(try parse("this or that e-mail") == .and([.word("this", partial: false), .word("or", partial: false),
                                                           .word("that", partial: false), .word("e-mail", partial: true)]))
    }

    @Test func fieldFilters() throws {
        #expect(try parse("from:@alice:example.org") == .sender("@alice:example.org"))
        #expect(try parse("in:#team:example.org in:!abc") == .and([.room("#team:example.org"), .room("!abc")]))
        #expect(try parse("has:image has:attachment has:link") == .and([.has(.image), .has(.file), .has(.link)]))
        #expect(try parse("thread:$root") == .thread("$root"))
        #expect(try parse("before:2024-03-01") == .time(from: nil, until: march1))
        #expect(try parse("after:2024-03-01") == .time(from: march1 + day, until: nil))
        #expect(try parse("date:2024-03-01") == .time(from: march1, until: march1 + day))
        #expect(try parse("date:2024-03-01..2024-03-31") == .time(from: march1, until: march1 + 31 * day))
        #expect(try parse("date:..2024-03-01") == .time(from: nil, until: march1 + day))
        #expect(try parse("before:2024-03-01T12:00:00Z") == .time(from: nil, until: march1 + day / 2))
        // Unknown "fields" are words: URLs and times are searchable text.
        #expect(try parse("https://example.org") == .word("https://example.org", partial: true))
    }

    @Test(arguments: [
        ("\"unterminated", "unterminated quote"),
        ("(a OR b", "missing ')'"),
        ("a OR", "OR needs a term"),
        ("AND b", "AND needs a term"),
        ("a )", "unmatched ')'"),
        ("()", "empty parentheses"),
        ("has:banana", "has: takes one of"),
        ("before:yesterday", "'yesterday' is not a date"),
        ("from:alice", "from: takes a user id"),
        ("in:team", "in: takes a room id"),
        ("date:2024-03-31..2024-03-01", "ends before it starts"),
        ("NOT", "NOT needs a term"),
        ("", "empty"),
    ])
    func malformedQueriesSayWhatIsWrong(_ query: String, _ expected: String) throws {
        do {
            _ = try parse(query)
            Issue.record("'\(query)' parsed")
        } catch let error as SearchQueryError {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }
}

/// What goes into a search document.
@Suite struct SearchDocumentTests {
    func event(_ content: JSONValue, type: String = "m.room.message", stripped: Bool = false,
               timeline: Bool = true) -> IndexableEvent {
        IndexableEvent(changeSeq: 1, eventID: "$e", roomID: "!r", sender: "@a:x", type: type, originServerTS: 1,
                       isTimelineItem: timeline, content: content, stripped: stripped, threadRoot: nil)
    }

    @Test func textComesFromBodyFormattedBodyAndFileName() throws {
        let action = SearchDocument.action(for: event([
            "msgtype": "m.image", "body": "sunset over the lake", "filename": "lakeview.jpg", "url": "mxc://x/y",
        ]))
        guard case .put(let document) = action else { Issue.record("not indexed"); return }
        #expect(document.textParts == ["sunset over the lake", "lakeview.jpg"])
        #expect(Set(document.terms).isSuperset(of: ["Himage", "Hfile", "Mm.image"]))

        guard case .put(let html) = SearchDocument.action(for: event([
            "msgtype": "m.text", "body": "see docs", "format": "org.matrix.custom.html",
            "formatted_body": "<mx-reply>quoted</mx-reply>see <a href=\"https://example.org\">the docs</a>",
            "m.relates_to": ["m.in_reply_to": ["event_id": "$q"]],
        ])) else { Issue.record("not indexed"); return }
        #expect(html.textParts == ["see docs", "see the docs"])
        #expect(html.terms.contains("Hlink"))
    }

    @Test func replyFallbacksAreNotTheReplysText() throws {
        guard case .put(let document) = SearchDocument.action(for: event([
            "msgtype": "m.text", "body": "> <@b:x> the question\n\nthe answer",
            "m.relates_to": ["m.in_reply_to": ["event_id": "$q"]],
        ])) else { Issue.record("not indexed"); return }
        #expect(document.textParts == ["the answer"])
    }

    @Test func strippedNonTimelineAndUnreadableEvents() {
        #expect(SearchDocument.action(for: event(["body": "x"], stripped: true)) == .delete(eventID: "$e"))
        #expect(SearchDocument.action(for: event(["body": "x"], timeline: false)) == .skip)
        #expect(SearchDocument.action(for: event(["membership": "join"], type: "m.room.member")) == .skip)
        #expect(SearchDocument.action(for: event([:], type: "m.room.encrypted")) == .skip)
        #expect(SearchDocument.action(for: event([:])) == .delete(eventID: "$e"))
    }

    @Test func overlongIdsStillMakeValidTerms() {
        let term = SearchTerm.sender("@" + String(repeating: "a", count: 400) + ":x")
        #expect(term.utf8.count <= 245)
    }
}
