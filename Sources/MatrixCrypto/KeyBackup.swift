import ArchiveCore

/// A megolm session as a key backup or key-export file carries it, ready to import.
public typealias ExportedMegolmSession = MegolmSessionKey

extension MegolmSessionKey {
    /// Parses the session's JSON (`session_key`, `sender_key`, `algorithm`, ...) and checks that the key
    /// really is the named session, reading its first known index from the key itself.
    init(roomID: String, sessionID: String, json: JSONValue) throws {
        if let algorithm = json["algorithm"]?.stringValue, algorithm != "m.megolm.v1.aes-sha2" {
            throw KeyMaterialError.unsupportedAlgorithm(algorithm)
        }
        guard let key = json["session_key"]?.stringValue else { throw KeyMaterialError.malformed("session (no session_key)") }
        let session = try InboundGroupSession(sessionKey: key)
        guard session.sessionID == sessionID else { throw KeyMaterialError.malformed("session (its key belongs to another session id)") }
        self.init(roomID: roomID, sessionID: sessionID, sessionKey: key, senderKey: json["sender_key"]?.stringValue,
                  firstMessageIndex: session.firstKnownIndex)
    }
}

/// The server-side key backup (`m.megolm_backup.v1.curve25519-aes-sha2`) opened with its private key.
public struct KeyBackupDecryptor {
    public static let algorithm = "m.megolm_backup.v1.curve25519-aes-sha2"

    public let version: String
    private let decryptor: PkDecryptor

    /// Fails unless the private key's public half equals the backup's `auth_data.public_key`: a wrong key
    /// must stop before anything is trusted or stored.
    public init(privateKey: [UInt8], versionInfo: JSONValue) throws {
        let version = versionInfo["version"]?.stringValue ?? "?"
        guard versionInfo["algorithm"]?.stringValue == Self.algorithm else {
            throw KeyMaterialError.unsupportedAlgorithm(versionInfo["algorithm"]?.stringValue ?? "(none)")
        }
        guard let expected = versionInfo.value(at: "auth_data", "public_key")?.stringValue else {
            throw KeyMaterialError.malformed("key backup version \(version) (no auth_data.public_key)")
        }
        guard privateKey.count == 32 else { throw KeyMaterialError.malformed("backup private key (not 32 bytes)") }
        let decryptor = try PkDecryptor(privateKey: privateKey)
        guard decryptor.publicKey == expected.replacingOccurrences(of: "=", with: "") else {
            throw KeyMaterialError.backupKeyMismatch(version: version)
        }
        self.version = version
        self.decryptor = decryptor
    }

    /// One session of `GET /room_keys/keys`: `{first_message_index, forwarded_count, is_verified, session_data}`.
    public func decryptSession(roomID: String, sessionID: String, keyData: JSONValue) throws -> ExportedMegolmSession {
        guard let data = keyData["session_data"], let ephemeral = data["ephemeral"]?.stringValue,
              let mac = data["mac"]?.stringValue, let ciphertext = data["ciphertext"]?.stringValue
        else { throw KeyMaterialError.malformed("session_data") }
        let plaintext = try decryptor.decrypt(ephemeral: ephemeral, mac: mac, ciphertext: ciphertext)
        guard let json = try? JSONCoding.decode(String(decoding: plaintext, as: UTF8.self)) else {
            throw KeyMaterialError.malformed("session_data plaintext (not JSON)")
        }
        return try ExportedMegolmSession(roomID: roomID, sessionID: sessionID, json: json)
    }
}
