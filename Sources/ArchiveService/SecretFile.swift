import Foundation

/// Reads a secret (a password, a recovery key, a passphrase) from a file or `-` (standard input). The
/// text is never echoed; errors name only the file. Only the one line break an editor adds is dropped:
/// a passphrase may begin or end with a space. A file other users can read gets a warning.
public enum SecretFile {
    public static func read(_ path: String, what: String) throws -> String {
        let data: Data?
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: path)
        }
        guard let data else { throw ArchiveError.usage("cannot read the \(what) file \(path)") }
        if path != "-", let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
           mode & 0o077 != 0 {
            Console.warning("\(path) can be read by other users; `chmod 600 \(path)`")
        }
        var text = String(decoding: data, as: UTF8.self)
        // ("\r\n" is one Character in Swift, so it goes with one removeLast.)
        if text.hasSuffix("\r\n") || text.hasSuffix("\n") { text.removeLast() }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ArchiveError.usage("the \(what) file \(path) is empty")
        }
        return text
    }
}
