import ArchiveCore
import ArchiveService
import ArchiveStore
import Exporters
import Foundation
import Testing
import TestSupport

/// What a reply quotes in the HTML and text exports of a real store: only a target of the reply's own room
/// that the export itself holds (its senders and dates), after its redaction policy. Anything else is
/// "not in this export", and none of its text appears anywhere in the export.
@Suite struct ExportQuoteTests {
    static let day = Int64(86_400_000)
    static let start = Int64(1_704_067_200_000)  // 2024-01-01 UTC
    let store: ArchiveStore
    var privateRoom = EventFactory(roomID: "!private:example.org", idPrefix: "private")
    var publicRoom = EventFactory(roomID: "!public:example.org", idPrefix: "public")
    let version = RoomVersion("12")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-quotes"))
        try store.updateRoom(RoomMetadata(roomID: privateRoom.roomID, roomVersion: version, name: "Private"), state: [])
        try store.updateRoom(RoomMetadata(roomID: publicRoom.roomID, roomVersion: version, name: "Public"), state: [])
    }

    func ingest(_ events: [RawEvent], roomID: String, retain: Bool = false) throws {
        _ = try store.ingest(PageIngest(roomID: roomID, roomVersion: version, events: events, placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "f"), retainRedacted: retain))
    }

    mutating func reply(to target: String, _ body: String, ts: Int64) -> RawEvent {
        publicRoom.event(ts: ts, content: ["msgtype": "m.text", "body": .string(body),
                                           "m.relates_to": ["m.in_reply_to": ["event_id": .string(target)]]])
    }

    /// Exports the public room and returns the text of every file written.
    func export(_ format: ExportOptions.Format, since: Int64? = nil, senders: [String] = [],
                retainRedacted: Bool = false) throws -> String {
        let folder = uniqueTemporaryDirectory("mxa-quotes-out").appendingPathComponent("export")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let options = ExportOptions(format: format, roomIDs: [publicRoom.roomID], since: since, senders: senders,
                                    retainRedacted: retainRedacted, exportTime: 0, toolVersion: "test")
        _ = try Exporter(store: store, options: options).run(to: .directory(folder.path))
        var text = ""
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            if let data = FileManager.default.contents(atPath: url.path) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }

    static func notInExport(_ format: ExportOptions.Format) -> String {
        format == .html ? "In reply to a message that is not in this export" : "(in reply to a message not in this export)"
    }

    /// A reply in the public room naming the private room's message publishes nothing of it; a reply to
    /// the public room's own message is quoted.
    @Test(arguments: [ExportOptions.Format.html, .txt])
    mutating func aReplyToAnotherRoomsMessageQuotesNothingOfIt(_ format: ExportOptions.Format) throws {
        let secret = privateRoom.message("secret plans", ts: Self.start)
        try ingest([secret], roomID: privateRoom.roomID)
        let visible = publicRoom.message("visible words", ts: Self.start + 1)
        try ingest([visible, reply(to: secret.eventID, "across rooms", ts: Self.start + 2),
                    reply(to: visible.eventID, "inside the room", ts: Self.start + 3)], roomID: publicRoom.roomID)
        let text = try export(format)
        #expect(!text.contains("secret plans"))
        #expect(text.contains(Self.notInExport(format)))
        #expect(text.contains("visible words") && text.contains("across rooms"))
        #expect(text.contains(format == .html ? ": <bdi>visible words</bdi></blockquote>" : ": \"visible words\") inside the room"),
                "the in-room reply quotes its target")
    }

    /// `--since` and `--sender` leave a message out: a reply to it, inside the selection, does not quote it.
    @Test(arguments: [ExportOptions.Format.html, .txt])
    mutating func aReplyToAMessageOutsideTheSelectionQuotesNothingOfIt(_ format: ExportOptions.Format) throws {
        let early = publicRoom.message("early words", ts: Self.start)
        let bobs = publicRoom.message("bob words", sender: "@bob:example.org", ts: Self.start + 2 * Self.day)
        try ingest([early, bobs, reply(to: early.eventID, "reply to the early one", ts: Self.start + 3 * Self.day),
                    reply(to: bobs.eventID, "reply to bob", ts: Self.start + 3 * Self.day + 1)],
                   roomID: publicRoom.roomID)
        let text = try export(format, since: Self.start + Self.day, senders: ["@alice:example.org"])
        #expect(!text.contains("early words"))
        #expect(!text.contains("bob words"))
        #expect(text.contains("reply to the early one") && text.contains("reply to bob"))
        #expect(text.components(separatedBy: Self.notInExport(format)).count - 1 == 2)
    }

    /// A message deleted under legal hold keeps its text in the archive; an export without
    /// `--retain-redacted` quotes it as deleted, one with it quotes the retained text.
    @Test(arguments: [ExportOptions.Format.html, .txt])
    mutating func aReplyToAMessageDeletedUnderLegalHoldQuotesNoDeletedText(_ format: ExportOptions.Format) throws {
        let held = publicRoom.message("held words", ts: Self.start)
        try ingest([held, publicRoom.redaction(of: held.eventID)], roomID: publicRoom.roomID, retain: true)
        try ingest([reply(to: held.eventID, "reply to the deleted one", ts: Self.start + Self.day)],
                   roomID: publicRoom.roomID)
        let text = try export(format)
        #expect(!text.contains("held words"))
        #expect(text.contains("reply to the deleted one"))
        #expect(text.contains("[message deleted]"))
        if format == .html {
            #expect(try export(format, retainRedacted: true).contains("held words"))
        }
    }
}
