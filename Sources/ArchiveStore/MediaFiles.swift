import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The folder of downloaded media, content-addressed: `media/ab/cdef…` where `abcdef…` is the SHA-256 (hex)
/// of the file's plaintext. Names come only from digests, never from an event's file name, so no event can
/// choose a path. Folders 0700, files 0600 like the rest of the store.
public struct MediaFiles: Sendable {
    public let root: URL

    public init(storeDirectory: URL) {
        root = storeDirectory.appendingPathComponent("media")
    }

    /// Where the file with this digest lives (or would).
    public func url(forSHA256 digest: String) throws -> URL {
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw StoreError.corrupt("'\(digest.prefix(70))' is not a lower-case SHA-256")
        }
        return root.appendingPathComponent(String(digest.prefix(2)))
            .appendingPathComponent(String(digest.dropFirst(2)))
    }

    public func contains(sha256 digest: String) -> Bool {
        guard let url = try? url(forSHA256: digest) else { return false }
        return FileManager.default.fileExists(atPath: url.path)
    }

    /// Stores `data` under its digest (computed by the caller): temporary file, fsync, rename, so a crash
    /// never leaves half a file under a digest's name. A file already there is the same content.
    public func write(_ data: Data, sha256 digest: String) throws {
        let url = try url(forSHA256: digest)
        if FileManager.default.fileExists(atPath: url.path) { return }
        try SecureFiles.createDirectory(url.deletingLastPathComponent())
        try SecureFiles.writeAtomically(data, to: url)
    }

    /// Removes temporary files a killed run left behind (`.<name>.<pid>.tmp`). Safe while the caller holds
    /// the store's sync lock: no other writer can be mid-file. Returns how many were removed.
    @discardableResult
    public func removeLeftovers() -> Int {
        guard let folders = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return 0 }
        var removed = 0
        for folder in folders where folder.count == 2 {
            let path = root.appendingPathComponent(folder).path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                if unlink(path + "/" + name) == 0 { removed += 1 }
            }
        }
        return removed
    }

    public func remove(sha256 digest: String) throws {
        let url = try url(forSHA256: digest)
        guard unlink(url.path) == 0 || errno == ENOENT else {
            throw StoreError.filesystem("cannot remove \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
