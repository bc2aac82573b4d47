import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Issue 9.4: a redaction applies only when its sender may make it (same sender, same server, or the
/// `redact` power level at that point of history); otherwise it is stored as rejected and counted. Synapse
/// never serves such a redaction itself, so these events are built by hand, as a hostile server would.
@Suite struct RedactionRightsTests {
    let store: ArchiveStore
    var factory = EventFactory(idPrefix: "rr")
    let mallory = "@mallory:hostile.example"

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-redaction-rights"))
    }

    func room(_ version: String) throws -> RoomVersion {
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: RoomVersion(version)), state: [])
        return RoomVersion(version)
    }

    func ingest(_ events: [RawEvent], _ version: RoomVersion, placement: Placement = .after) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events,
                                        placement: placement, cursors: RoomCursors(backward: .at("b"), forward: "f")))
    }

    func item(_ eventID: String) throws -> TimelineItem? {
        var found: TimelineItem?
        try store.timeline(roomID: factory.roomID) { if $0.eventID == eventID { found = $0 } }
        return found
    }

    mutating func powerLevels(_ users: [String: JSONValue]) -> RawEvent {
        factory.event(type: "m.room.power_levels", stateKey: "", content: ["users": .object(users), "redact": 50])
    }

    @Test mutating func anotherServersUserWithoutPowerCannotRedact() throws {
        let version = try room("12")
        let message = factory.message("kept")
        try ingest([message, factory.redaction(of: message.eventID, sender: mallory)], version)
        let kept = try #require(try item(message.eventID))
        #expect(!kept.redacted)
        #expect(kept.content["body"] == "kept")
        #expect(try store.rejectedRedactionCount(roomID: factory.roomID) == 1)
        #expect(try store.rejectedRedactionCount() == 1)
        #expect(try store.verify().isEmpty)
    }

    @Test mutating func aUserOfTheSameServerMayRedactFromV3() throws {
        let version = try room("3")
        let message = factory.message("gone")
        try ingest([message, factory.redaction(of: message.eventID, sender: "@bob:example.org", v11: false)], version)
        #expect(try item(message.eventID)?.redacted == true)
        #expect(try store.rejectedRedactionCount() == 0)
    }

    @Test mutating func theRedactPowerLevelInEffectBeforeTheRedactionDecides() throws {
        let version = try room("12")
        let first = factory.message("gone")
        let second = factory.message("kept")
        // Mallory holds 50 when redacting the first message, and 0 again when redacting the second.
        try ingest([first, second, powerLevels([mallory: 50]), factory.redaction(of: first.eventID, sender: mallory),
                    powerLevels([mallory: 0]), factory.redaction(of: second.eventID, sender: mallory)], version)
        #expect(try item(first.eventID)?.redacted == true)
        #expect(try item(second.eventID)?.redacted == false)
        #expect(try store.rejectedRedactionCount() == 1)
    }

    /// Room versions 1 and 2 compare the domains of the event ids (their auth rule), not of the senders.
    @Test mutating func inAV1RoomTheEventIdDomainsDecide() throws {
        let version = try room("1")
        let message = factory.message("kept", id: "$m1:example.org")
        let other = factory.message("gone", id: "$m2:example.org")
        let foreignID = factory.redaction(of: message.eventID, sender: "@bob:example.org", id: "$r1:hostile.example")
        let sameIDServer = factory.redaction(of: other.eventID, sender: mallory, id: "$r2:example.org")
        try ingest([message, other, foreignID, sameIDServer], version)
        #expect(try item(message.eventID)?.redacted == false)
        #expect(try item(other.eventID)?.redacted == true)
        #expect(try store.rejectedRedactionCount() == 1)
    }

    /// A backward walk stores the redactions before their target: they are judged when it arrives, and a
    /// rejected one does not keep a later valid one from applying.
    @Test mutating func redactionsMetBeforeTheirTargetAreJudgedWhenItArrives() throws {
        let version = try room("12")
        let message = factory.message("gone")
        let hostile = factory.redaction(of: message.eventID, sender: mallory)
        let own = factory.redaction(of: message.eventID)
        try ingest([own, hostile], version, placement: .before)
        #expect(try store.rejectedRedactionCount() == 0)
        try ingest([message], version, placement: .before)
        let gone = try #require(try item(message.eventID))
        #expect(gone.redacted)
        #expect(gone.redactedBy == own.eventID)
        #expect(try store.rejectedRedactionCount() == 1)
        #expect(try store.verify().isEmpty)
    }
}
