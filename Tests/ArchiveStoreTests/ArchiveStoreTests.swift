import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// The store against a real SQLite file: ingestion order, idempotence, edits and redactions that arrive
/// before their targets, legal hold.
@Suite struct ArchiveStoreTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()
    let version = RoomVersion("12")

    init() throws {
        directory = uniqueTemporaryDirectory("mxa-store")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    func ingest(_ events: [RawEvent], placement: Placement, cursors: RoomCursors = RoomCursors(backward: .complete, forward: "f"),
                retain: Bool = false) throws -> IngestOutcome {
        try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events,
                                    placement: placement, cursors: cursors, retainRedacted: retain))
    }

    func timeline() throws -> [TimelineItem] {
        var items: [TimelineItem] = []
        try store.timeline(roomID: factory.roomID) { items.append($0) }
        return items
    }

    /// Issue 12.6: values are bound with their byte length. A U+0000 once cut a reaction key short, so
    /// "👍\u{0}anything" counted as "👍".
    @Test mutating func aNULInsideAValueIsStoredWhole() throws {
        let message = factory.message("react to me")
        let plain = factory.reaction(to: message.eventID, key: "👍", sender: "@alice:example.org")
        let tricky = factory.reaction(to: message.eventID, key: "👍\u{0}forged", sender: "@bob:example.org")
        _ = try ingest([message, plain, tricky], placement: .after)
        let item = try #require(try timeline().first)
        #expect(item.reactions == ["👍": 1, "👍\u{0}forged": 1])
        #expect(try store.verify().isEmpty)
    }

    /// Issue 12.7: `keys forget` must not report success while a reader keeps the deleted key in the
    /// write-ahead log; once the reader is gone, it succeeds and the log is empty.
    @Test func forgettingTheBackupKeyFailsClearlyWhileAReaderHoldsTheLog() throws {
        try store.saveBackupKey(version: "1", privateKey: "the-private-key")
        let reader = try ArchiveStore(directory: directory, create: false)
        try reader.db.execute("BEGIN; SELECT count(*) FROM rooms;")
        #expect {
            try store.forgetBackupKey()
        } throws: { error in
            (error as? StoreError)?.code == .checkpointBusy && "\(error)".contains("keys forget")
        }
        try reader.db.execute("COMMIT")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("backup-key").path))
        #expect(try store.forgetBackupKey() == false)
        let wal = directory.appendingPathComponent("archive.sqlite-wal").path
        #expect(((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int ?? 0) == 0)
        #expect(try store.backupKey() == nil)
    }

    @Test mutating func storeFilesArePrivate() throws {
        let folder = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        let file = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("archive.sqlite").path)
        #expect((file[.posixPermissions] as? Int) == 0o600)
    }

    @Test mutating func backwardAndForwardPagesGiveTheRoomsOwnOrder() throws {
        let messages = (0..<6).map { factory.message("m\($0)") }
        // First a backward page from now (newest first), then an older backward page, then a forward page.
        _ = try ingest([messages[4], messages[3]], placement: .before)
        _ = try ingest([messages[2], messages[1], messages[0]], placement: .before)
        _ = try ingest([messages[5]], placement: .after)
        #expect(try timeline().map(\.eventID) == messages.map(\.eventID))
        #expect(try store.verify().isEmpty)
    }

    @Test mutating func aPageFetchedTwiceChangesNothing() throws {
        let messages = (0..<3).map { factory.message("m\($0)") }
        #expect(try ingest(messages, placement: .after).newEvents == 3)
        let again = try ingest(messages, placement: .after)
        #expect(again == IngestOutcome(newEvents: 0, duplicates: 3))
        #expect(try timeline().count == 3)
        #expect(try store.verify().isEmpty)
    }

    @Test mutating func editsAndRedactionsMetBeforeTheirTargetsApplyWhenTheTargetArrives() throws {
        let original = factory.message("first words")
        let other = factory.message("other")
        let edit = factory.edit(of: original.eventID, to: "better words")
        let redaction = factory.redaction(of: other.eventID)
        // Backward walk: newest first, so the edit and the redaction are stored before their targets.
        _ = try ingest([redaction, edit], placement: .before, cursors: RoomCursors(backward: .at("b"), forward: "f"))
        _ = try ingest([other, original], placement: .before)
        let items = try timeline()
        #expect(items.map(\.eventID) == [original.eventID, other.eventID])
        #expect(items[0].content["body"] == "better words")
        #expect(items[0].replacedBy == edit.eventID)
        #expect(items[1].redacted)
        #expect(items[1].content == .object([:]))
    }

    @Test mutating func editWinnerDoesNotDependOnArrivalOrder() throws {
        let original = factory.message("v0", id: "$orig")
        let a = factory.edit(of: "$orig", to: "A", id: "$a", ts: 500)
        let b = factory.edit(of: "$orig", to: "B", id: "$b", ts: 500)
        let c = factory.edit(of: "$orig", to: "C", id: "$c", ts: 400)
        _ = try ingest([b], placement: .after)
        _ = try ingest([original, a], placement: .before)
        _ = try ingest([c], placement: .after)
        let item = try #require(try timeline().first)
        #expect(item.content["body"] == "B")
        #expect(Set(item.edits) == ["$a", "$b", "$c"])
    }

    @Test mutating func redactingTheWinningEditFallsBackToTheNextOne() throws {
        let original = factory.message("v0")
        let first = factory.edit(of: original.eventID, to: "v1")
        let second = factory.edit(of: original.eventID, to: "v2")
        _ = try ingest([original, first, second], placement: .after)
        #expect(try timeline()[0].content["body"] == "v2")
        _ = try ingest([factory.redaction(of: second.eventID)], placement: .after)
        #expect(try timeline()[0].content["body"] == "v1")
    }

    @Test mutating func reactionsCountOncePerSenderAndKeyAndIgnoreRedactedOnes() throws {
        let message = factory.message("react to me")
        let thumbsAlice = factory.reaction(to: message.eventID, key: "👍")
        let thumbsAliceAgain = factory.reaction(to: message.eventID, key: "👍")
        let thumbsBob = factory.reaction(to: message.eventID, key: "👍", sender: "@bob:example.org")
        let party = factory.reaction(to: message.eventID, key: "🎉", sender: "@bob:example.org")
        _ = try ingest([message, thumbsAlice, thumbsAliceAgain, thumbsBob, party,
                        factory.redaction(of: party.eventID)], placement: .after)
        #expect(try timeline().first?.reactions == ["👍": 2])
        #expect(try timeline().count == 1)
    }

    @Test mutating func legalHoldKeepsRedactedContentMarkedAsRedacted() throws {
        let message = factory.message("evidence")
        _ = try ingest([message, factory.redaction(of: message.eventID)], placement: .after, retain: true)
        let item = try #require(try timeline().first)
        #expect(item.redacted)
        #expect(item.content["body"] == "evidence")
    }

    @Test mutating func aRedactionInAnotherRoomDoesNotApply() throws {
        let message = factory.message("stays")
        var other = EventFactory(roomID: "!elsewhere:example.org", idPrefix: "elsewhere")
        try store.updateRoom(RoomMetadata(roomID: other.roomID, roomVersion: version), state: [])
        _ = try ingest([message], placement: .after)
        _ = try store.ingest(PageIngest(roomID: other.roomID, roomVersion: version,
                                        events: [other.redaction(of: message.eventID)], placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "x")))
        #expect(try timeline().first?.redacted == false)
    }

    @Test mutating func aFailedPageLeavesNoTraceAndTheCursorWhereItWas() throws {
        _ = try ingest([factory.message("kept")], placement: .after, cursors: RoomCursors(backward: .complete, forward: "f1"))
        // A page for a room the store does not know fails as a whole: no event, no cursor.
        var stranger = EventFactory(roomID: "!unknown:example.org")
        #expect(throws: (any Error).self) {
            _ = try store.ingest(PageIngest(roomID: stranger.roomID, roomVersion: version,
                                            events: [stranger.message("lost")], placement: .after,
                                            cursors: RoomCursors(backward: .complete, forward: "f2")))
        }
        #expect(try store.room(factory.roomID)?.cursors.forward == "f1")
        #expect(try store.rooms().map(\.roomID) == [factory.roomID])
        #expect(try store.verify().isEmpty)
    }

    @Test mutating func displayNamesFollowMemberEventsOverTime() throws {
        let joinBob = factory.event(type: "m.room.member", sender: "@bob:example.org", stateKey: "@bob:example.org",
                                    content: ["membership": "join", "displayname": "Bob"])
        let before = factory.message("as Bob", sender: "@bob:example.org")
        let rename = factory.event(type: "m.room.member", sender: "@bob:example.org", stateKey: "@bob:example.org",
                                   content: ["membership": "join", "displayname": "Bobby"])
        let after = factory.message("as Bobby", sender: "@bob:example.org")
        _ = try ingest([joinBob, before, rename, after], placement: .after)
        let names = try timeline().filter { $0.type == "m.room.message" }.map(\.senderDisplayName)
        #expect(names == ["Bob", "Bobby"])
    }

    @Test mutating func malformedEventsAreRecordedNotStored() throws {
        let good = factory.message("fine")
        let bad: JSONValue = ["type": "m.room.message", "content": ["body": "no id"]]
        let problem = try #require(RawEvent.parse(bad, roomID: factory.roomID).failureValue)
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [good],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f"),
                                        malformed: [(problem, bad)]))
        #expect(try timeline().map(\.eventID) == [good.eventID])
        #expect(try store.malformedCount(roomID: factory.roomID) == 1)
        #expect(try store.verify().isEmpty)
    }

    /// Ingestion stays linear: every per-event statement is answered from an index, none scans a room.
    @Test func perEventStatementsUseIndexes() throws {
        let plans = try store.ingestQueryPlans()
        #expect(plans.count == IngestSQL.perEvent.count)
        for (sql, steps) in plans {
            #expect(!steps.isEmpty)
            #expect(steps.allSatisfy { !$0.hasPrefix("SCAN") && !$0.contains("TEMP B-TREE") }, "\(sql): \(steps)")
            #expect(steps.allSatisfy { !$0.contains("events_by_time") }, "\(sql) walks a room by time: \(steps)")
        }
    }

    @Test func reopeningRunsNoMigrationTwice() throws {
        let reopened = try ArchiveStore(directory: directory)
        #expect(reopened.schemaVersion == store.schemaVersion)
        #expect(store.schemaVersion >= 1)
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
