import ArchiveCore
@testable import ArchiveService
import ArchiveStore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Testing
import TestSupport

/// The sender-key check end to end over the store and a scripted `/keys/query`, with device keys signed by
/// vodozemac (MatrixCryptoTests/Fixtures/make_device_keys_fixture.py): what the server may forge must not
/// change a status.
@Suite struct SenderKeyCheckTests {
    let store: ArchiveStore
    var factory = EventFactory()
    let alice: JSONValue
    let aliceCurve: String

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-skc"))
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../MatrixCryptoTests/Fixtures/device-keys-fixture.json")
        alice = try JSONCoding.decode(try Data(contentsOf: url))["alice"] ?? .null
        aliceCurve = alice.value(at: "keys", "curve25519:ALICEDEV")?.stringValue ?? ""
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: RoomVersion("12")), state: [])
    }

    /// One decrypted message from alice in session S, whose stored key came with `sessionSenderKey`, and whose
    /// clear envelope carries `clearSenderKey` (which the server can rewrite: it is outside megolm's MAC).
    mutating func archiveMessage(sessionSenderKey: String?, clearSenderKey: String?) throws {
        _ = try store.importMegolmSessions([MegolmSessionKey(roomID: factory.roomID, sessionID: "S", sessionKey: "k",
                                                             senderKey: sessionSenderKey, firstMessageIndex: 0)],
                                           source: "file")
        var content: [String: JSONValue] = ["algorithm": "m.megolm.v1.aes-sha2", "session_id": "S", "ciphertext": "c"]
        if let clearSenderKey { content["sender_key"] = .string(clearSenderKey) }
        let event = factory.event(type: "m.room.encrypted", sender: "@alice:example.org", id: "$m", content: .object(content))
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: RoomVersion("12"), events: [event],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: { _ in .decrypted(type: "m.room.message", content: ["msgtype": "m.text", "body": "hi"],
                                                        messageIndex: 0) })
    }

    func check() async throws -> SenderKeyCheckOutcome {
        let reply = JSONCoding.encode(["device_keys": ["@alice:example.org": ["ALICEDEV": alice]], "failures": [:]])
        let client = MatrixClient(credentials: Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                                           accessToken: "token", refreshToken: nil),
                                  transport: ScriptedTransport([.reply(200, reply)]), retryPolicy: RetryPolicy(maxAttempts: 1))
        return try await SenderKeyCheck(client: client, store: store).run()
    }

    @Test mutating func aRewrittenClearSenderKeyDoesNotBrandAGenuineMessage() async throws {
        try archiveMessage(sessionSenderKey: aliceCurve, clearSenderKey: "rewritten-by-the-server")
        #expect(try await check().statuses == [.verified: 1])
    }

    @Test mutating func aClearSenderKeyDoesNotStandInForTheSessionsMissingOne() async throws {
        // The session came without its sender key: the clear field (alice's real key, copied by anyone) is no proof.
        try archiveMessage(sessionSenderKey: nil, clearSenderKey: aliceCurve)
        #expect(try await check().statuses == [.unknown: 1])
    }
}
