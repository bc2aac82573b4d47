/// Text other people wrote (display names, bodies, room names, topics, reaction keys) made safe for the
/// human outputs: TXT exports and the terminal lines of `events`, `search`, `rooms`, `status`, `sync`
/// and `export`. Without it a name holding a line break writes a perfectly formatted fake line from
/// another user into a TXT export, `ESC ]52` sets the operator's clipboard, `ESC [1A` erases lines and
/// U+202E reverses the text after it.
///
/// The rules:
/// - every Unicode line break (LF, CR, CRLF as one, VT, FF, NEL, U+2028, U+2029) ends a line: bodies are
///   split on them so that callers indent the continuation lines; single-line fields show them escaped,
///   or as a space where the field is a summary;
/// - every other control character (C0, DEL, C1) and every bidi control (U+202A–U+202E, U+2066–U+2069,
///   U+200E, U+200F, U+061C) is shown as a Swift-style escape, `\u{1B}`, upper-case hex without leading
///   zeros: visible and exact, so that a compliance reader sees what was sent. TAB is kept in bodies (code
///   is indented with it) and escaped in single-line fields.
/// Everything else (accents, CJK, emoji and their joiners) passes unchanged. JSON outputs never use this:
/// JSON escapes controls itself and must keep the exact text.
public enum DisplayText {
    /// How a single-line field shows a line break.
    public enum Breaks: Sendable {
        /// `\u{A}`: for names, where a break is never meant and should be seen.
        case escaped
        /// One space: for summaries of multi-line text (topics, quoted snippets, context lines).
        case space
    }

    /// The lines of `text`, split at every Unicode line break, each with its other controls escaped but
    /// those in `keeping` (markers the caller put in itself and replaces afterwards).
    public static func lines(_ text: String, keeping: Set<Unicode.Scalar> = []) -> [String] {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        forEachScalar(of: text) { scalar in
            if let scalar {
                if keeping.contains(scalar) { line.append(scalar) } else { append(scalar, to: &line, keepingTab: true) }
            } else {
                lines.append(String(line))
                line = String.UnicodeScalarView()
            }
        }
        lines.append(String(line))
        return lines
    }

    /// `text` with its continuation lines indented by `width` spaces: the first line follows what the
    /// caller put before it, and no later line can pass for one of the caller's own.
    public static func indented(_ text: String, by width: Int) -> String {
        lines(text).joined(separator: "\n" + String(repeating: " ", count: width))
    }

    /// `text` as one line: line breaks as `breaks` says, other controls and bidi controls escaped.
    public static func singleLine(_ text: String, breaks: Breaks = .escaped) -> String {
        guard breaks == .space else { return escaped(text.unicodeScalars, keepingTab: false) }
        var line = String.UnicodeScalarView()
        forEachScalar(of: text) { scalar in
            if let scalar { append(scalar, to: &line, keepingTab: false) } else { line.append(" ") }
        }
        return String(line)
    }

    /// `Alice (@alice:example.org)`, or the id alone when no display name is known; one line.
    public static func sender(_ userID: String, displayName: String?) -> String {
        singleLine(displayName.map { "\($0) (\(userID))" } ?? userID)
    }

    /// The scalars the Unicode line-breaking rules treat as mandatory breaks (UAX #14 classes BK, CR, LF, NL).
    public static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }

    /// Characters that steer the terminal or the text direction instead of being text.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1 (ESC, CSI, OSC, …)
        case 0x2028, 0x2029: true  // the line and paragraph separators, where a field is one line
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true  // bidi embeddings, overrides, isolates, marks
        default: false
        }
    }

    /// Calls `body` with each scalar of `text`, and with nil once for each line break (CRLF is one).
    private static func forEachScalar(of text: String, _ body: (Unicode.Scalar?) -> Void) {
        var scalars = text.unicodeScalars.makeIterator()
        var pending = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            guard isLineBreak(scalar) else {
                body(scalar)
                continue
            }
            if scalar == "\r", pending == "\n" { pending = scalars.next() }
            body(nil)
        }
    }

    private static func escaped(_ scalars: String.UnicodeScalarView, keepingTab: Bool) -> String {
        var line = String.UnicodeScalarView()
        for scalar in scalars { append(scalar, to: &line, keepingTab: keepingTab) }
        return String(line)
    }

    private static func append(_ scalar: Unicode.Scalar, to line: inout String.UnicodeScalarView, keepingTab: Bool) {
        if needsEscape(scalar), !(keepingTab && scalar == "\t") {
            line.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
        } else {
            line.append(scalar)
        }
    }
}
