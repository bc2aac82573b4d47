import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Edits of encrypted messages in the store, on both paths an encrypted event takes: decrypted as it is
/// stored, and decrypted later when its keys arrive (`keys import` / `keys backup`). The "ciphertext" is
/// a name looked up in `plaintexts` (the store's rules do not depend on libolm; the integration tests use
/// real megolm from the seeder).
@Suite struct EncryptedEditsTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()
    let version = RoomVersion("12")

    init() throws {
        directory = uniqueTemporaryDirectory("mxa-encedit")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    static func text(_ body: String) -> JSONValue { ["msgtype": "m.text", "body": .string(body)] }
    static func replace(_ target: String) -> JSONValue { ["rel_type": "m.replace", "event_id": .string(target)] }

    /// ciphertext → (message index, decrypted content of an m.room.message).
    static let plaintexts: [String: (index: UInt32, content: JSONValue)] = [
        "a": (0, text("message a")),
        "b": (1, text("message b")),
        "c": (2, text("message c")),
        "d": (3, text("message d")),
        "e": (4, text("message e")),
        // The edit of b, whose envelope plants another m.new_content in the clear.
        "edit-b": (5, ["msgtype": "m.text", "body": "* b, edited", "m.new_content": text("b, edited")]),
        // m.replace of c only inside the payload (the envelope has no relation).
        "payload-only": (6, ["msgtype": "m.text", "body": "* c, hijacked", "m.new_content": text("c, hijacked"),
                             "m.relates_to": replace("$c")]),
        // A valid edit of the payload-only event.
        "edit-payload-only": (7, ["msgtype": "m.text", "body": "* fixed", "m.new_content": text("payload-only, edited")]),
        // The clear relation names d, the payload e: a server moved an edit of e onto d. Neither changes.
        "edit-d": (8, ["msgtype": "m.text", "body": "* d, edited", "m.new_content": text("d, edited"),
                       "m.relates_to": replace("$e")]),
    ]

    func decrypt(_ payload: EncryptedPayload) -> DecryptionResult {
        guard let (index, content) = Self.plaintexts[payload.ciphertext] else { return .failed(reason: "unknown") }
        return .decrypted(type: "m.room.message", content: content, messageIndex: index)
    }

    mutating func encrypted(_ ciphertext: String, id: String, clear: [String: JSONValue] = [:]) -> RawEvent {
        var content: [String: JSONValue] = ["algorithm": "m.megolm.v1.aes-sha2", "session_id": "S",
                                            "ciphertext": .string(ciphertext)]
        for (key, value) in clear { content[key] = value }
        return factory.event(type: "m.room.encrypted", id: id, content: .object(content))
    }

    mutating func hostileEvents() -> [RawEvent] {
        [
            encrypted("a", id: "$a"), encrypted("b", id: "$b"), encrypted("c", id: "$c"),
            encrypted("d", id: "$d"), encrypted("e", id: "$e"),
            // A plaintext edit of the encrypted a.
            factory.edit(of: "$a", to: "a, forged in the clear", id: "$plain-edit-a"),
            encrypted("edit-b", id: "$edit-b", clear: ["m.relates_to": Self.replace("$b"),
                                                       "m.new_content": Self.text("b, planted in the clear")]),
            encrypted("payload-only", id: "$payload-only"),
            encrypted("edit-payload-only", id: "$edit-payload-only", clear: ["m.relates_to": Self.replace("$payload-only")]),
            encrypted("edit-d", id: "$edit-d", clear: ["m.relates_to": Self.replace("$d")]),
        ]
    }

    func items(_ store: ArchiveStore) throws -> [String: TimelineItem] {
        var result: [String: TimelineItem] = [:]
        try store.timeline(roomID: factory.roomID) { result[$0.eventID] = $0 }
        return result
    }

    func expectResolvedAsTheSpecSays(_ store: ArchiveStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let timeline = try items(store)
        let expected: [(id: String, body: String, edits: [String])] = [
            ("$a", "message a", []),
            ("$b", "b, edited", ["$edit-b"]),
            ("$c", "message c", []),
            ("$payload-only", "payload-only, edited", ["$edit-payload-only"]),
            ("$d", "message d", []),
            ("$e", "message e", []),
        ]
        #expect(timeline.keys.sorted() == expected.map(\.id).sorted(), sourceLocation: sourceLocation)
        for (id, body, edits) in expected {
            #expect(timeline[id]?.decryption == .ok, "\(id)", sourceLocation: sourceLocation)
            #expect(timeline[id]?.content["body"]?.stringValue == body, "\(id)", sourceLocation: sourceLocation)
            #expect(timeline[id]?.edits == edits, "\(id)", sourceLocation: sourceLocation)
            #expect(timeline[id]?.replacedBy == edits.last, "\(id)", sourceLocation: sourceLocation)
        }
        // The payload-only event shows no relation of its own.
        #expect(timeline["$payload-only"]?.content["m.relates_to"] == nil, sourceLocation: sourceLocation)
        // The plaintext edit is stored, not listed (not a timeline item), and changes nothing.
        let kept = try store.db.statement("SELECT is_timeline_item FROM events WHERE event_id = '$plain-edit-a'").firstRow { $0.int(0) }
        #expect(kept == 0, sourceLocation: sourceLocation)
    }

    @Test mutating func decryptedWhileStored() throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: hostileEvents(),
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt)
        try expectResolvedAsTheSpecSays(store)
    }

    @Test mutating func decryptedWhenKeysArriveLater() throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: hostileEvents(),
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: { _ in .missingKey })
        // Nothing decrypted: neither the plaintext edit nor the m.new_content planted in a clear envelope applies.
        let waiting = try items(store)
        for id in ["$a", "$b", "$c", "$d", "$e", "$payload-only"] {
            #expect(waiting[id]?.decryption == .missingKey, "\(id)")
            #expect(waiting[id]?.edited == false, "\(id)")
            #expect(waiting[id]?.content["body"] == nil, "\(id)")
        }
        _ = try store.importMegolmSessions([MegolmSessionKey(roomID: factory.roomID, sessionID: "S", sessionKey: "k",
                                                             senderKey: nil, firstMessageIndex: 0)], source: "file")
        #expect(try store.retryDecryption(decrypt: decrypt).decrypted == 9)
        try expectResolvedAsTheSpecSays(store)
    }

    /// An archive written before these rules (schema 7) shows a plaintext edit applied and a payload-only
    /// `m.replace` as an edit; opening it re-resolves its encrypted messages (migration 8).
    @Test mutating func anOlderArchiveIsResolvedAgainWhenOpened() throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: hostileEvents(),
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt)
        try store.db.execute("""
            UPDATE events SET current_content = '{"msgtype":"m.text","body":"a, forged in the clear"}',
                replaced_by = '$plain-edit-a', valid_edits = '["$plain-edit-a"]' WHERE event_id = '$a';
            UPDATE events SET decrypted_json = json_set(decrypted_json, '$.content."m.relates_to"',
                    json('{"rel_type":"m.replace","event_id":"$c"}')),
                current_content = NULL, replaced_by = NULL, valid_edits = '[]' WHERE event_id = '$payload-only';
            DROP TABLE edits_to_resolve;
            CREATE TABLE key_backup (id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL,
                                     private_key TEXT NOT NULL, saved_at INTEGER NOT NULL);
            PRAGMA user_version = 7;
            """)
        #expect(try items(store)["$a"]?.content["body"] == "a, forged in the clear")
        // What later migrations create did not exist at schema 7 either.
        try store.db.execute("""
            DROP TABLE member_history;
            DROP INDEX events_sender_key_to_check;
            ALTER TABLE events DROP COLUMN sender_key_status;
            DROP TABLE sync_batch;
            ALTER TABLE rooms DROP COLUMN follows_sync;
            ALTER TABLE rooms DROP COLUMN left_at;
            ALTER TABLE rooms DROP COLUMN waiting_unreported;
            ALTER TABLE rooms DROP COLUMN reported_at;
            ALTER TABLE media_refs DROP COLUMN attempts;
            """)
        let reopened = try ArchiveStore(directory: directory)
        #expect(reopened.schemaVersion == Migrations.all.count)
        #expect(try reopened.resolvePendingEdits())
        try expectResolvedAsTheSpecSays(reopened)
        #expect(try reopened.pendingEditsCount() == 0)
        try expectPayloadRelationsKept(reopened)
    }

    /// Stored payloads stay as decrypted, their own `m.relates_to` too (it is evidence: the edit of d
    /// is rejected by it); only readers apply the clear relation.
    func expectPayloadRelationsKept(_ store: ArchiveStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let relation = try store.db.statement("""
            SELECT json_extract(decrypted_json, '$.content."m.relates_to".event_id') FROM events WHERE event_id = ?
            """)
        #expect(try relation.firstRow(.text("$payload-only")) { $0.text(0) } ?? nil == "$c", sourceLocation: sourceLocation)
        #expect(try relation.firstRow(.text("$edit-d")) { $0.text(0) } ?? nil == "$e", sourceLocation: sourceLocation)
    }

    @Test mutating func storedPayloadsKeepTheirOwnRelation() throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: hostileEvents(),
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt)
        try expectPayloadRelationsKept(store)
        // Readers show the clear relation only.
        #expect(try items(store)["$payload-only"]?.content["m.relates_to"] == nil)
        #expect(try store.contentVersions(of: "$payload-only", validEdits: [])[0].content["m.relates_to"] == nil)
        #expect(try store.eventSummary(roomID: factory.roomID, eventID: "$payload-only")?.content["m.relates_to"] == nil)
    }

    // MARK: Encrypted edits of plaintext messages (no over-application of the encrypted rules)

    @Test mutating func anEncryptedEditOfAPlaintextMessageApplies() throws {
        for keysLater in [false, true] {
            let directory = uniqueTemporaryDirectory("mxa-encedit-plain")
            let store = try ArchiveStore(directory: directory)
            try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
            let events = [
                factory.message("plain original", id: "$plain"),
                encrypted("edit-plain", id: "$edit-plain", clear: ["m.relates_to": Self.replace("$plain")]),
            ]
            let decryptEdit: Decrypt = { payload in
                .decrypted(type: "m.room.message", content: ["msgtype": "m.text", "body": "* plain, edited",
                                                            "m.new_content": Self.text("plain, edited"),
                                                            "m.relates_to": Self.replace("$plain")],
                           messageIndex: 0)
            }
            _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events,
                                            placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                                 decrypt: keysLater ? { _ in .missingKey } : decryptEdit)
            if keysLater {
                #expect(try items(store)["$plain"]?.edited == false)
                _ = try store.importMegolmSessions([MegolmSessionKey(roomID: factory.roomID, sessionID: "S", sessionKey: "k",
                                                                     senderKey: nil, firstMessageIndex: 0)], source: "file")
                #expect(try store.retryDecryption(decrypt: decryptEdit).decrypted == 1)
            }
            let item = try items(store)["$plain"]
            #expect(item?.content["body"] == "plain, edited", "keys later: \(keysLater)")
            #expect(item?.edits == ["$edit-plain"], "keys later: \(keysLater)")
        }
    }

    // MARK: Pending re-resolution (migration 8's list)

    /// Lists `count` messages (none of them stored: each costs a lookup) for re-resolution.
    func listPending(_ store: ArchiveStore, count: Int) throws {
        try store.db.execute("""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < \(count))
            INSERT INTO edits_to_resolve (room_id, event_id) SELECT '\(factory.roomID)', printf('$p%05d', i) FROM n;
            """)
    }

    @Test func openingDoesNotResolveThePendingList() throws {
        try listPending(store, count: 1200)
        // A reader (status, search, export) opens without writing.
        let reader = try ArchiveStore(directory: directory, create: false)
        #expect(try reader.pendingEditsCount() == 1200)
        #expect(try reader.resolvePendingEdits())
        #expect(try reader.pendingEditsCount() == 0)
    }

    @Test func aBusyWriterLeavesTheListForTheNextOpen() throws {
        try listPending(store, count: 10)
        let resolved = try store.db.transaction { () throws -> Bool in
            // Another connection holds the write lock (a sync): the open goes on, the list waits.
            let other = try ArchiveStore(directory: directory, create: false)
            return try other.resolvePendingEdits()
        }
        #expect(resolved == false)
        #expect(try store.pendingEditsCount() == 10)
        #expect(try ArchiveStore(directory: directory, create: false).resolvePendingEdits())
        #expect(try store.pendingEditsCount() == 0)
    }

    /// Each batch commits on its own: a failure (or a kill) in a later batch keeps the earlier ones.
    @Test mutating func finishedBatchesSurviveAFailureInALaterOne() throws {
        try listPending(store, count: 1200)
        // $p00700, in the second batch, is a stored message with an edit whose row cannot be read.
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version,
                                        events: [factory.message("m", id: "$p00700"), factory.edit(of: "$p00700", to: "e", id: "$e700")],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")))
        try store.db.execute("UPDATE events SET raw_json = 'not json' WHERE event_id = '$e700'")
        #expect(throws: (any Error).self) { try store.resolvePendingEdits() }
        #expect(try store.pendingEditsCount() == 1200 - ArchiveStore.pendingEditsBatch)
    }

    // MARK: Edit floods

    /// Edits that cannot be valid (another sender's; a plaintext one of an encrypted message) are never
    /// read: here their rows are unreadable, and the message still resolves.
    @Test mutating func editsThatCannotBeValidAreNotRead() throws {
        let events = [
            factory.message("plain", id: "$plain"), encrypted("a", id: "$a"),
            factory.edit(of: "$plain", to: "flood", sender: "@mallory:example.org", id: "$flood-plain"),
            factory.edit(of: "$a", to: "flood", sender: "@mallory:example.org", id: "$flood-a"),
            factory.edit(of: "$a", to: "plaintext", id: "$plaintext-a"),
        ]
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt)
        try store.db.execute("UPDATE events SET raw_json = 'not json' WHERE event_id IN ('$flood-plain', '$flood-a', '$plaintext-a')")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version,
                                        events: [factory.edit(of: "$plain", to: "plain, edited", id: "$edit-plain"),
                                                 encrypted("edit-b", id: "$edit-a", clear: ["m.relates_to": Self.replace("$a")])],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f2")),
                             decrypt: decrypt)
        let timeline = try items(store)
        #expect(timeline["$plain"]?.content["body"] == "plain, edited")
        #expect(timeline["$a"]?.content["body"] == "b, edited")
    }
}
