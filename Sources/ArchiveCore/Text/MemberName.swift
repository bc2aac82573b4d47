import Foundation

/// A member's name as the spec's "Calculating the display name for a user" has clients show it: the
/// display name, with the user id beside it when another member (joined or invited) has the same name at
/// that point, so that nobody can pass for someone else by copying their name; the user id alone when
/// there is no display name (absent, null, empty or nothing visible). Callers still make it safe to print
/// (`DisplayText`).
public enum MemberName {
    public static func label(userID: String, displayName: String?, ambiguous: Bool) -> String {
        guard let displayName else { return userID }
        let key = comparisonKey(displayName)
        guard !key.isEmpty else { return userID }
        return ambiguous || needsUserID(key: key) ? "\(displayName) (\(userID))" : displayName
    }

    /// The form in which two display names count as the same: NFKC (so "Ａｌｉｃｅ" and "Alice" meet),
    /// case-folded, without invisible and format characters (zero-width spaces and joiners, word joiners,
    /// the byte-order mark, soft hyphens, tag characters, fillers), with runs of white space made one space
    /// and none around. Names that differ only in what a reader cannot see are the same name to them.
    public static func comparisonKey(_ name: String) -> String {
        asciiComparisonKey(name) ?? unicodeComparisonKey(name)
    }

    /// `comparisonKey` for any name, through Foundation's NFKC.
    static func unicodeComparisonKey(_ name: String) -> String {
        let folded = name.precomposedStringWithCompatibilityMapping.lowercased()
            .precomposedStringWithCompatibilityMapping
        var scalars = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in folded.unicodeScalars {
            // White space first: a tab or line break parts words as a space does.
            if scalar.properties.isWhitespace {
                pendingSpace = !scalars.isEmpty
                continue
            }
            if isInvisible(scalar) { continue }
            if pendingSpace { scalars.append(" ") }
            pendingSpace = false
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// The same key for a name of ASCII only, without Foundation's normalisation (the export asks for it
    /// several times per message, and NFKC on Linux goes through NSString: a fifth of a million-message
    /// export's CPU). NFKC and case folding leave ASCII as it is but for A–Z; the white space among ASCII
    /// is tab to carriage return and space; the other controls (below 0x20 and DEL) are invisible.
    /// nil when the name has any other character.
    static func asciiComparisonKey(_ name: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        var pendingSpace = false
        for byte in name.utf8 {
            guard byte < 0x80 else { return nil }
            switch byte {
            case 0x09...0x0D, 0x20:
                pendingSpace = !bytes.isEmpty
                continue
            case 0x00..<0x20, 0x7F:
                continue
            default:
                if pendingSpace { bytes.append(0x20) }
                pendingSpace = false
                bytes.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A display name that shows the user id whether or not another member shares it: one that looks like a
    /// user id (`@name:server`) or carries a fake one ("Alice (@alice:a.org)"), which would otherwise pass
    /// for the id clients put beside a shared name.
    public static func needsUserID(_ displayName: String) -> Bool {
        needsUserID(key: comparisonKey(displayName))
    }

    /// `needsUserID` of a name whose `comparisonKey` the caller already has (the key is the costly part).
    public static func needsUserID(key: String) -> Bool {
        // By bytes: String.contains(String) is Foundation's, through NSString on Linux, and this runs for
        // every message of an export.
        let bytes = key.utf8
        return (bytes.first == UInt8(ascii: "@") && bytes.contains(UInt8(ascii: ":")))
            || zip(bytes, bytes.dropFirst()).contains { $0 == UInt8(ascii: "(") && $1 == UInt8(ascii: "@") }
    }

    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x200B...0x200F, 0x202A...0x202E,
             0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0xE0000...0xE007F, 0xE0100...0xE01EF:
            return true
        default:
            // Format characters (Cf) draw nothing; control characters are no name either.
            return scalar.properties.generalCategory == .format || scalar.properties.generalCategory == .control
        }
    }
}
