/// The permissions an export is created with. An export holds decrypted history, so by default only its
/// owner can read it (files 0600, folders 0700), whatever the umask; `--mode` widens that on purpose, for
/// a site that a web server reads as another user.
public enum ExportFileMode {
    public static let privateDefault: UInt16 = 0o600

    /// `--mode`'s value: three or four octal digits (`644`, `0640`). The owner must keep read and write
    /// (the export is re-read by `verify-export` and replaced by its owner), and nobody else may write:
    /// no write for group or others, no setuid, setgid or sticky bit.
    public static func parse(_ text: String) throws -> UInt16 {
        let digits = text.hasPrefix("0") && text.count == 4 ? String(text.dropFirst()) : text
        guard digits.count == 3, digits.allSatisfy({ ("0"..."7").contains($0) }), let mode = UInt16(digits, radix: 8) else {
            throw ExportError.usage("--mode '\(text)' is not a file mode; give three octal digits such as 0600 or 0644")
        }
        guard mode & 0o600 == 0o600 else {
            throw ExportError.usage("--mode '\(text)' must let the owner read and write (such as 0600 or 0644)")
        }
        guard mode & 0o022 == 0 else {
            throw ExportError.usage("--mode '\(text)' lets other users change the export; give no write bit beyond the owner's")
        }
        return mode & 0o644
    }

    /// A folder's mode for a file mode: whoever may read the files may also enter the folders.
    public static func directoryMode(for fileMode: UInt16) -> UInt16 {
        fileMode | ((fileMode & 0o444) >> 2)
    }
}
