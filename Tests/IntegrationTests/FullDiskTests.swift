import ArchiveCore
import Foundation
import Testing

/// A small tmpfs of a test's own, so that a store (or an export) can run out of space without touching
/// the machine's disks. Unmounted when the test is done.
final class SmallDisk {
    let mountPoint: URL
    private var filler: URL { mountPoint.appendingPathComponent("filler") }

    /// Whether this process may mount a tmpfs (root in a container without CAP_SYS_ADMIN may not): probed once.
    static let mountAllowed: Bool = {
        guard let disk = try? SmallDisk(megabytes: 1) else { return false }
        _ = disk
        return true
    }()

    static let skipReason: Comment = "mount -t tmpfs is not permitted here (needs root with CAP_SYS_ADMIN): the full-disk tests are skipped"

    init(megabytes: Int) throws {
        mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = try Self.command("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", mountPoint.path])
        guard mount == 0 else {
            try? FileManager.default.removeItem(at: mountPoint)
            throw HarnessError("mount -t tmpfs failed (\(mount))")
        }
    }

    deinit {
        _ = try? Self.command("/bin/umount", ["-l", mountPoint.path])
        try? FileManager.default.removeItem(at: mountPoint)
    }

    static func command(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    var freeBytes: Int64 {
        var info = statvfs()
        guard statvfs(mountPoint.path, &info) == 0 else { return -1 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Takes all but `leaving` bytes of the free space with one file.
    func fill(leaving: Int64) throws {
        let size = freeBytes - leaving
        guard size > 0 else { return }
        let fd = open(filler.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw HarnessError("cannot create the filler: errno \(errno)") }
        defer { close(fd) }
        let status = posix_fallocate(fd, 0, off_t(size))
        guard status == 0 else { throw HarnessError("posix_fallocate of the filler failed: \(status)") }
    }

    /// Space returns.
    func removeFiller() throws {
        try FileManager.default.removeItem(at: filler)
    }
}

/// Issue 12, item 10: `sync`, `reindex`, `keys import` and `export` on a full disk end with exit 1 and one
/// stderr line naming the lack of space, the store stays readable, and once space returns `verify` is clean
/// and the next run completes with the full result.
@Suite(.serialized, .enabled(if: SmallDisk.mountAllowed, SmallDisk.skipReason))
struct FullDiskTests {
    /// Exit 1 with one line on stderr that says the disk is full.
    func expectNoSpace(_ result: RunResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(what): exit \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(what): stderr should be one line: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.lowercased().contains("no space left on device"),
                "\(what): stderr should name the lack of space: \(result.stderr)", sourceLocation: sourceLocation)
    }

    func expectReadable(_ archive: Archive, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let status = try archive.run(["status", "--json"])
        #expect(status.status == 0, "\(what): status on the full disk: \(status.stderr)", sourceLocation: sourceLocation)
    }

    @Test func syncOnAFullDisk() async throws {
        let reference = try await Reference.shared.bigRoom().lines
        let disk = try SmallDisk(megabytes: 96)
        let archive = try Archive.loggedIn(in: disk.mountPoint)
        try disk.fill(leaving: 512 * 1024)
        let full = try archive.run(["sync", "--room", "#big:localhost", "--from-start"])
        expectNoSpace(full, "sync")
        try expectReadable(archive, "sync")

        try disk.removeFiller()
        #expect(try archive.verifyProblems() == nil)
        let resumed = try archive.run(["sync", "--room", "#big:localhost"])
        #expect(resumed.status == 0, "sync after space returned: \(resumed.stderr)")
        #expect(try archive.eventLines("#big:localhost") == reference)
        #expect(try archive.verifyProblems() == nil)
    }

    @Test func reindexOnAFullDisk() async throws {
        let disk = try SmallDisk(megabytes: 96)
        let archive = try Archive.loggedIn(in: disk.mountPoint)
        try archive.sync(["--room", "#big:localhost", "--from-start"])
        let before = try archive.eventLines("#big:localhost")
        try disk.fill(leaving: 256 * 1024)
        let full = try archive.run(["reindex"])
        expectNoSpace(full, "reindex")
        try expectReadable(archive, "reindex")

        try disk.removeFiller()
        #expect(try archive.verifyProblems() == nil)
        let rerun = try archive.run(["reindex", "--json"])
        #expect(rerun.status == 0, "reindex after space returned: \(rerun.stderr)")
        #expect((rerun.jsonLines.first?["documents"]?.int64Value ?? 0) > 3000)
        #expect(try archive.eventLines("#big:localhost") == before)
        #expect(try archive.verifyProblems() == nil)
    }

    @Test func keysImportOnAFullDisk() async throws {
        let seed = try Seed.load()
        let room = try seed.roomID("encrypted")
        let exportPath = seed.json.value(at: "e2e", "key_export", "path")?.stringValue ?? ""
        let passphrase = seed.json.value(at: "e2e", "key_export", "passphrase")?.stringValue ?? ""

        // The result of the same import on a disk with room.
        let clean = try Archive.loggedIn()
        defer { clean.remove() }
        try clean.sync(["--room", room, "--from-start"])
        let cleanImport = try clean.run(["keys", "import", exportPath, "--passphrase-file", try clean.secretFile("pass", passphrase)])
        try #require(cleanImport.status == 0, "clean keys import: \(cleanImport.stderr)")
        let reference = try clean.eventLines(room)

        let disk = try SmallDisk(megabytes: 96)
        let archive = try Archive.loggedIn(in: disk.mountPoint)
        try archive.sync(["--room", room, "--from-start"])
        let passphraseFile = try archive.secretFile("pass", passphrase)
        let before = try archive.eventLines(room)
        // A little room is left: with none at all SQLite cannot even map the WAL index that readers need.
        try disk.fill(leaving: 48 * 1024)
        let full = try archive.run(["keys", "import", exportPath, "--passphrase-file", passphraseFile])
        expectNoSpace(full, "keys import")
        try expectReadable(archive, "keys import")
        #expect(try archive.eventLines(room) == before, "a failed import changed the archive")

        try disk.removeFiller()
        #expect(try archive.verifyProblems() == nil)
        let rerun = try archive.run(["keys", "import", exportPath, "--passphrase-file", passphraseFile])
        #expect(rerun.status == 0, "keys import after space returned: \(rerun.stderr)")
        #expect(try archive.eventLines(room) == reference)
        #expect(try archive.verifyProblems() == nil)
    }

    @Test(arguments: [("html", ""), ("json", ".tar.zst"), ("txt", ".zip")])
    func exportOnAFullDisk(format: String, packer: String) async throws {
        let archive = try await KillTests.Base.shared.get()
        let disk = try SmallDisk(megabytes: 48)
        let output = disk.mountPoint.appendingPathComponent("out-\(format)\(packer)")
        let arguments = ["export", "--format", format, "--room", "#big:localhost", "--room", "#export:localhost",
                         "--output", output.path]
        // The store is elsewhere: only the output's disk is full, to its last byte.
        try disk.fill(leaving: 0)
        let full = try archive.run(arguments)
        expectNoSpace(full, "export \(format)\(packer)")
        try expectReadable(archive, "export")
        let left = try FileManager.default.contentsOfDirectory(atPath: disk.mountPoint.path).filter { $0 != "filler" }
        #expect(left.isEmpty, "a failed export left \(left)")

        try disk.removeFiller()
        #expect(try archive.verifyProblems() == nil)
        let rerun = try archive.run(arguments)
        #expect(rerun.status == 0, "export after space returned: \(rerun.stderr)")
        let verified = try archive.run(["verify-export", output.path])
        #expect(verified.status == 0, "\(verified.stdout)")
    }
}
