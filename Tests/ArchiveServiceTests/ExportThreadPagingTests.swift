import ArchiveCore
import ArchiveStore
@testable import Exporters
import Foundation
import Testing
import TestSupport

/// Issue 11.3: a busy thread is paged like a month (`--page-messages`), and links to its replies go to
/// the right page. Through a real store.
@Suite struct ExportThreadPagingTests {
    let store: ArchiveStore
    var room = EventFactory(roomID: "!busythread:example.org", idPrefix: "b")
    let version = RoomVersion("10")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-thread-paging"))
        try store.updateRoom(RoomMetadata(roomID: room.roomID, roomVersion: version, name: "Busy thread"), state: [])
    }

    /// Stores `events` as one page and exports the room as HTML at two messages a page into a new folder
    /// (checked by the export verifier); the caller removes its parent.
    func exportAtTwoMessagesAPage(_ events: [RawEvent], _ name: String) throws -> URL {
        _ = try store.ingest(PageIngest(roomID: room.roomID, roomVersion: version, events: events, placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "f"), retainRedacted: false))
        let folder = uniqueTemporaryDirectory(name).appendingPathComponent("export")
        var options = ExportOptions(format: .html, roomIDs: [room.roomID], exportTime: 0, toolVersion: "test")
        options.pageMessages = 2
        _ = try Exporter(store: store, options: options).run(to: .directory(folder.path))
        #expect(try ExportVerifier.verify(path: folder.path).ok)
        return folder
    }

    @Test mutating func aThreadOfFiveRepliesAtTwoAPageIsThreePages() throws {
        var events = [room.message("the root", id: "$root")]
        for n in 1...5 {
            events.append(room.event(id: "$reply\(n)", content: [
                "msgtype": "m.text", "body": .string("thread reply \(n)"),
                "m.relates_to": ["rel_type": "m.thread", "event_id": "$root"]]))
        }
        // On the month pages (not in the thread): replies quoting the thread's last reply.
        events.append(room.event(id: "$quote", content: [
            "msgtype": "m.text", "body": "about reply 5", "m.relates_to": ["m.in_reply_to": ["event_id": "$reply5"]]]))
        events.append(room.message("last", id: "$last"))
        let folder = try exportAtTwoMessagesAPage(events, "mxa-thread-paging-out")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let dir = folder.appendingPathComponent("rooms/" + ExportPath.component(forID: room.roomID))
        func read(_ path: String) -> String? {
            FileManager.default.contents(atPath: dir.appendingPathComponent(path).path).map { String(decoding: $0, as: UTF8.self) }
        }
        let hash = ExportPath.component(forID: "$root")
        let threadPages = ["threads/\(hash).html", "threads/\(hash)-p2.html", "threads/\(hash)-p3.html"]
        #expect(read("threads/\(hash)-p4.html") == nil)
        let replies = threadPages.map { page in (1...5).filter { read(page)?.contains("id=\"$reply\($0)\"") == true } }
        #expect(replies == [[1, 2], [3, 4], [5]])
        // The root is quoted on the first page only; the pages link to each other.
        #expect(read(threadPages[0])?.contains("class=\"thread-root\"") == true)
        #expect(read(threadPages[1])?.contains("class=\"thread-root\"") == false)
        #expect(read(threadPages[1])?.contains("rel=\"prev\" href=\"\(hash).html\"") == true)
        #expect(read(threadPages[1])?.contains("rel=\"next\" href=\"\(hash)-p3.html\"") == true)
        // Months are paged at two too: root, quote, last → two pages; the quote links to reply 5's page.
        let monthFiles = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".html") && $0.first?.isNumber == true }
        #expect(monthFiles.count == 2, "\(monthFiles)")
        let quotePage = try #require(monthFiles.compactMap(read).first { $0.contains("id=\"$quote\"") })
        #expect(quotePage.contains("<a href=\"threads/\(hash)-p3.html#$reply5\">"))
    }

    /// A redaction strips a reply's relation from its raw JSON but not from the relation columns: the
    /// reply is then an ordinary month item, on one page only, and the thread is paged by what is left
    /// (found by review: the thread query read the columns, the plan the JSON).
    @Test mutating func aRedactedThreadReplyIsOnExactlyOnePage() throws {
        var events = [room.message("the root", id: "$root")]
        for n in 1...5 {
            events.append(room.event(id: "$reply\(n)", content: [
                "msgtype": "m.text", "body": .string("thread reply \(n)"),
                "m.relates_to": ["rel_type": "m.thread", "event_id": "$root"]]))
        }
        events.append(room.redaction(of: "$reply3", id: "$redaction", v11: false))
        events.append(room.message("last", id: "$last"))
        let folder = try exportAtTwoMessagesAPage(events, "mxa-thread-redacted-out")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let dir = folder.appendingPathComponent("rooms/" + ExportPath.component(forID: room.roomID))
        let hash = ExportPath.component(forID: "$root")
        let threadFiles = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("threads").path).sorted()
        // Four replies left in the thread at two a page: the plan's two pages, and no third.
        #expect(threadFiles == ["\(hash)-p2.html", "\(hash).html"])
        let monthFiles = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".html") && $0.first?.isNumber == true }
        let pages = (monthFiles + threadFiles.map { "threads/" + $0 }).compactMap {
            FileManager.default.contents(atPath: dir.appendingPathComponent($0).path).map { String(decoding: $0, as: UTF8.self) }
        }
        for id in ["$root", "$reply1", "$reply2", "$reply3", "$reply4", "$reply5", "$last"] {
            let onPages = pages.filter { $0.contains("id=\"\(id)\"") }.count
            #expect(onPages == 1, "\(id) is on \(onPages) pages")
        }
        // Root, the redacted reply and the last message on the months: two pages at two a page.
        #expect(monthFiles.count == 2, "\(monthFiles)")
    }
}
