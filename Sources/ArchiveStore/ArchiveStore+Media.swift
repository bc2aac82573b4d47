import ArchiveCore
import Foundation

extension ArchiveStore {
    public var mediaFiles: MediaFiles { MediaFiles(storeDirectory: directory) }

    /// Where the stored file with this digest is (`mediaFiles`; exports read media through this).
    public func mediaFileURL(sha256 digest: String) throws -> URL { try mediaFiles.url(forSHA256: digest) }

    /// The attachments of a room's messages and stickers, in timeline order, from each event's effective
    /// content: the resolved edit (`current_content`), else the decrypted content when decryption
    /// succeeded, else the content as received. Edits themselves are skipped (their file is the
    /// original's current content). Redacted events only with `includeRedacted` (legal hold: their content
    /// was retained); a stripped event has no attachments left anyway.
    public func mediaCandidates(roomID: String, includeRedacted: Bool) throws -> [(eventID: String, attachments: [Attachment])] {
        // Filtering by type in SQL keeps a nightly run over a long room from decoding every message.
        let statement = try db.statement("""
            SELECT event_id, effective_type, content FROM (
                SELECT event_id, position,
                       CASE WHEN type = 'm.room.encrypted' AND decryption = 'ok'
                            THEN json_extract(decrypted_json, '$.type') ELSE type END AS effective_type,
                       coalesce(current_content,
                                CASE WHEN decryption = 'ok' THEN json_extract(decrypted_json, '$.content') END,
                                json_extract(raw_json, '$.content')) AS content
                FROM events
                WHERE room_id = ? AND is_timeline_item = 1
                  AND type IN ('m.room.message', 'm.sticker', 'm.room.encrypted')
                  AND (rel_type IS NULL OR rel_type != 'm.replace')
                  AND (redacted_by IS NULL OR ? = 1)
            )
            WHERE content IS NOT NULL AND json_valid(content)
              AND (effective_type = 'm.sticker'
                   OR (effective_type = 'm.room.message'
                       AND json_extract(content, '$.msgtype') IN ('m.image', 'm.file', 'm.video', 'm.audio')))
            ORDER BY position
            """)
        statement.bind([.text(roomID), .int(includeRedacted ? 1 : 0)])
        var result: [(String, [Attachment])] = []
        while try statement.step() {
            guard let eventID = statement.text(0), let type = statement.text(1),
                  let content = try? JSONCoding.decode(statement.text(2) ?? "") else { continue }
            let attachments = Attachment.attachments(type: type, content: content)
            if !attachments.isEmpty { result.append((eventID, attachments)) }
        }
        return result
    }

    /// Every recorded attachment outcome of a room, keyed by event id and role.
    public func mediaRefs(roomID: String) throws -> [String: MediaRef] {
        let rows = try db.statement("""
            SELECT r.event_id, r.role, r.mxc, r.key_digest, r.status, r.sha256, r.attempts, r.attempted_at
            FROM media_refs r JOIN events e ON e.event_id = r.event_id WHERE e.room_id = ?
            """).rows(.text(roomID)) { row -> MediaRef? in
            guard let role = row.text(1).flatMap(Attachment.Role.init), let status = row.text(4).flatMap(MediaStatus.init)
            else { return nil }
            return MediaRef(eventID: row.text(0) ?? "", role: role, mxc: row.text(2) ?? "", keyDigest: row.text(3) ?? "",
                            status: status, sha256: row.text(5), attempts: Int(row.int(6)), attemptedAt: row.int(7))
        }
        var refs: [String: MediaRef] = [:]
        for case let ref? in rows { refs[MediaRef.key(ref.eventID, ref.role)] = ref }
        return refs
    }

    public static func mediaKey(_ eventID: String, _ role: Attachment.Role) -> String { MediaRef.key(eventID, role) }

    /// The digest of a file already stored for this (mxc, key) through any event, so it is fetched once.
    public func storedMedia(mxc: String, keyDigest: String) throws -> String? {
        try db.statement("""
            SELECT r.sha256 FROM media_refs r JOIN media m ON m.sha256 = r.sha256
            WHERE r.mxc = ? AND r.key_digest = ? AND r.status = 'ok' LIMIT 1
            """).firstRow(.text(mxc), .text(keyDigest)) { $0.text(0) } ?? nil
    }

    /// Records a stored file (written to `mediaFiles` first, so a row always has its file) and the
    /// attachment that led to it, in one transaction.
    public func recordStoredMedia(sha256: String, size: Int, mimetype: String?, ref: MediaRef) throws {
        try db.transaction {
            try db.statement("INSERT OR IGNORE INTO media (sha256, size, mimetype, stored_at) VALUES (?, ?, ?, ?)")
                .run(.text(sha256), .int(Int64(size)), .optional(mimetype.map { String($0.prefix(255)) }),
                     .int(clock.now().milliseconds))
            try upsert(ref, error: nil)
        }
    }

    /// Records what became of an attachment (for `ok`, the file must already be in `media`).
    public func recordMediaRef(_ ref: MediaRef, error: String?) throws {
        try upsert(ref, error: error)
    }

    /// `attempts` goes up by one when the row already said the same (mxc, key and status) at least
    /// `repeatGap` before, else starts at 1. A same answer sooner (a rerun after a killed run, a cron that
    /// runs every few hours) leaves both `attempts` and `attempted_at` as they were: it is the same answer
    /// again, and keeping its time lets those runs still count up once `repeatGap` has passed.
    private func upsert(_ ref: MediaRef, error: String?) throws {
        let same = """
            media_refs.mxc = excluded.mxc AND media_refs.key_digest = excluded.key_digest
            AND media_refs.status = excluded.status
            """
        let soon = "excluded.attempted_at - media_refs.attempted_at BETWEEN 0 AND \(MediaRef.repeatGap - 1)"
        try db.statement("""
            INSERT INTO media_refs (event_id, role, mxc, key_digest, status, sha256, error, attempted_at, attempts)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT (event_id, role) DO UPDATE SET
                attempts = CASE WHEN \(same) THEN (CASE WHEN \(soon) THEN media_refs.attempts
                                                        ELSE media_refs.attempts + 1 END)
                                ELSE 1 END,
                attempted_at = CASE WHEN \(same) AND \(soon) THEN media_refs.attempted_at
                                    ELSE excluded.attempted_at END,
                mxc = excluded.mxc, key_digest = excluded.key_digest, status = excluded.status,
                sha256 = excluded.sha256, error = excluded.error
            """).run(.text(ref.eventID), .text(ref.role.rawValue), .text(ref.mxc), .text(ref.keyDigest),
                     .text(ref.status.rawValue), .optional(ref.sha256), .optional(error.map { String($0.prefix(500)) }),
                     .int(clock.now().milliseconds))
    }

    /// Honours redactions for media: forgets the attachments of the room's redacted events and deletes
    /// the files no other event refers to. Returns how many files were deleted. (Not called under legal
    /// hold, and events an earlier legal-hold sync kept are left alone.)
    public func forgetRedactedMedia(roomID: String) throws -> Int {
        // Only events whose content a redaction really stripped (`unsigned.redacted_because` in the stored
        // JSON): events kept under legal hold by an earlier `--retain-redacted` sync keep their media too.
        let stripped = """
            SELECT event_id FROM events WHERE room_id = ? AND redacted_by IS NOT NULL
              AND json_extract(raw_json, '$.unsigned.redacted_because') IS NOT NULL
            """
        let orphans: [String] = try db.transaction {
            // Only the files these refs named are candidates: a file left without refs for another reason
            // (an edit that changed the attachment) is kept.
            let candidates = Set(try db.statement("""
                SELECT DISTINCT sha256 FROM media_refs WHERE sha256 IS NOT NULL AND event_id IN (\(stripped))
                """).rows(.text(roomID)) { $0.text(0) ?? "" })
            try db.statement("DELETE FROM media_refs WHERE event_id IN (\(stripped))").run(.text(roomID))
            guard db.changes > 0 else { return [] }
            let stillReferenced = try db.statement("SELECT 1 FROM media_refs WHERE sha256 = ? LIMIT 1")
            let deleteMedia = try db.statement("DELETE FROM media WHERE sha256 = ?")
            var orphans: [String] = []
            for digest in candidates.sorted() where try stillReferenced.firstRow(.text(digest), row: { _ in true }) == nil {
                try deleteMedia.run(.text(digest))
                orphans.append(digest)
            }
            return orphans
        }
        // After the commit: a crash in between leaves a file without a row (harmless), never the reverse.
        for digest in orphans { try mediaFiles.remove(sha256: digest) }
        return orphans.count
    }

    /// Attachment outcomes of a room by status (`status` shows them).
    public func mediaCounts(roomID: String) throws -> [MediaStatus: Int] {
        let rows = try db.statement("""
            SELECT r.status, count(*) FROM media_refs r JOIN events e ON e.event_id = r.event_id
            WHERE e.room_id = ? GROUP BY r.status
            """).rows(.text(roomID)) { ($0.text(0).flatMap(MediaStatus.init), Int($0.int(1))) }
        var counts: [MediaStatus: Int] = [:]
        for (status, count) in rows { if let status { counts[status] = count } }
        return counts
    }
}

extension ArchiveStore {
    /// The stored files of a room's attachments for an export: each `ok` attachment of a timeline event in
    /// `[since, until)` (milliseconds), redacted events only with `includeRedacted`.
    public func exportableMedia(roomID: String, since: Int64?, until: Int64?,
                                includeRedacted: Bool) throws -> [ExportableMedia] {
        try db.statement("""
            SELECT r.sha256, e.event_id, e.sender, r.role, r.mxc, m.mimetype, m.size,
                   coalesce(json_extract(coalesce(e.decrypted_json, e.raw_json), '$.content.filename'),
                            json_extract(coalesce(e.decrypted_json, e.raw_json), '$.content.body'))
            FROM media_refs r JOIN events e ON e.event_id = r.event_id JOIN media m ON m.sha256 = r.sha256
            WHERE e.room_id = ? AND r.status = 'ok' AND e.origin_server_ts >= ? AND e.origin_server_ts < ?
              AND (e.redacted_by IS NULL OR ? = 1)
            ORDER BY e.position, r.role
            """).rows(.text(roomID), .int(since ?? Int64.min), .int(until ?? Int64.max), .int(includeRedacted ? 1 : 0)) {
            ExportableMedia(sha256: $0.text(0) ?? "", eventID: $0.text(1) ?? "", sender: $0.text(2) ?? "",
                            role: $0.text(3) ?? "", mxc: $0.text(4) ?? "", mimetype: $0.text(5), size: $0.int(6),
                            name: $0.text(7))
        }
    }
}
