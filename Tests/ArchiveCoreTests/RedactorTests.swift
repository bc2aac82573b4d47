import ArchiveCore
import Testing
import TestSupport

@Suite struct RedactorTests {
    var factory = EventFactory()

    @Test mutating func aMessageKeepsNoContent() {
        let message = factory.message("private words")
        let redacted = Redactor.redact(message.json, roomVersion: RoomVersion("12"), because: nil)
        #expect(redacted["content"] == .object([:]))
        #expect(redacted["event_id"] == .string(message.eventID))
        #expect(redacted["sender"] == .string(message.sender))
    }

    @Test mutating func memberEventsKeepMembershipOnly() {
        let member = factory.event(type: "m.room.member", stateKey: "@bob:example.org", content: [
            "membership": "join", "displayname": "Bob", "avatar_url": "mxc://x/y",
        ])
        let redacted = Redactor.redact(member.json, roomVersion: RoomVersion("10"), because: nil)
        #expect(redacted["content"] == ["membership": "join"])
        #expect(redacted["state_key"] == "@bob:example.org")
    }

    @Test mutating func createEventRulesChangeInVersion11() {
        let create = factory.event(type: "m.room.create", stateKey: "", content: [
            "creator": "@alice:example.org", "room_version": "11", "m.federate": false,
        ])
        #expect(Redactor.redact(create.json, roomVersion: RoomVersion("10"), because: nil)["content"]
                == ["creator": "@alice:example.org"])
        #expect(Redactor.redact(create.json, roomVersion: RoomVersion("11"), because: nil)["content"]
                == create.content)
    }

    @Test mutating func joinRulesAndPowerLevelsFollowTheirVersions() {
        let joinRules = factory.event(type: "m.room.join_rules", stateKey: "", content: [
            "join_rule": "restricted", "allow": [["type": "m.room_membership"]], "extra": 1,
        ])
        #expect(Redactor.redact(joinRules.json, roomVersion: RoomVersion("7"), because: nil)["content"]
                == ["join_rule": "restricted"])
        #expect(Redactor.redact(joinRules.json, roomVersion: RoomVersion("8"), because: nil)["content"]
                == ["join_rule": "restricted", "allow": [["type": "m.room_membership"]]])
        let power = factory.event(type: "m.room.power_levels", stateKey: "", content: [
            "ban": 50, "invite": 0, "notifications": ["room": 50],
        ])
        #expect(Redactor.redact(power.json, roomVersion: RoomVersion("10"), because: nil)["content"] == ["ban": 50])
        #expect(Redactor.redact(power.json, roomVersion: RoomVersion("11"), because: nil)["content"]
                == ["ban": 50, "invite": 0])
    }

    @Test mutating func topLevelKeysOfVersion11DropOriginAndMembership() {
        let event = factory.event(content: ["body": "x"], extra: ["origin": "example.org", "membership": "join"])
        #expect(Redactor.redact(event.json, roomVersion: RoomVersion("10"), because: nil)["origin"] == "example.org")
        #expect(Redactor.redact(event.json, roomVersion: RoomVersion("11"), because: nil)["origin"] == nil)
    }

    @Test mutating func redactionTargetMovesIntoContentInVersion11() {
        let modern = factory.redaction(of: "$target", v11: true)
        let legacy = factory.redaction(of: "$target", v11: false)
        #expect(modern.redactionTarget(roomVersion: RoomVersion("12")) == "$target")
        #expect(legacy.redactionTarget(roomVersion: RoomVersion("10")) == "$target")
        // A v11 redaction keeps its `redacts` when it is itself redacted.
        let redacted = Redactor.redact(modern.json, roomVersion: RoomVersion("11"), because: nil)
        #expect(redacted["content"] == ["redacts": "$target"])
    }
}
