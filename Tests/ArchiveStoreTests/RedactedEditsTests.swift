import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Issue 9.11: redacting an original removes it with all its edits, in whichever order they arrive, unless
/// held under `--retain-redacted`.
@Suite struct RedactedEditsTests {
    let store: ArchiveStore
    var factory = EventFactory(idPrefix: "re")
    let version = RoomVersion("12")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-redacted-edits"))
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    func ingest(_ events: [RawEvent], placement: Placement = .after, retain: Bool = false) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events,
                                        placement: placement, cursors: RoomCursors(backward: .at("b"), forward: "f"),
                                        retainRedacted: retain))
    }

    func onlyItem() throws -> TimelineItem {
        var items: [TimelineItem] = []
        try store.timeline(roomID: factory.roomID) { items.append($0) }
        try #require(items.count == 1)
        return items[0]
    }

    /// Every stored text column of `eventIDs` (raw, decrypted, current content) joined, to look for words in.
    func storedText(of eventIDs: [String]) throws -> String {
        try eventIDs.map { id in
            try store.db.statement("""
                SELECT coalesce(raw_json, '') || coalesce(decrypted_json, '') || coalesce(current_content, '')
                FROM events WHERE event_id = ?
                """).firstRow(.text(id)) { $0.text(0) ?? "" } ?? ""
        }.joined()
    }

    func expectGone(_ item: TimelineItem, edits: [RawEvent]) throws {
        #expect(item.redacted)
        #expect(item.edits.isEmpty)
        #expect(item.replacedBy == nil)
        #expect(!item.edited)
        #expect(item.content == .object([:]))
        #expect(item.jsonValue["edits"] == .array([]))
        let text = try storedText(of: edits.map(\.eventID) + [item.eventID])
        #expect(!text.contains("ocelot") && !text.contains("narwhal") && !text.contains("alpaca"), "\(text)")
        #expect(try store.verify().isEmpty)
    }

    @Test mutating func redactingAnOriginalStripsItsStoredEdits() throws {
        let original = factory.message("alpaca")
        let first = factory.edit(of: original.eventID, to: "ocelot")
        let second = factory.edit(of: original.eventID, to: "narwhal")
        try ingest([original, first, second])
        #expect(try onlyItem().edits.count == 2)
        try ingest([factory.redaction(of: original.eventID)])
        try expectGone(try onlyItem(), edits: [first, second])
    }

    @Test mutating func aBackwardWalkMeetingTheRedactionAndEditsFirstStripsThemWhenTheOriginalArrives() throws {
        let original = factory.message("alpaca")
        let first = factory.edit(of: original.eventID, to: "ocelot")
        let second = factory.edit(of: original.eventID, to: "narwhal")
        let redaction = factory.redaction(of: original.eventID)
        try ingest([redaction, second], placement: .before)
        try ingest([first], placement: .before)
        try ingest([original], placement: .before)
        try expectGone(try onlyItem(), edits: [first, second])
    }

    @Test mutating func anEditOfAnAlreadyRedactedOriginalIsStrippedOnArrival() throws {
        let original = factory.message("alpaca")
        try ingest([original, factory.redaction(of: original.eventID)])
        let late = factory.edit(of: original.eventID, to: "ocelot")
        try ingest([late])
        try expectGone(try onlyItem(), edits: [late])
    }

    /// The server may serve the original already redacted (`unsigned.redacted_because`), after its edits.
    @Test mutating func anOriginalTheServerRedactedTakesItsEarlierStoredEditsWithIt() throws {
        let originalID = factory.nextID()
        let edit = factory.edit(of: originalID, to: "ocelot")
        let because: JSONValue = ["event_id": "$gone", "type": "m.room.redaction", "sender": "@alice:example.org",
                                  "content": ["redacts": .string(originalID)]]
        let original = factory.event(id: originalID, content: [:], extra: ["unsigned": ["redacted_because": because]])
        try ingest([edit], placement: .before)
        try ingest([original], placement: .before)
        try expectGone(try onlyItem(), edits: [edit])
    }

    @Test mutating func legalHoldKeepsTheEditsOfARedactedOriginal() throws {
        let original = factory.message("alpaca")
        let edit = factory.edit(of: original.eventID, to: "ocelot")
        try ingest([original, edit, factory.redaction(of: original.eventID)], retain: true)
        let item = try onlyItem()
        #expect(item.redacted)
        #expect(item.edits == [edit.eventID])
        #expect(try storedText(of: [edit.eventID]).contains("ocelot"))
        // A later edit of the held original is kept too.
        let later = factory.edit(of: original.eventID, to: "narwhal")
        try ingest([later], retain: true)
        #expect(try storedText(of: [later.eventID]).contains("narwhal"))
    }
}
