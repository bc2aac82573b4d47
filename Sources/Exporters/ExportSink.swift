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

    /// `modificationTime` (seconds) is stamped on every archive entry.
    public init(destination: ExportDestination, modificationTime: Int64) throws {
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
            guard mkdir(staging.path, 0o755) == 0 else { throw ExportError.io("create", path: staging.path, errno: errno) }
            target = .directory(staging: staging, final: url)
        case .archive(let path, let kind):
            // Written beside the destination and renamed at the end, so a failed export leaves no
            // half-written archive under the final name.
            let partial = path + ".partial"
            target = .archive(try ArchiveStreamWriter(path: partial, kind: kind, modificationTime: modificationTime),
                              finalPath: path, partialPath: partial)
        case .standardOutput:
            target = .archive(try ArchiveStreamWriter(path: nil, kind: .tar, modificationTime: modificationTime),
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
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard let handle = fopen(url.path, "wx") else { throw ExportError.io("create", path: url.path, errno: errno) }
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
