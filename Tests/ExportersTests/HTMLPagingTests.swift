import ArchiveCore
@testable import Exporters
import Testing

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
}
