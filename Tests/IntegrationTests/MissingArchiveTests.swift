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
        // `--store` before the command, as people write it (moved behind it, also behind `keys forget`).
        let (status, stderr) = try runWithoutAccount(["--store", store.path] + arguments)
        #expect(status == 1, "\(arguments): \(stderr)")
        #expect(stderr == "error: no archive at \(store.path) (give the right --store, or create one with `mxarchive sync`)\n",
                "\(arguments)")
        #expect(!FileManager.default.fileExists(atPath: store.path), "\(arguments) created \(store.path)")
    }
}

/// `login --homeserver` with a user name and password in it, written with or without a scheme: refused
/// (exit 2) without repeating the password on stderr, which a cron job mails and the journal keeps.
@Suite struct LoginHomeserverSecretTests {
    @Test(arguments: ["archiver:s3cret@matrix.example.org", "https://archiver:s3cret@127.0.0.1:9"])
    func aPasswordInTheHomeserverIsNeverEchoed(_ homeserver: String) throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-login-\(UUID().uuidString)")
        let (status, stderr) = try runWithoutAccount(["--store", store.path, "login", "--homeserver", homeserver,
                                                      "--user", "@a:b", "--password-file", "/nonexistent/password"])
        #expect(status == 2, "\(stderr)")
        #expect(stderr.contains("--homeserver must"), "\(stderr)")
        #expect(!stderr.contains("s3cret"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: store.path))
    }
}

/// Runs the binary with `arguments` and no account or homeserver: its exit status and standard error.
func runWithoutAccount(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = Archive.binary
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = Pipe()
    try process.run()
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, stderr)
}
