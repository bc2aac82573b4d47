import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// The store's side of the sender-key check (issue 9.8): which events the next sync re-checks, who it asks
/// about, and that an edit from another user's session cannot put words into a verified message.
@Suite struct SenderKeyStoreTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()
    let version = RoomVersion("12")

    init() throws {
        directory = uniqueTemporaryDirectory("mxa-sk")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    static let plaintexts: [String: JSONValue] = [
        "orig": ["msgtype": "m.text", "body": "pay Alice"],
        "edit": ["msgtype": "m.text", "body": "* pay Mallory", "m.new_content": ["msgtype": "m.text", "body": "pay Mallory"]],
        "other": ["msgtype": "m.text", "body": "bob here"],
    ]

    /// Events whose session is named in the "ciphertext"; every one decrypts (the rules do not depend on libolm).
    mutating func encrypted(_ ciphertext: String, id: String, sender: String = "@alice:example.org",
                            session: String = "S", relatesTo: JSONValue? = nil) -> RawEvent {
        var content: [String: JSONValue] = ["algorithm": "m.megolm.v1.aes-sha2", "session_id": .string(session),
                                            "ciphertext": .string(ciphertext)]
        if let relatesTo { content["m.relates_to"] = relatesTo }
        return factory.event(type: "m.room.encrypted", sender: sender, id: id, content: .object(content))
    }

    func ingest(_ events: [RawEvent]) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events, placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: { payload in
                                 guard let content = Self.plaintexts[payload.ciphertext] else { return .failed(reason: "bad") }
                                 return .decrypted(type: "m.room.message", content: content, messageIndex: 0)
                             })
    }

    func body(_ eventID: String) throws -> String? {
        var result: String?
        try store.timeline(roomID: factory.roomID) { if $0.eventID == eventID { result = $0.content["body"]?.stringValue } }
        return result
    }

    @Test mutating func aMismatchIsCheckedAgainOnTheNextSync() throws {
        try ingest([encrypted("orig", id: "$a"), encrypted("other", id: "$b")])
        try store.recordSenderKeyStatuses(["$a": .mismatch, "$b": .verified])
        // The claim a mismatch rests on can be withdrawn (or was a forgery): only `verified` is settled.
        #expect(try store.senderKeyCandidates().map(\.eventID) == ["$a"])
    }

    func session(_ id: String, key: String) -> MegolmSessionKey {
        MegolmSessionKey(roomID: factory.roomID, sessionID: id, sessionKey: "k", senderKey: key, firstMessageIndex: 0)
    }

    @Test mutating func theSendersOfEverySessionWithACandidatesKeyAreAskedAbout() throws {
        _ = try store.importMegolmSessions([session("S", key: "alice-dev"), session("A", key: "alice-dev"),
                                            session("T", key: "carol-dev")], source: "file")
        // Bob's message in a session of alice's device (key alice-dev); alice's own messages there are
        // verified already, so she is no candidate, yet she must be asked again or the mismatch turns unknown.
        try ingest([encrypted("other", id: "$b", sender: "@bob:example.org", session: "S"),
                    encrypted("orig", id: "$a", session: "A"),
                    encrypted("other", id: "$c", sender: "@carol:example.org", session: "T")])
        try store.recordSenderKeyStatuses(["$b": .mismatch, "$a": .verified, "$c": .verified])
        #expect(try store.sendersSharingSessionsWithCandidates() == ["@alice:example.org", "@bob:example.org"])
    }

    @Test mutating func anEditFromAnotherUsersSessionDoesNotReplaceAVerifiedMessage() throws {
        // Same sender as far as the server says; the edit's session is Mallory's.
        try ingest([encrypted("orig", id: "$orig", session: "S"),
                    encrypted("edit", id: "$edit", session: "M", relatesTo: ["rel_type": "m.replace", "event_id": "$orig"])])
        #expect(try body("$orig") == "pay Mallory")  // nothing checked yet: the edit rules alone
        try store.recordSenderKeyStatuses(["$orig": .verified, "$edit": .mismatch])
        #expect(try body("$orig") == "pay Alice")
        // A later check clears the edit (Mallory withdrew the key; the sender's device has it): it applies again.
        try store.recordSenderKeyStatuses(["$edit": .verified])
        #expect(try body("$orig") == "pay Mallory")
    }

    @Test func theCheckReadsOnlyItsPartialIndex() throws {
        // Both queries must come from `events_sender_key_to_check`, mismatch rows included (migration 12):
        // a sync of an archive whose events are all verified then costs nothing here.
        for sql in [SenderKeySQL.candidates, SenderKeySQL.sendersSharingSessions] {
            let plan = try store.queryPlan(sql, arguments: [])
            #expect(plan.contains { $0.contains("USING INDEX events_sender_key_to_check") }, "\(plan)")
        }
    }
}
