import ArchiveCore
import Crypto
import Foundation
import _CryptoExtras

/// Why an encrypted attachment was not decrypted. Cases name what is wrong, never a key, an iv or bytes
/// of the file.
public enum AttachmentCipherError: ReportableError, Hashable {
    /// The event or the downloaded file is bad: nothing the user typed.
    public var category: ErrorCategory { .failure }

    /// The `EncryptedFile` object lacks a part or has one of the wrong type (names the field).
    case malformed(String)
    /// `v` is neither "v2", "v1" nor absent (the oldest format).
    case unsupportedVersion(String)
    /// The JWK is not `{"kty":"oct","alg":"A256CTR","k":<32 bytes>}`.
    case unsupportedKey(String)
    /// The iv is not 16 bytes of base64.
    case badIV
    /// The downloaded ciphertext's SHA-256 differs from `hashes.sha256`: the file was altered (or the
    /// event lies). Never decrypted, never stored.
    case hashMismatch

    public var description: String {
        switch self {
        case .malformed(let field): "the encrypted file's description is malformed (\(field))"
        case .unsupportedVersion(let version): "unsupported encrypted file version \(version.prefix(16))"
        case .unsupportedKey(let why): "unsupported attachment key: \(why)"
        case .badIV: "the attachment iv is not 16 bytes"
        case .hashMismatch: "the downloaded ciphertext does not match the event's SHA-256"
        }
    }
}

/// Decrypts attachments of encrypted rooms (spec: "Sending encrypted attachments"): the event's
/// `EncryptedFile` holds an AES-256-CTR key as a JWK, the 16-byte initial counter block (`iv`) and the
/// SHA-256 of the ciphertext. The hash is checked before anything is decrypted, so a tampered file is
/// refused whole instead of turning into garbage that looks like a file.
public struct AttachmentCipher: Sendable {
    let key: SymmetricKey
    let iv: [UInt8]
    let expectedSHA256: [UInt8]

    /// Checks and takes apart an `EncryptedFile` object.
    public init(encryptedFile file: JSONValue) throws(AttachmentCipherError) {
        guard file.objectValue != nil else { throw .malformed("not an object") }
        if let version = file["v"] {
            // "v1" and an absent `v` only differ in how clients chose the iv; decryption is the same.
            guard let text = version.stringValue else { throw .malformed("v") }
            guard text == "v2" || text == "v1" else { throw .unsupportedVersion(text) }
        }
        guard let jwk = file["key"], jwk.objectValue != nil else { throw .malformed("key") }
        guard jwk["kty"]?.stringValue == "oct" else { throw .unsupportedKey("kty must be \"oct\"") }
        guard jwk["alg"]?.stringValue == "A256CTR" else { throw .unsupportedKey("alg must be \"A256CTR\"") }
        if let ops = jwk["key_ops"]?.arrayValue, !ops.contains(.string("decrypt")) {
            throw .unsupportedKey("key_ops does not allow decrypt")
        }
        guard let k = jwk["k"]?.stringValue, let keyBytes = Base64Unpadded.decode(k, urlSafe: true),
              keyBytes.count == 32 else {
            throw .unsupportedKey("k is not 32 bytes of base64url")
        }
        guard let ivText = file["iv"]?.stringValue else { throw .malformed("iv") }
        guard let ivBytes = Base64Unpadded.decode(ivText, urlSafe: false), ivBytes.count == 16 else { throw .badIV }
        guard let hashText = file.value(at: "hashes", "sha256")?.stringValue,
              let hash = Base64Unpadded.decode(hashText, urlSafe: false), hash.count == 32 else {
            throw .malformed("hashes.sha256")
        }
        key = SymmetricKey(data: keyBytes)
        iv = ivBytes
        expectedSHA256 = hash
    }

    /// The plaintext of `ciphertext`, after checking its SHA-256.
    public func decrypt(_ ciphertext: Data) throws(AttachmentCipherError) -> Data {
        // Compared in constant time: cheap, and one less thing to reason about.
        let digest = SHA256.hash(data: ciphertext)
        guard Primitives.macsEqual(Array(digest), expectedSHA256) else { throw .hashMismatch }
        do {
            // The full 16-byte iv is the initial counter block. The spec's counter is its low 64 bits and
            // BoringSSL increments all 128: they differ only if the low 64 bits wrap inside the file, which
            // the ivs clients make (low half zero) never do. A hostile iv could only garble its own file.
            let nonce = try AES._CTR.Nonce(nonceBytes: iv)
            return try AES._CTR.decrypt(ciphertext, using: key, nonce: nonce)
        } catch {
            // Only reachable with a wrong-sized key or nonce, which `init` already refused.
            throw .unsupportedKey("rejected by AES-CTR")
        }
    }
}
