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
        // The clear relation names d, the payload e.
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
            ("$d", "d, edited", ["$edit-d"]),
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
        // The plaintext edit is kept in the archive, as an event of its own that changes nothing.
        let kept = try store.db.statement("SELECT count(*) FROM events WHERE event_id = '$plain-edit-a'").firstRow { $0.int(0) }
        #expect(kept == 1, sourceLocation: sourceLocation)
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
        try store.db.execute("DROP TABLE member_history;")
        let reopened = try ArchiveStore(directory: directory)
        #expect(reopened.schemaVersion == Migrations.all.count)
        try expectResolvedAsTheSpecSays(reopened)
        #expect(try reopened.db.statement("SELECT count(*) FROM edits_to_resolve").firstRow { $0.int(0) } == 0)
        // The stored payload loses its own relation; one in the clear stays.
        let relation = try reopened.db.statement("""
            SELECT json_extract(decrypted_json, '$.content."m.relates_to".event_id') FROM events WHERE event_id = ?
            """)
        #expect(try relation.firstRow(.text("$payload-only")) { $0.text(0) } ?? nil == nil)
        #expect(try relation.firstRow(.text("$edit-d")) { $0.text(0) } ?? nil == "$d")
    }
}
