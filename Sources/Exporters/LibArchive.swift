import CArchive
import Foundation

// The one file that talks to libarchive. It owns every `struct archive *` and `struct archive_entry *`,
// frees them in `deinit`, and turns result codes into `ExportError`s, so no raw pointer leaves it.
//
// libarchive 3.6.2 crashes on non-ASCII entry names unless the process locale is UTF-8: the CLI calls
// `setlocale(LC_ALL, "C.UTF-8")` at start-up (`LibArchive.useUTF8Locale()`).

/// Process-wide libarchive set-up.
public enum LibArchive {
    /// Entry names are UTF-8; libarchive converts through the C locale, which must therefore be UTF-8.
    public static func useUTF8Locale() {
        if setlocale(LC_ALL, "C.UTF-8") == nil { _ = setlocale(LC_ALL, "en_US.UTF-8") }
    }

    public static var version: String { String(cString: archive_version_string()) }
}

/// The archive formats an export can be packed in, chosen by the output's name.
public enum ArchiveKind: String, Sendable, CaseIterable {
    case tarGzip = "tar.gz"
    case tarZstd = "tar.zst"
    case tarXz = "tar.xz"
    case zip
    /// An uncompressed tar (standard output).
    case tar

    /// `.tar.gz`/`.tgz`, `.tar.zst`, `.tar.xz`, `.zip`; nil for anything else (a directory).
    public static func forPath(_ path: String) -> ArchiveKind? {
        let lower = path.lowercased()
        if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") { return .tarGzip }
        if lower.hasSuffix(".tar.zst") || lower.hasSuffix(".tzst") { return .tarZstd }
        if lower.hasSuffix(".tar.xz") || lower.hasSuffix(".txz") { return .tarXz }
        if lower.hasSuffix(".zip") { return .zip }
        if lower.hasSuffix(".tar") { return .tar }
        return nil
    }
}

/// Writes an archive as a stream: each entry's header (its size must be known), then its data.
/// Every entry gets the same owner (0:0, no names), mode (the export's, 0600 unless `--mode`) and
/// modification time, so the same files in the same order give the same bytes, and an unpacked export
/// is as private as the archive it came from.
final class ArchiveStreamWriter {
    private var handle: OpaquePointer?
    private let entry: OpaquePointer
    private let mtime: Int64
    private let fileMode: UInt16
    private let description: String
    private var closed = false
    /// The file we opened (nil for standard output); libarchive does not close a descriptor it was given.
    private var fd: Int32?

    /// Writes to `path`, or to standard output when `path` is nil. The file is created anew, `fileMode`
    /// (0600 unless `--mode`; set exactly, whatever the umask), with `O_EXCL | O_NOFOLLOW`: an export of
    /// decrypted history is private until its owner shares it, and a symlink planted at the path (another
    /// user of a shared folder) is never followed to truncate the file it points at.
    init(path: String?, kind: ArchiveKind, modificationTime: Int64,
         fileMode: UInt16 = ExportFileMode.privateDefault) throws {
        guard let handle = archive_write_new(), let entry = archive_entry_new() else {
            throw ExportError.archive(step: "allocate", message: "out of memory")
        }
        self.handle = handle
        self.entry = entry
        self.mtime = modificationTime
        self.fileMode = fileMode
        self.description = path ?? "standard output"
        switch kind {
        case .zip:
            try check(archive_write_set_format_zip(handle), "zip format")
        case .tar, .tarGzip, .tarZstd, .tarXz:
            // pax restricted: plain ustar headers, pax records only where ustar cannot say it (long or
            // non-ASCII names, sizes over 8 GiB).
            try check(archive_write_set_format_pax_restricted(handle), "tar format")
        }
        switch kind {
        case .tarGzip:
            try check(archive_write_add_filter_gzip(handle), "gzip filter")
            // The gzip header would otherwise carry the current time.
            try check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), "gzip option")
        case .tarZstd:
            try check(archive_write_add_filter_zstd(handle), "zstd filter")
        case .tarXz:
            try check(archive_write_add_filter_xz(handle), "xz filter")
        case .tar, .zip:
            try check(archive_write_add_filter_none(handle), "no filter")
        }
        if kind != .tar && kind != .zip {
            // Compressed output: no padding of the last block with zeroes.
            try check(archive_write_set_bytes_in_last_block(handle, 1), "block size")
        }
        if let path {
            // A leftover from a killed export, or a planted link: removed (unlink never follows a link).
            unlink(path)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ExportError.io("create", path: path, errno: errno) }
            self.fd = fd
            // Widened (never narrowed below 0600) only after it exists as our own new file.
            guard fchmod(fd, mode_t(fileMode)) == 0 else { throw ExportError.io("set the mode of", path: path, errno: errno) }
            try check(archive_write_open_fd(handle, fd), "open \(path)")
        } else {
            try check(archive_write_open_fd(handle, 1), "open standard output")
        }
    }

    deinit {
        if let handle {
            if !closed { archive_write_close(handle) }
            archive_write_free(handle)
        }
        archive_entry_free(entry)
        if let fd { Foundation.close(fd) }
    }

    /// Starts a regular file of `size` bytes at `path` (relative, `/`-separated, UTF-8).
    func beginFile(path: String, size: Int64) throws {
        archive_entry_clear(entry)
        archive_entry_set_pathname_utf8(entry, path)
        archive_entry_set_size(entry, size)
        archive_entry_set_filetype(entry, mxa_archive_ifreg())
        archive_entry_set_perm(entry, mode_t(fileMode))
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        try check(archive_write_header(handle, entry), "header of \(path)")
    }

    /// Appends data to the current file.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = archive_write_data(handle, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 { try check(Int32(written), "write data") }
            if written == 0 { throw ExportError.archive(step: "write data", message: "no progress") }
            offset += written
        }
    }

    /// Finishes the archive (trailer, compressor flush) and closes the output.
    func close() throws {
        guard !closed else { return }
        closed = true
        try check(archive_write_close(handle), "close \(description)")
        if let fd {
            self.fd = nil
            // The data must be on disk before the caller renames the file into place.
            let synced = fsync(fd) == 0
            let closedCleanly = Foundation.close(fd) == 0
            guard synced, closedCleanly else { throw ExportError.io("write", path: description, errno: errno) }
        }
    }

    private func check(_ code: Int32, _ step: String) throws {
        guard code < ARCHIVE_OK else { return }
        if code == ARCHIVE_WARN { return }
        var message = archive_error_string(handle).map { String(cString: $0) } ?? "code \(code)"
        // libarchive's own text for a failed write is only "Write error"; the errno it keeps says why
        // (a full disk: "No space left on device").
        let number = archive_errno(handle)
        if number > 0 {
            let reason = String(cString: strerror(number))
            if !message.contains(reason) { message += ": " + reason }
        }
        throw ExportError.archive(step: step, message: message)
    }
}

/// Reads any archive libarchive knows (tar with any filter, zip, …) entry by entry.
final class ArchiveStreamReader {
    private let handle: OpaquePointer
    private let path: String

    struct Entry {
        let path: String
        let isRegularFile: Bool
        /// Folder entries (which tools such as GNU tar add) are neither files nor problems.
        let isDirectory: Bool
        let size: Int64
        /// The permission bits the entry would be unpacked with.
        let permissions: UInt16
    }

    init(path: String) throws {
        guard let handle = archive_read_new() else { throw ExportError.archive(step: "allocate", message: "out of memory") }
        self.handle = handle
        self.path = path
        archive_read_support_filter_all(handle)
        archive_read_support_format_all(handle)
        try check(archive_read_open_filename(handle, path, 1 << 16), "open \(path)")
    }

    deinit {
        archive_read_close(handle)
        archive_read_free(handle)
    }

    /// The next entry's header, or nil at the end.
    func next() throws -> Entry? {
        var entry: OpaquePointer?
        let code = archive_read_next_header(handle, &entry)
        if code == ARCHIVE_EOF { return nil }
        try check(code, "read header")
        guard let entry else { return nil }
        let name: String
        if let utf8 = archive_entry_pathname_utf8(entry) {
            name = String(cString: utf8)
        } else if let raw = archive_entry_pathname(entry) {
            name = String(cString: raw)
        } else {
            name = ""
        }
        let type = archive_entry_filetype(entry)
        return Entry(path: name, isRegularFile: type == mxa_archive_ifreg(), isDirectory: type == mxa_archive_ifdir(),
                     size: archive_entry_size(entry), permissions: UInt16(archive_entry_perm(entry) & 0o7777))
    }

    /// Reads the current entry's data in chunks; `body` sees each chunk.
    func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
            if count < 0 { try check(Int32(count), "read data") }
            if count <= 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    private func check(_ code: Int32, _ step: String) throws {
        guard code < ARCHIVE_OK, code != ARCHIVE_WARN else { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "code \(code)"
        throw ExportError.archive(step: "\(step) (\(path))", message: message)
    }
}
