import Foundation

/// A member's name as the spec's "Calculating the display name for a user" has clients show it: the
/// display name, with the user id beside it when another member (joined or invited) has the same name at
/// that point, so that nobody can pass for someone else by copying their name; the user id alone when
/// there is no display name (absent, null, empty or nothing visible). Callers still make it safe to print
/// (`DisplayText`).
public enum MemberName {
    public static func label(userID: String, displayName: String?, ambiguous: Bool) -> String {
        guard let displayName, !comparisonKey(displayName).isEmpty else { return userID }
        return ambiguous || needsUserID(displayName) ? "\(displayName) (\(userID))" : displayName
    }

    /// The form in which two display names count as the same: NFKC (so "Ａｌｉｃｅ" and "Alice" meet),
    /// case-folded, without invisible and format characters (zero-width spaces and joiners, word joiners,
    /// the byte-order mark, soft hyphens, tag characters, fillers), with runs of white space made one space
    /// and none around. Names that differ only in what a reader cannot see are the same name to them.
    public static func comparisonKey(_ name: String) -> String {
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

    /// A display name that shows the user id whether or not another member shares it: one that looks like a
    /// user id (`@name:server`) or carries a fake one ("Alice (@alice:a.org)"), which would otherwise pass
    /// for the id clients put beside a shared name.
    public static func needsUserID(_ displayName: String) -> Bool {
        let key = comparisonKey(displayName)
        return (key.hasPrefix("@") && key.contains(":")) || key.contains("(@")
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
