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
/// `ExportPath.isSafe` first. Not thread-safe.
public final class ExportWriter {
    private enum Target {
        /// Files go to `staging` (`PATH.partial`), renamed to `final` when the export is complete.
        case directory(staging: URL, final: URL)
        case archive(ArchiveStreamWriter, finalPath: String?, partialPath: String?)
    }

    private var target: Target
    public private(set) var files: [ExportedFile] = []
    /// Paths written so far, lower-cased: an export is also unpacked on case-insensitive file systems,
    /// where `a.html` and `A.html` are one file.
    private var paths: Set<String> = []
    /// Files not written because their path (ignoring case) was already written; the exporter counts
    /// them, so that one odd name costs one file, not the export.
    public private(set) var skippedPaths: [String] = []
    public private(set) var bytesWritten: Int64 = 0
    private var finished = false
    /// Every file's permission bits; folders get `ExportFileMode.directoryMode(for:)`.
    private let fileMode: UInt16
    private var directoryMode: mode_t { mode_t(ExportFileMode.directoryMode(for: fileMode)) }

    /// `modificationTime` (seconds) is stamped on every archive entry. Files are created `fileMode` and
    /// folders the matching folder mode, exactly (the umask does not apply): 0600/0700 by default, since
    /// an export holds decrypted history.
    public init(destination: ExportDestination, modificationTime: Int64,
                fileMode: UInt16 = ExportFileMode.privateDefault) throws {
        self.fileMode = fileMode
        switch destination {
        case .directory(let path):
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
        guard !finished else { return }
        switch target {
        case .archive(_, _, let partial?): unlink(partial)
        case .directory(let staging, _): try? FileManager.default.removeItem(at: staging)
        case .archive: break
        }
    }

    /// A `PATH.partial` folder left by a killed export (its files were never renamed into place), or anything
    /// else planted under that name: removed, so the export starts clean. A symlink is removed itself and
    /// never followed.
    private static func removeLeftover(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw ExportError.failure("cannot remove the leftover \(path) of an earlier export")
            }
        } else if unlink(path) != 0 {
            throw ExportError.io("remove the leftover", path: path, errno: errno)
        }
    }

    /// Writes one file and records it for the manifest; nil (and counted in `skippedPaths`) when the path
    /// was already written: the first file keeps it, as a folder or a tar could not hold both.
    @discardableResult
    public func add(_ path: String, _ file: ExportFile) throws -> ExportedFile? {
        guard ExportPath.isSafe(path) else { throw ExportError.failure("refusing unsafe export path \(path)") }
        guard paths.insert(path.lowercased()).inserted else {
            skippedPaths.append(path)
            return nil
        }
        var hasher = SHA256()
        switch target {
        case .directory(let root, _):
            let url = root.appendingPathComponent(path)
            try makeFolders(for: path, in: root)
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
        case .archive(let writer, _, _):
            try writer.beginFile(path: path, size: file.size)
            try file.forEachChunk { chunk in
                hasher.update(bufferPointer: chunk)
                try writer.write(chunk)
            }
        }
        bytesWritten += file.size
        let record = ExportedFile(path: path, size: file.size, sha256: hasher.finalize().hexDigest)
        files.append(record)
        return record
    }

    /// Creates the folders above `path` that do not exist yet, each with the export's folder mode
    /// (FileManager would give them the umask's).
    private func makeFolders(for path: String, in root: URL) throws {
        var folder = root
        for component in path.split(separator: "/").dropLast() {
            folder.appendPathComponent(String(component))
            if mkdir(folder.path, directoryMode) == 0 {
                guard chmod(folder.path, directoryMode) == 0 else { throw ExportError.io("set the mode of", path: folder.path, errno: errno) }
            } else if errno != EEXIST {
                throw ExportError.io("create the folder", path: folder.path, errno: errno)
            }
        }
    }

    /// Writes a file given as text.
    @discardableResult
    public func add(_ path: String, text: String) throws -> ExportedFile? {
        let file = ExportFile()
        file.append(text)
        return try add(path, file)
    }

    /// Closes the archive and moves it to its final name.
    public func finish() throws {
        guard !finished else { return }
        switch target {
        case .archive(let writer, let final, let partial):
            try writer.close()
            if let final, let partial {
                if rename(partial, final) != 0 { throw ExportError.io("rename to", path: final, errno: errno) }
            }
        case .directory(let staging, let final):
            // rename(2) replaces an empty folder; one that filled up meanwhile makes it fail (ENOTEMPTY).
            if rename(staging.path, final.path) != 0 { throw ExportError.io("rename to", path: final.path, errno: errno) }
        }
        finished = true
    }
}
