import ArchiveCore
import Foundation

/// The search index writer's temporary files (sorted runs, summaries). `tmpfile()` ignores TMPDIR and
/// puts hundreds of MB of decrypted text into /tmp, which is RAM on many systems; these are made with
/// mkstemp in TMPDIR (0600 from the start) and unlinked at once, so the text never outlives the process
/// and no other user can open it. Every write is checked: a short write would shift the offsets read back.
enum HTMLSearchSpillFile {
    /// $TMPDIR, else /tmp: named in every error, since a full tmpfs there is the likely cause.
    static var directory: String {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return directory.isEmpty ? "/tmp" : directory
    }

    static func create() throws -> UnsafeMutablePointer<FILE> {
        let directory = directory
        var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
            + Array("mxarchive-search-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw failure("cannot create a temporary file in \(directory) ($TMPDIR)") }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        guard fchmod(descriptor, 0o600) == 0, let file = fdopen(descriptor, "w+") else {
            close(descriptor)
            throw failure("cannot open a temporary file in \(directory) ($TMPDIR)")
        }
        return file
    }

    /// Writes all of `bytes` or throws.
    static func write(_ bytes: [UInt8], to file: UnsafeMutablePointer<FILE>) throws {
        guard !bytes.isEmpty else { return }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == bytes.count, ferror(file) == 0 else { throw failure("cannot write a temporary file in \(directory) ($TMPDIR; disk full?)") }
    }

    /// Flushes and checks the file's error flag: buffered writes can fail only here.
    static func finish(_ file: UnsafeMutablePointer<FILE>) throws {
        guard fflush(file) == 0, ferror(file) == 0 else { throw failure("cannot write a temporary file in \(directory) ($TMPDIR; disk full?)") }
    }

    static func failure(_ message: String) -> ExportError {
        ExportError.failure("search index: " + message)
    }
}
