import Foundation
import Testing

/// Tried as a new user would, with a mistyped `--store`: commands that only read say "no archive at PATH",
/// exit 1, and leave nothing behind (once, `status` created the folder and an empty archive and exited 0).
@Suite struct MissingArchiveTests {
    static let readers: [[String]] = [
        ["status"], ["status", "--json"], ["events", "--room", "!r:x"], ["search", "hello"], ["verify"],
        ["reindex"], ["keys", "forget"], ["export", "--format", "json", "--output", "/dev/null/none"],
        ["verify-export", "/nonexistent-export"],
    ]

    @Test(arguments: readers)
    func aMistypedStoreIsReportedAndNotCreated(_ arguments: [String]) throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-typo-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = Archive.binary
        // `--store` before the command, as people write it (moved behind it, also behind `keys forget`).
        process.arguments = ["--store", store.path] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(arguments): \(stderr)")
        #expect(stderr == "error: no archive at \(store.path) (give the right --store, or create one with `mxarchive sync`)\n",
                "\(arguments)")
        #expect(!FileManager.default.fileExists(atPath: store.path), "\(arguments) created \(store.path)")
    }
}
