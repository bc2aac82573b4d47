/// A parsed `mxc://<server-name>/<media-id>` URI, checked strictly because both parts come from event
/// content (untrusted) and end up in request paths: anything that could walk a path (`/`, `..`, `%`, a
/// query) or is not a plausible server name is refused instead of being cleaned up.
public struct MXCURI: Sendable, Hashable, CustomStringConvertible {
    public let serverName: String
    public let mediaID: String

    /// Nil unless `text` is exactly `mxc://server/mediaId` with a server name of host characters
    /// (letters, digits, `.`, `-`, an optional `:port`, or a bracketed IPv6 literal) and a media id of
    /// the spec's `[A-Za-z0-9_-]` characters.
    public init?(_ text: String) {
        let prefix = "mxc://"
        guard text.hasPrefix(prefix), text.utf8.count <= 512 else { return nil }
        let rest = text.dropFirst(prefix.count)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let server = String(parts[0])
        let mediaID = String(parts[1])
        guard Self.isServerName(server), Self.isMediaID(mediaID) else { return nil }
        self.serverName = server
        self.mediaID = mediaID
    }

    public var description: String { "mxc://\(serverName)/\(mediaID)" }

    /// The spec (appendix "Server Name"): a DNS name or IPv4 address, or an IPv6 literal in brackets,
    /// optionally followed by `:port`.
    static func isServerName(_ text: String) -> Bool {
        var host = Substring(text)
        if let colon = text.lastIndex(of: ":"), !text.hasSuffix("]") {
            let port = text[text.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit) else { return false }
            host = text[..<colon]
        }
        guard !host.isEmpty, host.count <= 255 else { return false }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return false }
            return host.dropFirst().dropLast().allSatisfy { $0.isASCIIHexDigit || $0 == ":" || $0 == "." }
        }
        // No empty labels: refuses "..", a leading or trailing dot.
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" }
        }
    }

    static func isMediaID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 255 && text.allSatisfy { $0.isASCIILetterOrDigit || $0 == "_" || $0 == "-" }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
    fileprivate var isASCIIHexDigit: Bool { isASCII && isHexDigit }
}
