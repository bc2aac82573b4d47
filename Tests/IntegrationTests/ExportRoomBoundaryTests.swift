import ArchiveCore
import Foundation
import Testing

/// Issues 9.2 and 12.1 on the real Synapse, which rejects nothing here (`m.in_reply_to` is opaque content):
/// a reply in one room naming another room's message. Exporting the replying room must not publish the
/// other room's text; a reply inside the room still quotes its target.
@Suite struct ExportRoomBoundaryTests {
    static func reply(to eventID: String, _ body: String) -> JSONValue {
        ["msgtype": "m.text", "body": .string(body), "m.relates_to": ["m.in_reply_to": ["event_id": .string(eventID)]]]
    }

    @Test func aReplyToAnotherRoomsMessageQuotesNothingOfIt() async throws {
        let seed = try Seed.load()
        let account = try await TestAccount.register(seed: seed, prefix: "quoter")
        let privateRoom = try await account.createRoom(with: [])
        let publicRoom = try await account.createRoom(with: [])
        let secret = try await account.sender.send(roomID: privateRoom, body: "the private room's secret")
        let visible = try await account.sender.send(roomID: publicRoom, body: "said in the public room")
        _ = try await account.sender.send(roomID: publicRoom, type: "m.room.message", content: Self.reply(to: secret, "a reply across rooms"))
        _ = try await account.sender.send(roomID: publicRoom, type: "m.room.message", content: Self.reply(to: visible, "a reply inside the room"))

        let archive = try Archive.loggedIn(seed: seed, userID: account.userID, password: account.password)
        try archive.sync(["--room", privateRoom, "--room", publicRoom])
        for format in ["txt", "html"] {
            let out = try scratch("quote-\(format)").appendingPathComponent("export")
            try archive.export(["--format", format, "--room", publicRoom, "--output", out.path])
            var text = ""
            let files = FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)
            while let url = files?.nextObject() as? URL {
                if let data = FileManager.default.contents(atPath: url.path) { text += String(decoding: data, as: UTF8.self) }
            }
            #expect(!text.contains("the private room's secret"), "\(format) export publishes another room's message")
            #expect(text.contains("not in this export"), "\(format)")
            #expect(text.contains("a reply across rooms") && text.contains("a reply inside the room"), "\(format)")
            let quote = format == "html" ? ": <bdi>said in the public room</bdi></blockquote>" : ": \"said in the public room\")"
            #expect(text.contains(quote), "\(format): the reply inside the room quotes its target")
        }
    }
}
