import ArchiveCore
import Testing

/// Search indexes and shows a message's own text: a reply without its fallback, everything else whole.
@Suite struct SearchReplyFallbackTests {
    static func indexed(_ content: JSONValue) -> [String] {
        let event = IndexableEvent(changeSeq: 1, eventID: "$e", roomID: "!r:x", sender: "@a:x", type: "m.room.message",
                                   originServerTS: 1, isTimelineItem: true, content: content, stripped: false,
                                   threadRoot: nil)
        guard case .put(let document) = SearchDocument.action(for: event) else { return [] }
        return document.textParts
    }

    @Test func aReplyWithoutASpaceAfterTheQuoteMarkKeepsIt() {
        let content = MessageContent.make(">no space\n\nanswer")
        #expect(SearchDocument.displayText(of: content) == ">no space\n\nanswer")
        #expect(Self.indexed(content) == [">no space\n\nanswer"])
    }

    @Test func aCRLFFallbackIsStripped() {
        let content = MessageContent.make("> <@b:x> q\r\n\r\nthe answer")
        #expect(SearchDocument.displayText(of: content) == "the answer")
        #expect(Self.indexed(content) == ["the answer"])
    }

    @Test func mxReplyInTheMiddleIsTheSendersText() {
        let content = MessageContent.make("before kept after", formatted: "before <mx-reply>kept</mx-reply> <b>after</b>")
        #expect(Self.indexed(content) == ["before kept after"])  // the formatted text says the same
        let leading = MessageContent.make("> <@b:x> q\n\nanswer", formatted: "<mx-reply>q</mx-reply>answer <i>now</i>")
        #expect(Self.indexed(leading) == ["answer", "answer now"])
    }

    @Test func aNonReplyStartingWithAQuoteIsIndexedWhole() {
        let content = MessageContent.make("> quote\n\nmine", formatted: "<mx-reply>q</mx-reply>mine", reply: false)
        #expect(SearchDocument.displayText(of: content) == "> quote\n\nmine")
        #expect(Self.indexed(content) == ["> quote\n\nmine", "qmine"])
    }
}
