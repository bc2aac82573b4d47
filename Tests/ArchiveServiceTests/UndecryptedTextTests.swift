import ArchiveCore
@testable import ArchiveService
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// An encrypted event that was not decrypted, whose cleartext carries a `body` its sender (or a server)
/// planted beside the ciphertext: every view for people shows it as undecryptable, never that body — in
/// `events`, in the quote of a reply to it, in the TXT and HTML exports. `events --jsonl` keeps the
/// content as archived (it is data).
@Suite struct UndecryptedTextTests {
    let directory = uniqueTemporaryDirectory("mxa-undecrypted")
    var factory = EventFactory()
    static let planted = "planted beside the ciphertext"

    init() throws {
        let store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: RoomVersion("12")), state: [])
        let events = [
            factory.event(type: "m.room.encrypted", id: "$secret",
                          content: ["algorithm": "m.megolm.v1.aes-sha2", "session_id": "S", "ciphertext": "c",
                                    "body": .string(Self.planted), "msgtype": "m.text"]),
            factory.event(id: "$reply", content: ["msgtype": "m.text", "body": "a reply",
                                                  "m.relates_to": ["m.in_reply_to": ["event_id": "$secret"]]]),
        ]
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: RoomVersion("12"), events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: { _ in .missingKey })
    }

    func events(jsonl: Bool) throws -> [String] {
        var lines: [String] = []
        try Archive(at: directory, access: .read)
            .events(TimelineRequest(room: factory.roomID, dates: .all, followUpgrades: false), jsonl: jsonl) { lines.append($0) }
        return lines
    }

    @Test func eventsTextShowsNoPlantedBody() throws {
        let lines = try events(jsonl: false)
        #expect(lines.count == 2)
        #expect(!lines.joined().contains(Self.planted), "\(lines)")
        #expect(lines[0].hasSuffix("[m.room.encrypted]"))
        // The JSON lines are data: the content as archived.
        #expect(try JSONCoding.decode(try events(jsonl: true)[0]).value(at: "content", "body")?.stringValue == Self.planted)
    }

    @Test func aQuoteOfItShowsNoPlantedBody() throws {
        let store = try ArchiveStore(directory: directory, create: false)
        let summary = try #require(try store.eventSummary(roomID: factory.roomID, eventID: "$secret"))
        #expect(summary.content == .object([:]))
    }

    @Test(arguments: [ExportRequest.Format.txt, .html])
    func exportsShowNoPlantedBody(_ format: ExportRequest.Format) throws {
        let output = uniqueTemporaryDirectory("mxa-undecrypted-export")
        _ = try Archive(at: directory, access: .read)
            .export(ExportRequest(format: format, output: output.path, toolVersion: "test"), environment: ["SOURCE_DATE_EPOCH": "0"])
        var pages = 0
        for file in try FileManager.default.subpathsOfDirectory(atPath: output.path)
        where file.hasSuffix(".txt") || file.hasSuffix(".html") {
            let text = try String(contentsOfFile: output.appendingPathComponent(file).path, encoding: .utf8)
            if text.contains("a reply") { pages += 1 }
            #expect(!text.contains(Self.planted), "\(file)")
        }
        #expect(pages >= 1)
    }
}

/// Migration 8's list of messages to re-resolve is worked off only by commands that write (`sync`,
/// `keys`, `reindex`): a `status`, `search` or `export` opens the archive without writing to it.
@Suite struct PendingEditsAccessTests {
    let directory = uniqueTemporaryDirectory("mxa-pending-access")

    init() throws {
        let store = try ArchiveStore(directory: directory)
        try store.db.execute("""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 1200)
            INSERT INTO edits_to_resolve (room_id, event_id) SELECT '!r:example.org', printf('$p%05d', i) FROM n;
            """)
    }

    func pending() throws -> Int { try ArchiveStore(directory: directory, create: false).pendingEditsCount() }

    @Test func readersLeaveTheListAndWritersWorkItOff() throws {
        _ = try Archive(at: directory, access: .read).status()
        _ = try Archive(at: directory, access: .search)
        #expect(try pending() == 1200)
        _ = try Archive(at: directory, access: .maintain)
        #expect(try pending() == 0)
    }
}
