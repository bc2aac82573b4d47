import Crypto
import _CryptoExtras
import Foundation

/// The symmetric primitives the Matrix formats are built from (swift-crypto / BoringSSL).
enum Primitives {
    static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    /// Compares MACs in constant time.
    static func macsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func hkdfSHA256(secret: [UInt8], salt: [UInt8], info: [UInt8], count: Int) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), salt: salt, info: info,
                                         outputByteCount: count)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Clients use hundreds of thousands of rounds; the count comes from the server (or a file), and a
    /// hostile one must get a clear error, not hours of CPU or a trap.
    static let maxPBKDF2Rounds = 10_000_000

    static func pbkdf2SHA512(passphrase: String, salt: [UInt8], rounds: Int, count: Int) throws -> [UInt8] {
        guard rounds <= maxPBKDF2Rounds else { throw KeyMaterialError.tooManyRounds(rounds) }
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(passphrase.utf8), salt: salt, using: .sha512,
                                                    outputByteCount: count, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }

    /// AES-256-CTR with a full 16-byte initial counter block (encryption and decryption are the same).
    static func aesCTR(key: [UInt8], iv: [UInt8], _ data: [UInt8]) throws -> [UInt8] {
        let nonce = try AES._CTR.Nonce(nonceBytes: iv)
        return Array(try AES._CTR.encrypt(data, using: SymmetricKey(data: key), nonce: nonce))
    }
}
