import ArchiveCore
import Foundation

/// Megolm sessions, the key-backup key, and the decryption state of encrypted events. The decryption
/// itself is a closure (MatrixCrypto's `MegolmDecryptor`), so the store stays free of libolm.
public typealias Decrypt = (EncryptedPayload) -> DecryptionResult

public struct KeyImportOutcome: Sendable, Hashable {
    /// Sessions not known before.
    public var added = 0
    /// Known sessions replaced by a key that reaches further back (a lower first message index).
    public var improved = 0
    /// Known sessions whose stored key already reaches as far back.
    public var unchanged = 0

    public init() {}
}

public struct DecryptionRetryOutcome: Sendable, Hashable {
    public var attempted = 0
    public var decrypted = 0
    public var stillWaiting = 0

    public init() {}
}

/// Per room: how many encrypted events are in each state, and which sessions the waiting ones need.
public struct RoomDecryptionSummary: Sendable, Hashable {
    public var counts: [DecryptionStatus: Int] = [:]
    /// Session id → number of events waiting for it (missing_key or unknown_index).
    public var waitingSessions: [String: Int] = [:]

    public init() {}
}

extension ArchiveStore {
    // MARK: Sessions

    /// Stores sessions from a key backup or key-export file. A session already stored is replaced only by
    /// a key that reaches further back (a lower first message index), so a late import never loses history.
    public func importMegolmSessions(_ keys: [MegolmSessionKey], source: String) throws -> KeyImportOutcome {
        try db.transaction {
            var outcome = KeyImportOutcome()
            let existing = try db.statement("SELECT first_index FROM megolm_sessions WHERE room_id = ? AND session_id = ?")
            let upsert = try db.statement("""
                INSERT OR REPLACE INTO megolm_sessions
                    (room_id, session_id, sender_key, first_index, session_key, source, imported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for key in keys {
                let stored = try existing.firstRow(.text(key.roomID), .text(key.sessionID)) { $0.int(0) }
                if let stored, stored <= Int64(key.firstMessageIndex) {
                    outcome.unchanged += 1
                    continue
                }
                if stored == nil { outcome.added += 1 } else { outcome.improved += 1 }
                // A new key for the session: events that failed under the old (or no) key get another try.
                try db.statement("""
                    UPDATE events SET decryption = 'missing_key'
                    WHERE session_id = ? AND room_id = ? AND decryption = 'failed'
                    """).run(.text(key.sessionID), .text(key.roomID))
                // The new key may come with another sender key: the session's events are checked again.
                try db.statement("""
                    UPDATE events SET sender_key_status = NULL WHERE session_id = ? AND room_id = ?
                    """).run(.text(key.sessionID), .text(key.roomID))
                try upsert.run(.text(key.roomID), .text(key.sessionID), .optional(key.senderKey),
                               .int(Int64(key.firstMessageIndex)), .text(key.sessionKey), .text(source),
                               .int(clock.now().milliseconds))
            }
            return outcome
        }
    }

    /// The stored exported key of a room's session (secret), or nil.
    public func megolmSessionKey(roomID: String, sessionID: String) throws -> String? {
        try db.statement("SELECT session_key FROM megolm_sessions WHERE room_id = ? AND session_id = ?")
            .firstRow(.text(roomID), .text(sessionID)) { $0.text(0) } ?? nil
    }

    /// Archived ciphertexts of a session (earliest first), to test a key against before it is stored.
    public func sessionSamples(roomID: String, sessionID: String, limit: Int) throws -> [EncryptedPayload] {
        try db.statement("""
            SELECT event_id, raw_json FROM events WHERE session_id = ? AND room_id = ? ORDER BY position LIMIT ?
            """).rows(.text(sessionID), .text(roomID), .int(Int64(limit))) { row in
            EncryptedPayload(eventID: row.text(0) ?? "", roomID: roomID, type: "m.room.encrypted",
                             content: try JSONCoding.decode(row.text(1) ?? "{}")["content"] ?? .null)
        }.compactMap { $0 }
    }

    // MARK: Key backup key

    /// Keeps the backup's private key (unpadded base64) so that later syncs fetch new sessions themselves.
    /// It goes to its own 0600 file (`BackupKeyFile`), never into the database.
    public func saveBackupKey(version: String, privateKey: String) throws {
        try BackupKeyFile(storeDirectory: directory)
            .write(.init(version: version, privateKey: privateKey, savedAt: clock.now().milliseconds))
    }

    public func backupKey() throws -> (version: String, privateKey: String)? {
        try BackupKeyFile(storeDirectory: directory).read().map { ($0.version, $0.privateKey) }
    }

    /// Removes the stored backup key: deletes its file. Returns whether there was one.
    @discardableResult
    public func forgetBackupKey() throws -> Bool {
        let removed = try BackupKeyFile(storeDirectory: directory).remove()
        // Archives from before the key had its own file held it in the database. Moving it out overwrote
        // its page (secure_delete), but the write-ahead log keeps old pages until a checkpoint, and a
        // reader elsewhere (a search, a sync's indexer) can keep that checkpoint from finishing at open:
        // fold the log in and truncate it now, retry for a while, then say so instead of reporting success.
        try checkpointAway("the key-backup key is deleted, but another process is reading the archive, "
                           + "so an old copy of it may stay in the write-ahead log; run `mxarchive keys forget` "
                           + "again when no other mxarchive command is running")
        return removed
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` until it completes; `busyMessage` when readers keep it from it.
    func checkpointAway(_ busyMessage: String) throws {
        for attempt in 0..<Self.checkpointAttempts {
            let busy = try db.statement("PRAGMA wal_checkpoint(TRUNCATE)").firstRow { $0.int(0) } ?? 1
            if busy == 0 { return }
            if attempt + 1 < Self.checkpointAttempts { usleep(100_000) }
        }
        throw StoreError.checkpointBusy(busyMessage)
    }

    /// Each try already waits up to the connection's 5 s busy timeout for readers to leave.
    static let checkpointAttempts = 2

    /// The second half of the migration that moves the backup key out of the database (`Migrations`,
    /// "key_backup_to_move"): the key is written to its file first, then its row is overwritten and
    /// deleted and the table dropped in the same transaction, so a crash leaves the key in one place or
    /// both, never in none (the next open repeats the step). secure_delete zeroes the freed cells and
    /// pages; the checkpoint then puts those zeroed pages into the database file and empties the log.
    /// A checkpoint blocked by another reader is not an error here (SQLite's next automatic checkpoint
    /// finishes the job, and `keys forget` insists on it).
    func moveBackupKeyOutOfDatabase() throws {
        func tableExists() throws -> Bool {
            let count = try db.statement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'key_backup_to_move'")
                .firstRow { $0.int(0) }
            return count == 1
        }
        guard try tableExists() else { return }
        try db.transaction {
            guard try tableExists() else { return }
            let row = try db.statement("SELECT version, private_key, saved_at FROM key_backup_to_move WHERE id = 1")
                .firstRow { BackupKeyFile.Contents(version: $0.text(0) ?? "", privateKey: $0.text(1) ?? "", savedAt: $0.int(2)) }
            let file = BackupKeyFile(storeDirectory: directory)
            // A key saved by this release (the file) is newer than one left in an old database; an
            // unreadable file is replaced by the key it should hold.
            if let row, (try? file.read()).flatMap({ $0 }) == nil { try file.write(row) }
            try db.execute("""
                UPDATE key_backup_to_move SET private_key = replace(hex(zeroblob(length(private_key))), '00', '0');
                DELETE FROM key_backup_to_move;
                DROP TABLE key_backup_to_move;
                """)
        }
        try? checkpointAway("")
    }

    // MARK: Decryption

    /// Retries every event waiting for keys (`missing_key`, `unknown_index`) whose session is now stored,
    /// in timeline order, and
    /// normalises those that now decrypt exactly as if they had arrived decrypted. Works in batches, one
    /// transaction each, so a kill keeps every finished batch.
    public func retryDecryption(roomID: String? = nil, decrypt: Decrypt) throws -> DecryptionRetryOutcome {
        var outcome = DecryptionRetryOutcome()
        var after: (room: String, position: Int64) = ("", Int64.min)
        let waiting = DecryptionSQL.waiting
        let roomFilter = roomID == nil ? "" : "AND room_id = ?3"
        while true {
            let batch = try db.statement(DecryptionSQL.waitingBatch(roomFilter: roomFilter))
            batch.bind([.text(after.room), .int(after.position)] + (roomID.map { [SQLiteValue.text($0)] } ?? []))
            var rows: [(eventID: String, roomID: String, position: Int64, raw: String)] = []
            while try batch.step() {
                rows.append((batch.text(0) ?? "", batch.text(1) ?? "", batch.int(2), batch.text(3) ?? "{}"))
            }
            guard let last = rows.last else { break }
            after = (last.roomID, last.position)
            try db.transaction {
                var affected: [EventKey] = []
                for row in rows {
                    let envelope = try JSONCoding.decode(row.raw)["content"] ?? .null
                    guard let payload = EncryptedPayload(eventID: row.eventID, roomID: row.roomID,
                                                         type: "m.room.encrypted", content: envelope) else { continue }
                    outcome.attempted += 1
                    let result = decrypt(payload)
                    if case .decrypted = result { outcome.decrypted += 1 }
                    affected += try applyDecryption(result, to: payload, position: row.position)
                        .map { EventKey(roomID: row.roomID, eventID: $0) }
                }
                var seen: Set<EventKey> = []
                for key in affected where seen.insert(key).inserted { try resolveEdits(of: key) }
            }
        }
        let count = try db.statement(
            "SELECT count(*) FROM events WHERE decryption IN (\(waiting))" + (roomID == nil ? "" : " AND room_id = ?"))
        // firstRow resets the statement: one left on its row would hold a read snapshot, and the next write
        // would fail with "database is locked" once the indexer's connection had written.
        let waitingNow = try roomID.map { try count.firstRow(.text($0)) { $0.int(0) } } ?? count.firstRow { $0.int(0) }
        outcome.stillWaiting = Int(waitingNow ?? 0)
        return outcome
    }

    /// Records one decryption result on its event (inside the caller's transaction) and returns the events
    /// whose edit resolution it changes. A (session, message index) pair belongs to the event earliest in
    /// the timeline that used it; any other event with the same pair is a `replay`, whatever the order
    /// in which the two were decrypted (a backward walk meets the later one first).
    func applyDecryption(_ result: DecryptionResult, to payload: EncryptedPayload, position: Int64) throws -> [String] {
        var affected = [payload.eventID] + (try editTarget(of: payload.eventID))
        guard case .decrypted(let type, let content, let index) = result else {
            try db.statement("UPDATE events SET decryption = ?, decrypted_json = NULL WHERE event_id = ?")
                .run(.text(result.status.rawValue), .text(payload.eventID))
            return affected
        }
        let claim = try db.statement("""
            SELECT m.event_id, e.position FROM megolm_indexes m LEFT JOIN events e ON e.event_id = m.event_id
            WHERE m.room_id = ? AND m.session_id = ? AND m.message_index = ?
            """).firstRow(.text(payload.roomID), .text(payload.sessionID), .int(Int64(index))) {
            ($0.text(0) ?? "", $0.optionalInt(1))
        }
        if let (claimant, claimantPosition) = claim, claimant != payload.eventID {
            if let claimantPosition, claimantPosition < position {
                try db.statement("UPDATE events SET decryption = 'replay', decrypted_json = NULL WHERE event_id = ?")
                    .run(.text(payload.eventID))
                return affected
            }
            // The earlier event takes the pair back from the one that claimed it first (unless a redaction
            // has since stripped that one: it keeps its `none`).
            try db.statement("UPDATE events SET decryption = 'replay', decrypted_json = NULL WHERE event_id = ? AND decryption = 'ok'")
                .run(.text(claimant))
            if db.changes > 0 { affected += [claimant] + (try editTarget(of: claimant)) }
        }
        try db.statement("INSERT OR REPLACE INTO megolm_indexes (room_id, session_id, message_index, event_id) VALUES (?, ?, ?, ?)")
            .run(.text(payload.roomID), .text(payload.sessionID), .int(Int64(index)), .text(payload.eventID))
        // Stored exactly as decrypted, the payload's own `m.relates_to` too: it is evidence (an edit whose
        // payload names another target than its clear relation is rejected). Readers apply the clear
        // relation (`JSONValue.decryptedContent`).
        let decrypted: JSONValue = ["type": .string(type), "content": content]
        try db.statement("UPDATE events SET decryption = 'ok', decrypted_json = ? WHERE event_id = ?")
            .run(.text(JSONCoding.encode(decrypted)), .text(payload.eventID))
        return affected
    }

    private func editTarget(of eventID: String) throws -> [String] {
        let target = try db.statement("SELECT rel_target FROM events WHERE event_id = ? AND rel_type = 'm.replace'")
            .firstRow(.text(eventID)) { $0.text(0) } ?? nil
        return target.map { [$0] } ?? []
    }

    /// Decryption counts per room, and the sessions that waiting events need.
    public func decryptionSummary(roomID: String) throws -> RoomDecryptionSummary {
        var summary = RoomDecryptionSummary()
        let counts = try db.statement("""
            SELECT decryption, count(*) FROM events WHERE room_id = ? AND decryption != 'none' GROUP BY decryption
            """).rows(.text(roomID)) { ($0.text(0) ?? "", Int($0.int(1))) }
        for (status, count) in counts {
            if let status = DecryptionStatus(rawValue: status) { summary.counts[status] = count }
        }
        let sessions = try db.statement("""
            SELECT session_id, count(*) FROM events
            WHERE room_id = ? AND decryption IN (\(DecryptionSQL.waiting)) GROUP BY session_id
            """).rows(.text(roomID)) { ($0.text(0) ?? "", Int($0.int(1))) }
        for (session, count) in sessions { summary.waitingSessions[session] = count }
        return summary
    }
}

/// The retry's batch query. Every sync runs it, so it must read only waiting events (the partial index
/// `events_waiting_for_keys`), never the whole archive; `StoreDecryptionTests` checks its plan.
enum DecryptionSQL {
    static let waiting = DecryptionStatus.awaitingKeys.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    static func waitingBatch(roomFilter: String) -> String {
        """
        SELECT event_id, room_id, position, raw_json FROM events
        WHERE decryption IN (\(waiting)) \(roomFilter) AND (room_id, position) > (?1, ?2)
          AND EXISTS (SELECT 1 FROM megolm_sessions s
                      WHERE s.room_id = events.room_id AND s.session_id = events.session_id)
        ORDER BY room_id, position LIMIT 500
        """
    }
}

extension ArchiveStore {
    /// SQLite's plan for a statement (`EXPLAIN QUERY PLAN`), for tests that keep statements indexed.
    func queryPlan(_ sql: String, arguments: [SQLiteValue]) throws -> [String] {
        let explain = try db.statement("EXPLAIN QUERY PLAN " + sql)
        explain.bind(arguments)
        var details: [String] = []
        while try explain.step() { details.append(explain.text(3) ?? "") }
        return details
    }
}
