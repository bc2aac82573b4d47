import ArchiveCore
@testable import ArchiveStore
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

    @Test func keyExportFileChecksItsHMACBeforeDecrypting() throws {
        let contents = try KeyExportFile.decrypt(text("key_export", "file"), passphrase: text("key_export", "passphrase"))
        #expect(contents.sessions.map(\.sessionID) == [text("megolm", "session_id")])
        #expect(contents.sessions.first?.firstMessageIndex == 2)
        #expect(throws: KeyMaterialError.wrongPassphraseOrCorruptFile) {
            try KeyExportFile.decrypt(text("key_export", "file"), passphrase: "not it")
        }
    }
}

/// Decryption in the store: statuses, replay by timeline order, late keys, and encrypted edits normalised
/// exactly like plaintext ones.
@Suite struct StoreDecryptionTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()
    let version = RoomVersion("12")

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-dec-\(UUID().uuidString)")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    /// A fake "ciphertext" naming the plaintext and message index: the store's rules do not depend on libolm.
    mutating func encrypted(_ ciphertext: String, session: String = "S", relatesTo: JSONValue? = nil, id: String? = nil) -> RawEvent {
        var content: [String: JSONValue] = ["algorithm": "m.megolm.v1.aes-sha2", "session_id": .string(session),
                                            "ciphertext": .string(ciphertext)]
        if let relatesTo { content["m.relates_to"] = relatesTo }
        return factory.event(type: "m.room.encrypted", id: id, content: .object(content))
    }

    static let plaintexts: [String: (index: UInt32, content: JSONValue)] = [
        "c0": (0, ["msgtype": "m.text", "body": "hello"]),
        "c1": (1, ["msgtype": "m.text", "body": "* hi", "m.new_content": ["msgtype": "m.text", "body": "hi"]]),
        "c2": (2, ["msgtype": "m.text", "body": "later"]),
    ]

    func decrypt(known: Set<String>, firstIndex: UInt32 = 0) -> Decrypt {
        { payload in
            guard known.contains(payload.sessionID) else { return .missingKey }
            guard let (index, content) = Self.plaintexts[payload.ciphertext] else { return .failed(reason: "bad") }
            return index < firstIndex ? .unknownIndex : .decrypted(type: "m.room.message", content: content, messageIndex: index)
        }
    }

    func items() throws -> [String: TimelineItem] {
        var result: [String: TimelineItem] = [:]
        try store.timeline(roomID: factory.roomID) { result[$0.eventID] = $0 }
        return result
    }

    @Test mutating func lateKeysDecryptAndApplyEncryptedEdits() throws {
        let original = encrypted("c0", id: "$orig")
        let edit = encrypted("c1", relatesTo: ["rel_type": "m.replace", "event_id": "$orig"], id: "$edit")
        let later = encrypted("c2", id: "$later")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [original, edit, later],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: [], firstIndex: 0))
        var timeline = try items()
        #expect(timeline.keys.sorted() == ["$later", "$orig"])  // the edit is not a timeline item
        #expect(timeline["$orig"]?.decryption == .missingKey)
        #expect(timeline["$orig"]?.type == "m.room.encrypted")

        // Only events whose session is stored are retried (the fake decrypt ignores the key itself).
        #expect(try store.retryDecryption(decrypt: decrypt(known: ["S"])).attempted == 0)
        _ = try store.importMegolmSessions([storedKey()], source: "file")
        // A session known only from index 1: the original stays unknown_index, the edit cannot apply.
        var retry = try store.retryDecryption(decrypt: decrypt(known: ["S"], firstIndex: 1))
        #expect(retry.decrypted == 2 && retry.stillWaiting == 1)
        timeline = try items()
        #expect(timeline["$orig"]?.decryption == .unknownIndex)
        #expect(timeline["$orig"]?.edited == false)
        #expect(timeline["$later"]?.content["body"]?.stringValue == "later")

        retry = try store.retryDecryption(decrypt: decrypt(known: ["S"], firstIndex: 0))
        #expect(retry.decrypted == 1 && retry.stillWaiting == 0)
        timeline = try items()
        #expect(timeline["$orig"]?.decryption == .ok)
        #expect(timeline["$orig"]?.type == "m.room.message")
        #expect(timeline["$orig"]?.edited == true)
        #expect(timeline["$orig"]?.replacedBy == "$edit")
        #expect(timeline["$orig"]?.content["body"]?.stringValue == "hi")
    }

    func storedKey(_ session: String = "S") -> MegolmSessionKey {
        MegolmSessionKey(roomID: factory.roomID, sessionID: session, sessionKey: "k", senderKey: nil, firstMessageIndex: 0)
    }

    @Test mutating func aStrippedEventKeepsNoneWhenAnEarlierCopyTakesItsIndex() throws {
        let later = encrypted("c0", id: "$later")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [later, factory.redaction(of: "$later")],
                                        placement: .before, cursors: RoomCursors(backward: .at("b"), forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        #expect(try items()["$later"]?.decryption == DecryptionStatus.none)
        let earlier = encrypted("c0", id: "$earlier")
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [earlier],
                                        placement: .before, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        let timeline = try items()
        #expect(timeline["$earlier"]?.decryption == .ok)
        #expect(timeline["$later"]?.decryption == DecryptionStatus.none)
        #expect(try store.verify() == [])
        // verify notices an `ok` event that lost its payload, and one that no longer owns its index.
        try store.db.execute("UPDATE events SET decrypted_json = NULL WHERE event_id = '$earlier'")
        #expect(try store.verify().contains { $0.contains("$earlier") })
        try store.db.execute("""
            UPDATE events SET decrypted_json = '{}' WHERE event_id = '$earlier'; DELETE FROM megolm_indexes;
            """)
        #expect(try store.verify() == ["1 events are decrypted but 0 own their session and message index"])
    }

    @Test func theRetryReadsOnlyWaitingEvents() throws {
        for filter in ["", "AND room_id = ?3"] {
            let plan = try store.queryPlan(DecryptionSQL.waitingBatch(roomFilter: filter),
                                           arguments: [.text(""), .int(0)] + (filter.isEmpty ? [] : [.text("r")]))
            #expect(plan.first?.contains("USING INDEX events_waiting_for_keys") == true, "\(plan)")
        }
    }

    /// A retry must not leave a read snapshot open: after another connection (the indexer's) writes, this
    /// connection must still be able to write ("database is locked" otherwise).
    @Test func retryLeavesNoSnapshotBehind() throws {
        _ = try store.retryDecryption(decrypt: decrypt(known: ["S"]))
        let other = try ArchiveStore(directory: directory)
        _ = try other.importMegolmSessions([storedKey("T")], source: "file")
        _ = try store.importMegolmSessions([storedKey("U")], source: "file")
    }

    @Test mutating func aNewKeyRetriesEventsThatFailedUnderTheOldOne() throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [encrypted("c0", id: "$e")],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: { _ in .failed(reason: "bad MAC") })
        #expect(try items()["$e"]?.decryption == .failed)
        _ = try store.importMegolmSessions([storedKey()], source: "file")
        #expect(try items()["$e"]?.decryption == .missingKey)
        #expect(try store.retryDecryption(decrypt: decrypt(known: ["S"])).decrypted == 1)
        #expect(try items()["$e"]?.decryption == .ok)
    }

    @Test mutating func replayIsTheLaterEventWhateverTheDecryptionOrder() throws {
        let first = encrypted("c0", id: "$first")
        let copy = encrypted("c0", id: "$copy")
        // A backward walk stores (and decrypts) the later copy first.
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [copy],
                                        placement: .before, cursors: RoomCursors(backward: .at("b"), forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        #expect(try items()["$copy"]?.decryption == .ok)
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [first],
                                        placement: .before, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        let timeline = try items()
        #expect(timeline["$first"]?.decryption == .ok)
        #expect(timeline["$copy"]?.decryption == .replay)
        #expect(timeline["$copy"]?.content["body"] == nil)
    }

    @Test mutating func encryptedEventsThatCannotBeMegolmAreFailedNotWaiting() throws {
        let olm = factory.event(type: "m.room.encrypted", id: "$olm",
                                content: ["algorithm": "m.olm.v1.curve25519-aes-sha2", "ciphertext": ["x": "y"]])
        let noSession = factory.event(type: "m.room.encrypted", id: "$nosession",
                                      content: ["algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "abc"])
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: [olm, noSession],
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")),
                             decrypt: decrypt(known: ["S"]))
        let timeline = try items()
        #expect(timeline["$olm"]?.decryption == .failed)
        #expect(timeline["$nosession"]?.decryption == .failed)
        #expect(try store.retryDecryption(decrypt: decrypt(known: ["S"])).attempted == 0)
    }

    @Test mutating func sessionsOnlyImproveTowardsEarlierIndexes() throws {
        func key(_ index: UInt32, _ secret: String) -> MegolmSessionKey {
            MegolmSessionKey(roomID: "!r", sessionID: "S", sessionKey: secret, senderKey: nil, firstMessageIndex: index)
        }
        #expect(try store.importMegolmSessions([key(5, "late")], source: "file").added == 1)
        #expect(try store.importMegolmSessions([key(9, "later")], source: "file").unchanged == 1)
        #expect(try store.megolmSessionKey(roomID: "!r", sessionID: "S") == "late")
        #expect(try store.importMegolmSessions([key(0, "full")], source: "backup:1").improved == 1)
        #expect(try store.megolmSessionKey(roomID: "!r", sessionID: "S") == "full")
    }
}
