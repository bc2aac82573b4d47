import Exporters

/// libFuzzer target for the HTML tokenizer and sanitizer (issue 12.11). Property: whatever
/// `formatted_body` a sender writes, the sanitized HTML holds only allowlisted elements with their
/// allowlisted attribute values (links only to allowed schemes), no comments, and every element it
/// opens it closes. The allowlist is written out here again on purpose: a change to the sanitizer's
/// lists has to be made twice to pass.
private let allowedTags: Set<String> = [
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub",
    "li", "b", "i", "u", "strong", "em", "strike", "s", "code", "hr", "br", "div", "table", "thead",
    "tbody", "tr", "th", "td", "caption", "pre", "span", "details", "summary",
]
private let voidTags: Set<String> = ["br", "hr"]
private let allowedSchemes = ["https:", "http:", "mailto:", "matrix:"]

private func attributesAreAllowed(_ tag: String, _ attributes: [(String, String)]) -> Bool {
    switch tag {
    case "a":
        guard !attributes.isEmpty else { return true }
        guard attributes.count == 2, attributes[0].0 == "href", attributes[1] == ("rel", "noopener noreferrer nofollow")
        else { return false }
        let href = attributes[0].1.lowercased()
        return allowedSchemes.contains(where: href.hasPrefix)
            && !href.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F }
    case "ol":
        return attributes.isEmpty || (attributes.count == 1 && attributes[0].0 == "start"
            && attributes[0].1.unicodeScalars.allSatisfy { $0 >= "0" && $0 <= "9" })
    case "code":
        return attributes.isEmpty || (attributes.count == 1 && attributes[0].0 == "class"
            && attributes[0].1.hasPrefix("language-"))
    case "span":
        return attributes.isEmpty || (attributes.count == 1 && attributes[0].0 == "class"
            && ["spoiler", "inline-image"].contains(attributes[0].1))
    default:
        return attributes.isEmpty
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = HTMLTokenizer.tokenize(input)
    let output = HTMLSanitizer.sanitize(input)
    var open: [String] = []
    for token in HTMLTokenizer.tokenize(output) {
        switch token {
        case .comment:
            fatalError("a comment survived sanitizing")
        case .text:
            continue
        case .startTag(let name, let attributes, _):
            guard allowedTags.contains(name) else { fatalError("element <\(name)> survived sanitizing") }
            guard attributesAreAllowed(name, attributes) else { fatalError("attributes of <\(name)> survived sanitizing") }
            if !voidTags.contains(name) { open.append(name) }
        case .endTag(let name):
            guard open.last == name else { fatalError("</\(name)> does not close the innermost element") }
            open.removeLast()
        }
    }
    guard open.isEmpty else { fatalError("elements left open: \(open)") }
    return 0
}
