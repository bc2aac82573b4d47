import ArchiveCore
import ArchiveStore
@testable import Exporters
import Foundation
import SearchIndex
import Testing
import TestSupport

/// Issue 11.2: a busy month is split into pages of at most 1,000 messages (the default), with day
/// headings, previous/next links across page and month boundaries, a month index and a permalink lookup.
/// Through a real store, 2,500 January messages and a few in February (some replying to January's pages).
@Suite struct ExportPagingTests {
    static let january = Int64(1_704_067_200_000)  // 2024-01-01 UTC
    static let february = Int64(1_706_745_600_000)  // 2024-02-01 UTC
    let store: ArchiveStore
    var room = EventFactory(roomID: "!paged:example.org", idPrefix: "p")
    let version = RoomVersion("10")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-paging"))
        try store.updateRoom(RoomMetadata(roomID: room.roomID, roomVersion: version, name: "Paged"), state: [])
    }

    struct Exported {
        let folder: URL
        let roomDir: String
        /// Every file's text, by path relative to the export.
        let text: [String: String]
        var ids: [String] = []
    }

    /// `january` messages a minute apart from January 1st (so pages cross days), then the February
    /// events; ingested, exported as HTML (with `configure` applied to the options) and verified.
    mutating func export(january: Int, february: [RawEvent] = [],
                         configure: (inout ExportOptions) -> Void = { _ in }) throws -> Exported {
        var events: [RawEvent] = []
        for n in 0..<january {
            events.append(room.message("january \(n)", ts: Self.january + Int64(n) * 60_000))
        }
        events += february
        _ = try store.ingest(PageIngest(roomID: room.roomID, roomVersion: version, events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f"),
                                        retainRedacted: false))
        let folder = uniqueTemporaryDirectory("mxa-paging-out").appendingPathComponent("export")
        var options = ExportOptions(format: .html, roomIDs: [room.roomID], exportTime: 0, toolVersion: "test")
        configure(&options)
        let summary = try Exporter(store: store, options: options).run(to: .directory(folder.path))
        #expect(summary.skippedFiles.isEmpty)
        let report = try ExportVerifier.verify(path: folder.path)
        #expect(report.ok, "\(report.problems)")
        var text: [String: String] = [:]
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard !url.hasDirectoryPath, let data = FileManager.default.contents(atPath: url.path) else { continue }
            text[String(url.path.dropFirst(folder.path.count + 1))] = String(decoding: data, as: UTF8.self)
        }
        var exported = Exported(folder: folder, roomDir: "rooms/" + ExportPath.component(forID: room.roomID), text: text)
        exported.ids = events.map(\.eventID)
        return exported
    }

    /// The `id`s of the message elements (`<article class="msg…" id=…>`, `<div class="msg state" id=…>`)
    /// of a page, in order.
    static func messageAnchors(_ html: String) -> [String] {
        var ids: [String] = []
        for part in html.components(separatedBy: "class=\"msg").dropFirst() {
            guard let start = part.range(of: " id=\""), let end = part[start.upperBound...].range(of: "\"") else { continue }
            ids.append(unescape(String(part[start.upperBound..<end.lowerBound])))
        }
        return ids
    }

    /// An attribute value as the browser reads it.
    static func unescape(_ value: String) -> String {
        value.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Every `href` of a page to another file of the export (not to the network, not on the same page).
    static func localLinks(_ html: String) -> [String] {
        html.components(separatedBy: "href=\"").dropFirst().compactMap { part in
            let href = unescape(String(part.prefix { $0 != "\"" }))
            let external = ["http:", "https:", "mailto:", "matrix:"].contains { href.lowercased().hasPrefix($0) }
            return external || href.hasPrefix("#") ? nil : href
        }
    }

    /// `a/b/../c.html` from a page's folder.
    static func resolve(_ href: String, from page: String) -> String {
        var parts = page.split(separator: "/").dropLast().map(String.init)
        for component in href.split(separator: "/").map(String.init) {
            if component == ".." { parts.removeLast() } else if component != "." { parts.append(component) }
        }
        return parts.joined(separator: "/")
    }

    /// The permalink lookup's entries: shard number → [(id, page)].
    static func shards(_ exported: Exported) throws -> [Int: [(String, String)]] {
        var result: [Int: [(String, String)]] = [:]
        for (path, text) in exported.text where path.hasPrefix(exported.roomDir + "/events/") {
            let number = try #require(Int(path.dropFirst(exported.roomDir.count + "/events/".count).dropLast(3)))
            #expect(text.hasPrefix("mxaEventShard(\(number), [") && text.hasSuffix("]);\n"), "\(path)")
            let json = String(text.dropFirst("mxaEventShard(\(number), ".count).dropLast(3))
            let entries = try #require(try JSONCoding.decode(json).arrayValue)
            result[number] = try entries.map { entry in
                (try #require(entry.arrayValue?.first?.stringValue), try #require(entry.arrayValue?.last?.stringValue))
            }
        }
        return result
    }

    /// FNV-1a (32 bits) of the id's UTF-8 bytes: what `assets/permalink.js` computes, written again here
    /// so that the test checks the exporter's shards against the browser's rule, not against itself.
    static func fnv1a(_ text: String) -> UInt32 {
        text.utf8.reduce(UInt32(0x811C_9DC5)) { ($0 ^ UInt32($1)) &* 16_777_619 }
    }

    /// The static search's results link where the plan put each message: page 2 and later of a month
    /// included (`HTMLRoomPlan.href(of:)`, the one place that says where an event lives).
    @Test mutating func searchResultsLinkToTheMessagesOwnPages() throws {
        let exported = try export(january: 5) {
            $0.pageMessages = 2
            $0.searchTokenizer = XapianTokenizer()
        }
        defer { try? FileManager.default.removeItem(at: exported.folder.deletingLastPathComponent()) }
        let summaries = exported.text.filter { $0.key.hasPrefix("search/s/") }.values.joined()
        let dir = exported.roomDir
        for (n, page) in ["2024-01.html", "2024-01.html", "2024-01-p2.html", "2024-01-p2.html", "2024-01-p3.html"].enumerated() {
            let link = JSONCoding.encode(.string(dir + "/" + page + "#" + exported.ids[n]))
            #expect(summaries.contains(link), "\(link) not among the search summaries")
        }
    }

    @Test mutating func aMonthOf2500MessagesIsThreePagesAndEveryMessageIsOnExactlyOne() throws {
        var february: [RawEvent] = []
        // Replies to a message on January's first and third pages, from February.
        let onPage1 = "$p0005", onPage3 = "$p2400"
        for (n, target) in [onPage1, onPage3].enumerated() {
            february.append(room.event(ts: Self.february + Int64(n) * 60_000, content: [
                "msgtype": "m.text", "body": .string("february reply \(n)"),
                "m.relates_to": ["m.in_reply_to": ["event_id": .string(target)]]]))
        }
        february.append(room.message("february last", ts: Self.february + 600_000))
        let exported = try export(january: 2500, february: february)
        defer { try? FileManager.default.removeItem(at: exported.folder.deletingLastPathComponent()) }
        let dir = exported.roomDir
        let pages = ["2024-01.html", "2024-01-p2.html", "2024-01-p3.html", "2024-02.html"]
        let roomPages = exported.text.keys.filter {
            $0.hasPrefix(dir + "/") && $0.hasSuffix(".html") && !$0.hasSuffix("/index.html") && !$0.hasSuffix("/event.html")
        }
        #expect(Set(roomPages) == Set(pages.map { dir + "/" + $0 }))

        // Every message on exactly one page; 1,000, 1,000 and 500 in January; anchors unique on a page.
        var seen: [String: String] = [:]
        for page in pages {
            let html = try #require(exported.text[dir + "/" + page])
            let anchors = Self.messageAnchors(html)
            #expect(Set(anchors).count == anchors.count, "\(page): an anchor repeats")
            for id in anchors {
                #expect(seen[id] == nil, "\(id) on \(seen[id] ?? "") and \(page)")
                seen[id] = page
            }
            // A page opens with the day of its first message.
            let firstHeading = try #require(html.range(of: "<h2 class=\"day\""))
            let firstMessage = try #require(html.range(of: "class=\"msg"))
            #expect(firstHeading.lowerBound < firstMessage.lowerBound, "\(page) does not open with a day heading")
        }
        #expect(Set(seen.keys) == Set(exported.ids))
        #expect(pages.map { page in seen.values.filter { $0 == page }.count } == [1000, 1000, 500, 3])
        // (The January messages are the first 2,500 ids of the timeline.)
        let januaryIDs = Array(exported.ids.prefix(2500))
        #expect(seen[januaryIDs[999]] == "2024-01.html" && seen[januaryIDs[1000]] == "2024-01-p2.html")
        #expect(seen[januaryIDs[1999]] == "2024-01-p2.html" && seen[januaryIDs[2000]] == "2024-01-p3.html")

        // Previous and next across page and month boundaries.
        func pager(_ page: String) -> (prev: String?, next: String?) {
            let html = exported.text[dir + "/" + page] ?? ""
            func target(_ rel: String) -> String? {
                html.components(separatedBy: "rel=\"\(rel)\" href=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) }
            }
            return (target("prev"), target("next"))
        }
        #expect(pager("2024-01.html") == (nil, "2024-01-p2.html"))
        #expect(pager("2024-01-p2.html") == ("2024-01.html", "2024-01-p3.html"))
        #expect(pager("2024-01-p3.html") == ("2024-01-p2.html", "2024-02.html"))
        #expect(pager("2024-02.html") == ("2024-01-p3.html", nil))

        // Every link inside the export names a file that exists and, with an anchor, an element of it.
        var anchorLinks = 0
        for (path, html) in exported.text where path.hasSuffix(".html") {
            for href in Self.localLinks(html) {
                let parts = href.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let file = Self.resolve(parts[0], from: path)
                let target = try #require(exported.text[file], "\(path) links to \(href): no such file")
                if parts.count == 2, !parts[0].isEmpty, !file.hasSuffix("/event.html") {
                    #expect(target.contains("id=\"\(HTMLSanitizer.escapeAttribute(parts[1]))\""), "\(path): \(href) has no anchor")
                    anchorLinks += 1
                }
            }
        }
        #expect(anchorLinks >= 2)
        // The replies link straight to their targets' pages.
        let feb = try #require(exported.text[dir + "/2024-02.html"])
        #expect(feb.contains("<a href=\"2024-01.html#\(onPage1)\">") && feb.contains("<a href=\"2024-01-p3.html#\(onPage3)\">"))

        // The month index: each month with its count and its pages; no message data.
        let index = try #require(exported.text[dir + "/index.html"])
        #expect(index.contains("<td>2500</td><td><a href=\"2024-01.html\">1</a> <a href=\"2024-01-p2.html\">2</a> <a href=\"2024-01-p3.html\">3</a></td>"))
        #expect(index.contains("<td>3</td><td>1</td>"))
        #expect(!index.contains("january 1") && !index.contains("class=\"msg"))
        #expect(index.utf8.count < 10_000)

        // The permalink lookup: every message once, in the shard the browser computes, naming its page.
        let shards = try Self.shards(exported)
        #expect(shards.count == (2503 + 255) / 256)
        var looked: [String: String] = [:]
        for (number, entries) in shards {
            #expect(entries.count < 3 * 256, "shard \(number) holds \(entries.count)")
            for (id, page) in entries {
                #expect(Int(Self.fnv1a(id) % UInt32(shards.count)) == number, "\(id) in shard \(number)")
                #expect(looked.updateValue(page, forKey: id) == nil, "\(id) twice")
            }
        }
        #expect(looked == seen)
        let permalink = try #require(exported.text[dir + "/event.html"])
        #expect(permalink.contains("data-shards=\"\(shards.count)\"") && permalink.contains("assets/permalink.js\"></script>"))
        #expect(exported.text["assets/permalink.js"] != nil)
    }
}
