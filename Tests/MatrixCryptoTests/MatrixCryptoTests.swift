import ArchiveCore
import Foundation
@testable import MatrixCrypto
import Testing

/// The key formats and megolm against a fixture written by an independent implementation (vodozemac and
/// Python `cryptography`, see Fixtures/make_e2e_fixture.py), never by this code.
@Suite struct MatrixCryptoTests {
    let fixture: JSONValue

    init() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/e2e-fixture.json")
        fixture = try JSONCoding.decode(try Data(contentsOf: url))
    }

    func text(_ path: String...) -> String {
        var value: JSONValue? = fixture
        for key in path { value = value?[key] }
        return value?.stringValue ?? ""
    }

    @Test func megolmDecryptsVodozemacMessagesAndKnowsItsFirstIndex() throws {
        let session = try InboundGroupSession(sessionKey: text("megolm", "export_at_0"))
        #expect(session.sessionID == text("megolm", "session_id"))
        #expect(session.firstKnownIndex == 0)
        for message in fixture.value(at: "megolm", "messages")?.arrayValue ?? [] {
            let (plaintext, index) = try session.decrypt(message["ciphertext"]?.stringValue ?? "")
            let json = try JSONCoding.decode(Data(plaintext))
            #expect(json.value(at: "content", "body")?.stringValue == message["body"]?.stringValue)
            #expect(Int64(index) == message["index"]?.int64Value)
        }
        let late = try InboundGroupSession(sessionKey: text("megolm", "export_at_2"))
        #expect(late.firstKnownIndex == 2)
        #expect(throws: OlmError.unknownMessageIndex) {
            try late.decrypt(fixture.value(at: "megolm", "messages")?.arrayValue?[0]["ciphertext"]?.stringValue ?? "")
        }
    }

    @Test func decryptorGivesStatusesAsValues() throws {
        let room = text("room_id")
        let sessionID = text("megolm", "session_id")
        var key: String? = text("megolm", "export_at_2")
        let decryptor = MegolmDecryptor { _, _ in key }
        let messages = fixture.value(at: "megolm", "messages")?.arrayValue ?? []
        func payload(_ ciphertext: String, room: String = room) -> EncryptedPayload {
            EncryptedPayload(eventID: "$x", roomID: room, sessionID: sessionID, ciphertext: ciphertext)
        }
        #expect(decryptor.decrypt(payload(messages[0]["ciphertext"]!.stringValue!)) == .unknownIndex)
        guard case .decrypted(let type, let content, 2) = decryptor.decrypt(payload(messages[2]["ciphertext"]!.stringValue!))
        else { Issue.record("message 2 did not decrypt"); return }
        #expect(type == "m.room.message")
        #expect(content["body"]?.stringValue == "third")
        #expect(decryptor.decrypt(payload(text("megolm", "wrong_room_ciphertext"))) == .roomMismatch)
        if case .failed = decryptor.decrypt(payload("AAAA" + messages[2]["ciphertext"]!.stringValue!.dropFirst(4))) {
        } else { Issue.record("a damaged ciphertext must be `failed`") }
        key = nil
        #expect(MegolmDecryptor { _, _ in key }.decrypt(payload(messages[0]["ciphertext"]!.stringValue!)) == .missingKey)
    }

    /// An exported key with the session's public key but another ratchet: imports under the same id.
    func forgedKey() -> String {
        var bytes = Base64Unpadded.decode(text("megolm", "export_at_0"))!
        for i in 5..<(5 + 128) { bytes[i] ^= 0x5A }
        return Base64Unpadded.encode(bytes)
    }

    @Test func forgedOrContradictingKeysAreRefused() throws {
        let room = text("room_id")
        let sessionID = text("megolm", "session_id")
        #expect(try InboundGroupSession(sessionKey: forgedKey()).sessionID == sessionID)
        let samples = (fixture.value(at: "megolm", "messages")?.arrayValue ?? []).map {
            EncryptedPayload(eventID: "$x", roomID: room, sessionID: sessionID, ciphertext: $0["ciphertext"]?.stringValue ?? "")
        }
        func key(_ sessionKey: String) -> MegolmSessionKey {
            MegolmSessionKey(roomID: room, sessionID: sessionID, sessionKey: sessionKey, senderKey: nil, firstMessageIndex: 0)
        }
        // Against archived messages: the forged key fails their MAC; the real one decrypts them.
        #expect(SessionKeyVetting.vet(key(forgedKey()), storedKey: nil, samples: samples) != .accept)
        #expect(SessionKeyVetting.vet(key(text("megolm", "export_at_0")), storedKey: nil, samples: samples) == .accept)
        // Nothing archived to test against: accepted, but a later key must agree with it.
        #expect(SessionKeyVetting.vet(key(forgedKey()), storedKey: nil, samples: []) == .accept)
        #expect(SessionKeyVetting.consistent(text("megolm", "export_at_0"), text("megolm", "export_at_2")))
        #expect(!SessionKeyVetting.consistent(forgedKey(), text("megolm", "export_at_2")))
        #expect(SessionKeyVetting.vet(key(text("megolm", "export_at_0")), storedKey: forgedKey(), samples: []) != .accept)
    }

    @Test func recoveryKeyParsesAndRejectsTypos() throws {
        let key = try RecoveryKey(parsing: text("backup", "recovery_key"))
        #expect(Base64Unpadded.encode(key.key) == text("backup", "private_key"))
        #expect(key.encoded == text("backup", "recovery_key"))
        var typo = Array(text("backup", "recovery_key"))
        typo[5] = typo[5] == "a" ? "b" : "a"
        #expect(throws: RecoveryKey.Problem.badParity) { try RecoveryKey(parsing: String(typo)) }
        #expect(throws: RecoveryKey.Problem.notBase58) { try RecoveryKey(parsing: "0OIl" + String(typo)) }
    }

    @Test func keyBackupSessionDecryptsOnlyWithTheMatchingKey() throws {
        let versionInfo: JSONValue = ["version": "1", "algorithm": .string(KeyBackupDecryptor.algorithm),
                                      "auth_data": ["public_key": .string(text("backup", "public_key"))]]
        let backup = try KeyBackupDecryptor(privateKey: Base64Unpadded.decode(text("backup", "private_key"))!,
                                            versionInfo: versionInfo)
        let keyData: JSONValue = ["first_message_index": 0, "session_data": fixture.value(at: "backup", "session_data")!]
        let session = try backup.decryptSession(roomID: text("room_id"), sessionID: text("megolm", "session_id"),
                                                keyData: keyData)
        #expect(session.firstMessageIndex == 0)
        #expect(session.senderKey == "fixture-sender")
        // A tampered MAC is refused.
        var tampered = fixture.value(at: "backup", "session_data")!.objectValue!
        let mac = tampered["mac"]!.stringValue!
        tampered["mac"] = .string((mac.first == "A" ? "B" : "A") + mac.dropFirst())
        #expect(throws: (any Error).self) {
            try backup.decryptSession(roomID: "r", sessionID: "s", keyData: ["session_data": .object(tampered)])
        }
        // Another key is refused before anything is decrypted.
        #expect(throws: KeyMaterialError.backupKeyMismatch(version: "1")) {
            try KeyBackupDecryptor(privateKey: [UInt8](repeating: 7, count: 32), versionInfo: versionInfo)
        }
    }

    @Test func secretStorageOpensWithRecoveryKeyOrPassphrase() throws {
        let description = try SecretStorageKey.Description(keyID: "fixturekey",
                                                           json: fixture.value(at: "secret_storage", "description")!)
        let fromRecovery = try SecretStorageKey(key: RecoveryKey(parsing: text("secret_storage", "recovery_key")).key,
                                                description: description)
        let derived = try description.passphrase!.deriveKey(from: text("secret_storage", "passphrase"))
        let fromPassphrase = try SecretStorageKey(key: derived, description: description)
        for key in [fromRecovery, fromPassphrase] {
            #expect(try key.decryptSecret(named: "m.megolm_backup.v1",
                                          accountData: fixture.value(at: "secret_storage", "backup_secret")!)
                    == text("backup", "private_key"))
        }
        #expect(throws: KeyMaterialError.wrongSecretStorageKey) {
            try SecretStorageKey(key: description.passphrase!.deriveKey(from: "wrong"), description: description)
        }
    }

    /// Issue 9.8: a key description without `iv`/`mac` is valid ("clients must assume that the key is
    /// valid"); the fixture's secret, written by an independent implementation, then opens with the right
    /// key, and a wrong key fails on the secret's own MAC instead.
    @Test func aKeyDescriptionWithoutItsCheckIsValid() throws {
        var json = try #require(fixture.value(at: "secret_storage", "description")?.objectValue)
        json["iv"] = nil
        json["mac"] = nil
        let description = try SecretStorageKey.Description(keyID: "fixturekey", json: .object(json))
        let key = try SecretStorageKey(key: RecoveryKey(parsing: text("secret_storage", "recovery_key")).key,
                                       description: description)
        #expect(try key.decryptSecret(named: "m.megolm_backup.v1",
                                      accountData: fixture.value(at: "secret_storage", "backup_secret")!)
                == text("backup", "private_key"))
        let wrong = try SecretStorageKey(key: [UInt8](repeating: 7, count: 32), description: description)
        #expect(throws: KeyMaterialError.secretMACMismatch("m.megolm_backup.v1")) {
            try wrong.decryptSecret(named: "m.megolm_backup.v1", accountData: fixture.value(at: "secret_storage", "backup_secret")!)
        }
        json["iv"] = fixture.value(at: "secret_storage", "description", "iv")
        #expect(throws: KeyMaterialError.self) {
            try SecretStorageKey.Description(keyID: "fixturekey", json: .object(json))
        }
    }

    /// Issue 9.8: the PBKDF2 round count comes from the server or a file; an absurd one is refused at once
    /// with a clear error (this test would take hours, not milliseconds, if it were not).
    @Test func absurdPBKDF2RoundCountsAreRefused() throws {
        var json = try #require(fixture.value(at: "secret_storage", "description", "passphrase")?.objectValue)
        json["iterations"] = .int(4_000_000_000)
        var description = try #require(fixture.value(at: "secret_storage", "description")?.objectValue)
        description["passphrase"] = .object(json)
        let parsed = try SecretStorageKey.Description(keyID: "fixturekey", json: .object(description))
        #expect(throws: KeyMaterialError.tooManyRounds(4_000_000_000)) {
            try parsed.passphrase!.deriveKey(from: "anything")
        }
        #expect(KeyMaterialError.tooManyRounds(4_000_000_000).description.contains("refusing"))
        // A key-export file whose round count field says 0xFFFFFFFF.
        let file = text("key_export", "file")
        let lines = file.split(separator: "\n").map(String.init)
        var bytes = try #require(Data(base64Encoded: lines.dropFirst().dropLast().joined()))
        bytes.replaceSubrange(33..<37, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let forged = ([lines.first!, bytes.base64EncodedString(), lines.last!]).joined(separator: "\n")
        #expect(throws: KeyMaterialError.tooManyRounds(0xFFFF_FFFF)) {
            try KeyExportFile.decrypt(forged, passphrase: "anything")
        }
    }

    @Test func keyExportFileChecksItsHMACBeforeDecrypting() throws {
        let contents = try KeyExportFile.decrypt(text("key_export", "file"), passphrase: text("key_export", "passphrase"))
        #expect(contents.sessions.map(\.sessionID) == [text("megolm", "session_id")])
        #expect(contents.sessions.first?.firstMessageIndex == 2)
        #expect(throws: KeyMaterialError.wrongPassphraseOrCorruptFile) {
            try KeyExportFile.decrypt(text("key_export", "file"), passphrase: "not it")
        }
    }
}
