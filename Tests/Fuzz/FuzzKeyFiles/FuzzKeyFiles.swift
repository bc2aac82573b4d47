import ArchiveCore
@testable import MatrixCrypto

/// libFuzzer target for the parsers of key material a user hands us or a server sends (issue 12.11).
/// The first byte picks the parser, the rest is its input: a recovery key (what parses re-encodes to
/// itself), a key-export file's armour and frame, the decrypted JSON of a key-export file (each session
/// key goes through libolm), and a secret-storage key description. Every input ends as a value or a
/// Swift error: no trap, no uncaught libolm failure.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeyFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let text = String(decoding: rest, as: UTF8.self)
    switch data[0] % 4 {
    case 0:
        guard let key = try? RecoveryKey(parsing: text) else { return 0 }
        guard let again = try? RecoveryKey(parsing: key.encoded), again.key == key.key else {
            fatalError("a recovery key does not survive its own encoding")
        }
    case 1:
        _ = try? KeyExportFile.frame(of: text)
    case 2:
        _ = try? KeyExportFile.contents(ofPlaintext: Array(rest))
    default:
        guard let json = try? JSONParser.parse(rest) else { return 0 }
        _ = try? SecretStorageKey.Description(keyID: "fuzz", json: json)
    }
    return 0
}
