import ArchiveCore
import Foundation
import Testing

/// Issue 9.1 on the real Synapse: when every event of a `/messages` page is hidden from the account (here:
/// a user it ignores floods the room), Synapse answers `chunk: []` with an `end` ("there might be more in
/// next_token batch", handlers/pagination.py). The archive must page on through the flood, in both
/// directions and across syncs, and keep everything visible on both sides of it.
@Suite struct HiddenEventsTests {
    /// Bodies of the archived messages, in timeline order.
    func bodies(_ archive: Archive, _ roomID: String) throws -> [String] {
        try archive.events(roomID).filter { $0["type"] == "m.room.message" }
            .compactMap { $0.value(at: "content", "body")?.stringValue }
    }

    @Test func floodsOfAnIgnoredUserDoNotEndTheWalk() async throws {
        let seed = try Seed.load()
        let archiver = try await TestAccount.register(seed: seed, prefix: "archiver")
        let speaker = try await TestAccount.register(seed: seed, prefix: "speaker")
        let flooder = try await TestAccount.register(seed: seed, prefix: "flooder")
        let roomID = try await speaker.createRoom(with: [archiver, flooder])
        try await archiver.ignore([flooder])

        var visible: [String] = []
        func speak(_ label: String) async throws {
            for n in 1...2 {
                let body = "\(label) \(n)"
                _ = try await speaker.sender.send(roomID: roomID, body: body)
                visible.append(body)
            }
        }
        // Each flood is several pages of 3 in a row: pages with no visible event at all.
        func flood(_ count: Int) async throws {
            for n in 1...count { _ = try await flooder.sender.send(roomID: roomID, body: "ignored \(n)") }
        }
        try await speak("before")
        try await flood(10)
        try await speak("between")
        try await flood(10)
        try await speak("after")

        let backward = try Archive.loggedIn(seed: seed, userID: archiver.userID, password: archiver.password)
        try backward.sync(["--room", roomID, "--page-size", "3"])
        #expect(try bodies(backward, roomID) == visible, "a backward walk stopped at an empty page")

        let forward = try Archive.loggedIn(seed: seed, userID: archiver.userID, password: archiver.password)
        try forward.sync(["--room", roomID, "--page-size", "3", "--from-start"])
        #expect(try bodies(forward, roomID) == visible, "a forward walk stopped at an empty page")

        // Overnight: another flood, then news. The next sync of either archive walks through the flood.
        try await flood(10)
        try await speak("later")
        for archive in [backward, forward] {
            try archive.sync(["--page-size", "3"])
            #expect(try bodies(archive, roomID) == visible, "the next sync stopped at an empty page")
            #expect(try archive.events(roomID).allSatisfy { $0["sender"]?.stringValue != flooder.userID
                                                            || $0["type"] != "m.room.message" })
            #expect(try archive.run(["verify"]).status == 0)
        }
    }
}
