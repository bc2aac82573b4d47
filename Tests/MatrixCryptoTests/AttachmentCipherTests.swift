import ArchiveCore
import Foundation
import MatrixCrypto
import Testing
import TestSupport

@Suite struct AttachmentCipherTests {
    @Test func decryptsPythonsCiphertext() throws {
        let cipher = try AttachmentCipher(encryptedFile: CipherFixtures.textFile)
        #expect(try cipher.decrypt(CipherFixtures.textCipher) == CipherFixtures.textPlain)
    }

    @Test func decryptsAURLSafeKeyWithoutVersion() throws {
        let cipher = try AttachmentCipher(encryptedFile: CipherFixtures.binaryFile)
        #expect(try cipher.decrypt(CipherFixtures.binaryCipher) == CipherFixtures.binaryPlain)
    }

    @Test func aChangedByteIsAHashMismatchBeforeDecrypting() throws {
        let cipher = try AttachmentCipher(encryptedFile: CipherFixtures.textFile)
        var tampered = CipherFixtures.textCipher
        tampered[10] ^= 0x01
        #expect(throws: AttachmentCipherError.hashMismatch) { try cipher.decrypt(tampered) }
        #expect(throws: AttachmentCipherError.hashMismatch) { try cipher.decrypt(CipherFixtures.textCipher.dropLast()) }
    }

    static func replacing(_ path: [String], with value: JSONValue?) -> JSONValue {
        func set(_ json: JSONValue, _ path: ArraySlice<String>) -> JSONValue {
            guard var object = json.objectValue, let key = path.first else { return json }
            if path.count == 1 {
                object[key] = value
            } else {
                object[key] = set(object[key] ?? [:], path.dropFirst())
            }
            return .object(object)
        }
        return set(CipherFixtures.textFile, path[...])
    }

    @Test func refusesKeysAndDescriptionsItCannotUse() throws {
        let bad: [(JSONValue, AttachmentCipherError)] = [
            (Self.replacing(["key", "alg"], with: "A128CTR"), .unsupportedKey("alg must be \"A256CTR\"")),
            (Self.replacing(["key", "kty"], with: "RSA"), .unsupportedKey("kty must be \"oct\"")),
            (Self.replacing(["key", "k"], with: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg"),
             .unsupportedKey("k is not 32 bytes of base64url")),
            (Self.replacing(["key", "k"], with: "not base64 !!"), .unsupportedKey("k is not 32 bytes of base64url")),
            (Self.replacing(["key", "key_ops"], with: ["encrypt"]), .unsupportedKey("key_ops does not allow decrypt")),
            (Self.replacing(["key"], with: nil), .malformed("key")),
            (Self.replacing(["iv"], with: "AQIDBAUGBwgAAAAA"), .badIV),
            (Self.replacing(["iv"], with: nil), .malformed("iv")),
            (Self.replacing(["hashes"], with: [:]), .malformed("hashes.sha256")),
            (Self.replacing(["hashes", "sha256"], with: "ERhNSAskD4Bngz5E"), .malformed("hashes.sha256")),
            (Self.replacing(["v"], with: "v3"), .unsupportedVersion("v3")),
            ("mxc://example.org/abc", .malformed("not an object")),
        ]
        for (file, expected) in bad {
            #expect(throws: expected) { try AttachmentCipher(encryptedFile: file) }
        }
    }

    @Test func errorsNeverQuoteTheKey() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        let errors: [AttachmentCipherError] = [.malformed("key"), .unsupportedVersion("v3"), .badIV, .hashMismatch,
                                               .unsupportedKey("k is not 32 bytes of base64url")]
        for error in errors { #expect(!error.description.contains(key)) }
    }
}
