import ArchiveCore
import ArchiveStore
@testable import Exporters
import Foundation
import Testing
import TestSupport

/// A room's plan and its pages are read in one snapshot: a `sync` writing to the archive between the
/// plan and the pages (another connection, as a real sync is) changes neither (review of issue 11.2).
@Suite struct ExportSnapshotTests {
    /// The store, with one hook: the first time the pages read the timeline (the plan has been made by
    /// then), `between` runs, as a sync would between the plan and the pages.
    final class IngestingSource: ExportSource {
        let store: ArchiveStore
        var between: (() throws -> Void)?
        init(_ store: ArchiveStore, between: @escaping () throws -> Void) {
            self.store = store
            self.between = between
        }
        func reading<T>(_ body: () throws -> T) throws -> T { try store.reading(body) }
        func room(_ roomID: String) throws -> StoredRoom? { try store.room(roomID) }
        func rooms() throws -> [StoredRoom] { try store.rooms() }
        func stateEvents(roomID: String, type: String) throws -> [JSONValue] { try store.stateEvents(roomID: roomID, type: type) }
        func timeline(roomID: String, since: Int64?, until: Int64?, threadRoot: String?,
                      _ body: (TimelineItem) throws -> Void) throws {
            if let hook = between {
                between = nil
                try hook()
            }
            try store.timeline(roomID: roomID, since: since, until: until, threadRoot: threadRoot, body)
        }
        func timelineMarks(roomID: String, since: Int64?, until: Int64?,
                           _ body: (String, String, Int64, String?) throws -> Void) throws {
            try store.timelineMarks(roomID: roomID, since: since, until: until, body)
        }
        func eventSummary(roomID: String, eventID: String) throws -> EventSummary? {
            try store.eventSummary(roomID: roomID, eventID: eventID)
        }
        func contentVersions(of eventID: String, validEdits: [String]) throws -> [ContentVersion] {
            try store.contentVersions(of: eventID, validEdits: validEdits)
        }
        func mediaRefs(roomID: String) throws -> [String: MediaRef] { try store.mediaRefs(roomID: roomID) }
        func exportableMedia(roomID: String, since: Int64?, until: Int64?, includeRedacted: Bool) throws -> [ExportableMedia] {
            try store.exportableMedia(roomID: roomID, since: since, until: until, includeRedacted: includeRedacted)
        }
        func mediaFileURL(sha256: String) throws -> URL { try store.mediaFileURL(sha256: sha256) }
    }

    @Test func anEventIngestedBetweenThePlanAndThePagesIsOnNoPage() throws {
        let directory = uniqueTemporaryDirectory("mxa-snapshot")
        let store = try ArchiveStore(directory: directory)
        var room = EventFactory(roomID: "!snapshot:example.org", idPrefix: "s")
        let version = RoomVersion("10")
        try store.updateRoom(RoomMetadata(roomID: room.roomID, roomVersion: version, name: "Snapshot"), state: [])
        func ingest(_ events: [RawEvent], into target: ArchiveStore) throws {
            _ = try target.ingest(PageIngest(roomID: room.roomID, roomVersion: version, events: events, placement: .after,
                                             cursors: RoomCursors(backward: .complete, forward: "f"), retainRedacted: false))
        }
        try ingest([room.message("one", id: "$one"), room.message("two", id: "$two")], into: store)
        let late = room.message("three, from a sync mid-export", id: "$late")
        // The sync's own connection to the same file.
        let sync = try ArchiveStore(directory: directory)
        let source = IngestingSource(store) { try ingest([late], into: sync) }
        let folder = uniqueTemporaryDirectory("mxa-snapshot-out").appendingPathComponent("export")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        var options = ExportOptions(format: .html, roomIDs: [room.roomID], exportTime: 0, toolVersion: "test")
        options.pageMessages = 2
        let summary = try Exporter(store: source, options: options).run(to: .directory(folder.path))
        #expect(source.between == nil, "the hook ran")
        #expect(try sync.eventSummary(roomID: room.roomID, eventID: "$late") != nil, "the sync wrote")
        #expect(try ExportVerifier.verify(path: folder.path).ok)
        let dir = folder.appendingPathComponent("rooms/" + ExportPath.component(forID: room.roomID))
        let pages = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.first?.isNumber == true }
        // The plan saw two messages: one page; without the snapshot the late one made a page it never linked.
        #expect(pages.count == 1, "\(pages)")
        let text = pages.compactMap { FileManager.default.contents(atPath: dir.appendingPathComponent($0).path) }
            .map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(text.contains("id=\"$two\"") && !text.contains("id=\"$late\""))
        #expect(summary.rooms.first?.messages == 2)
    }
}
