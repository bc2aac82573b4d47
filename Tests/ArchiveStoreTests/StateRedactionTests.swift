import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// A redaction of the room's current state event (a rename, redacted after a /sync brought it) is applied
/// to `room_state` and the room's metadata in the same ingest, as to the timeline's copy: the name the
/// redaction removed does not stay the room's name. Under legal hold both copies stay whole.
@Suite struct StateRedactionTests {
    let store: ArchiveStore
    var factory = EventFactory(idPrefix: "sr")

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-state-redaction"))
    }

    /// A room whose current name is `name`, known from its state and its timeline.
    mutating func namedRoom(_ name: String) throws -> RawEvent {
        let create = factory.event(type: "m.room.create", stateKey: "", content: ["room_version": "12"])
        let rename = factory.event(type: "m.room.name", stateKey: "", content: ["name": .string(name)])
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, state: [create, rename]), state: [create, rename])
        try ingest([create, rename])
        #expect(try store.room(factory.roomID)?.metadata.name == name)
        return rename
    }

    func ingest(_ events: [RawEvent], retain: Bool = false) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: RoomVersion("12"), events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f"),
                                        retainRedacted: retain))
    }

    var storedName: JSONValue? {
        get throws { try store.stateEvents(roomID: factory.roomID, type: "m.room.name").first?["content"]?["name"] }
    }

    @Test mutating func aRedactedRenameLeavesTheStateAndTheMetadata() throws {
        let rename = try namedRoom("Secret plans")
        try ingest([factory.redaction(of: rename.eventID)])
        #expect(try storedName == nil)
        #expect(try store.room(factory.roomID)?.metadata.name == nil)
        #expect(try store.stateEvents(roomID: factory.roomID, type: "m.room.name").first?["unsigned"]?["redacted_because"] != nil)
        #expect(try store.verify().isEmpty)
    }

    /// The state event known from `/state` (or /sync's `state`) only, not from a timeline page.
    @Test mutating func aStateEventOutsideTheTimelineIsRedactedToo() throws {
        let create = factory.event(type: "m.room.create", stateKey: "", content: ["room_version": "12"])
        let rename = factory.event(type: "m.room.name", stateKey: "", content: ["name": "Secret plans"])
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, state: [create, rename]), state: [create, rename])
        try ingest([factory.redaction(of: rename.eventID)])
        #expect(try store.room(factory.roomID)?.metadata.name == nil)
    }

    @Test mutating func onlyAnAllowedRedactionCounts() throws {
        let rename = try namedRoom("Kept")
        try ingest([factory.redaction(of: rename.eventID, sender: "@mallory:hostile.example")])
        #expect(try storedName == "Kept")
        #expect(try store.room(factory.roomID)?.metadata.name == "Kept")
    }

    @Test mutating func legalHoldKeepsTheName() throws {
        let rename = try namedRoom("Held")
        try ingest([factory.redaction(of: rename.eventID)], retain: true)
        #expect(try storedName == "Held")
        #expect(try store.room(factory.roomID)?.metadata.name == "Held")
    }
}
