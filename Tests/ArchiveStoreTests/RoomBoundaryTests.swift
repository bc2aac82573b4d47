import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Relations hold only inside one room (spec, "Forming relationships": other relations are ignored), and
/// event ids are unique only within a room: two rooms that name each other's events.
@Suite struct RoomBoundaryTests {
    let store: ArchiveStore
    var roomA = EventFactory(roomID: "!a:example.org", idPrefix: "a")
    var roomB = EventFactory(roomID: "!b:example.org", idPrefix: "b")
    let version = RoomVersion("12")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-rooms"))
        for room in [roomA.roomID, roomB.roomID] {
            try store.updateRoom(RoomMetadata(roomID: room, roomVersion: version), state: [])
        }
    }

    @discardableResult
    func ingest(_ events: [RawEvent], roomID: String) throws -> IngestOutcome {
        try store.ingest(PageIngest(roomID: roomID, roomVersion: version, events: events, placement: .after,
                                    cursors: RoomCursors(backward: .complete, forward: "f")))
    }

    func timeline(_ roomID: String) throws -> [TimelineItem] {
        var items: [TimelineItem] = []
        try store.timeline(roomID: roomID) { items.append($0) }
        return items
    }

    /// A reaction, an edit and a thread reply in one room naming the other room's message change nothing
    /// there, in both directions, while the same relations inside a room still count.
    @Test mutating func relationsFromAnotherRoomDoNotCount() throws {
        let inA = roomA.message("in A")
        let inB = roomB.message("in B")
        try ingest([inA], roomID: roomA.roomID)
        try ingest([inB], roomID: roomB.roomID)
        func relations(to target: String, from factory: inout EventFactory) -> [RawEvent] {
            [factory.reaction(to: target, key: "👍"),
             factory.edit(of: target, to: "rewritten from elsewhere"),
             factory.event(content: ["msgtype": "m.text", "body": "thread reply from elsewhere",
                                     "m.relates_to": ["rel_type": "m.thread", "event_id": .string(target)]])]
        }
        try ingest(relations(to: inA.eventID, from: &roomB), roomID: roomB.roomID)
        try ingest(relations(to: inB.eventID, from: &roomA), roomID: roomA.roomID)
        for (roomID, message, body) in [(roomA.roomID, inA, "in A"), (roomB.roomID, inB, "in B")] {
            let item = try #require(try timeline(roomID).first { $0.eventID == message.eventID })
            #expect(item.reactions.isEmpty, "\(roomID)")
            #expect(item.content["body"]?.stringValue == body, "\(roomID)")
            #expect(!item.edited, "\(roomID)")
            #expect(item.thread == nil, "\(roomID)")
        }
        // Control: the same relations inside room A do count.
        try ingest(relations(to: inA.eventID, from: &roomA), roomID: roomA.roomID)
        let item = try #require(try timeline(roomA.roomID).first { $0.eventID == inA.eventID })
        #expect(item.reactions == ["👍": 1])
        #expect(item.content["body"] == "rewritten from elsewhere")
        #expect(item.thread?.replyCount == 1)
        #expect(try store.verify().isEmpty)
    }

    /// A reply in room B to room A's message finds nothing to quote in B; A's own lookup still finds it.
    @Test mutating func aReplyTargetIsLookedUpInTheReplysRoom() throws {
        let secret = roomA.message("secret plans")
        try ingest([secret], roomID: roomA.roomID)
        #expect(try store.eventSummary(roomID: roomB.roomID, eventID: secret.eventID) == nil)
        #expect(try store.eventSummary(roomID: roomA.roomID, eventID: secret.eventID)?.content["body"] == "secret plans")
    }

    /// An event whose id is already archived for another room (servers choose ids in v1/v2 rooms) cannot
    /// be stored under the same id: it is recorded with a reason, once however often it arrives, and the
    /// first room's event stays as it was.
    @Test mutating func anEventIDReusedByAnotherRoomIsRecordedNotLost() throws {
        try ingest([roomA.message("first owner", id: "$shared")], roomID: roomA.roomID)
        let reused = roomB.message("second owner", id: "$shared")
        let page = [roomB.message("ordinary"), reused]
        let outcome = try ingest(page, roomID: roomB.roomID)
        #expect(outcome.newEvents == 1)
        #expect(outcome.duplicates == 0)
        try ingest(page, roomID: roomB.roomID)
        #expect(try store.malformedCount(roomID: roomB.roomID) == 1)
        #expect(try store.malformedCount(roomID: roomA.roomID) == 0)
        let recorded = try store.db.statement("SELECT event_id, reason, raw_json FROM malformed_events")
            .rows { ($0.text(0), $0.text(1), $0.text(2) ?? "") }
        #expect(recorded.count == 1)
        #expect(recorded.first?.0 == "$shared")
        #expect(recorded.first?.1 == "event id already archived for another room")
        #expect(try JSONCoding.decode(recorded.first?.2 ?? "{}").value(at: "content", "body") == "second owner")
        #expect(try timeline(roomA.roomID).map { $0.content["body"] } == ["first owner"])
        #expect(try timeline(roomB.roomID).map { $0.content["body"] } == ["ordinary"])
        #expect(try store.verify().isEmpty)
    }
}
