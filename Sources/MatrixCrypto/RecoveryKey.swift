import ArchiveCore
/// A recovery key as users see it: base58 (Bitcoin alphabet, spaces ignored) of `0x8B 0x01`, the 32-byte
/// key, and a parity byte that makes the XOR of all 35 bytes zero. It is either the secret-storage key
/// (current clients) or the backup's private key itself (older clients).
public struct RecoveryKey: Sendable {
    public enum Problem: ReportableError, Hashable {
        public var category: ErrorCategory { .input }

        case notBase58
        case wrongLength(Int)
        case wrongPrefix
        case badParity

        public var description: String {
            switch self {
            case .notBase58: "it contains a character that is not in the base58 alphabet"
            case .wrongLength(let n): "it decodes to \(n) bytes, not 35"
            case .wrongPrefix: "it does not start with the recovery-key prefix (is it a passphrase?)"
            case .badParity: "its parity check fails (a character is mistyped)"
            }
        }
    }

    public let key: [UInt8]

    public init(key: [UInt8]) {
        precondition(key.count == 32, "recovery keys are 32 bytes")
        self.key = key
    }

    public init(parsing text: String) throws(Problem) {
        guard let bytes = Base58.decode(text.filter { !$0.isWhitespace }) else { throw .notBase58 }
        guard bytes.count == 35 else { throw .wrongLength(bytes.count) }
        guard bytes[0] == 0x8B, bytes[1] == 0x01 else { throw .wrongPrefix }
        guard bytes.reduce(0, ^) == 0 else { throw .badParity }
        key = Array(bytes[2..<34])
    }

    /// The text form, in groups of four characters as clients show it.
    public var encoded: String {
        var bytes: [UInt8] = [0x8B, 0x01] + key
        bytes.append(bytes.reduce(0, ^))
        let text = Base58.encode(bytes)
        return stride(from: 0, to: text.count, by: 4).map { start in
            let from = text.index(text.startIndex, offsetBy: start)
            return String(text[from..<(text.index(from, offsetBy: 4, limitedBy: text.endIndex) ?? text.endIndex)])
        }.joined(separator: " ")
    }
}

/// Base58 with the Bitcoin alphabet, as recovery keys use it.
enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let values: [UInt8: Int] = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0) })

    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []  // little-endian big number
        for character in text.utf8 {
            guard var carry = values[character] else { return nil }
            for i in bytes.indices {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        let leadingZeros = text.utf8.prefix { $0 == alphabet[0] }.count
        return [UInt8](repeating: 0, count: leadingZeros) + bytes.reversed()
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var digits: [Int] = []  // little-endian base 58
        for byte in bytes {
            var carry = Int(byte)
            for i in digits.indices {
                carry += digits[i] << 8
                digits[i] = carry % 58
                carry /= 58
            }
            while carry > 0 {
                digits.append(carry % 58)
                carry /= 58
            }
        }
        let leadingZeros = bytes.prefix { $0 == 0 }.count
        return String(decoding: [UInt8](repeating: alphabet[0], count: leadingZeros) + digits.reversed().map { alphabet[$0] },
                      as: UTF8.self)
    }
}
