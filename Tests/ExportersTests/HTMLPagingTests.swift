import ArchiveCore
@testable import Exporters
import Foundation
import Testing
import TestSupport

/// Issue 11.2: bounded pages, from values alone: where the page boundaries fall, how pages link across
/// months, and that the plan's `href(of:)` names the page an event is on.
@Suite struct HTMLPagingTests {
    static let jan = Int64(1_704_067_200_000)  // 2024-01-01 00:00 UTC
    static let feb = Int64(1_706_745_600_000)  // 2024-02-01
    static let mar = Int64(1_709_251_200_000)  // 2024-03-01

    /// A plan of `count` January items (`$j1`…) a second apart, then `february` February items (`$f1`…).
    static func plan(january count: Int, february: Int = 0, limit: Int) -> HTMLRoomPlan {
        var plan = HTMLRoomPlan(room: HTMLPageBuilderTests.room(), directory: "rooms/r", senders: SenderFilter([]),
                                since: nil, until: nil, pageLimit: limit)
        for n in 0..<count {
            plan.add(eventID: "$j\(n + 1)", sender: "@a:hs", originServerTS: jan + Int64(n) * 1000, threadRoot: nil) { _ in true }
        }
        for n in 0..<february {
            plan.add(eventID: "$f\(n + 1)", sender: "@a:hs", originServerTS: feb + Int64(n) * 1000, threadRoot: nil) { _ in true }
        }
        return plan
    }

    static func href(_ plan: HTMLRoomPlan, _ id: String, ts: Int64 = jan) -> String? {
        plan.href(of: HTMLPageBuilderTests.summary(id, ts: ts, sender: "@a:hs"))
    }

    @Test func exactlyNMessagesAreOnePage() {
        let plan = Self.plan(january: 1000, limit: 1000)
        #expect(plan.months == [.init(key: "2024-01", count: 1000, pages: 1)])
        #expect(Self.href(plan, "$j1000") == "2024-01.html#$j1000")
    }

    @Test func nPlusOneMessagesAreTwoPages() {
        let plan = Self.plan(january: 1001, limit: 1000)
        #expect(plan.months == [.init(key: "2024-01", count: 1001, pages: 2)])
        #expect(Self.href(plan, "$j1000") == "2024-01.html#$j1000")
        #expect(Self.href(plan, "$j1001") == "2024-01-p2.html#$j1001")
    }

    @Test func aMonthOf2500IsThreePagesAndTheNextMonthStartsAFreshOne() {
        let plan = Self.plan(january: 2500, february: 3, limit: 1000)
        #expect(plan.months == [.init(key: "2024-01", count: 2500, pages: 3), .init(key: "2024-02", count: 3, pages: 1)])
        #expect(Self.href(plan, "$j1") == "2024-01.html#$j1")
        #expect(Self.href(plan, "$j2000") == "2024-01-p2.html#$j2000")
        #expect(Self.href(plan, "$j2001") == "2024-01-p3.html#$j2001")
        #expect(Self.href(plan, "$j2500") == "2024-01-p3.html#$j2500")
        #expect(Self.href(plan, "$f1", ts: Self.feb) == "2024-02.html#$f1")
        #expect(plan.pages.count == 4)
    }

    /// The renderer's pager and the plan agree item by item (the renderer writes with its own).
    @Test func thePagerPutsTheSameItemsOnTheSamePagesAsThePlan() {
        var pager = MonthPager(limit: 3)
        let stamps = [Self.jan, Self.jan + 1, Self.jan + 2, Self.jan + 3, Self.feb, Self.jan, Self.feb + 1, Self.feb + 2, Self.mar]
        let placed = stamps.map { pager.place($0) }
        #expect(placed.map { PageNames.month($0.key, page: $0.number) } == [
            "2024-01.html", "2024-01.html", "2024-01.html", "2024-01-p2.html", "2024-02.html",
            // Stamped in January after February began: it stays on February's page.
            "2024-02.html", "2024-02.html", "2024-02-p2.html", "2024-03.html"])
        #expect(placed.map(\.isNewPage) == [true, false, false, true, true, false, false, true, true])
        #expect(placed.map(\.isNewMonth) == [true, false, false, false, true, false, false, false, true])
    }

    @Test func previousAndNextCrossPageAndMonthBoundaries() {
        let months: [HTMLRoomPlan.Month] = [.init(key: "2024-01", count: 2500, pages: 3), .init(key: "2024-02", count: 3, pages: 1),
                                            .init(key: "2024-03", count: 1500, pages: 2)]
        func links(_ index: Int, _ page: Int) -> (String?, String?) {
            let nav = HTMLPages.pager(months: months, index: index, page: page)
            func target(_ rel: String) -> String? {
                nav.components(separatedBy: "rel=\"\(rel)\" href=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) }
            }
            return (target("prev"), target("next"))
        }
        #expect(links(0, 1) == (nil, "2024-01-p2.html"))
        #expect(links(0, 3) == ("2024-01-p2.html", "2024-02.html"))
        #expect(links(1, 1) == ("2024-01-p3.html", "2024-03.html"))
        #expect(links(2, 1) == ("2024-02.html", "2024-03-p2.html"))
        #expect(links(2, 2) == ("2024-03.html", nil))
        #expect(HTMLPages.pager(months: months, index: 0, page: 3).contains(">← 2024-01 (2/3)</a>"))
    }

    @Test func aPagedMonthSaysWhichPageItIs() {
        let plan = Self.plan(january: 2500, limit: 1000)
        let page = HTMLPages.monthPage(plan, index: 0, key: "2024-01", number: 2, firstTS: Self.jan)
        #expect(page.path == "rooms/r/2024-01-p2.html")
        #expect(page.heading.hasSuffix(": January 2024 (page 2 of 3)"))
        #expect(HTMLPages.monthPage(Self.plan(january: 5, limit: 1000), index: 0, key: "2024-01", firstTS: Self.jan).heading
                == "Team <A&B>: January 2024")
    }

    @Test func busyThreadsArePagedAndLinkedToTheirPage() {
        var plan = HTMLRoomPlan(room: HTMLPageBuilderTests.room(), directory: "rooms/r", senders: SenderFilter([]),
                                since: nil, until: nil, pageLimit: 2)
        for n in 1...5 {
            plan.add(eventID: "$t\(n)", sender: "@a:hs", originServerTS: Self.jan, threadRoot: "$root") { _ in true }
        }
        let hash = ExportPath.component(forID: "$root")
        #expect(plan.threadCounts == [5] && plan.threadPages("$root") == 3)
        #expect(plan.href(of: HTMLPageBuilderTests.summary("$t2", ts: Self.jan, sender: "@a:hs", threadRoot: "$root"))
                == "threads/\(hash).html#$t2")
        #expect(plan.href(of: HTMLPageBuilderTests.summary("$t5", ts: Self.jan, sender: "@a:hs", threadRoot: "$root"))
                == "threads/\(hash)-p3.html#$t5")
        let (page, intro) = HTMLPages.threadPage(plan, root: "$root", rootSummary: nil, number: 3)
        #expect(page.path == "rooms/r/threads/\(hash)-p3.html" && intro.isEmpty)
        #expect(page.pager.contains("rel=\"prev\" href=\"\(hash)-p2.html\"") && !page.pager.contains("rel=\"next\""))
    }

    /// The shard rule is FNV-1a (32 bits) of the UTF-8 bytes, as `assets/permalink.js` computes it:
    /// checked against the published test values of the hash.
    @Test func permalinkShardsFollowFNV1a() {
        #expect(PermalinkIndex.shard(of: "a", count: Int(UInt32.max)) == 0xE40C_292C % Int(UInt32.max))
        #expect(PermalinkIndex.shard(of: "foobar", count: Int(UInt32.max)) == 0xBF9C_F968 % Int(UInt32.max))
        #expect(PermalinkIndex(expectedEvents: 0).shardCount == 1)
        #expect(PermalinkIndex(expectedEvents: 257).shardCount == 2)
    }

    @Test func thePermalinkPageCarriesTheShardCountAndItsScriptOnly() {
        let (page, body) = HTMLPages.permalinkPage(Self.plan(january: 1, limit: 10), shardCount: 7)
        #expect(page.path == "rooms/r/event.html" && page.scripts == ["assets/permalink.js"])
        #expect(body.contains("id=\"mxa-permalink\"") && body.contains("data-shards=\"7\"") && !body.contains("<script"))
    }

    /// Two ids whose 64-bit keys collide (forced here with a key function that maps both alike): the
    /// plan points neither at the other's page but links both through the permalink page, which matches
    /// whole ids; an id without a collision keeps its page.
    @Test func aKeyCollisionLinksThroughThePermalinkPage() {
        var plan = HTMLRoomPlan(room: HTMLPageBuilderTests.room(), directory: "rooms/r", senders: SenderFilter([]),
                                since: nil, until: nil, pageLimit: 1) { id in id == "$b" ? EventKey.of("$a") : EventKey.of(id) }
        for (n, id) in ["$a", "$b", "$c"].enumerated() {
            plan.add(eventID: id, sender: "@a:hs", originServerTS: Self.jan + Int64(n), threadRoot: nil) { _ in true }
        }
        #expect(Self.href(plan, "$a") == "event.html#$a")
        #expect(Self.href(plan, "$b") == "event.html#$b")
        #expect(Self.href(plan, "$c") == "2024-01-p3.html#$c")
    }

    /// Ids with everything a script file could trip on go through the permalink lookup and come back as
    /// they went in; U+2028/U+2029 are escaped (a string literal ends at them before ES2019).
    @Test func hostileIdsRoundTripThroughThePermalinkLookup() throws {
        let ids = ["$quote\"q", "$back\\slash", "$</script><script>alert(1)</script>", "$line\u{2028}sep\u{2029}x",
                   "$nul\u{0}byte", "$__proto__", "$%41", "$\u{202E}rtl"]
        let index = PermalinkIndex(expectedEvents: ids.count)
        for (n, id) in ids.enumerated() { index.add(eventID: id, page: "2024-01-p\(n + 1).html") }
        let base = uniqueTemporaryDirectory("mxa-permalink-ids").appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: base.deletingLastPathComponent()) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        let paths = try index.write(directory: "rooms/r", writer: writer)
        try writer.finish()
        var found: [String: String] = [:]
        for path in paths {
            let bytes = try #require(FileManager.default.contents(atPath: base.appendingPathComponent(path).path))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("\u{2028}") && !text.contains("\u{2029}") && !bytes.contains(0))
            let shard = try #require(Int(path.split(separator: "/").last!.dropLast(3)))
            let prefix = "mxaEventShard(\(shard), ", suffix = ");\n"
            #expect(text.hasPrefix(prefix) && text.hasSuffix(suffix))
            let json = try JSONCoding.decode(String(text.dropFirst(prefix.count).dropLast(suffix.count)))
            for entry in json.arrayValue ?? [] {
                let id = try #require(entry.arrayValue?.first?.stringValue)
                #expect(PermalinkIndex.shard(of: id, count: index.shardCount) == shard)
                found[id] = entry.arrayValue?.last?.stringValue
            }
        }
        #expect(found == Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, "2024-01-p\($0 + 1).html") }))
        #expect(JSONCoding.encodeForScript(.string("a\u{2028}b\u{2029}")) == #""a\u2028b\u2029""#)
        #expect(JSONCoding.encode(.string("a\u{2028}")) == "\"a\u{2028}\"")
    }
}
