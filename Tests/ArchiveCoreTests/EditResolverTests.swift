import ArchiveCore
import Testing
import TestSupport

@Suite struct EditResolverTests {
    var factory = EventFactory()

    func subject(_ event: RawEvent, redacted: Bool = false) -> EditSubject { EditSubject(event, isRedacted: redacted) }

    @Test mutating func validEditReplacesContentAndKeepsOriginalRelation() {
        let original = factory.event(content: [
            "msgtype": "m.text", "body": "hello",
            "m.relates_to": ["m.in_reply_to": ["event_id": "$parent"]],
        ])
        let edit = factory.edit(of: original.eventID, to: "hello, world")
        let resolved = EditResolver.resolve(original: subject(original), edits: [subject(edit)])
        #expect(resolved.winner == edit.eventID)
        #expect(resolved.currentContent["body"] == "hello, world")
        #expect(resolved.currentContent.value(at: "m.relates_to", "m.in_reply_to", "event_id") == "$parent")
        #expect(resolved.validEdits == [edit.eventID])
    }

    @Test mutating func everyValidityRuleRejects() {
        let original = factory.message("original")
        let otherSender = factory.edit(of: original.eventID, to: "x", sender: "@mallory:example.org")
        let noNewContent = factory.edit(of: original.eventID, to: "x", withNewContent: false)
        let otherType = factory.event(type: "m.sticker", content: [
            "m.relates_to": ["rel_type": "m.replace", "event_id": .string(original.eventID)],
            "m.new_content": ["body": "x"],
        ])
        let stateEdit = factory.event(stateKey: "", content: [
            "m.relates_to": ["rel_type": "m.replace", "event_id": .string(original.eventID)],
            "m.new_content": ["body": "x"],
        ])
        var otherRoomFactory = EventFactory(roomID: "!other:example.org")
        let otherRoom = otherRoomFactory.edit(of: original.eventID, to: "x")
        let redactedEdit = factory.edit(of: original.eventID, to: "x")
        let resolved = EditResolver.resolve(original: subject(original), edits: [
            subject(otherSender), subject(noNewContent), subject(otherType), subject(stateEdit),
            subject(otherRoom), subject(redactedEdit, redacted: true),
        ])
        #expect(resolved.winner == nil)
        #expect(resolved.currentContent["body"] == "original")
        #expect(resolved.rejected[otherSender.eventID] == .otherSender)
        #expect(resolved.rejected[noNewContent.eventID] == .missingNewContent)
        #expect(resolved.rejected[otherType.eventID] == .otherType)
        #expect(resolved.rejected[stateEdit.eventID] == .stateEvent)
        #expect(resolved.rejected[otherRoom.eventID] == .otherRoom)
        #expect(resolved.rejected[redactedEdit.eventID] == .redacted)
    }

    @Test mutating func anEditOfAnEditIsInvalid() {
        let original = factory.message("a")
        let edit = factory.edit(of: original.eventID, to: "b")
        let editOfEdit = factory.edit(of: edit.eventID, to: "c")
        let resolved = EditResolver.resolve(original: subject(edit), edits: [subject(editOfEdit)])
        #expect(resolved.rejected[editOfEdit.eventID] == .originalIsAnEdit)
    }

    @Test mutating func greatestTimestampWinsAndTiesGoToGreatestEventIDInAnyOrder() {
        let original = factory.message("v0")
        let early = factory.edit(of: original.eventID, to: "early", id: "$zzz", ts: 100)
        let tieLow = factory.edit(of: original.eventID, to: "tie-low", id: "$aaa", ts: 200)
        let tieHigh = factory.edit(of: original.eventID, to: "tie-high", id: "$bbb", ts: 200)
        let edits = [early, tieLow, tieHigh]
        for permutation in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let resolved = EditResolver.resolve(original: subject(original),
                                                edits: permutation.map { subject(edits[$0]) })
            #expect(resolved.winner == "$bbb")
            #expect(resolved.currentContent["body"] == "tie-high")
            #expect(resolved.validEdits == ["$zzz", "$aaa", "$bbb"])
        }
    }

    @Test mutating func aRedactedOriginalShowsNoEdit() {
        let original = factory.message("secret")
        let edit = factory.edit(of: original.eventID, to: "more secret")
        let resolved = EditResolver.resolve(original: subject(original, redacted: true), edits: [subject(edit)])
        #expect(resolved.winner == nil)
    }
}

/// Edits of encrypted messages (spec, Event replacements and End-to-end encryption): the replacement must be
/// encrypted too, `m.new_content` comes only from the decrypted payload, and the relation only from the clear
/// envelope.
@Suite struct EncryptedEditResolverTests {
    var factory = EventFactory()

    /// An `m.room.encrypted` event with `clear` as its envelope's extra keys (`m.relates_to`, a planted
    /// `m.new_content`).
    mutating func envelope(clear: [String: JSONValue] = [:], id: String? = nil) -> RawEvent {
        var content: [String: JSONValue] = ["algorithm": "m.megolm.v1.aes-sha2", "session_id": "S", "ciphertext": "x"]
        for (key, value) in clear { content[key] = value }
        return factory.event(type: "m.room.encrypted", id: id, content: .object(content))
    }

    func decrypted(_ event: RawEvent, _ content: JSONValue) -> EditSubject {
        EditSubject(event, decrypted: (type: "m.room.message", content: content), isRedacted: false)
    }

    func replace(_ target: String) -> JSONValue { ["rel_type": "m.replace", "event_id": .string(target)] }

    func edit(_ body: String, relatesTo: JSONValue? = nil) -> JSONValue {
        var content: [String: JSONValue] = ["msgtype": "m.text", "body": .string("* \(body)"),
                                            "m.new_content": ["msgtype": "m.text", "body": .string(body)]]
        if let relatesTo { content["m.relates_to"] = relatesTo }
        return .object(content)
    }

    let hello: JSONValue = ["msgtype": "m.text", "body": "hello"]

    @Test mutating func aPlaintextEditOfAnEncryptedMessageIsInvalid() {
        let original = decrypted(envelope(), hello)
        let plaintext = factory.edit(of: original.eventID, to: "forged in the clear")
        let resolved = EditResolver.resolve(original: original, edits: [EditSubject(plaintext, isRedacted: false)])
        #expect(resolved.rejected[plaintext.eventID] == .unencryptedEditOfEncrypted)
        #expect(resolved.winner == nil)
        #expect(resolved.currentContent["body"] == "hello")
        // Still waiting for its key, the original cannot be edited in the clear either.
        let waiting = EditSubject(envelope(id: "$waiting"), isRedacted: false)
        let plainEdit = EditSubject(factory.edit(of: "$waiting", to: "x"), isRedacted: false)
        #expect(EditResolver.validate(edit: plainEdit, of: waiting) == .unencryptedEditOfEncrypted)
        // An encrypted edit of the encrypted message is valid.
        let encrypted = envelope(clear: ["m.relates_to": replace(original.eventID)])
        #expect(EditResolver.validate(edit: decrypted(encrypted, edit("fine")), of: original) == nil)
    }

    @Test mutating func newContentComesOnlyFromThePayload() {
        let original = decrypted(envelope(), hello)
        let planted: JSONValue = ["msgtype": "m.text", "body": "planted in the clear"]
        let event = envelope(clear: ["m.relates_to": replace(original.eventID), "m.new_content": planted])
        let resolved = EditResolver.resolve(original: original, edits: [decrypted(event, edit("the real edit"))])
        #expect(resolved.winner == event.eventID)
        #expect(resolved.currentContent["body"] == "the real edit")
        // A payload without m.new_content is no edit, whatever the clear says.
        let empty = envelope(clear: ["m.relates_to": replace(original.eventID), "m.new_content": planted])
        let noNewContent = decrypted(empty, ["msgtype": "m.text", "body": "* nothing"])
        #expect(EditResolver.validate(edit: noNewContent, of: original) == .missingNewContent)
        // Not decrypted: the planted content is never read, even when the original waits too.
        let undecrypted = EditSubject(event, isRedacted: false)
        #expect(EditResolver.validate(edit: undecrypted, of: original) == .editNotDecrypted)
        let waiting = EditSubject(envelope(id: "$waiting"), isRedacted: false)
        let bothWaiting = EditSubject(envelope(clear: ["m.relates_to": replace("$waiting"), "m.new_content": planted]),
                                      isRedacted: false)
        let unresolved = EditResolver.resolve(original: waiting, edits: [bothWaiting])
        #expect(unresolved.winner == nil)
        #expect(unresolved.currentContent["body"] == nil)
        #expect(unresolved.rejected[bothWaiting.eventID] == .originalNotDecrypted)
    }

    @Test mutating func thePayloadsOwnRelationIsIgnored() {
        let original = decrypted(envelope(id: "$original"), hello)
        // m.replace only inside the payload: a message of its own, which can itself be edited.
        let payloadOnly = decrypted(envelope(id: "$payload-only"), edit("hijack", relatesTo: replace("$original")))
        #expect(payloadOnly.content["m.relates_to"] == nil)
        #expect(EditResolver.validate(edit: payloadOnly, of: original) == .notAnEditOfThisEvent)
        let editOfIt = decrypted(envelope(clear: ["m.relates_to": replace("$payload-only")]), edit("edited normally"))
        #expect(EditResolver.resolve(original: payloadOnly, edits: [editOfIt]).winner == editOfIt.eventID)
    }

    /// A server that rewrites the clear relation of a genuine edit moves it onto another message: the
    /// payload, which clients fill with the same relation, gives it away.
    @Test mutating func anEditWhosePayloadNamesAnotherRelationIsRejected() {
        let original = decrypted(envelope(id: "$original"), hello)
        let other = decrypted(envelope(id: "$other"), hello)
        let moved = decrypted(envelope(clear: ["m.relates_to": replace("$original")]),
                              edit("edit of the other", relatesTo: replace("$other")))
        #expect(EditResolver.validate(edit: moved, of: original) == .payloadRelationMismatch)
        #expect(EditResolver.validate(edit: moved, of: other) == .notAnEditOfThisEvent)
        let resolved = EditResolver.resolve(original: original, edits: [moved])
        #expect(resolved.winner == nil && resolved.currentContent["body"] == "hello")
        // Another rel_type inside (an annotation or thread payload) is no edit either.
        let otherKind = decrypted(envelope(clear: ["m.relates_to": replace("$original")]),
                                  edit("x", relatesTo: ["rel_type": "m.thread", "event_id": "$original"]))
        #expect(EditResolver.validate(edit: otherKind, of: original) == .payloadRelationMismatch)
        // The same relation inside and outside, as clients send it, or none inside: valid.
        let same = decrypted(envelope(clear: ["m.relates_to": replace("$original")]),
                             edit("fine", relatesTo: replace("$original")))
        #expect(EditResolver.validate(edit: same, of: original) == nil)
        let noneInside = decrypted(envelope(clear: ["m.relates_to": replace("$original")]), edit("fine too"))
        #expect(EditResolver.validate(edit: noneInside, of: original) == nil)
    }

    /// The encrypted rules do not over-apply: an encrypted edit of a plaintext message is valid.
    @Test mutating func anEncryptedEditOfAPlaintextMessageIsValid() {
        let plain = factory.message("plain", id: "$plain")
        let original = EditSubject(plain, isRedacted: false)
        let encryptedEdit = decrypted(envelope(clear: ["m.relates_to": replace("$plain")]),
                                      edit("plain, edited", relatesTo: replace("$plain")))
        let resolved = EditResolver.resolve(original: original, edits: [encryptedEdit])
        #expect(resolved.winner == encryptedEdit.eventID)
        #expect(resolved.currentContent["body"] == "plain, edited")
    }

    @Test func decryptedContentKeepsOnlyTheClearRelation() {
        let payload: JSONValue = ["body": "b", "m.relates_to": ["rel_type": "m.replace", "event_id": "$a"]]
        #expect(JSONValue.decryptedContent(payload, envelope: ["ciphertext": "x"])["m.relates_to"] == nil)
        let clear: JSONValue = ["ciphertext": "x", "m.relates_to": ["rel_type": "m.replace", "event_id": "$b"]]
        #expect(JSONValue.decryptedContent(payload, envelope: clear).value(at: "m.relates_to", "event_id") == "$b")
        #expect(JSONValue.decryptedContent(payload, envelope: clear)["body"] == "b")
    }
}
