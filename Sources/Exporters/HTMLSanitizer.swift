/// Reduces untrusted `formatted_body` HTML to the allowlist Matrix suggests for clients, rebuilt from
/// `HTMLTokenizer` tokens: allowed tags with their checked attributes, everything else as escaped text;
/// `script`, `style`, `iframe` and similar are dropped with their content; links only `https`, `http`,
/// `mailto` and `matrix` with `rel="noopener noreferrer nofollow"`; images (mxc:// URLs, which a static
/// archive cannot load and its CSP would block) become their alt text. Output is always balanced.
public enum HTMLSanitizer {
    /// Tags kept (as the Matrix spec suggests; `font` and `strike` are older spellings).
    static let allowedTags: Set<String> = [
        "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub",
        "li", "b", "i", "u", "strong", "em", "strike", "s", "code", "hr", "br", "div", "table", "thead",
        "tbody", "tr", "th", "td", "caption", "pre", "span", "details", "summary",
    ]
    /// Dropped together with everything inside them. Not `mx-reply`: a reply's leading fallback is removed
    /// before (`ReplyFallback`), and one anywhere else is the sender's own text.
    static let droppedWithContent: Set<String> = [
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "noembed",
        "noframes", "template", "svg", "math", "head", "title", "select", "textarea", "xmp",
        "audio", "video", "canvas", "form", "button", "link", "meta", "base",
    ]
    static let voidTags: Set<String> = ["br", "hr", "img", "input", "link", "meta", "base", "wbr", "area", "col",
                                        "embed", "source", "track", "param", "keygen"]
    static let allowedSchemes: Set<String> = ["https", "http", "mailto", "matrix"]
    /// Deeper nesting is flattened (Matrix suggests clients limit it to 100).
    static let maximumDepth = 100

    public static func sanitize(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var open: [String] = []
        var dropping: [String] = []  // stack of dropped-with-content elements we are inside
        var tokenizer = HTMLTokenizer(html)
        while let token = tokenizer.next() {
            switch token {
            case .comment:
                continue
            case .text(let text):
                if dropping.isEmpty { output += escapeText(text) }
            case .startTag(let name, let attributes, let selfClosing):
                if !dropping.isEmpty || droppedWithContent.contains(name) {
                    // Remembered until its end tag; an unclosed one drops the rest of the fragment.
                    if !voidTags.contains(name) { dropping.append(name) }
                    continue
                }
                _ = selfClosing  // `<div/>` opens a div in HTML; only void elements are empty
                if name == "img" {
                    let label = attribute("alt", in: attributes) ?? attribute("title", in: attributes)
                    output += "<span class=\"inline-image\">[image" + (label.map { ": " + escapeText($0) } ?? "") + "]</span>"
                    continue
                }
                guard allowedTags.contains(name), open.count < maximumDepth else { continue }
                output += "<" + name + renderAttributes(of: name, attributes) + ">"
                if !voidTags.contains(name) { open.append(name) }
            case .endTag(let name):
                if !dropping.isEmpty {
                    if let index = dropping.lastIndex(of: name) { dropping.removeSubrange(index...) }
                    continue
                }
                guard let index = open.lastIndex(of: name) else { continue }
                for element in open[index...].reversed() { output += "</" + element + ">" }
                open.removeSubrange(index...)
            }
        }
        for element in open.reversed() { output += "</" + element + ">" }
        return output
    }

    private static func attribute(_ name: String, in attributes: [(String, String)]) -> String? {
        attributes.first { $0.0 == name }?.1
    }

    private static func renderAttributes(of tag: String, _ attributes: [(String, String)]) -> String {
        switch tag {
        case "a":
            guard let href = attribute("href", in: attributes), let safe = safeURL(href) else { return "" }
            return " href=\"" + escapeAttribute(safe) + "\" rel=\"noopener noreferrer nofollow\""
        case "ol":
            if let start = attribute("start", in: attributes), !start.isEmpty, start.count < 10,
               start.unicodeScalars.allSatisfy({ $0 >= "0" && $0 <= "9" }) {
                return " start=\"" + start + "\""
            }
            return ""
        case "code":
            if let cls = attribute("class", in: attributes), cls.hasPrefix("language-"), cls.count < 64,
               cls.unicodeScalars.allSatisfy({ ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" || $0 == "+" }) {
                return " class=\"" + cls + "\""
            }
            return ""
        case "span":
            // Spoilers are shown blurred by the stylesheet; colours would need inline styles, which the
            // page's CSP forbids, so they are dropped.
            if attributes.contains(where: { $0.0 == "data-mx-spoiler" }) { return " class=\"spoiler\"" }
            return ""
        default:
            return ""
        }
    }

    /// The URL when its scheme is allowed, with the characters browsers ignore (ASCII whitespace and
    /// controls) removed first, so that `java\tscript:` cannot hide a scheme; nil otherwise (relative
    /// links too: an archive has nothing for them to point at).
    static func safeURL(_ raw: String) -> String? {
        let cleaned = String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }))
        guard let colon = cleaned.firstIndex(of: ":") else { return nil }
        let scheme = cleaned[..<colon].lowercased()
        guard let first = scheme.unicodeScalars.first, first >= "a" && first <= "z",
              scheme.unicodeScalars.allSatisfy({ ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "+" || $0 == "-" || $0 == "." }),
              allowedSchemes.contains(scheme) else { return nil }
        return cleaned
    }

    /// Escapes text for an element's content.
    public static func escapeText(_ text: String) -> String { escape(text, quotes: false) }

    /// Escapes text for a double-quoted attribute value (quotes escaped as well).
    public static func escapeAttribute(_ text: String) -> String { escape(text, quotes: true) }

    private static func escape(_ text: String, quotes: Bool) -> String {
        // Every character escaped is ASCII, so the work is done on UTF-8 bytes (by scalars through
        // String it was a twentieth of a large export), and text with none of them is returned as it is.
        func needsEscape(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), 0: return true
            case UInt8(ascii: "\""), UInt8(ascii: "'"): return quotes
            default: return false
            }
        }
        guard text.utf8.contains(where: needsEscape) else { return text }
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            guard needsEscape(byte) else {
                result.append(byte)
                continue
            }
            switch byte {
            case UInt8(ascii: "&"): result.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): result.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): result.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): result.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): result.append(contentsOf: "&#39;".utf8)
            default: result.append(contentsOf: "\u{FFFD}".utf8)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}
