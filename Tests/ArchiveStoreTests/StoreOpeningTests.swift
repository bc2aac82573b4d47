import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing

/// Only commands that add to an archive create one; the store stamps times with its injected clock, in
/// milliseconds everywhere (migration 5 converts the columns that held seconds).
@Suite struct StoreOpeningTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-open-\(UUID().uuidString)")

    @Test func openingForReadingNeverCreatesAnArchive() throws {
        #expect {
            try ArchiveStore(directory: directory, create: false)
        } throws: { error in
            (error as? StoreError)?.code == .noArchive && "\(error)".contains("no archive at \(directory.path)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        // An existing folder without an archive file is no archive either, and stays empty.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        #expect(throws: StoreError.self) { try ArchiveStore(directory: directory, create: false) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func anExistingArchiveOpensForReading() throws {
        _ = try ArchiveStore(directory: directory)
        let reopened = try ArchiveStore(directory: directory, create: false)
        #expect(reopened.schemaVersion == Migrations.all.count)
    }

    @Test func timesComeFromTheInjectedClockInMilliseconds() throws {
        let now = Timestamp(milliseconds: 1_750_000_000_123)
        let store = try ArchiveStore(directory: directory, clock: FixedClock(now))
        try store.updateRoom(RoomMetadata(roomID: "!r:x", roomVersion: RoomVersion("12")), state: [])
        try store.markSynced(roomID: "!r:x")
        #expect(try store.room("!r:x")?.lastSyncAt == now.milliseconds)
        try store.saveBackupKey(version: "1", privateKey: "key")
        #expect(try BackupKeyFile(storeDirectory: directory).read()?.savedAt == now.milliseconds)
    }

    /// An archive as a release with `schema` migrations wrote it, holding `rows`, closed before the test
    /// opens it with the current code.
    func writeArchive(atSchema schema: Int, rows: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let db = try SQLiteDatabase(path: directory.appendingPathComponent(ArchiveStore.databaseFileName).path)
        for sql in Migrations.all.prefix(schema) { try db.execute(sql) }
        try db.execute("PRAGMA user_version = \(schema)")
        try db.execute(rows)
    }

    @Test func migrationSevenSendsTheSearchIndexBackToTheStart() throws {
        try writeArchive(atSchema: 6, rows: """
            INSERT INTO search_index (id, build_id, language, shards, cursor, built_at)
                VALUES (1, 'b', 'english', 2, 42, 1700000000000);
            """)
        let store = try ArchiveStore(directory: directory)
        #expect(try store.searchIndexState()?.cursor == 0)
        #expect(try store.searchIndexState()?.buildID == "b")
    }

    @Test func migrationFiveTurnsSecondsIntoMilliseconds() throws {
        try writeArchive(atSchema: 4, rows: """
            INSERT INTO malformed_events (room_id, event_id, reason, raw_json, seen_at)
                VALUES ('!r:x', NULL, 'not a JSON object', '1', 1700000000);
            INSERT INTO megolm_sessions (room_id, session_id, first_index, session_key, source, imported_at)
                VALUES ('!r:x', 's', 0, 'k', 'test', 1700000001);
            INSERT INTO key_backup (id, version, private_key, saved_at) VALUES (1, '1', 'k', 1700000002);
            INSERT INTO meta (key, value) VALUES ('unused', 'x');
            """)
        let store = try ArchiveStore(directory: directory)
        #expect(store.schemaVersion == Migrations.all.count)
        func value(_ sql: String) throws -> Int64? { try store.db.statement(sql).firstRow { $0.int(0) } }
        #expect(try value("SELECT seen_at FROM malformed_events") == 1_700_000_000_000)
        #expect(try value("SELECT imported_at FROM megolm_sessions") == 1_700_000_001_000)
        // The key left the database after migration 5 converted its time (migration 9).
        #expect(try BackupKeyFile(storeDirectory: directory).read()?.savedAt == 1_700_000_002_000)
        #expect(try value("SELECT count(*) FROM sqlite_master WHERE name = 'meta'") == 0)
    }

    /// Issue 12.7: migration 9 moves a stored backup key out of archive.sqlite into its own 0600 file,
    /// and no copy of it stays in the database file or its write-ahead log: a copy of the database no
    /// longer decrypts the account's backup.
    @Test func migrationNineMovesTheBackupKeyIntoItsOwnPrivateFile() throws {
        let secret = "SecretBackupKeyBase64ThatMustLeaveTheDatabase0123456789abcdefXYZ"
        try writeArchive(atSchema: 7, rows: """
            INSERT INTO key_backup (id, version, private_key, saved_at) VALUES (1, '7', '\(secret)', 1700000000000);
            """)
        let database = directory.appendingPathComponent(ArchiveStore.databaseFileName).path
        func storedBytes() -> Data {
            ["", "-wal", "-journal"].reduce(into: Data()) { all, suffix in
                all += FileManager.default.contents(atPath: database + suffix) ?? Data()
            }
        }
        #expect(storedBytes().range(of: Data(secret.utf8)) != nil)  // the old archive holds it

        let store = try ArchiveStore(directory: directory)
        #expect(store.schemaVersion == Migrations.all.count)
        #expect(try store.backupKey()?.privateKey == secret)
        #expect(try store.backupKey()?.version == "7")
        let file = directory.appendingPathComponent(BackupKeyFile.fileName).path
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
        #expect(try store.db.statement("SELECT count(*) FROM sqlite_master WHERE name LIKE 'key_backup%'")
            .firstRow { $0.int(0) } == 0)
        #expect(storedBytes().range(of: Data(secret.utf8)) == nil, "the key is still in the database's bytes")
        // Also after the store is closed and opened again, and once forgotten.
        let reopened = try ArchiveStore(directory: directory)
        #expect(try reopened.backupKey()?.privateKey == secret)
        #expect(try reopened.forgetBackupKey())
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try reopened.backupKey() == nil)
    }

    /// A key saved now goes to the file only; the database never sees it.
    @Test func aSavedBackupKeyIsNeverInTheDatabase() throws {
        let secret = "AnotherSecretKeyThatMustNeverReachSQLite9876543210"
        let store = try ArchiveStore(directory: directory)
        try store.saveBackupKey(version: "2", privateKey: secret)
        try store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let database = directory.appendingPathComponent(ArchiveStore.databaseFileName).path
        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: database + suffix) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
        }
        let file = directory.appendingPathComponent(BackupKeyFile.fileName)
        #expect((try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int) == 0o600)
        #expect(try store.backupKey()?.privateKey == secret)
        // Replaced atomically, never written through a link planted at the file's name.
        let victim = directory.appendingPathComponent("victim")
        try Data("precious".utf8).write(to: victim)
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: victim.path)
        #expect(throws: StoreError.self) { try store.backupKey() }  // never read through the link
        try store.saveBackupKey(version: "3", privateKey: secret)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.type] as? FileAttributeType == .typeRegular)
        #expect(try store.backupKey()?.version == "3")
    }
}
