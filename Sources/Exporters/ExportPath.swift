/// Paths inside an export. They are built from ids only (never from names in events) and checked before
/// anything is written: relative, `/`-separated, no empty, `.` or `..` component, only
/// `[A-Za-z0-9._-]` characters. Nothing can land outside the output.
public enum ExportPath {
    /// A file or folder name for a Matrix id (`!room:server`, `$event`, …): letters, digits, `-` and `.`
    /// stay; every other byte (including `_`) becomes `_` and two hex digits, so different ids never
    /// collide. The sigil is dropped. A leading `.` is encoded too, so the name is never `.` or `..`.
    public static func component(forID id: String) -> String {
        var bytes = Array(id.utf8)
        if let first = bytes.first, [UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "@"), UInt8(ascii: "#")].contains(first) {
            bytes.removeFirst()
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 8)
        for (index, byte) in bytes.enumerated() {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || (byte == UInt8(ascii: ".") && index > 0)
            if plain {
                result.append(byte)
            } else {
                result += [UInt8(ascii: "_"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        if result.isEmpty { return "_" }
        // Keep names well under common 255-byte limits; ids are at most 255 bytes by the spec.
        if result.count > 200 { return String(decoding: result.prefix(180), as: UTF8.self) + "-" + sha256Hex(Array(id.utf8)).prefix(16) }
        return String(decoding: result, as: UTF8.self)
    }

    /// True when `path` is a safe relative path inside an export.
    public static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count < 1024, !path.hasPrefix("/") else { return false }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." { return false }
            for byte in component.utf8 {
                let ok = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                if !ok { return false }
            }
        }
        return true
    }

    /// `../` repeated once per folder of `path`: from a page back to the export's root.
    public static func rootPrefix(of path: String) -> String {
        String(repeating: "../", count: path.split(separator: "/").count - 1)
    }
}
