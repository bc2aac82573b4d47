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
