import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reading config.toml. A nightly sync reads it unattended, so what is there must not be able to hang or
/// flood it: a FIFO would block the read until someone writes to it, a device or a huge file would be
/// read whole. Only a regular file (not a link to one) of at most 1 MiB is read.
enum ConfigFile {
    static let maxBytes = 1 << 20

    static func read(_ url: URL) throws -> Data {
        let path = url.path
        var info = stat()
        guard lstat(path, &info) == 0 else { throw ArchiveError.input("cannot read \(path): \(String(cString: strerror(errno)))") }
        try check(info, path: path)
        // O_NONBLOCK: should a FIFO have replaced the file since lstat, open returns at once; O_NOFOLLOW: so
        // should a link. fstat then judges what was really opened.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError.input("cannot read \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard fstat(fd, &info) == 0 else { throw ArchiveError.input("cannot read \(path)") }
        try check(info, path: path)
        // One byte more than allowed tells a file that grew past the limit since fstat.
        let data: Data
        do { data = try handle.read(upToCount: maxBytes + 1) ?? Data() } catch {
            throw ArchiveError.input("cannot read \(path)")
        }
        guard data.count <= maxBytes else { throw tooLarge(path) }
        return data
    }

    private static func check(_ info: stat, path: String) throws {
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ArchiveError.input("\(path) is not a regular file (a link, folder, FIFO or device); a config is a plain file")
        }
        guard info.st_size <= maxBytes else { throw tooLarge(path) }
    }

    private static func tooLarge(_ path: String) -> ArchiveError {
        ArchiveError.input("\(path) is larger than 1 MiB; a config is a few lines")
    }
}
