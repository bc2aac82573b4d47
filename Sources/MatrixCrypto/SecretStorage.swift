import ArchiveCore

/// Secret storage (`m.secret_storage.v1.aes-hmac-sha2`): secrets in account data, encrypted under a key
/// the user holds as a recovery key or derives from a passphrase.
public struct SecretStorageKey: Sendable {
    public static let algorithm = "m.secret_storage.v1.aes-hmac-sha2"

    /// The key's description (`m.secret_storage.key.<id>` account data).
    public struct Description: Sendable {
        public let keyID: String
        /// The key check: both or neither. The spec makes them optional ("if the key does not have `iv`
        /// and `mac` properties, clients must assume that the key is valid"); without them a wrong key
        /// shows as the secret's own MAC failing.
        public let iv: String?
        public let mac: String?
        public let passphrase: PassphraseInfo?

        public init(keyID: String, json: JSONValue) throws {
            guard json["algorithm"]?.stringValue == SecretStorageKey.algorithm else {
                throw KeyMaterialError.unsupportedAlgorithm(json["algorithm"]?.stringValue ?? "(none)")
            }
            let iv = json["iv"]?.stringValue, mac = json["mac"]?.stringValue
            guard (iv == nil) == (mac == nil) else {
                throw KeyMaterialError.malformed("secret storage key description \(keyID) (an iv without a mac, or a mac without an iv)")
            }
            self.keyID = keyID
            self.iv = iv
            self.mac = mac
            passphrase = try json["passphrase"].map(PassphraseInfo.init(secretStorage:))
        }
    }

    public let keyID: String
    let key: [UInt8]

    /// Checks `key` against the description when it has a check: encrypting 32 zero bytes under the name
    /// "" must give its MAC.
    public init(key: [UInt8], description: Description) throws {
        if let ivText = description.iv, let macText = description.mac {
            guard let iv = Base64Unpadded.decode(ivText), let expected = Base64Unpadded.decode(macText)
            else { throw KeyMaterialError.malformed("secret storage key description \(description.keyID)") }
            let check = try SecretStorageKey.encrypt([UInt8](repeating: 0, count: 32), key: key, name: "", iv: iv)
            guard Primitives.macsEqual(check.mac, expected) else { throw KeyMaterialError.wrongSecretStorageKey }
        }
        keyID = description.keyID
        self.key = key
    }

    /// Decrypts a secret's account data (`{encrypted: {<keyID>: {iv, ciphertext, mac}}}`) to its text.
    public func decryptSecret(named name: String, accountData: JSONValue) throws -> String {
        guard let entry = accountData.value(at: "encrypted", keyID),
              let iv = entry["iv"]?.stringValue.flatMap({ Base64Unpadded.decode($0) }),
              let ciphertext = entry["ciphertext"]?.stringValue.flatMap({ Base64Unpadded.decode($0) }),
              let mac = entry["mac"]?.stringValue.flatMap({ Base64Unpadded.decode($0) })
        else { throw KeyMaterialError.malformed("secret \(name) (not encrypted under key \(keyID))") }
        let (aesKey, macKey) = SecretStorageKey.derive(key, name: name)
        guard Primitives.macsEqual(Primitives.hmacSHA256(key: macKey, ciphertext), mac) else {
            throw KeyMaterialError.secretMACMismatch(name)
        }
        let plaintext = try Primitives.aesCTR(key: aesKey, iv: iv, ciphertext)
        return String(decoding: plaintext, as: UTF8.self)
    }

    static func derive(_ key: [UInt8], name: String) -> (aes: [UInt8], mac: [UInt8]) {
        let keys = Primitives.hkdfSHA256(secret: key, salt: [UInt8](repeating: 0, count: 32), info: Array(name.utf8),
                                         count: 64)
        return (Array(keys[0..<32]), Array(keys[32..<64]))
    }

    static func encrypt(_ plaintext: [UInt8], key: [UInt8], name: String, iv: [UInt8]) throws -> (ciphertext: [UInt8], mac: [UInt8]) {
        let (aesKey, macKey) = derive(key, name: name)
        let ciphertext = try Primitives.aesCTR(key: aesKey, iv: iv, plaintext)
        return (ciphertext, Primitives.hmacSHA256(key: macKey, ciphertext))
    }
}

/// How a key is derived from a passphrase: PBKDF2-SHA-512 with a salt and a round count.
public struct PassphraseInfo: Sendable {
    public let salt: String
    public let iterations: Int
    public let bits: Int

    init(secretStorage json: JSONValue) throws {
        guard json["algorithm"]?.stringValue == "m.pbkdf2" else {
            throw KeyMaterialError.unsupportedAlgorithm(json["algorithm"]?.stringValue ?? "(none)")
        }
        guard let salt = json["salt"]?.stringValue, let iterations = json["iterations"]?.int64Value, iterations > 0
        else { throw KeyMaterialError.malformed("passphrase description") }
        self.salt = salt
        self.iterations = Int(iterations)
        bits = Int(json["bits"]?.int64Value ?? 256)
    }

    /// The legacy form in a backup's `auth_data` (`private_key_salt`, `private_key_iterations`).
    public init?(backupAuthData json: JSONValue) {
        guard let salt = json["private_key_salt"]?.stringValue,
              let iterations = json["private_key_iterations"]?.int64Value, iterations > 0 else { return nil }
        self.salt = salt
        self.iterations = Int(iterations)
        bits = Int(json["private_key_bits"]?.int64Value ?? 256)
    }

    /// The salt is used as its UTF-8 text, as clients do.
    public func deriveKey(from passphrase: String) throws -> [UInt8] {
        guard bits == 256 else { throw KeyMaterialError.unsupportedAlgorithm("m.pbkdf2 with \(bits) bits") }
        return try Primitives.pbkdf2SHA512(passphrase: passphrase, salt: Array(salt.utf8), rounds: iterations, count: 32)
    }
}
