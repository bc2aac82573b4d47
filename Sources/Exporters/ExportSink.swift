import Crypto
import Foundation

/// Where an export's files go, and the file list the manifest is made of.
public enum ExportDestination: Sendable, Equatable {
    /// A folder (created; must be empty or absent).
    case directory(String)
    /// An archive file written as a stream through libarchive.
    case archive(String, ArchiveKind)
    /// An uncompressed tar on standard output.
    case standardOutput

    /// `-` is standard output; a name ending `.tar.gz`/`.tgz`, `.tar.zst`, `.tar.xz`, `.zip` or `.tar`
    /// is an archive; anything else is a folder.
    public static func forOutput(_ path: String) -> ExportDestination {
        if path == "-" { return .standardOutput }
        if let kind = ArchiveKind.forPath(path) { return .archive(path, kind) }
        return .directory(path)
    }
}

/// One file of an export as the manifest records it.
public struct ExportedFile: Sendable, Hashable {
    public let path: String
    public let size: Int64
    public let sha256: String
}

/// Writes files to the destination, hashing each as it goes. Every path is checked with
/// `ExportPath.isSafe` first. The writing itself runs behind the caller, on `ExportFileQueue`'s thread;
/// a write's failure is thrown by a later `add`, `writtenFiles` or `finish`. Not thread-safe otherwise.
public final class ExportWriter {
    private enum Target {
        /// Files go to `staging` (`PATH.partial`), renamed to `final` when the export is complete.
        case directory(staging: URL, final: URL)
        case archive(ArchiveStreamWriter, finalPath: String?, partialPath: String?)
    }

    private let target: Target
    /// The paths handed over so far, in order (written, or being written).
    public private(set) var paths: [String] = []
    /// `paths` lower-cased: an export is also unpacked on case-insensitive file systems, where `a.html`
    /// and `A.html` are one file.
    private var foldedPaths: Set<String> = []
    /// Files not written because their path (ignoring case) was already written; the exporter counts
    /// them, so that one odd name costs one file, not the export.
    public private(set) var skippedPaths: [String] = []
    public private(set) var bytesWritten: Int64 = 0
    private var finished = false
    /// Every file's permission bits; folders get `ExportFileMode.directoryMode(for:)`.
    private let fileMode: UInt16
    private let files = ExportFileQueue()
    /// The manifest's records, appended by the queue's jobs in `paths` order (read after a drain).
    private let records = RecordList()

    /// `modificationTime` (seconds) is stamped on every archive entry. Files are created `fileMode` and
    /// folders the matching folder mode, exactly (the umask does not apply): 0600/0700 by default, since
    /// an export holds decrypted history.
    public init(destination: ExportDestination, modificationTime: Int64,
                fileMode: UInt16 = ExportFileMode.privateDefault) throws {
        self.fileMode = fileMode
        switch destination {
        case .directory(let givenPath):
            // `site/` (as shell completion writes it) is the folder `site`: its staging folder is `site.partial`
            // beside it, never `site/.partial` inside it.
            var path = givenPath
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            let url = URL(fileURLWithPath: path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw ExportError.usage("\(path) exists and is not a folder") }
                let entries = try FileManager.default.contentsOfDirectory(atPath: url.path)
                guard entries.isEmpty else {
                    throw ExportError.usage("the output folder \(path) is not empty; name a new or empty folder")
                }
            }
            // Written into `PATH.partial` beside the destination and renamed at the end (over the empty
            // folder, when one was given), so that a killed or failed export never leaves a folder under
            // the final name that looks like an export but lacks files, and the rerun finds it free.
            let staging = URL(fileURLWithPath: path + ".partial")
            try Self.removeLeftover(staging.path)
            do {
                try FileManager.default.createDirectory(at: staging.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw ExportError.failure("cannot create the output folder \(path)")
            }
            guard mkdir(staging.path, 0o700) == 0 else { throw ExportError.io("create", path: staging.path, errno: errno) }
            // The mark that this folder is an export's staging folder, for the rerun after a kill; removed
            // before the folder is renamed into place.
            let marker = open(staging.appendingPathComponent(Self.stagingMarker).path,
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard marker >= 0 else { throw ExportError.io("create", path: staging.path, errno: errno) }
            close(marker)
            // The export's own folder too gets the folder mode exactly (the umask does not apply): it is
            // renamed into place as the export.
            guard chmod(staging.path, mode_t(ExportFileMode.directoryMode(for: fileMode))) == 0 else {
                throw ExportError.io("set the mode of", path: staging.path, errno: errno)
            }
            target = .directory(staging: staging, final: url)
        case .archive(let path, let kind):
            // Written beside the destination and renamed at the end, so a failed export leaves no
            // half-written archive under the final name.
            let partial = path + ".partial"
            target = .archive(try ArchiveStreamWriter(path: partial, kind: kind, modificationTime: modificationTime,
                                                      fileMode: fileMode),
                              finalPath: path, partialPath: partial)
        case .standardOutput:
            target = .archive(try ArchiveStreamWriter(path: nil, kind: .tar, modificationTime: modificationTime,
                                                      fileMode: fileMode),
                              finalPath: nil, partialPath: nil)
        }
    }

    deinit {
        // Nothing may still be writing into what is removed below; what is still queued is not written.
        files.abandon()
        guard !finished else { return }
        switch target {
        case .archive(_, _, let partial?): unlink(partial)
        case .directory(let staging, _): try? FileManager.default.removeItem(at: staging)
        case .archive: break
        }
    }

    /// The file that marks a staging folder as one an export of ours made.
    static let stagingMarker = ".mxarchive-partial"

    /// A `PATH.partial` folder left by a killed export (its files were never renamed into place) is removed,
    /// so the export starts clean: only when it is ours — a folder owned by this user that nobody else may
    /// write into (so nothing in it can be swapped for a link while it is removed) and either empty or
    /// holding the staging mark. Anything else under that name is somebody's data: refused, never deleted.
    private static func removeLeftover(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let isOurs = (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid() && (info.st_mode & 0o022) == 0
        if isOurs, rmdir(path) == 0 { return }
        guard isOurs, access(path + "/" + stagingMarker, F_OK) == 0 else {
            throw ExportError.usage("\(path) exists and is not the leftover of an mxarchive export: "
                                    + "remove it, or name another output")
        }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw ExportError.failure("cannot remove the leftover \(path) of an earlier export")
        }
    }

    /// Hands one file over to be written and recorded for the manifest; false (and counted in
    /// `skippedPaths`) when the path was already written: the first file keeps it, as a folder or a tar
    /// could not hold both. `file` belongs to the writer from here on: it must not be appended to.
    @discardableResult
    public func add(_ path: String, _ file: ExportFile) throws -> Bool {
        guard ExportPath.isSafe(path) else { throw ExportError.failure("refusing unsafe export path \(path)") }
        guard foldedPaths.insert(path.lowercased()).inserted else {
            skippedPaths.append(path)
            return false
        }
        let write: () throws -> ExportedFile
        switch target {
        case .directory(let root, _):
            write = { [fileMode] in try Self.write(file, to: path, in: root, fileMode: fileMode) }
        case .archive(let archive, _, _):
            write = { try Self.write(file, to: path, in: archive) }
        }
        try files.submit(.init(bytes: file.heldBytes) { [records] in records.append(try write()) })
        paths.append(path)
        bytesWritten += file.size
        return true
    }

    /// Every file written, with its size and SHA-256, in the order handed over (waits for the writes).
    public func writtenFiles() throws -> [ExportedFile] {
        try files.drain()
        return records.all
    }

    /// Writes `file` as `path` under the staging folder `root` (on the queue).
    private static func write(_ file: ExportFile, to path: String, in root: URL, fileMode: UInt16) throws -> ExportedFile {
        var hasher = SHA256()
        let url = root.appendingPathComponent(path)
        try makeFolders(for: path, in: root, mode: mode_t(ExportFileMode.directoryMode(for: fileMode)))
        // O_EXCL | O_NOFOLLOW: a name is written once, and never through a link.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ExportError.io("create", path: url.path, errno: errno) }
        guard fchmod(fd, mode_t(fileMode)) == 0, let handle = fdopen(fd, "w") else {
            let code = errno
            close(fd)
            throw ExportError.io("create", path: url.path, errno: code)
        }
        defer { fclose(handle) }
        try file.forEachChunk { chunk in
            hasher.update(bufferPointer: chunk)
            if fwrite(chunk.baseAddress, 1, chunk.count, handle) != chunk.count {
                throw ExportError.io("write", path: url.path, errno: errno)
            }
        }
        if fflush(handle) != 0 { throw ExportError.io("write", path: url.path, errno: errno) }
        return ExportedFile(path: path, size: file.size, sha256: hasher.finalize().hexDigest)
    }

    /// Writes `file` as the archive's next entry (on the queue).
    private static func write(_ file: ExportFile, to path: String, in archive: ArchiveStreamWriter) throws -> ExportedFile {
        var hasher = SHA256()
        try archive.beginFile(path: path, size: file.size)
        try file.forEachChunk { chunk in
            hasher.update(bufferPointer: chunk)
            try archive.write(chunk)
        }
        return ExportedFile(path: path, size: file.size, sha256: hasher.finalize().hexDigest)
    }

    /// Creates the folders above `path` that do not exist yet, each with the export's folder mode
    /// (FileManager would give them the umask's).
    private static func makeFolders(for path: String, in root: URL, mode: mode_t) throws {
        var folder = root
        for component in path.split(separator: "/").dropLast() {
            folder.appendPathComponent(String(component))
            if mkdir(folder.path, mode) == 0 {
                guard chmod(folder.path, mode) == 0 else { throw ExportError.io("set the mode of", path: folder.path, errno: errno) }
            } else if errno != EEXIST {
                throw ExportError.io("create the folder", path: folder.path, errno: errno)
            }
        }
    }

    /// Writes a file given as text.
    @discardableResult
    public func add(_ path: String, text: String) throws -> Bool {
        let file = ExportFile()
        file.append(text)
        return try add(path, file)
    }

    /// Closes the archive and moves it to its final name.
    public func finish() throws {
        guard !finished else { return }
        try files.drain()
        switch target {
        case .archive(let writer, let final, let partial):
            try writer.close()
            if let final, let partial {
                if rename(partial, final) != 0 { throw ExportError.io("rename to", path: final, errno: errno) }
            }
        case .directory(let staging, let final):
            if unlink(staging.appendingPathComponent(Self.stagingMarker).path) != 0 {
                throw ExportError.io("remove the staging mark in", path: staging.path, errno: errno)
            }
            // rename(2) replaces an empty folder; one that filled up meanwhile makes it fail (ENOTEMPTY).
            if rename(staging.path, final.path) != 0 { throw ExportError.io("rename to", path: final.path, errno: errno) }
        }
        finished = true
    }
}

/// The records the queue's jobs append, read by the caller once the queue is drained.
private final class RecordList: @unchecked Sendable {
    private var records: [ExportedFile] = []
    private let lock = NSLock()

    func append(_ record: ExportedFile) { lock.withLock { records.append(record) } }
    var all: [ExportedFile] { lock.withLock { records } }
}
