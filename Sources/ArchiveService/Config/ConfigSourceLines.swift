import Foundation

/// Where each key and table of a TOML text is written, by line. toml++ knows every node's position but
/// TOMLKit does not pass it on, so this reads the text itself, the simple way a person writes a config:
/// `[table]` / `[table.sub]` headers and `key = value` lines (bare or quoted keys, dotted keys). A key it
/// cannot place (inside an inline table, say) is reported at its table's header, else at line 1.
struct ConfigSourceLines {
    /// No setting of ours nests deeper than `export.NAME.field`; 8 leaves room and stops a file that nests
    /// thousands deep before toml++ recurses through it.
    static let maxDepth = 8

    private var lines: [[String]: Int] = [:]
    /// The first line whose key (its table's path and its own) nests deeper than `maxDepth`.
    private(set) var tooDeep: (line: Int, depth: Int)?

    init(_ text: String) {
        var table: [String] = []
        var inMultilineString: String?
        for (index, rawLine) in Self.lines(of: text).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            // Lines inside a multi-line string are text, not keys.
            if let delimiter = inMultilineString {
                if line.contains(delimiter) { inMultilineString = nil }
                continue
            }
            if line.hasPrefix("[") {
                let isArray = line.hasPrefix("[[")
                let inner = line.dropFirst(isArray ? 2 : 1).prefix { $0 != "]" }
                table = Self.keyPath(String(inner))
                if lines[table] == nil { lines[table] = number }
                noteDepth(table.count, line: number)
                continue
            }
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            let path = table + Self.keyPath(String(line[..<equals]))
            if lines[path] == nil { lines[path] = number }
            noteDepth(path.count, line: number)
            let value = line[line.index(after: equals)...]
            for delimiter in ["\"\"\"", "'''"] where value.components(separatedBy: delimiter).count == 2 {
                inMultilineString = delimiter
            }
        }
    }

    private mutating func noteDepth(_ depth: Int, line: Int) {
        if depth > Self.maxDepth && tooDeep == nil { tooDeep = (line, depth) }
    }

    /// The text's lines as an editor counts them: split at each line feed byte (Swift sees "\r\n" as one
    /// Character, so splitting the String at "\n" would put a whole CRLF file on line 1), a carriage
    /// return before it dropped, and a byte order mark at the start ignored.
    static func lines(of text: String) -> [String] {
        var bytes = Substring(text).utf8[...]
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        if bytes.starts(with: bom) { bytes = bytes.dropFirst(3) }
        return bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            return String(decoding: trimmed, as: UTF8.self)
        }
    }

    /// The line of `path` (e.g. ["export", "nightly", "format"]), else of its nearest written parent.
    func line(of path: [String]) -> Int {
        var path = path
        while !path.isEmpty {
            if let line = lines[path] { return line }
            path.removeLast()
        }
        return 1
    }

    /// `a."b.c".d` → ["a", "b.c", "d"], whitespace around the dots dropped.
    static func keyPath(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "." {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts
    }
}
