import ArchiveCore
import Foundation

/// Key-export files (`-----BEGIN MEGOLM SESSION DATA-----`): base64 of version 0x01, 16-byte salt,
/// 16-byte IV, 4-byte big-endian round count, AES-256-CTR ciphertext, HMAC-SHA-256 of all before it.
/// Keys: PBKDF2-SHA-512(passphrase, salt, rounds) → 64 bytes (AES key, HMAC key).
public enum KeyExportFile {
    static let header = "-----BEGIN MEGOLM SESSION DATA-----"
    static let footer = "-----END MEGOLM SESSION DATA-----"

    public struct Contents: Sendable {
        public var sessions: [ExportedMegolmSession]
        /// Entries that could not be used, with why (never their keys).
        public var rejected: [(sessionID: String?, reason: String)]
    }

    /// The binary frame of a key-export file, before any key is derived.
    struct Frame {
        let salt: [UInt8]
        let iv: [UInt8]
        let rounds: Int
        let ciphertext: [UInt8]
        let mac: [UInt8]
        /// Everything the MAC covers.
        let authenticated: [UInt8]
    }

    public static func decrypt(_ text: String, passphrase: String) throws -> Contents {
        let frame = try frame(of: text)
        let keys = try Primitives.pbkdf2SHA512(passphrase: passphrase, salt: frame.salt, rounds: frame.rounds, count: 64)
        // The HMAC is checked before anything is decrypted: a wrong passphrase fails here.
        guard Primitives.macsEqual(Primitives.hmacSHA256(key: Array(keys[32..<64]), frame.authenticated), frame.mac) else {
            throw KeyMaterialError.wrongPassphraseOrCorruptFile
        }
        let plaintext = try Primitives.aesCTR(key: Array(keys[0..<32]), iv: frame.iv, frame.ciphertext)
        return try contents(ofPlaintext: plaintext)
    }

    /// Splits the armoured text into its fields. Separate from `decrypt` so that the parsing of untrusted
    /// files is fuzzed without paying for PBKDF2 on every input.
    static func frame(of text: String) throws -> Frame {
        guard let start = text.range(of: header), let end = text.range(of: footer, range: start.upperBound..<text.endIndex)
        else { throw KeyMaterialError.malformed("key-export file (no MEGOLM SESSION DATA block)") }
        let body = text[start.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let bytes = Base64Unpadded.decode(String(body)), bytes.count >= 1 + 16 + 16 + 4 + 32 else {
            throw KeyMaterialError.malformed("key-export file (not base64, or too short)")
        }
        guard bytes[0] == 1 else { throw KeyMaterialError.unsupportedAlgorithm("key-export version \(bytes[0])") }
        let rounds = bytes[33..<37].reduce(0) { $0 << 8 | Int($1) }
        guard rounds > 0 else { throw KeyMaterialError.malformed("key-export file (zero rounds)") }
        return Frame(salt: Array(bytes[1..<17]), iv: Array(bytes[17..<33]), rounds: rounds,
                     ciphertext: Array(bytes[37..<(bytes.count - 32)]), mac: Array(bytes[(bytes.count - 32)...]),
                     authenticated: Array(bytes.dropLast(32)))
    }

    /// The sessions of the decrypted JSON array; entries that cannot be used are listed with why.
    static func contents(ofPlaintext plaintext: [UInt8]) throws -> Contents {
        guard let list = (try? JSONCoding.decode(Data(plaintext)))?.arrayValue else {
            throw KeyMaterialError.malformed("key-export file (the decrypted data is not a JSON array)")
        }
        var contents = Contents(sessions: [], rejected: [])
        for entry in list {
            let sessionID = entry["session_id"]?.stringValue
            guard let roomID = entry["room_id"]?.stringValue, let sessionID else {
                contents.rejected.append((sessionID, "no room_id or session_id"))
                continue
            }
            do {
                contents.sessions.append(try ExportedMegolmSession(roomID: roomID, sessionID: sessionID, json: entry))
            } catch {
                contents.rejected.append((sessionID, "\(error)"))
            }
        }
        return contents
    }
}
