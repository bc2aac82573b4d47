import ArchiveCore
import Crypto
import Foundation

/// Re-reads an export (a folder or any archive libarchive reads) and compares every file with the
/// manifest: size and SHA-256. Reports files that are missing, extra or altered, a manifest that is
/// absent or unreadable, and what an export never holds: symlinks (or any entry that is not a file or a
/// folder, never followed) and a name that appears twice in an archive (a reader would see only one).
public enum ExportVerifier {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: String, Sendable { case missing, extra, altered, manifest, symlink, duplicate }
        public let kind: Kind
        public let path: String
        public var description: String { "\(kind.rawValue): \(path)" }
    }

    public struct Report: Sendable {
        public let filesChecked: Int
        public let problems: [Problem]
        public var ok: Bool { problems.isEmpty }
    }

    public static func verify(path: String) throws -> Report {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ExportError.usage("\(path) does not exist")
        }
        var actual: [String: (size: Int64, sha256: String)] = [:]
        var manifestBytes: [UInt8]?
        var problems: [Problem] = []
        if isDirectory.boolValue {
            let root = URL(fileURLWithPath: path)
            guard let enumerator = FileManager.default.enumerator(atPath: root.path) else {
                throw ExportError.failure("cannot read \(path)")
            }
            while let relative = enumerator.nextObject() as? String {
                let url = root.appendingPathComponent(relative)
                // attributesOfItem does not follow a link: a symlink is reported, never read through.
                let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
                if type == .typeDirectory { continue }
                guard type == .typeRegular else {
                    problems.append(Problem(kind: .symlink, path: relative))
                    continue
                }
                if relative == Exporter.manifestName {
                    manifestBytes = Array(FileManager.default.contents(atPath: url.path) ?? Data())
                    continue
                }
                actual[relative] = try hashFile(url.path)
            }
        } else {
            let reader = try ArchiveStreamReader(path: path)
            var seen: Set<String> = []
            while let entry = try reader.next() {
                let name = entry.path.hasPrefix("./") ? String(entry.path.dropFirst(2)) : entry.path
                guard entry.isRegularFile else {
                    if !entry.isDirectory { problems.append(Problem(kind: .symlink, path: name)) }
                    continue
                }
                guard seen.insert(name).inserted else {
                    problems.append(Problem(kind: .duplicate, path: name))
                    continue
                }
                if name == Exporter.manifestName {
                    var bytes: [UInt8] = []
                    try reader.readData { bytes.append(contentsOf: $0) }
                    manifestBytes = bytes
                    continue
                }
                var hasher = SHA256()
                var size: Int64 = 0
                try reader.readData { chunk in
                    hasher.update(bufferPointer: chunk)
                    size += Int64(chunk.count)
                }
                actual[name] = (size, hasher.finalize().hexDigest)
            }
        }
        guard let manifestBytes else {
            return Report(filesChecked: 0, problems: problems + [Problem(kind: .manifest, path: "\(Exporter.manifestName) is missing")])
        }
        guard let manifest = try? JSONCoding.decode(Data(manifestBytes)), let files = manifest["files"]?.arrayValue else {
            return Report(filesChecked: 0,
                          problems: problems + [Problem(kind: .manifest, path: "\(Exporter.manifestName) is not a valid manifest")])
        }
        var expected: Set<String> = []
        for file in files {
            guard let filePath = file["path"]?.stringValue, let size = file["size"]?.int64Value,
                  let sha = file["sha256"]?.stringValue else {
                problems.append(Problem(kind: .manifest, path: "a files entry is incomplete"))
                continue
            }
            expected.insert(filePath)
            guard let found = actual[filePath] else {
                problems.append(Problem(kind: .missing, path: filePath))
                continue
            }
            if found.size != size || found.sha256 != sha { problems.append(Problem(kind: .altered, path: filePath)) }
        }
        for filePath in actual.keys.sorted() where !expected.contains(filePath) {
            problems.append(Problem(kind: .extra, path: filePath))
        }
        return Report(filesChecked: expected.count, problems: problems)
    }

    static func hashFile(_ path: String) throws -> (Int64, String) {
        guard let handle = fopen(path, "rb") else { throw ExportError.io("open", path: path, errno: errno) }
        defer { fclose(handle) }
        var hasher = SHA256()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, handle) }
            if read == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<read])) }
            size += Int64(read)
        }
        return (size, hasher.finalize().hexDigest)
    }
}
