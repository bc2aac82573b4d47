import Foundation

/// Matrix writes base64 without padding (and JWKs use the URL-safe alphabet); Foundation wants padding.
public enum Base64Unpadded {
    public static func decode(_ text: String, urlSafe: Bool = false) -> [UInt8]? {
        var normalised = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if urlSafe {
            normalised = normalised.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        }
        while normalised.hasSuffix("=") { normalised.removeLast() }
        switch normalised.count % 4 {
        case 0: break
        case 2: normalised += "=="
        case 3: normalised += "="
        default: return nil
        }
        return Data(base64Encoded: normalised).map { [UInt8]($0) }
    }

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
