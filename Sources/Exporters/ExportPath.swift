/// Paths inside an export. They are built from ids only (never from names in events) and checked before
/// anything is written: relative, `/`-separated, no empty, `.` or `..` component, only
/// `[A-Za-z0-9._-]` characters. Nothing can land outside the output.
public enum ExportPath {
    /// A file or folder name for a Matrix id (`!room:server`, `$event`, …): the first 32 lower-case hex
    /// digits (128 bits) of the SHA-256 of the id's UTF-8 bytes. Ids are chosen by whoever sends the event
    /// or creates the room, so any readable encoding can be steered into a collision: a truncated long id
    /// can be made to equal a short one, and `$abc` and `$ABC` are one file on a case-insensitive file
    /// system (macOS, a zip opened on Windows). A fixed-length lower-case digest has neither problem; the
    /// pages and the manifest say which id each name belongs to.
    public static func component(forID id: String) -> String {
        String(sha256Hex(Array(id.utf8)).prefix(32))
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
