import ArchiveCore
@testable import Exporters
import Testing
import TestSupport

/// Other people's names and bodies in the TXT export: they keep their lines as indented continuations and
/// can neither forge a line of the export nor reach a terminal that `cat`s it with a control sequence;
/// in the HTML export a bidi override stays inside the name or text that carries it.
@Suite struct HostileTextTests {
    typealias Build = HTMLPageBuilderTests

    @Test func aHostileNameAndBodyCannotForgeATXTLine() {
        let item = Build.item(name: TerminalSafety.hostile,
                              content: ["msgtype": "m.text", "body": .string(TerminalSafety.hostile)],
                              reactions: [TerminalSafety.hostile: 1])
        let line = TextRenderer.line(item, replyTo: Build.summary("$q", body: TerminalSafety.hostile))
        #expect(TerminalSafety.unsafeScalars(in: line) == [])
        #expect(TerminalSafety.timelineLines(in: line) == 1)
        #expect(line.hasPrefix("[2024-01-02 13:04:05 UTC] Mallory\\u{D}\\u{A}[2023-11-14"))
        // The body keeps its line structure: each break is a continuation line, indented.
        #expect(line.contains("\n    [2023-11-14 22:13:20 UTC] Alice (@alice:example.org): approved\n    [2023-11-14 22:13:21 UTC] Bob"))
        #expect(line.contains("\\u{1B}]52;c;ZXZpbA==\\u{7}\\u{1B}[1A"))
    }

    @Test func aHostileMemberEventCannotForgeATXTLine() {
        let join = Build.item(content: ["membership": "join", "displayname": .string(TerminalSafety.hostile)],
                              type: "m.room.member", stateKey: "@alice:hs")
        let line = TextRenderer.line(join, replyTo: nil)
        #expect(TerminalSafety.unsafeScalars(in: line) == [] && TerminalSafety.timelineLines(in: line) == 1)
    }

    @Test func aBidiOverrideInTheHTMLStaysInsideItsName() {
        let html = Build.render(Build.item(name: "evil\u{202E}gnp.exe", reactions: ["\u{202E}ok": 1]),
                                replyTarget: nil)
        #expect(html.contains("<span class=\"sender\" title=\"@alice:hs\"><bdi>evil\u{202E}gnp.exe</bdi></span>"))
        #expect(html.contains("<li><bdi>\u{202E}ok</bdi> "))
        let state = Build.render(Build.item(name: "\u{202E}x", content: ["membership": "join", "displayname": "\u{202E}x"],
                                            type: "m.room.member", stateKey: "@alice:hs"))
        #expect(state.contains("<bdi>\u{202E}x</bdi></span> <bdi>joined as \u{202E}x</bdi> <a class=\"time\""))
    }

    // MARK: Reply fallbacks in the exports

    @Test func aQuotedMessageThatIsNoReplyKeepsItsQuote() {
        let reply = Build.item(content: ["msgtype": "m.text", "body": "> <@bob:hs> > my quote\n\nthe answer",
                                         "m.relates_to": ["m.in_reply_to": ["event_id": "$q"]]], inReplyTo: "$q")
        let target = Build.summary("$q", body: "> my quote\n\nthe question")
        #expect(TextRenderer.line(reply, replyTo: target)
            .contains("(in reply to Bob <b>: \"> my quote the question\") the answer"))
        #expect(HTMLPages.quote(target, label: "In reply to", plan: Build.plan(), onThreadPage: false)
            .contains(": <bdi>&gt; my quote the question</bdi></blockquote>"))
        let own = Build.item(content: ["msgtype": "m.text", "body": "> my quote\n\nmine"])
        #expect(TextRenderer.line(own, replyTo: nil).hasSuffix("Alice (@alice:hs): > my quote\n    \n    mine\n"))
        #expect(Build.render(own).contains("<div class=\"body\">&gt; my quote<br><br>mine</div>"))
    }

    @Test func crlfFallbacksAndTheReplysOwnQuote() {
        let reply = Build.item(content: ["msgtype": "m.text", "body": "> <@bob:hs> q\r\n\r\n> own quote\r\nanswer",
                                         "m.relates_to": ["m.in_reply_to": ["event_id": "$q"]]], inReplyTo: "$q")
        #expect(TextRenderer.line(reply, replyTo: nil)
            .hasSuffix("Alice (@alice:hs): (in reply to a message not in this export) > own quote\n    answer\n"))
        #expect(Build.render(reply).contains("<div class=\"body\">&gt; own quote"))
    }

    @Test func mxReplyOnlyWhenTheFormattedBodyBeginsWithIt() {
        func content(_ html: String) -> JSONValue {
            ["msgtype": "m.text", "body": "b", "format": "org.matrix.custom.html", "formatted_body": .string(html),
             "m.relates_to": ["m.in_reply_to": ["event_id": "$q"]]]
        }
        let middle = Build.render(Build.item(content: content("before <mx-reply>kept</mx-reply> after"), inReplyTo: "$q"))
        #expect(middle.contains("<div class=\"body\">before kept after</div>"))
        let leading = Build.render(Build.item(content: content("<mx-reply><blockquote>q</blockquote></mx-reply>answer"),
                                              inReplyTo: "$q"))
        #expect(leading.contains("<div class=\"body\">answer</div>"))
    }
}
