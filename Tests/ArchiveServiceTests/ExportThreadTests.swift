import ArchiveCore
import ArchiveStore
@testable import Exporters
import Foundation
import Testing
import TestSupport

/// Issue 12: thread roots are named by whoever sends a reply. Through a real store, the HTML export of a
/// room whose threads were crafted to collide completes, holds one page per root that is in the room, and
/// passes `verify-export`.
@Suite struct ExportThreadTests {
    static let start = Int64(1_704_067_200_000)  // 2024-01-01 UTC
    let store: ArchiveStore
    var room = EventFactory(roomID: "!threads:example.org", idPrefix: "t")
    let version = RoomVersion("10")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-threads"))
        try store.updateRoom(RoomMetadata(roomID: room.roomID, roomVersion: version, name: "Threads"), state: [])
    }

    mutating func threadReply(to root: String, _ body: String) -> RawEvent {
        room.event(content: ["msgtype": "m.text", "body": .string(body),
                             "m.relates_to": ["rel_type": "m.thread", "event_id": .string(root)]])
    }

    /// Each root, then one reply in its thread; ingested, exported as HTML and verified.
    mutating func export(roots: [String], extra: [RawEvent] = []) throws -> (folder: URL, paths: [String], text: [String: String]) {
        var events: [RawEvent] = []
        for (index, root) in roots.enumerated() {
            events.append(room.message("root \(index)", id: root))
            events.append(threadReply(to: root, "reply \(index)"))
        }
        _ = try store.ingest(PageIngest(roomID: room.roomID, roomVersion: version, events: events + extra,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f"),
                                        retainRedacted: false))
        let folder = uniqueTemporaryDirectory("mxa-threads-out").appendingPathComponent("export")
        let options = ExportOptions(format: .html, roomIDs: [room.roomID], exportTime: 0, toolVersion: "test")
        let summary = try Exporter(store: store, options: options).run(to: .directory(folder.path))
        #expect(summary.skippedFiles.isEmpty)
        let report = try ExportVerifier.verify(path: folder.path)
        #expect(report.ok, "\(report.problems)")
        var paths: [String] = []
        var text: [String: String] = [:]
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            let relative = String(url.path.dropFirst(folder.path.count + 1))
            guard let data = FileManager.default.contents(atPath: url.path), !url.hasDirectoryPath else { continue }
            paths.append(relative)
            text[relative] = String(decoding: data, as: UTF8.self)
        }
        return (folder, paths, text)
    }

    static func threadPages(_ paths: [String]) -> [String] { paths.filter { $0.contains("/threads/") }.sorted() }

    /// The old names cut an id longer than 200 encoded bytes to 180 and added 16 hex digits of its hash: a
    /// short root spelling out that cut name got the same file, and the export stopped with "export path
    /// written twice".
    @Test mutating func rootsCraftedToShareAnOldNameEachGetAPage() throws {
        let long = "$" + String(repeating: "a", count: 250)
        let craft = "$" + String(repeating: "a", count: 180) + "-" + sha256Hex(Array(long.utf8)).prefix(16)
        let export = try export(roots: [long, craft])
        defer { try? FileManager.default.removeItem(at: export.folder.deletingLastPathComponent()) }
        let pages = Self.threadPages(export.paths)
        #expect(pages.count == 2)
        #expect(pages.filter { export.text[$0]?.contains("reply 0") == true }.count == 1)
        #expect(pages.filter { export.text[$0]?.contains("reply 1") == true }.count == 1)
    }

    /// `$abc` and `$ABC` are different events, but names differing only in case are one file on macOS and
    /// in a zip opened on Windows.
    @Test mutating func rootsDifferingOnlyInCaseGetNamesThatDifferIgnoringCase() throws {
        let export = try export(roots: ["$abc", "$ABC"])
        defer { try? FileManager.default.removeItem(at: export.folder.deletingLastPathComponent()) }
        #expect(Set(export.paths.map { $0.lowercased() }).count == export.paths.count, "\(export.paths)")
        let pages = Self.threadPages(export.paths)
        #expect(pages.count == 2)
        #expect(pages.allSatisfy { $0 == $0.lowercased() })
        // Permalink anchors still carry the event ids as they are.
        let all = export.text.values.joined()
        #expect(all.contains("id=\"$abc\"") && all.contains("id=\"$ABC\""))
    }

    /// A reply naming a root the room does not hold gets no thread page: it is an item of its month, and
    /// nothing links to a page for the missing root.
    @Test mutating func aReplyNamingAMissingRootIsOnItsMonthPage() throws {
        let orphan = threadReply(to: "$nowhere", "orphan words")
        let export = try export(roots: ["$real"], extra: [orphan])
        defer { try? FileManager.default.removeItem(at: export.folder.deletingLastPathComponent()) }
        let pages = Self.threadPages(export.paths)
        #expect(pages.count == 1)
        #expect(pages.allSatisfy { export.text[$0]?.contains("orphan words") == false })
        let month = try #require(export.paths.first { $0.hasSuffix("/2023-11.html") })  // the factory's clock
        #expect(export.text[month]?.contains("orphan words") == true)
        #expect(export.text[month]?.contains("id=\"\(orphan.eventID)\"") == true)
    }
}
