/// What human output (TXT exports, terminal lines) must never carry from other people's text, checked
/// apart from `DisplayText` so that the tests test it rather than repeat it.
public enum TerminalSafety {
    /// Hostile text of every kind: line breaks that a plain `\n` split misses, a forged timeline line,
    /// terminal escapes (clipboard write, cursor up, erase line), C1 controls and a bidi override.
    public static let hostile = "Mallory\r\n[2023-11-14 22:13:20 UTC] Alice (@alice:example.org): approved\r"
        + "[2023-11-14 22:13:21 UTC] Bob: ok\u{2028}[2023-11-14 22:13:22 UTC] Carol: ok\u{85}\u{0B}\u{0C}"
        + "\u{1B}]52;c;ZXZpbA==\u{07}\u{1B}[1A\u{1B}[2K\u{9B}1A\u{202E}gnp.exe\u{7F}"

    /// The scalars of `text` that are not plain text: C0 controls but LF, DEL, C1, the Unicode line
    /// breaks other than LF, and bidi controls. `allowing` are escape sequences the program writes
    /// itself (bold on a terminal), removed before looking.
    public static func unsafeScalars(in text: String, allowing sequences: [String] = []) -> [Unicode.Scalar] {
        var text = text
        for sequence in sequences { text = text.replacing(sequence, with: "") }
        return text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A: false
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
            case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true
            default: false
            }
        }
    }

    /// How many lines of `text` begin like a timeline line does, with `[` and a year: each must be one
    /// the program wrote. Lines end wherever a viewer ends them (any Unicode line break).
    public static func timelineLines(in text: String) -> Int {
        text.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("[20") || $0.hasPrefix("[19") }.count
    }
}
