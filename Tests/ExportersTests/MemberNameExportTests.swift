import ArchiveCore
@testable import Exporters
import Testing

/// Issue 9.9 in the exports: a name another member shares at that point is shown with its user id (in
/// HTML senders, TXT and HTML reply quotes); membership changes read as what they changed.
@Suite struct MemberNameExportTests {
    typealias Build = HTMLPageBuilderTests

    static func twin(_ id: String, sender: String, ambiguous: Bool, inReplyTo: String? = nil) -> TimelineItem {
        var item = Build.item(id, sender: sender, name: "Twin", inReplyTo: inReplyTo)
        item.senderNameIsAmbiguous = ambiguous
        return item
    }

    static func quoted(ambiguous: Bool) -> EventSummary {
        EventSummary(eventID: "$q", roomID: "!room:hs", sender: "@two:hs", senderDisplayName: "Twin",
                     originServerTS: Build.jan2, content: ["body": "the question"], redacted: false,
                     isTimelineItem: true, threadRoot: nil, senderNameIsAmbiguous: ambiguous)
    }

    @Test func sharedNamesCarryTheUserID() {
        let html = Build.render(Self.twin("$a", sender: "@one:hs", ambiguous: true, inReplyTo: "$q"),
                                replyTarget: Self.quoted(ambiguous: true))
        // The header's id span tells who it is, once: not a second time in the name.
        #expect(html.contains("<span class=\"sender\" title=\"@one:hs\"><bdi>Twin</bdi></span><span class=\"mxid\">@one:hs</span>"))
        #expect(!html.contains("Twin (@one:hs)"))
        #expect(html.contains("In reply to <b><bdi>Twin (@two:hs)</bdi></b>"))
        let line = TextRenderer.line(Self.twin("$a", sender: "@one:hs", ambiguous: true, inReplyTo: "$q"),
                                     replyTo: Self.quoted(ambiguous: true))
        #expect(line.contains("Twin (@one:hs): (in reply to Twin (@two:hs): \"the question\")"))
    }

    @Test func aUniqueNameStandsAlone() {
        let html = Build.render(Self.twin("$a", sender: "@one:hs", ambiguous: false, inReplyTo: "$q"),
                                replyTarget: Self.quoted(ambiguous: false))
        #expect(html.contains("<bdi>Twin</bdi></span>") && html.contains("In reply to <b><bdi>Twin</bdi></b>"))
        let line = TextRenderer.line(Self.twin("$a", sender: "@one:hs", ambiguous: false, inReplyTo: "$q"),
                                     replyTo: Self.quoted(ambiguous: false))
        #expect(line.contains("(in reply to Twin: \"the question\")"))
    }

    @Test func membershipLinesReadThePreviousContent() {
        var rename = Build.item("$r", content: ["membership": "join", "displayname": "Alicia"], type: "m.room.member",
                                stateKey: "@alice:hs")
        rename.previousContent = ["membership": "join", "displayname": "Alice"]
        #expect(TextRenderer.line(rename, replyTo: nil).hasSuffix("Alice (@alice:hs): changed their display name from Alice to Alicia\n"))
        #expect(Build.render(rename).contains("<bdi>changed their display name from Alice to Alicia</bdi>"))
    }
}
