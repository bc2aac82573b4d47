import ArchiveCore
import Testing

/// Reply fallbacks stripped exactly as the Matrix spec describes them, and only from replies.
@Suite struct ReplyFallbackTests {
    @Test func theFallbackAndItsBlankLineGo() {
        #expect(ReplyFallback.strippingBody("> <@b:x> the question\n> second line\n\nthe answer") == "the answer")
        #expect(ReplyFallback.strippingBody("> <@b:x> q\n\n\nkept blank") == "\nkept blank")  // only one blank line
        #expect(ReplyFallback.strippingBody("> <@b:x> only a quote") == "")
    }

    @Test func crlfAndCRFallbacks() {
        #expect(ReplyFallback.strippingBody("> <@b:x> q\r\n> more\r\n\r\nthe answer\r\nline 2") == "the answer\r\nline 2")
        #expect(ReplyFallback.strippingBody("> <@b:x> q\r\rthe answer") == "the answer")
    }

    @Test func theReplysOwnQuoteAfterTheFallbackStays() {
        #expect(ReplyFallback.strippingBody("> <@b:x> q\n\n> my own quote\nmy answer") == "> my own quote\nmy answer")
    }

    @Test func onlyQuoteLinesWithTheSpace() {
        #expect(ReplyFallback.strippingBody(">no space\n\nanswer") == ">no space\n\nanswer")
        #expect(ReplyFallback.strippingBody("> <@b:x> q\n>tight\nanswer") == ">tight\nanswer")
        #expect(ReplyFallback.strippingBody("text\n> later quote") == "text\n> later quote")
    }

    @Test func mxReplyOnlyAtTheStart() {
        #expect(ReplyFallback.strippingFormattedBody("<mx-reply><blockquote>q</blockquote></mx-reply>answer") == "answer")
        #expect(ReplyFallback.strippingFormattedBody("before <mx-reply>kept</mx-reply> after") == "before <mx-reply>kept</mx-reply> after")
        #expect(ReplyFallback.strippingFormattedBody(" <mx-reply>q</mx-reply>a") == " <mx-reply>q</mx-reply>a")
        #expect(ReplyFallback.strippingFormattedBody("<mx-reply>unclosed") == "<mx-reply>unclosed")
    }

    @Test func aMessageThatIsNoReplyKeepsEverything() {
        let quote = MessageContent.make("> quote\n\nmine", formatted: "<mx-reply>q</mx-reply>mine", reply: false)
        #expect(ReplyFallback.body(of: quote) == "> quote\n\nmine")
        #expect(ReplyFallback.formattedBody(of: quote) == "<mx-reply>q</mx-reply>mine")
        let reply = MessageContent.make("> <@b:x> q\n\nmine", formatted: "<mx-reply>q</mx-reply>mine")
        #expect(ReplyFallback.body(of: reply) == "mine")
        #expect(ReplyFallback.formattedBody(of: reply) == "mine")
    }

    @Test func aThreadsFallingBackReplyIsNoReply() {
        let thread: JSONValue = ["msgtype": "m.text", "body": "> quote\n\nmine", "m.relates_to": [
            "rel_type": "m.thread", "event_id": "$root", "is_falling_back": true, "m.in_reply_to": ["event_id": "$last"],
        ]]
        #expect(!ReplyFallback.isReply(thread))
        #expect(ReplyFallback.body(of: thread) == "> quote\n\nmine")
        #expect(ReplyFallback.isReply(MessageContent.make("x")))
    }
}
