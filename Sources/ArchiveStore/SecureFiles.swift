import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Files and folders of the store hold message history and credentials: folders are 0700, files 0600,
/// from the moment they exist (no window where another user could open them).
public enum SecureFiles {
    public static func createDirectory(_ url: URL) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw StoreError.filesystem("\(url.path) exists and is not a folder") }
            return
        }
        do {
            try manager.createDirectory(at: url, withIntermediateDirectories: true,
                                        attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError.filesystem("cannot create the store folder \(url.path): \(error.localizedDescription)")
        }
    }

    /// Creates an empty 0600 file if it does not exist.
    public static func touch(_ path: String) throws {
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.filesystem("cannot create \(path): \(String(cString: strerror(errno)))") }
        close(fd)
    }

    /// Writes `data` to `url` atomically (temporary file, fsync, rename, fsync of the folder), 0600. A
    /// crash leaves either the old file or the new one, never half of one: this is how credentials and the
    /// backup key are replaced. The temporary file is created anew with `O_EXCL | O_NOFOLLOW`, so a link
    /// planted under its name is never followed (a leftover of a killed run is removed first; unlink does
    /// not follow links), and rename replaces a link at `url` instead of writing through it.
    /// `mode`: 0600 for everything of the store; a file meant for another reader (a metrics file that
    /// node_exporter reads) may ask for more.
    public static func writeAtomically(_ data: Data, to url: URL, mode: mode_t = 0o600) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        unlink(temporary)
        let fd = open(temporary, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw StoreError.filesystem("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        // open's mode is masked by the umask, and the search index sets 077 for the whole process: a
        // file meant for another reader (0644) would end 0600. fchmod sets the mode asked for, exactly.
        guard fchmod(fd, mode) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw StoreError.filesystem("cannot write \(temporary): \(reason)")
        }
        // write() may write less than asked (Linux stops at 0x7ffff000 bytes per call, signals interrupt):
        // loop until everything is written.
        var written = 0
        data.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                written += n
            }
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(temporary, url.path) == 0 else {
            unlink(temporary)
            throw StoreError.filesystem("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
        // The rename itself is durable only once the folder is synced.
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// The contents of a file in the store, never read through a symlink; nil when it does not exist.
    public static func readPrivate(_ url: URL) throws -> Data? {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw StoreError.filesystem("cannot read \(url.path): \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw StoreError.filesystem("cannot read \(url.path)")
        }
    }
}

/// An exclusive lock on a file in the store, held while a sync runs, so that two syncs never interleave
/// their pages. The kernel releases it when the process dies, even by SIGKILL.
public final class StoreLock {
    private let fd: Int32

    public init(directory: URL, name: String = "sync.lock") throws {
        let path = directory.appendingPathComponent(name).path
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.filesystem("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            let who = holder.isEmpty ? "" : " (pid \(holder))"
            throw StoreError.locked("another mxarchive sync is already running on \(directory.path)\(who); wait for it to finish")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
