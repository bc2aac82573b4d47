import ArchiveCore
import Foundation

/// The archive's single source of truth: one SQLite file (`archive.sqlite`) in the store folder, WAL mode,
/// foreign keys on, created 0600 in a 0700 folder. Not thread-safe: one sync or query uses it at a time.
public final class ArchiveStore {
    let db: SQLiteDatabase
    public let directory: URL

    public static let databaseFileName = "archive.sqlite"

    /// The clock that stamps what the store records (sync, import and download times).
    public let clock: any ArchiveClock

    /// - Parameter memoryMappedReads: read the file through a memory map. Searches want it (a search reads a
    ///   few pages for each hit, and a pread per page cost more than the lookups); syncs do not, because
    ///   mapped pages count as resident memory and would grow with the archive.
    /// - Parameter create: make the folder and the database when they are missing. Commands that only read
    ///   pass false and get `StoreError.noArchive` instead of an empty archive behind a mistyped path.
    public init(directory: URL, memoryMappedReads: Bool = false, create: Bool = true,
                clock: any ArchiveClock = SystemClock()) throws {
        self.directory = directory
        self.clock = clock
        let path = directory.appendingPathComponent(Self.databaseFileName).path
        if create {
            try SecureFiles.createDirectory(directory)
            // Create the file ourselves so it is 0600 from the first byte; SQLite gives its -wal and -shm
            // files the same mode as the database.
            // Only when missing: closing a descriptor of a file SQLite has open drops every POSIX lock this
            // process holds on it, which breaks a second connection's locking (the search indexer opens one).
            if !FileManager.default.fileExists(atPath: path) { try SecureFiles.touch(path) }
        } else if !FileManager.default.fileExists(atPath: path) {
            throw StoreError.noArchive(directory.path)
        }
        db = try SQLiteDatabase(path: path, create: create)
        // secure_delete: a redaction rewrites the event's row, and the old text must not linger in free
        // pages of the file.
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;")
        if memoryMappedReads { try db.execute("PRAGMA mmap_size=1073741824;") }
        try migrate()
        try moveBackupKeyOutOfDatabase()
    }

    /// Runs `body` in one read transaction: one snapshot for many lookups (and one lock instead of one per
    /// statement).
    public func reading<T>(_ body: () throws -> T) throws -> T {
        try db.transaction(begin: "BEGIN DEFERRED", body)
    }

    /// The number of schema migrations applied; `Migrations.all.count` after open.
    public var schemaVersion: Int {
        (try? db.statement("PRAGMA user_version").firstRow { Int($0.int(0)) }) ?? 0
    }

    private func migrate() throws {
        guard schemaVersion < Migrations.all.count else {
            guard schemaVersion == Migrations.all.count else {
                throw StoreError.corrupt("the archive was written by a newer mxarchive (schema \(schemaVersion))")
            }
            return
        }
        // The version is read again inside each write transaction: two processes opening an old archive at
        // once (a cron sync and a `status`) would otherwise both run the same migration, and a migration
        // is not idempotent (migration 5 multiplies columns by 1000).
        for index in Migrations.all.indices {
            try db.transaction {
                guard schemaVersion == index else { return }
                try db.execute(Migrations.all[index])
                try db.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }

    // MARK: Rooms

    public func room(_ roomID: String) throws -> StoredRoom? {
        try rooms(where: "WHERE room_id = ?", [.text(roomID)]).first
    }

    public func rooms() throws -> [StoredRoom] {
        try rooms(where: "", [])
    }

    private func rooms(where clause: String, _ values: [SQLiteValue]) throws -> [StoredRoom] {
        let sql = """
            SELECT room_id, room_version, name, topic, avatar_url, canonical_alias, encrypted, room_type,
                   predecessor, successor, backward_state, backward_token, forward_token, archive_starts_at,
                   last_sync_at, (SELECT count(*) FROM events WHERE events.room_id = rooms.room_id)
            FROM rooms \(clause) ORDER BY room_id
            """
        let statement = try db.statement(sql)
        statement.bind(values)
        var result: [StoredRoom] = []
        while try statement.step() {
            let metadata = RoomMetadata(
                roomID: statement.text(0) ?? "", roomVersion: RoomVersion(statement.text(1) ?? "1"),
                name: statement.text(2), topic: statement.text(3), avatarURL: statement.text(4),
                canonicalAlias: statement.text(5), encrypted: statement.int(6) != 0, roomType: statement.text(7),
                predecessor: statement.text(8), successor: statement.text(9))
            let backward: BackwardCursor
            switch statement.text(10) {
            case "at": backward = .at(statement.text(11) ?? "")
            case "complete": backward = .complete
            default: backward = .notStarted
            }
            result.append(StoredRoom(
                metadata: metadata, cursors: RoomCursors(backward: backward, forward: statement.text(12)),
                archiveStartsAt: statement.optionalInt(13), lastSyncAt: statement.optionalInt(14),
                eventCount: Int(statement.int(15))))
        }
        return result
    }

    /// Records a room's current metadata and state, keeping its cursors. Called at the start of each sync.
    public func updateRoom(_ metadata: RoomMetadata, state: [RawEvent]) throws {
        try db.transaction {
            try writeMetadata(metadata)
            if !state.isEmpty {
                try db.statement("DELETE FROM room_state WHERE room_id = ?").run(.text(metadata.roomID))
                try insertState(state, roomID: metadata.roomID, replace: true)
            }
        }
    }

    /// The room's row with `metadata`, inserted or updated (cursors kept); inside the caller's transaction.
    func writeMetadata(_ metadata: RoomMetadata) throws {
        try db.statement("""
            INSERT INTO rooms (room_id, room_version, name, topic, avatar_url, canonical_alias, encrypted,
                               room_type, predecessor, successor)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (room_id) DO UPDATE SET room_version = excluded.room_version, name = excluded.name,
                topic = excluded.topic, avatar_url = excluded.avatar_url,
                canonical_alias = excluded.canonical_alias, encrypted = excluded.encrypted,
                room_type = excluded.room_type, predecessor = excluded.predecessor,
                successor = excluded.successor
            """).run(.text(metadata.roomID), .text(metadata.roomVersion.identifier), .optional(metadata.name),
                     .optional(metadata.topic), .optional(metadata.avatarURL),
                     .optional(metadata.canonicalAlias), .int(metadata.encrypted ? 1 : 0),
                     .optional(metadata.roomType), .optional(metadata.predecessor),
                     .optional(metadata.successor))
    }

    func insertState(_ state: [RawEvent], roomID: String, replace: Bool) throws {
        let verb = replace ? "INSERT OR REPLACE" : "INSERT OR IGNORE"
        let statement = try db.statement(
            "\(verb) INTO room_state (room_id, type, state_key, event_id, json) VALUES (?, ?, ?, ?, ?)")
        for event in state {
            guard let stateKey = event.stateKey else { continue }
            try statement.run(.text(roomID), .text(event.type), .text(stateKey), .text(event.eventID),
                              .text(JSONCoding.encode(event.json)))
        }
    }

    /// Marks the room as starting at a date (`sync --since`): nothing before it is fetched.
    public func setArchiveStart(roomID: String, timestamp: Int64) throws {
        try db.statement("UPDATE rooms SET archive_starts_at = ? WHERE room_id = ?").run(.int(timestamp), .text(roomID))
    }

    /// Records that a sync of the room finished now (by the store's clock).
    public func markSynced(roomID: String) throws {
        try db.statement("UPDATE rooms SET last_sync_at = ? WHERE room_id = ?")
            .run(.int(clock.now().milliseconds), .text(roomID))
    }

    public func eventCount(roomID: String) throws -> Int {
        try db.statement("SELECT count(*) FROM events WHERE room_id = ?").firstRow(.text(roomID)) { Int($0.int(0)) } ?? 0
    }

    /// Finds a room by its canonical alias among archived rooms (for offline commands).
    public func roomID(forAlias alias: String) throws -> String? {
        try db.statement("SELECT room_id FROM rooms WHERE canonical_alias = ?").firstRow(.text(alias)) { $0.text(0) } ?? nil
    }

    public func malformedCount(roomID: String) throws -> Int {
        try db.statement("SELECT count(*) FROM malformed_events WHERE room_id = ?").firstRow(.text(roomID)) {
            Int($0.int(0))
        } ?? 0
    }
}
