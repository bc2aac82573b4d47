import ArchiveCore
import Foundation
import Testing

/// Issue 9.6 on Synapse: with `MXARCHIVE_HOMESERVER` + `MXARCHIVE_ACCESS_TOKEN` and no login, the user id
/// comes from `/account/whoami`. It once stayed empty, and `keys backup` failed with a 403 on
/// `/user//account_data/…` and a message that blamed the room.
@Suite struct EnvironmentLoginTests {
    @Test func keysBackupWorksWithATokenFromTheEnvironment() async throws {
        let seed = try Seed.load()
        let token = try await TestSender.login(seed: seed, user: "alice").token
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let archive = Archive(seed: seed, store: base.appendingPathComponent("store"),
                              passwordFile: base.appendingPathComponent("unused"))
        let keyFile = base.appendingPathComponent("recovery")
        let recoveryKey = seed.json.value(at: "e2e", "modern", "recovery_key")?.stringValue ?? ""
        _ = FileManager.default.createFile(atPath: keyFile.path, contents: Data((recoveryKey + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
        let environment = ["MXARCHIVE_HOMESERVER": seed.homeserver, "MXARCHIVE_ACCESS_TOKEN": token]
        let result = try archive.run(["keys", "backup", "--json", "--recovery-key-file", keyFile.path],
                                     environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect((result.jsonLines.first?["sessions_seen"]?.int64Value ?? 0) > 0)
        #expect(!result.stdout.contains(token) && !result.stderr.contains(token))
        // No credentials file was written: the environment's token is not ours to keep.
        #expect(!FileManager.default.fileExists(atPath: archive.store.appendingPathComponent("credentials.json").path))
    }
}
