import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Decryption in the store: statuses, replay by timeline order, late keys, and encrypted edits normalised
/// exactly like plaintext ones.
@Suite struct StoreDecryptionTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()
    let version = RoomVersion("12")

    init() throws {
        directory = uniqueTemporaryDirectory("mxa-dec")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    /// A fake "ciphertext" naming the plaintext and message index: the store's rules do not depend on libolm.
    mutating func encrypted(_ ciphertext: String, session: String = "S", relatesTo: JSONValue? = nil, id: String? = nil) -> RawEvent {
        var content: [String: JSONValue] = ["algorithm": "m.megolm.v1.aes-sha2", "session_id": .string(session),
                                            "ciphertext": .string(ciphertext)]
        if let relatesTo { content["m.relates_to"] = relatesTo }
        return factory.event(type: "m.room.encrypted", id: id, content: .object(content))
    }

    static let plaintexts: [String: (index: UInt32, content: JSONValue)] = [
        "c0": (0, ["msgtype": "m.text", "body": "hello"]),
        "c1": (1, ["msgtype": "m.text", "body": "* hi", "m.new_content": ["msgtype": "m.text", "body": "hi"]]),
        "c2": (2, ["msgtype": "m.text", "body": "later"]),
    ]

    func decrypt(known: Set<String>, firstIndex: UInt32 = 0) -> Decrypt {
        { payload in
            guard known.contains(payload.sessionID) else { return .missingKey }
            guard let (index, content) = Self.plaintexts[payload.ciphertext] else { return .failed(reason: "bad") }
            return index < firstIndex ? .unknownIndex : .decrypted(type: "m.room.message", content: content, messageIndex: index)
        }
    }

    func items() throws -> [String: TimelineItem] {
        var result: [String: TimelineItem] = [:]
        try store.timeline(roomID: factory.roomID) { result[$0.eventID] = $0 }
        return result
    }

    /// Issue 10.5: events stored without their keys are counted as they are stored, until a sync reports
    /// the room; a later redaction of one does not take it back (it was stored waiting, and is news), and a
    /// duplicate or a decrypted event is not counted.
    @Test mutating func eventsStoredWithoutKeysAreCountedUntilReported() throws {
        let (store, roomID, version, decrypt) = (store, factory.roomID, version, decrypt(known: ["K"]))
        func page(_ events: [RawEvent]) throws -> IngestOutcome {
            try store.ingest(PageIngest(roomID: roomID, roomVersion: version, events: events, placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "f")), decrypt: decrypt)
        }
        let waiting = [encrypted("c0", id: "$w1"), encrypted("c2", id: "$w2")]
        let outcome = try page(waiting + [encrypted("c0", session: "K", id: "$ok")])
        #expect(outcome.newWaitingForKeys == 2)
        #expect(try store.waitingUnreported(roomID: factory.roomID) == 2)
        // The same page again (a resumed walk): nothing new.
        #expect(try page(waiting).newWaitingForKeys == 0)
        let redaction = factory.redaction(of: "$w1", sender: waiting[0].sender)
        _ = try page([redaction])
        #expect(try store.waitingUnreported(roomID: factory.roomID) == 2)
        try store.recordReported(roomIDs: [factory.roomID])
        #expect(try store.waitingUnreported(roomID: factory.roomID) == 0)
        _ = try page([encrypted("c2", id: "$w3")])
        #expect(try store.waitingUnreported(roomID: factory.roomID) == 1)
    }

    @Test mutating func lateKeysDecryptAndApplyEncryptedEdits() throws {
        let original = encrypted("c0", id: "$orig")
        let edit = encrypted("c1", relatesTo: ["rel_type": "m.replace", "event_id": "$orig"], id: "$edit")
        let later = encrypted("c2", id: "$later")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [original, edit, later],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: [], firstIndex: 0))
        var timeline = try items()
        #expect(timeline.keys.sorted() == ["$later", "$orig"])  // the edit is not a timeline item
        #expect(timeline["$orig"]?.decryption == .missingKey)
        #expect(timeline["$orig"]?.type == "m.room.encrypted")

        // Only events whose session is stored are retried (the fake decrypt ignores the key itself).
        #expect(try store.retryDecryption(decrypt: decrypt(known: ["S"])).attempted == 0)
        _ = try store.importMegolmSessions([storedKey()], source: "file")
        // A session known only from index 1: the original stays unknown_index, the edit cannot apply.
        var retry = try store.retryDecryption(decrypt: decrypt(known: ["S"], firstIndex: 1))
        #expect(retry.decrypted == 2 && retry.stillWaiting == 1)
        timeline = try items()
        #expect(timeline["$orig"]?.decryption == .unknownIndex)
        #expect(timeline["$orig"]?.edited == false)
        #expect(timeline["$later"]?.content["body"]?.stringValue == "later")

        retry = try store.retryDecryption(decrypt: decrypt(known: ["S"], firstIndex: 0))
        #expect(retry.decrypted == 1 && retry.stillWaiting == 0)
        timeline = try items()
        #expect(timeline["$orig"]?.decryption == .ok)
        #expect(timeline["$orig"]?.type == "m.room.message")
        #expect(timeline["$orig"]?.edited == true)
        #expect(timeline["$orig"]?.replacedBy == "$edit")
        #expect(timeline["$orig"]?.content["body"]?.stringValue == "hi")
    }

    func storedKey(_ session: String = "S") -> MegolmSessionKey {
        MegolmSessionKey(roomID: factory.roomID, sessionID: session, sessionKey: "k", senderKey: nil, firstMessageIndex: 0)
    }

    @Test mutating func aStrippedEventKeepsNoneWhenAnEarlierCopyTakesItsIndex() throws {
        let later = encrypted("c0", id: "$later")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [later, factory.redaction(of: "$later")],
                                        placement: .before, cursors: RoomCursors(backward: .at("b"), forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        #expect(try items()["$later"]?.decryption == DecryptionStatus.none)
        let earlier = encrypted("c0", id: "$earlier")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [earlier],
                                        placement: .before, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        let timeline = try items()
        #expect(timeline["$earlier"]?.decryption == .ok)
        #expect(timeline["$later"]?.decryption == DecryptionStatus.none)
        #expect(try store.verify() == [])
        // verify notices an `ok` event that lost its payload, and one that no longer owns its index.
        try store.db.execute("UPDATE events SET decrypted_json = NULL WHERE event_id = '$earlier'")
        #expect(try store.verify().contains { $0.contains("$earlier") })
        try store.db.execute("""
            UPDATE events SET decrypted_json = '{}' WHERE event_id = '$earlier'; DELETE FROM megolm_indexes;
            """)
        #expect(try store.verify() == ["1 events are decrypted but 0 own their session and message index"])
    }

    @Test func theRetryReadsOnlyWaitingEvents() throws {
        for filter in ["", "AND room_id = ?3"] {
            let plan = try store.queryPlan(DecryptionSQL.waitingBatch(roomFilter: filter),
                                           arguments: [.text(""), .int(0)] + (filter.isEmpty ? [] : [.text("r")]))
            #expect(plan.first?.contains("USING INDEX events_waiting_for_keys") == true, "\(plan)")
        }
    }

    /// A retry must not leave a read snapshot open: after another connection (the indexer's) writes, this
    /// connection must still be able to write ("database is locked" otherwise).
    @Test func retryLeavesNoSnapshotBehind() throws {
        _ = try store.retryDecryption(decrypt: decrypt(known: ["S"]))
        let other = try ArchiveStore(directory: directory)
        _ = try other.importMegolmSessions([storedKey("T")], source: "file")
        _ = try store.importMegolmSessions([storedKey("U")], source: "file")
    }

    @Test mutating func aNewKeyRetriesEventsThatFailedUnderTheOldOne() throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [encrypted("c0", id: "$e")],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: { _ in .failed(reason: "bad MAC") })
        #expect(try items()["$e"]?.decryption == .failed)
        _ = try store.importMegolmSessions([storedKey()], source: "file")
        #expect(try items()["$e"]?.decryption == .missingKey)
        #expect(try store.retryDecryption(decrypt: decrypt(known: ["S"])).decrypted == 1)
        #expect(try items()["$e"]?.decryption == .ok)
    }

    @Test mutating func replayIsTheLaterEventWhateverTheDecryptionOrder() throws {
        let first = encrypted("c0", id: "$first")
        let copy = encrypted("c0", id: "$copy")
        // A backward walk stores (and decrypts) the later copy first.
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [copy],
                                        placement: .before, cursors: RoomCursors(backward: .at("b"), forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        #expect(try items()["$copy"]?.decryption == .ok)
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [first],
                                        placement: .before, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        let timeline = try items()
        #expect(timeline["$first"]?.decryption == .ok)
        #expect(timeline["$copy"]?.decryption == .replay)
        #expect(timeline["$copy"]?.content["body"] == nil)
    }

    @Test mutating func encryptedEventsThatCannotBeMegolmAreFailedNotWaiting() throws {
        let olm = factory.event(type: "m.room.encrypted", id: "$olm",
                                content: ["algorithm": "m.olm.v1.curve25519-aes-sha2", "ciphertext": ["x": "y"]])
        let noSession = factory.event(type: "m.room.encrypted", id: "$nosession",
                                      content: ["algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "abc"])
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [olm, noSession],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        let timeline = try items()
        #expect(timeline["$olm"]?.decryption == .failed)
        #expect(timeline["$nosession"]?.decryption == .failed)
        #expect(try store.retryDecryption(decrypt: decrypt(known: ["S"])).attempted == 0)
    }

    @Test mutating func sessionsOnlyImproveTowardsEarlierIndexes() throws {
        func key(_ index: UInt32, _ secret: String) -> MegolmSessionKey {
            MegolmSessionKey(roomID: "!r", sessionID: "S", sessionKey: secret, senderKey: nil, firstMessageIndex: index)
        }
        #expect(try store.importMegolmSessions([key(5, "late")], source: "file").added == 1)
        #expect(try store.importMegolmSessions([key(9, "later")], source: "file").unchanged == 1)
        #expect(try store.megolmSessionKey(roomID: "!r", sessionID: "S") == "late")
        #expect(try store.importMegolmSessions([key(0, "full")], source: "backup:1").improved == 1)
        #expect(try store.megolmSessionKey(roomID: "!r", sessionID: "S") == "full")
    }
}
