import ArchiveCore
import Foundation
import Testing

/// Issue 9.9 on the real Synapse: names over time, equal names, and what membership changes read as.
/// The room's history is visible to members from their join only, and the archiving account joins after
/// everyone has chosen their first name: the names before Alice's rename reach the archive only as the
/// lazy-loaded member state of the `/messages` pages (and the rename's `unsigned.prev_content`).
@Suite struct MembersOverTimeTests {
    @Test func namesOfTheirTimeAndEveryMembershipSentence() async throws {
        let seed = try Seed.load()
        let owner = try await TestAccount.register(seed: seed, prefix: "owner")
        let archiver = try await TestAccount.register(seed: seed, prefix: "archiver")
        let alice = try await TestAccount.register(seed: seed, prefix: "alice")
        let twin1 = try await TestAccount.register(seed: seed, prefix: "twinone")
        let twin2 = try await TestAccount.register(seed: seed, prefix: "twintwo")
        let carol = try await TestAccount.register(seed: seed, prefix: "carol")
        let dave = try await TestAccount.register(seed: seed, prefix: "dave")
        let bob = try await TestAccount.register(seed: seed, prefix: "bob")
        let erin = try await TestAccount.register(seed: seed, prefix: "erin")
        let roomID = try await owner.createRoom(with: [alice, twin1, twin2, carol, dave])
        try await owner.putState(roomID, "m.room.history_visibility", key: "", ["history_visibility": "joined"])
        try await alice.setRoomProfile(roomID, name: "Alice Early")
        try await twin1.setRoomProfile(roomID, name: "Twin")
        try await twin2.setRoomProfile(roomID, name: "Twin")
        try await owner.act(roomID, "invite", ["user_id": .string(archiver.userID)])
        try await archiver.act(roomID, "join", [:])

        _ = try await alice.sender.send(roomID: roomID, body: "early words one")
        _ = try await alice.sender.send(roomID: roomID, body: "early words two")
        try await alice.setRoomProfile(roomID, name: "Alice Late")
        _ = try await alice.sender.send(roomID: roomID, body: "late words")
        let question = try await twin1.sender.send(roomID: roomID, body: "first twin speaks")
        _ = try await twin2.sender.send(roomID: roomID, type: "m.room.message",
                                        content: ExportRoomBoundaryTests.reply(to: question, "second twin answers"))
        try await owner.act(roomID, "invite", ["user_id": .string(bob.userID)])
        try await bob.act(roomID, "leave", [:])
        try await owner.act(roomID, "invite", ["user_id": .string(erin.userID)])
        try await owner.act(roomID, "kick", ["user_id": .string(erin.userID)])
        try await owner.act(roomID, "kick", ["user_id": .string(carol.userID), "reason": "spam"])
        try await owner.act(roomID, "ban", ["user_id": .string(dave.userID), "reason": "abuse"])
        try await owner.act(roomID, "unban", ["user_id": .string(dave.userID)])
        try await alice.setRoomProfile(roomID, name: "Alice Late", avatar: "mxc://localhost/aliceavatar")
        try await alice.setRoomProfile(roomID, name: "Alice Late", avatar: "mxc://localhost/alicenewavatar")

        let archive = try Archive.loggedIn(seed: seed, userID: archiver.userID, password: archiver.password)
        try archive.sync(["--room", roomID, "--page-size", "2"])

        let txt = try exported(archive, roomID, format: "txt")
        func line(_ text: String) -> String { txt.split(separator: "\n").first { $0.contains(text) }.map(String.init) ?? "" }
        #expect(line("early words one").contains("Alice Early (\(alice.userID)): early words one"))
        #expect(line("early words two").contains("Alice Early (\(alice.userID)): early words two"))
        #expect(line("late words").contains("Alice Late (\(alice.userID)): late words"))
        /// The line saying `sentence` is `actor`'s.
        func said(_ sentence: String, by actor: TestAccount) -> Bool {
            let text = line(": " + sentence)
            return text.contains(actor.userID + "): " + sentence) || text.contains(actor.userID + ": " + sentence)
        }
        #expect(said("changed their display name from Alice Early to Alice Late", by: alice))
        #expect(line("changed their display name from").contains("Alice Early (\(alice.userID))"),
                "a rename is told under the name it replaced")
        #expect(said("set their avatar", by: alice))
        #expect(said("changed their avatar", by: alice))
        #expect(line("second twin answers").contains("(in reply to Twin (\(twin1.userID)): \"first twin speaks\")"))
        #expect(said("rejected the invite", by: bob))
        #expect(said("withdrew the invite of \(erin.userID)", by: owner))
        #expect(said("kicked \(carol.userID) (reason: spam)", by: owner))
        #expect(said("banned \(dave.userID) (reason: abuse)", by: owner))
        #expect(said("unbanned \(dave.userID)", by: owner))

        let html = try exported(archive, roomID, format: "html")
        // A message header shows the id in its own span, so the name beside it stands plain.
        #expect(html.contains("<bdi>Twin</bdi></span><span class=\"mxid\">\(twin1.userID)</span>"))
        #expect(html.contains("<bdi>Twin</bdi></span><span class=\"mxid\">\(twin2.userID)</span>"))
        #expect(html.contains("In reply to <b><bdi>Twin (\(twin1.userID))</bdi></b>"))
        #expect(html.contains("<bdi>Alice Early</bdi></span>") && html.contains("<bdi>Alice Late</bdi></span>"))
        let plainTwins = html.components(separatedBy: "<bdi>Twin</bdi>").dropFirst()
        #expect(plainTwins.allSatisfy { $0.hasPrefix("</span><span class=\"mxid\">") },
                "a shared name never stands without its id")
    }

    /// Every file of a `format` export of the room, joined.
    func exported(_ archive: Archive, _ roomID: String, format: String) throws -> String {
        let out = try scratch("members-\(format)").appendingPathComponent("export")
        try archive.export(["--format", format, "--room", roomID, "--output", out.path])
        var text = ""
        let files = FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            if let data = FileManager.default.contents(atPath: url.path) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }
}

extension TestAccount {
    func putState(_ roomID: String, _ type: String, key: String, _ content: JSONValue) async throws {
        _ = try await TestSender.request(
            "PUT", sender.homeserver + "/_matrix/client/v3/rooms/\(Self.segment(roomID))/state/\(type)/\(Self.segment(key))",
            body: content, token: sender.token)
    }

    /// A display name (and avatar) for this room only: a member event of its own.
    func setRoomProfile(_ roomID: String, name: String, avatar: String? = nil) async throws {
        var content: [String: JSONValue] = ["membership": "join", "displayname": .string(name)]
        if let avatar { content["avatar_url"] = .string(avatar) }
        try await putState(roomID, "m.room.member", key: userID, .object(content))
    }

    /// `POST /rooms/{roomID}/<action>` (join, leave, invite, kick, ban, unban).
    func act(_ roomID: String, _ action: String, _ body: JSONValue) async throws {
        _ = try await TestSender.post(sender.homeserver + "/_matrix/client/v3/rooms/\(Self.segment(roomID))/\(action)",
                                      body: body, token: sender.token)
    }
}
