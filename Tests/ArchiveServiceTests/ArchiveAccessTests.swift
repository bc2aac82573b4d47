import ArchiveCore
import ArchiveService
import ArchiveStore
import Foundation
import Testing

/// Opening an archive is the service's job: commands that only read say "no archive at PATH" and leave
/// nothing behind; commands that add to it create it and take its lock.
@Suite struct ArchiveAccessTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-access-\(UUID().uuidString)")

    @Test(arguments: [Archive.Access.read, .search, .maintain])
    func readingAndMaintainingNeverCreateAnArchive(_ access: Archive.Access) {
        #expect {
            try Archive(at: directory, access: access)
        } throws: { error in
            ErrorReport.exitCode(for: error) == 1
                && ErrorReport.message(for: error)?.hasPrefix("no archive at \(directory.path)") == true
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    @Test func updatingCreatesTheArchiveAndHoldsItsLock() throws {
        do {
            let archive = try Archive(at: directory, access: .update)
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("archive.sqlite").path))
            #expect {
                try Archive(at: directory, access: .maintain)
            } throws: { error in
                (error as? StoreError)?.code == .locked
            }
            // Readers do not wait for the lock.
            _ = try Archive(at: directory, access: .read)
            withExtendedLifetime(archive) {}
        }
        // Released with the archive that held it.
        _ = try Archive(at: directory, access: .maintain)
    }

    @Test func anEmptyArchiveReportsNoRoomsInEveryFormat() throws {
        _ = try Archive(at: directory, access: .update)
        let archive = try Archive(at: directory, access: .read)
        let status = try archive.status()
        #expect(status.jsonText == #"{"rooms":[]}"#)
        #expect(status.humanOutput(terminal: false).isEmpty)
        let verify = try archive.verify()
        #expect(verify.ok)
        #expect(verify.jsonText == #"{"ok":true,"problems":[],"sender_key_mismatches":0}"#)
        #expect(verify.humanOutput(terminal: false) == [.result("archive OK: 0 rooms, integrity and cursors consistent")])
    }
}

/// `login --homeserver https://user:password@host` is refused before the password file is read or anything
/// is sent, and the refusal does not repeat what it refuses.
@Suite struct LoginHomeserverTests {
    @Test func aHomeserverWithUserinfoIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-login-\(UUID().uuidString)")
        for url in ["https://archiver:s3cret@127.0.0.1:9", "http://archiver@127.0.0.1:9/"] {
            await #expect {
                try await Account(storeDirectory: directory).login(homeserver: url, user: "@a:b",
                                                                   passwordFile: "/nonexistent/password")
            } throws: { error in
                let message = ErrorReport.message(for: error) ?? ""
                return ErrorReport.exitCode(for: error) == 2 && message.hasPrefix("--homeserver must not hold a user name")
                    && !message.contains("s3cret")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
