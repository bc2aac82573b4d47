import ArchiveCore
@testable import Exporters
import Testing

/// The HTML export's room plan and page builders, from values alone: no archive, no files.
@Suite struct HTMLPageBuilderTests {
    static let jan2 = Int64(1_704_200_645_000)  // 2024-01-02 13:04:05 UTC
    static let jan3 = jan2 + 86_400_000
    static let feb = Int64(1_706_900_000_000)  // 2024-02-02
    static let mar = Int64(1_709_500_000_000)  // 2024-03-03

    static func room(name: String? = "Team <A&B>", alias: String? = nil, topic: String? = nil) -> StoredRoom {
        StoredRoom(metadata: RoomMetadata(roomID: "!room:hs", name: name, topic: topic, canonicalAlias: alias),
                   cursors: .new, archiveStartsAt: nil, lastSyncAt: nil, eventCount: 0)
    }

    /// A plan from timeline marks; `roots` are the thread roots the export holds (every root named, when nil).
    /// The marks' event ids are `ids` in order, then `$m<n>`.
    static func plan(senders: [String] = [], since: Int64? = nil,
                     marks: [(String, Int64, String?)] = [("@alice:hs", jan2, nil)], ids: [String] = [],
                     roots: Set<String>? = nil, pageLimit: Int = HTMLRoomPlan.defaultPageLimit) -> HTMLRoomPlan {
        var plan = HTMLRoomPlan(room: room(), directory: "rooms/room_3Ahs", senders: SenderFilter(senders),
                                since: since, until: nil, pageLimit: pageLimit)
        for (n, (sender, ts, root)) in marks.enumerated() {
            plan.add(eventID: n < ids.count ? ids[n] : "$m\(n)", sender: sender, originServerTS: ts, threadRoot: root) {
                roots?.contains($0) ?? true
            }
        }
        return plan
    }

    static func item(_ id: String = "$e1", ts: Int64 = jan2, sender: String = "@alice:hs", name: String? = "Alice",
                     content: JSONValue = ["msgtype": "m.text", "body": "hello"], type: String = "m.room.message",
                     stateKey: String? = nil, inReplyTo: String? = nil, threadRoot: String? = nil,
                     thread: TimelineItem.ThreadSummary? = nil, edited: Bool = false, replacedBy: String? = nil,
                     reactions: [String: Int] = [:], decryption: DecryptionStatus = .none) -> TimelineItem {
        TimelineItem(eventID: id, roomID: "!room:hs", sender: sender, senderDisplayName: name, type: type,
                     stateKey: stateKey, originServerTS: ts, content: content, edited: edited, replacedBy: replacedBy,
                     edits: replacedBy.map { [$0] } ?? [], reactions: reactions, inReplyTo: inReplyTo,
                     threadRoot: threadRoot, thread: thread, redacted: false, redactedBy: nil, decryption: decryption)
    }

    static func summary(_ id: String, ts: Int64 = jan2, room: String = "!room:hs", sender: String = "@bob:hs",
                        body: String = "the question", threadRoot: String? = nil) -> EventSummary {
        EventSummary(eventID: id, roomID: room, sender: sender, senderDisplayName: "Bob <b>", originServerTS: ts,
                     content: ["body": .string(body)], redacted: false, isTimelineItem: true, threadRoot: threadRoot)
    }

    static func render(_ item: TimelineItem, plan: HTMLRoomPlan = plan(), replyTarget: EventSummary? = nil,
                       versions: [ContentVersion] = [], onThreadPage: Bool = false) -> String {
        HTMLPages.item(item, replyTarget: replyTarget, versions: versions,
                       media: plan.media(for: item.eventID, onThreadPage: onThreadPage), plan: plan,
                       onThreadPage: onThreadPage)
    }

    // MARK: The plan

    @Test func planCountsMonthsAndThreadsInTimelineOrder() {
        let plan = Self.plan(senders: ["@alice:hs", "@bob:hs"], marks: [
            ("@alice:hs", Self.jan2, nil), ("@bob:hs", Self.jan3, nil), ("@alice:hs", Self.feb, nil),
            // A skewed clock: stamped in January, after February's events in the room's order.
            ("@bob:hs", Self.jan2, nil),
            ("@bob:hs", Self.feb, "$root2"), ("@alice:hs", Self.feb, "$root1"), ("@bob:hs", Self.mar, "$root2"),
            ("@mallory:hs", Self.mar, nil), ("@mallory:hs", Self.mar, "$root3"),
        ])
        #expect(plan.months == [.init(key: "2024-01", count: 2), .init(key: "2024-02", count: 2)])
        #expect(plan.threadRoots == ["$root2", "$root1"] && plan.threadCounts == [2, 1])
        #expect(plan.monthItemCount == 4)
    }

    @Test func linksPointAtTheMonthOrThreadPageOfEventsInTheExport() {
        let plan = Self.plan(senders: ["@bob:hs"], since: Self.jan2,
                             marks: [("@bob:hs", Self.jan2, nil), ("@bob:hs", Self.feb, "$root"), ("@bob:hs", Self.feb, nil),
                                     ("@bob:hs", Self.feb, "$other")],
                             ids: ["$a", "$r", "$q", "$o"], roots: ["$root"])
        #expect(plan.href(of: Self.summary("$q", ts: Self.feb)) == "2024-02.html#$q")
        #expect(plan.href(of: Self.summary("$r", ts: Self.feb, threadRoot: "$root")) == "threads/ddcb2dfa42d81931eef1c63ed9157b42.html#$r")
        // A thread without a page of its own (its root is not in the export): the month page.
        #expect(plan.href(of: Self.summary("$o", ts: Self.feb, threadRoot: "$other")) == "2024-02.html#$o")
        // In the export's selection but not seen by the plan: the permalink page finds it, if it was written.
        #expect(plan.href(of: Self.summary("$late", ts: Self.feb)) == "event.html#$late")
        #expect(plan.href(of: Self.summary("$x", room: "!elsewhere:hs")) == nil)
        #expect(plan.href(of: Self.summary("$x", sender: "@carol:hs")) == nil)
        #expect(plan.href(of: Self.summary("$x", ts: Self.jan2 - 1)) == nil)
    }

    @Test func dayHeadingsOncePerNewDay() {
        var month = DayHeadings(anchored: true)
        #expect(month.heading(before: Self.jan2) == "<h2 class=\"day\" id=\"day-2024-01-02\">2024-01-02</h2>\n")
        #expect(month.heading(before: Self.jan2 + 1000) == "")
        #expect(month.heading(before: Self.jan3).contains("id=\"day-2024-01-03\""))
        #expect(month.heading(before: Self.jan2) == "")  // earlier day, later in the room's order
        var thread = DayHeadings(anchored: false)
        #expect(thread.heading(before: Self.jan2) == "<h2 class=\"day\">2024-01-02</h2>\n")
    }

    // MARK: Pages

    @Test func pagerLinksPreviousAndNextMonths() {
        let months = ["2024-01", "2024-02", "2024-03"]
        #expect(HTMLPages.pager(months: months, index: 1) == "<nav class=\"pager\">"
                + "<a rel=\"prev\" href=\"2024-01.html\">← 2024-01</a><a href=\"index.html\">all months</a>"
                + "<a rel=\"next\" href=\"2024-03.html\">2024-03 →</a></nav>")
        #expect(HTMLPages.pager(months: months, index: 0).contains("<span class=\"disabled\">←</span>"))
        #expect(HTMLPages.pager(months: months, index: 2).contains("<span class=\"disabled\">→</span>"))
        #expect(HTMLPages.pager(months: months, index: 3) == "")
        #expect(HTMLPages.pager(months: [], index: -1) == "")
    }

    @Test func monthPageNamesTheMonthAndEscapesTheRoom() {
        let plan = Self.plan(marks: [("@alice:hs", Self.jan2, nil), ("@alice:hs", Self.feb, nil)])
        let page = HTMLPages.monthPage(plan, index: 1, key: "2024-02", firstTS: Self.feb)
        #expect(page.path == "rooms/room_3Ahs/2024-02.html")
        #expect(page.heading == "Team <A&B>: February 2024")
        #expect(page.subheading == "!room:hs")
        #expect(page.breadcrumbs == "<a href=\"../../index.html\">Archive</a> › <a href=\"index.html\">Team &lt;A&amp;B&gt;</a> › 2024-02")
        #expect(page.pager.contains("rel=\"prev\" href=\"2024-01.html\"") && !page.pager.contains("rel=\"next\""))
        // Text placeholders are escaped when the template is filled.
        let values = HTMLChrome(toolVersion: "1.0", allowIndexing: false, exportTime: 0).values(page)
        #expect(values["title"] == "Team &lt;A&amp;B&gt; — 2024-02")
        #expect(values["root"] == "../../")
        // The plan disagrees (a month it did not see): the key stands in for the month's name.
        #expect(HTMLPages.monthPage(plan, index: 1, key: "2024-03", firstTS: Self.mar).heading == "Team <A&B>: 2024-03")
    }

    @Test func chromeSaysNoindexUnlessAllowedAndLoadsScriptsFromTheRoot() {
        let page = HTMLPage(path: "rooms/x/index.html", title: "t", heading: "h", scripts: ["rooms/x/search.js"])
        let closed = HTMLChrome(toolVersion: "1.0 <beta>", allowIndexing: false, exportTime: 1_704_200_645)
        #expect(closed.head.contains("<meta name=\"robots\" content=\"noindex\">"))
        #expect(closed.head.contains("content=\"mxarchive 1.0 &lt;beta&gt;\""))
        #expect(closed.head.contains(HTMLChrome.contentSecurityPolicy))
        #expect(!HTMLChrome(toolVersion: "1.0", allowIndexing: true, exportTime: 0).head.contains("noindex"))
        let values = closed.values(page)
        #expect(values["scripts"] == "<script src=\"../../rooms/x/search.js\"></script>")
        #expect(values["subheading"] == "")
        #expect(values["footer"] == "Exported by mxarchive 1.0 &lt;beta&gt; on 2024-01-02 13:04:05 UTC. All times are UTC.")
    }

    @Test func threadPageQuotesItsRootOrSaysItIsMissing() {
        let plan = Self.plan(marks: [("@alice:hs", Self.jan2, nil), ("@bob:hs", Self.jan3, "$root")], ids: ["$root"])
        let (page, intro) = HTMLPages.threadPage(plan, root: "$root", rootSummary: Self.summary("$root"))
        #expect(page.path == "rooms/room_3Ahs/threads/ddcb2dfa42d81931eef1c63ed9157b42.html")
        #expect(page.subheading == "Thread started by <bdi>Bob &lt;b&gt;</bdi>")
        #expect(page.breadcrumbs.hasPrefix("<a href=\"../../../index.html\">Archive</a> › <a href=\"../index.html\">"))
        #expect(intro == "<section class=\"thread-root\"><blockquote class=\"reply\"><a href=\"../2024-01.html#$root\">"
                + "Thread root <b><bdi>Bob &lt;b&gt;</bdi></b></a>: <bdi>the question</bdi></blockquote>\n</section>\n")
        let missing = HTMLPages.threadPage(plan, root: "$root", rootSummary: nil)
        #expect(missing.page.subheading == "Thread started by unknown")
        #expect(missing.intro.contains("not in this export"))
        let elsewhere = HTMLPages.threadPage(plan, root: "$root", rootSummary: Self.summary("$root", room: "!other:hs"))
        #expect(elsewhere.intro.contains("not in this export"))
    }

    @Test func roomIndexListsMonthsAndThreads() {
        var plan = HTMLRoomPlan(room: Self.room(alias: "#team:hs", topic: "<i>plans</i>"), directory: "rooms/r",
                                senders: SenderFilter([]), since: nil, until: nil)
        for (ts, root) in [(Self.jan2, nil), (Self.jan3, nil), (Self.feb, "$root"), (Self.feb, nil)] as [(Int64, String?)] {
            plan.add(eventID: "$e\(ts)", sender: "@alice:hs", originServerTS: ts, threadRoot: root) { _ in true }
        }
        var result = RoomExportResult(roomID: "!room:hs", name: "Team", canonicalAlias: "#team:hs", roomType: nil,
                                      path: "rooms/r/index.html")
        result.events = 4
        result.messages = 4
        let (page, body) = HTMLPages.roomIndex(plan, result: result)
        #expect(page.path == "rooms/r/index.html" && page.pager.isEmpty)
        #expect(body.contains("<dt>Address</dt><dd>#team:hs</dd><dt>Topic</dt><dd>&lt;i&gt;plans&lt;/i&gt;</dd>"))
        #expect(body.contains("<tr><td><a href=\"2024-01.html\">2024-01</a></td><td>2</td><td>1</td></tr>\n"
                              + "<tr><td><a href=\"2024-02.html\">2024-02</a></td><td>1</td><td>1</td></tr>"))
        #expect(body.contains("<p>1 threads; each is linked from the message that started it.</p>"))
        let empty = HTMLPages.roomIndex(Self.plan(marks: []), result: result).body
        #expect(empty.contains("<p>No messages in this export.</p>") && !empty.contains("<h2>Threads</h2>"))
    }

    @Test func archiveIndexNestsSpacesAndOffersSearch() {
        func result(_ id: String, _ name: String, type: String? = nil) -> RoomExportResult {
            RoomExportResult(roomID: id, name: name, canonicalAlias: nil, roomType: type, path: "rooms/\(id.dropFirst())/index.html")
        }
        let rooms = [result("!a", "A & co"), result("!s", "Space", type: "m.space"), result("!c", "Child")]
        let (page, body) = HTMLPages.archiveIndex(rooms: rooms, spaces: ["!s": ["!c"]], searchScripts: ["search/meta.js"],
                                                  hasSearchAsset: true)
        #expect(body.hasPrefix("<ul class=\"rooms\">\n<li><a href=\"rooms/a/index.html\"><bdi>A &amp; co</bdi></a>"))
        #expect(body.contains("Space</bdi></a> <span class=\"meta\">(space)</span>"))
        #expect(body.contains("\n<ul class=\"rooms\">\n<li><a href=\"rooms/c/index.html\"><bdi>Child</bdi></a>"))
        #expect(body.components(separatedBy: "rooms/c/index.html").count == 2)  // listed once, under its space
        #expect(body.contains("id=\"mxa-search\""))
        #expect(page.subheading == "3 rooms" && page.scripts == ["search/meta.js", "assets/search.js"])
        let plain = HTMLPages.archiveIndex(rooms: rooms, spaces: [:], searchScripts: [], hasSearchAsset: true)
        #expect(!plain.body.contains("mxa-search") && plain.page.scripts.isEmpty)
    }

    // MARK: Items

    @Test func itemsEscapeTheirTextAndAnchorTheirID() {
        let html = Self.render(Self.item("$e\"1", sender: "@a\"l:hs", name: "<Al>",
                                         content: ["msgtype": "m.text", "body": "<script>alert(1)</script>\nline 2"]))
        #expect(html.hasPrefix("<article class=\"msg\" id=\"$e&quot;1\">\n<header><span class=\"sender\" title=\"@a&quot;l:hs\"><bdi>&lt;Al&gt;</bdi></span>"))
        #expect(html.contains("<a class=\"time\" href=\"#$e&quot;1\"><time datetime=\"2024-01-02T13:04:05Z\">13:04:05</time></a>"))
        #expect(html.contains("<div class=\"body\">&lt;script&gt;alert(1)&lt;/script&gt;<br>line 2</div>"))
        #expect(!html.contains("<script"))
        #expect(html.hasSuffix("</article>\n"))
        let formatted = Self.render(Self.item(content: ["msgtype": "m.text", "body": "b", "format": "org.matrix.custom.html",
                                                        "formatted_body": "<b>bold</b><img src=x onerror=alert(1)>"]))
        #expect(formatted.contains("<b>bold</b>") && !formatted.contains("onerror"))
    }

    @Test func stateEventsAreOneLine() {
        let html = Self.render(Self.item(content: ["membership": "join", "displayname": "Alice <3"],
                                         type: "m.room.member", stateKey: "@alice:hs"))
        #expect(html.hasPrefix("<div class=\"msg state\" id=\"$e1\"><span class=\"sender\" title=\"@alice:hs\"><bdi>Alice</bdi></span> <bdi>joined as Alice &lt;3</bdi> "))
    }

    @Test func repliesQuoteTheirTargetWithALinkWhenItIsExported() {
        let reply = Self.item(inReplyTo: "$q")
        let plan = Self.plan(marks: [("@bob:hs", Self.jan2, nil), ("@alice:hs", Self.jan2, nil)], ids: ["$q", "$e1"])
        #expect(Self.render(reply, plan: plan, replyTarget: Self.summary("$q"))
            .contains("<blockquote class=\"reply\"><a href=\"2024-01.html#$q\">In reply to <b><bdi>Bob &lt;b&gt;</bdi></b></a>: <bdi>the question</bdi></blockquote>"))
        #expect(Self.render(reply, plan: plan, replyTarget: Self.summary("$q"), onThreadPage: true).contains("<a href=\"../2024-01.html#$q\">"))
        // Another room's event is never quoted, even when handed over.
        let elsewhere = Self.render(reply, replyTarget: Self.summary("$q", room: "!other:hs"))
        #expect(elsewhere.contains("In reply to a message that is not in this export"))
        #expect(!elsewhere.contains("the question"))
        #expect(Self.render(reply).contains("In reply to a message that is not in this export"))
        #expect(HTMLPages.quote(Self.summary("$q", body: ""), label: "In reply to", plan: Self.plan(), onThreadPage: false)
            .hasSuffix(": <bdi>…</bdi></blockquote>\n"))
    }

    @Test func threadRootsLinkToTheirPageOnlyWhenItExists() {
        let plan = Self.plan(marks: [("@alice:hs", Self.jan2, nil), ("@bob:hs", Self.jan3, "$e1")])
        let root = Self.item(thread: TimelineItem.ThreadSummary(replyCount: 2, latestEventID: "$r2"))
        #expect(Self.render(root, plan: plan).contains("<p class=\"thread-link\"><a href=\"threads/89750ae9d56358c16ed36cba9429b601.html\">2 replies in thread</a></p>"))
        #expect(Self.render(root, plan: plan, onThreadPage: true).contains("<a href=\"../threads/89750ae9d56358c16ed36cba9429b601.html\">"))
        let single = Self.item(thread: TimelineItem.ThreadSummary(replyCount: 1, latestEventID: "$r1"))
        #expect(Self.render(single, plan: plan).contains(">1 reply in thread<"))
        #expect(!Self.render(root).contains("thread-link"))  // no replies in this export: no page
    }

    /// Issue 12: a reply can name any id as its thread root. Only a root the export holds gets a page; the
    /// replies to any other are items of their month, and their root is asked about once.
    @Test func onlyRootsInTheExportGetAPage() {
        var asked: [String] = []
        var plan = HTMLRoomPlan(room: Self.room(), directory: "rooms/r", senders: SenderFilter([]), since: nil, until: nil)
        for (n, (ts, root)) in ([(Self.jan2, nil), (Self.jan3, "$real"), (Self.jan3, "$nowhere"), (Self.feb, "$nowhere"),
                                 (Self.feb, "$real")] as [(Int64, String?)]).enumerated() {
            plan.add(eventID: "$r\(n)", sender: "@alice:hs", originServerTS: ts, threadRoot: root) { root in
                asked.append(root)
                return root == "$real"
            }
        }
        #expect(plan.threadRoots == ["$real"])
        #expect(asked == ["$real", "$nowhere"])
        #expect(plan.months == [.init(key: "2024-01", count: 2), .init(key: "2024-02", count: 1)])
        #expect(plan.isOnThreadPage(Self.item("$r1", threadRoot: "$real")))
        #expect(!plan.isOnThreadPage(Self.item("$r2", threadRoot: "$nowhere")))
        #expect(plan.href(of: Self.summary("$r2", threadRoot: "$nowhere")) == "2024-01.html#$r2")
        #expect(plan.href(of: Self.summary("$r4", ts: Self.feb, threadRoot: "$real")) == "threads/\(ExportPath.component(forID: "$real")).html#$r4")
        // The reply names a root that is not there: no page, and no thread link anywhere.
        let root = Self.item("$nowhere", thread: TimelineItem.ThreadSummary(replyCount: 2, latestEventID: "$r2"))
        #expect(!Self.render(root, plan: plan).contains("thread-link"))
    }

    @Test func editHistoryShowsTheEarlierVersionsOldestFirst() {
        let item = Self.item(content: ["msgtype": "m.text", "body": "third"], edited: true, replacedBy: "$edit2")
        let versions = [ContentVersion(eventID: "$e1", originServerTS: Self.jan2, content: ["msgtype": "m.text", "body": "first <1>"]),
                        ContentVersion(eventID: "$edit1", originServerTS: Self.jan2 + 60_000, content: ["msgtype": "m.text", "body": "second"]),
                        ContentVersion(eventID: "$edit2", originServerTS: Self.jan2 + 120_000, content: ["msgtype": "m.text", "body": "third"])]
        let html = Self.render(item, versions: versions)
        #expect(html.contains("<div class=\"body\">third</div>\n<details class=\"edits\"><summary>edited</summary><ol>"
                              + "<li><time datetime=\"2024-01-02T13:04:05Z\">2024-01-02 13:04:05 UTC</time>: first &lt;1&gt;</li>"
                              + "<li><time datetime=\"2024-01-02T13:05:05Z\">2024-01-02 13:05:05 UTC</time>: second</li></ol></details>\n"))
    }

    @Test func undecryptableAndDeletedMessagesShowANotice() {
        let undecryptable = Self.render(Self.item(content: ["algorithm": "m.megolm.v1.aes-sha2"], type: "m.room.encrypted",
                                                  decryption: .missingKey))
        #expect(undecryptable.contains("<p class=\"notice undecryptable\">Unable to decrypt this message (missing_key)</p>"))
        #expect(!undecryptable.contains("class=\"body\""))
        var deleted = Self.item(content: [:], reactions: ["👍": 2])
        deleted.redacted = true
        let html = Self.render(deleted)
        #expect(html.contains("<p class=\"notice redacted\">Message deleted</p>"))
        #expect(html.contains("<ul class=\"reactions\" aria-label=\"Reactions\"><li><bdi>👍</bdi> <span class=\"count\">2</span></li></ul>"))
    }

    @Test func storedAttachmentsLinkIntoTheExportsMediaFolder() {
        var plan = Self.plan()
        let digest = String(repeating: "ab", count: 32)
        plan.mediaPaths[MediaRef.key("$e1", .file)] = "media/\(digest).png"
        let image = Self.item(content: ["msgtype": "m.image", "body": "cat.png", "info": ["size": 2048]])
        #expect(Self.render(image, plan: plan).contains(
            "<a class=\"image\" href=\"../../media/\(digest).png\" download=\"cat.png\"><img src=\"../../media/\(digest).png\" alt=\"cat.png\" loading=\"lazy\"></a>"
            + "<a class=\"attachment\" href=\"../../media/\(digest).png\" download=\"cat.png\">Image: <bdi>cat.png</bdi> (2 KB)</a>"))
        #expect(Self.render(image, plan: plan, onThreadPage: true).contains("href=\"../../../media/\(digest).png\""))
        #expect(Self.render(image).contains("<span class=\"attachment\">Image: <bdi>cat.png</bdi> (2 KB) — not included in this export</span>"))
    }

    /// Issue 12.2: an "image" whose bytes are no image (an HTML page sent as cat.png) is only a download
    /// link, never put in an `<img>`.
    @Test func anImageMessageWhoseFileIsNoImageIsOnlyADownload() {
        var plan = Self.plan()
        let digest = String(repeating: "cd", count: 32)
        plan.mediaPaths[MediaRef.key("$e1", .file)] = "media/\(digest).bin"
        let html = Self.render(Self.item(content: ["msgtype": "m.image", "body": "cat.png"]), plan: plan)
        #expect(!html.contains("<img"))
        #expect(html.contains("<a class=\"attachment\" href=\"../../media/\(digest).bin\" download=\"cat.png\">Image: <bdi>cat.png</bdi></a>"))
    }
}
