import Crypto
import Foundation

extension Digest {
    /// The digest as lower-case hex digits: the form of the manifest's `sha256` and of `media/` file names.
    var hexDigest: String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// The SHA-256 of bytes already in memory, as hex. (Files are hashed as they stream, with `SHA256()`.)
func sha256Hex<D: DataProtocol>(_ data: D) -> String { SHA256.hash(data: data).hexDigest }
