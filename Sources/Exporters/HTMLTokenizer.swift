/// A tokenizer for untrusted HTML fragments (`formatted_body`), following the shape of the HTML
/// standard's tokenizer: tags with attributes (quoted, unquoted, valueless, duplicated), end tags, comments,
/// bogus comments, doctypes, character references, and the raw-text elements (`script`, `style`, …) whose
/// content is not markup. It never fails: any input gives a token stream, and the sanitiser rebuilds the
/// output from tokens alone, so nothing of the input's syntax reaches the page.
public enum HTMLToken: Sendable, Equatable {
    /// Text with character references decoded.
    case text(String)
    /// A start tag: lowercased name, attributes (lowercased names, decoded values, first of duplicates).
    case startTag(name: String, attributes: [(String, String)], selfClosing: Bool)
    case endTag(name: String)
    case comment

    public static func == (lhs: HTMLToken, rhs: HTMLToken) -> Bool {
        switch (lhs, rhs) {
        case (.text(let a), .text(let b)): return a == b
        case (.endTag(let a), .endTag(let b)): return a == b
        case (.comment, .comment): return true
        case (.startTag(let n1, let a1, let s1), .startTag(let n2, let a2, let s2)):
            return n1 == n2 && s1 == s2 && a1.map { $0.0 } == a2.map { $0.0 } && a1.map { $0.1 } == a2.map { $0.1 }
        default: return false
        }
    }
}

public struct HTMLTokenizer {
    /// Elements whose content is raw text up to their end tag (the standard's RAWTEXT / script data /
    /// RCDATA states; `noscript` as a browser with scripting treats it).
    static let rawTextElements: Set<String> = [
        "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea", "title",
    ]
    /// RCDATA elements decode character references in their text.
    static let rcdataElements: Set<String> = ["textarea", "title"]

    private let input: [Unicode.Scalar]
    private var index = 0

    public init(_ html: String) {
        input = Array(html.unicodeScalars)
    }

    public static func tokenize(_ html: String) -> [HTMLToken] {
        var tokenizer = HTMLTokenizer(html)
        var tokens: [HTMLToken] = []
        while let token = tokenizer.next() { tokens.append(token) }
        return tokens
    }

    private var pendingRawText: String?
    private var pendingEndTag: String?
    private var plaintextMode = false

    public mutating func next() -> HTMLToken? {
        if let raw = pendingRawText {
            pendingRawText = nil
            if !raw.isEmpty { return .text(raw) }
        }
        if let end = pendingEndTag {
            pendingEndTag = nil
            return .endTag(name: end)
        }
        guard index < input.count else { return nil }
        if plaintextMode {
            let rest = String(String.UnicodeScalarView(input[index...]))
            index = input.count
            return .text(rest)
        }
        if input[index] == "<" {
            if let token = tagLike() { return token }
            // A `<` that starts nothing is text.
            index += 1
            return .text("<" + textRun())
        }
        return .text(textRun())
    }

    /// Text up to the next `<`, character references decoded.
    private mutating func textRun() -> String {
        let start = index
        while index < input.count, input[index] != "<" { index += 1 }
        return Self.decodeReferences(input[start..<index])
    }

    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z")
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}"
    }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < input.count ? input[index + offset] : nil
    }

    /// At a `<`: a start tag, end tag, comment, doctype or bogus comment; nil when `<` is just text.
    private mutating func tagLike() -> HTMLToken? {
        guard let next = peek(1) else { return nil }
        if Self.isASCIILetter(next) {
            index += 1
            return startTag()
        }
        if next == "/" {
            guard let afterSlash = peek(2) else { return nil }
            if Self.isASCIILetter(afterSlash) {
                index += 2
                let name = tagName()
                skipToTagEnd()
                return .endTag(name: name)
            }
            if afterSlash == ">" {  // `</>` is dropped
                index += 3
                return .comment
            }
            index += 2
            return bogusComment()
        }
        if next == "!" {
            if peek(2) == "-", peek(3) == "-" {
                index += 4
                // `<!-->` and `<!--->` end at once; otherwise up to `-->` (or `--!>`), or the end.
                if peek(0) == ">" { index += 1; return .comment }
                if peek(0) == "-", peek(1) == ">" { index += 2; return .comment }
                while index < input.count {
                    if input[index] == "-", peek(1) == "-", peek(2) == ">" { index += 3; return .comment }
                    if input[index] == "-", peek(1) == "-", peek(2) == "!", peek(3) == ">" { index += 4; return .comment }
                    index += 1
                }
                return .comment
            }
            index += 2
            return bogusComment()
        }
        if next == "?" {
            index += 1
            return bogusComment()
        }
        return nil
    }

    private mutating func bogusComment() -> HTMLToken {
        while index < input.count, input[index] != ">" { index += 1 }
        if index < input.count { index += 1 }
        return .comment
    }

    private mutating func tagName() -> String {
        var name = ""
        while index < input.count {
            let c = input[index]
            if Self.isSpace(c) || c == "/" || c == ">" { break }
            name.unicodeScalars.append(c == "\0" ? "\u{FFFD}" : Self.lower(c))
            index += 1
        }
        return name
    }

    private static func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
        (c >= "A" && c <= "Z") ? Unicode.Scalar(c.value + 32)! : c
    }

    /// End tags may carry attributes in broken HTML: they are skipped (quotes respected).
    private mutating func skipToTagEnd() {
        _ = attributes()
    }

    private mutating func startTag() -> HTMLToken {
        let name = tagName()
        let (attributes, selfClosing) = self.attributes()
        if name == "plaintext" {
            plaintextMode = true
        } else if Self.rawTextElements.contains(name) {
            // Everything up to `</name` followed by a space, `/` or `>` is text, not markup.
            let start = index
            var end = input.count
            var search = index
            let target = Array(name.unicodeScalars)
            outer: while search < input.count {
                if input[search] == "<", search + 1 < input.count, input[search + 1] == "/" {
                    var k = 0
                    while k < target.count, search + 2 + k < input.count, Self.lower(input[search + 2 + k]) == target[k] { k += 1 }
                    if k == target.count {
                        let after = search + 2 + k
                        if after >= input.count || Self.isSpace(input[after]) || input[after] == "/" || input[after] == ">" {
                            end = search
                            break outer
                        }
                    }
                }
                search += 1
            }
            let slice = input[start..<end]
            pendingRawText = Self.rcdataElements.contains(name)
                ? Self.decodeReferences(slice) : String(String.UnicodeScalarView(slice))
            index = end
            if end < input.count {
                index = end + 2
                _ = tagName()
                skipToTagEnd()
                pendingEndTag = name
            }
        }
        return .startTag(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    /// Attributes up to and including the tag's `>`.
    private mutating func attributes() -> ([(String, String)], Bool) {
        var result: [(String, String)] = []
        var seen: Set<String> = []
        var selfClosing = false
        while index < input.count {
            let c = input[index]
            if Self.isSpace(c) { index += 1; continue }
            if c == ">" { index += 1; return (result, selfClosing) }
            if c == "/" {
                index += 1
                selfClosing = peek(0) == ">"
                continue
            }
            selfClosing = false
            // Attribute name (a leading `=` belongs to the name, as the standard says).
            var name = ""
            name.unicodeScalars.append(Self.lower(c))
            index += 1
            while index < input.count {
                let d = input[index]
                if Self.isSpace(d) || d == "/" || d == ">" || d == "=" { break }
                name.unicodeScalars.append(d == "\0" ? "\u{FFFD}" : Self.lower(d))
                index += 1
            }
            while index < input.count, Self.isSpace(input[index]) { index += 1 }
            var value = ""
            if index < input.count, input[index] == "=" {
                index += 1
                while index < input.count, Self.isSpace(input[index]) { index += 1 }
                if index < input.count, input[index] == "\"" || input[index] == "'" {
                    let quote = input[index]
                    index += 1
                    let start = index
                    while index < input.count, input[index] != quote { index += 1 }
                    value = Self.decodeReferences(input[start..<index], inAttribute: true)
                    if index < input.count { index += 1 }
                } else {
                    let start = index
                    while index < input.count, !Self.isSpace(input[index]), input[index] != ">" { index += 1 }
                    value = Self.decodeReferences(input[start..<index], inAttribute: true)
                }
            }
            if seen.insert(name).inserted { result.append((name, value)) }
        }
        return (result, selfClosing)
    }

    // MARK: Character references

    /// The named references worth decoding; any other `&name;` stays literal text (and is escaped on
    /// output), which is safe and readable.
    static let namedReferences: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©",
        "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’",
        "ldquo": "“", "rdquo": "”", "bull": "•", "middot": "·", "euro": "€", "pound": "£", "yen": "¥",
        "deg": "°", "times": "×", "divide": "÷", "laquo": "«", "raquo": "»", "shy": "\u{AD}",
        "tab": "\t", "newline": "\n", "colon": ":", "sol": "/", "lpar": "(", "rpar": ")", "num": "#",
        "excl": "!", "quest": "?", "equals": "=", "plus": "+", "comma": ",", "period": ".", "semi": ";",
        "lowbar": "_", "grave": "`", "verbar": "|", "bsol": "\\", "lbrack": "[", "rbrack": "]",
        "lcub": "{", "rcub": "}", "percnt": "%", "dollar": "$", "ast": "*", "commat": "@",
    ]

    /// Decodes `&#NN;`, `&#xHH;` and the named references above (`;` optional for the numeric forms,
    /// as browsers accept). Invalid code points become U+FFFD.
    static func decodeReferences(_ scalars: ArraySlice<Unicode.Scalar>, inAttribute: Bool = false) -> String {
        var result = String.UnicodeScalarView()
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            if c == "\0" { result.append("\u{FFFD}"); i += 1; continue }
            guard c == "&" else { result.append(c); i += 1; continue }
            var j = i + 1
            if j < scalars.endIndex, scalars[j] == "#" {
                j += 1
                var hex = false
                if j < scalars.endIndex, scalars[j] == "x" || scalars[j] == "X" { hex = true; j += 1 }
                var value: UInt32 = 0
                var digits = 0
                while j < scalars.endIndex {
                    let d = scalars[j]
                    let digit: UInt32?
                    if d >= "0" && d <= "9" { digit = d.value - 48 }
                    else if hex && d >= "a" && d <= "f" { digit = d.value - 87 }
                    else if hex && d >= "A" && d <= "F" { digit = d.value - 55 }
                    else { digit = nil }
                    guard let digit else { break }
                    value = value > 0x10FFFF ? value : value * (hex ? 16 : 10) + digit
                    digits += 1
                    j += 1
                }
                if digits == 0 { result.append(c); i += 1; continue }
                if j < scalars.endIndex, scalars[j] == ";" { j += 1 }
                let scalar = (value == 0 || value > 0x10FFFF) ? nil : Unicode.Scalar(value)
                result.append(scalar ?? "\u{FFFD}")
                i = j
                continue
            }
            var name = ""
            while j < scalars.endIndex, j - i <= 32, (scalars[j] >= "a" && scalars[j] <= "z") || (scalars[j] >= "A" && scalars[j] <= "Z") || (scalars[j] >= "0" && scalars[j] <= "9") {
                name.unicodeScalars.append(scalars[j])
                j += 1
            }
            if j < scalars.endIndex, scalars[j] == ";", let decoded = namedReferences[name] {
                result.append(contentsOf: decoded.unicodeScalars)
                i = j + 1
            } else {
                result.append(c)
                i += 1
            }
        }
        return String(result)
    }
}
