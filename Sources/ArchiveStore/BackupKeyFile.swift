import ArchiveCore
import Foundation

/// The key-backup private key, in its own file beside the database (`<store>/backup-key`, 0600), not in
/// `archive.sqlite`: the database is what gets copied (backups, a hand-over to a colleague, a bug report),
/// and a copy of it must not decrypt every session the account ever backed up. The file is replaced
/// atomically and never read or written through a symlink (`SecureFiles`).
struct BackupKeyFile {
    static let fileName = "backup-key"

    struct Contents: Equatable {
        let version: String
        /// Unpadded base64.
        let privateKey: String
        /// Milliseconds.
        let savedAt: Int64
    }

    let url: URL

    init(storeDirectory: URL) { url = storeDirectory.appendingPathComponent(Self.fileName) }

    func read() throws -> Contents? {
        guard let data = try SecureFiles.readPrivate(url) else { return nil }
        // The error names the file only: its text is the secret.
        guard let json = try? JSONCoding.decode(data), let version = json["version"]?.stringValue,
              let key = json["private_key"]?.stringValue, let savedAt = json["saved_at"]?.int64Value else {
            throw StoreError.corrupt("\(url.path) is not a key-backup key file; remove it with `mxarchive keys forget`")
        }
        return Contents(version: version, privateKey: key, savedAt: savedAt)
    }

    func write(_ contents: Contents) throws {
        let json: JSONValue = ["version": .string(contents.version), "private_key": .string(contents.privateKey),
                               "saved_at": .int(contents.savedAt)]
        try SecureFiles.writeAtomically(Data((JSONCoding.encode(json) + "\n").utf8), to: url)
    }

    /// Deletes the file; whether there was one.
    func remove() throws -> Bool {
        if unlink(url.path) == 0 { return true }
        if errno == ENOENT { return false }
        throw StoreError.filesystem("cannot remove \(url.path): \(String(cString: strerror(errno)))")
    }
}
