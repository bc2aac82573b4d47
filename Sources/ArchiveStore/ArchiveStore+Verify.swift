import ArchiveCore

extension ArchiveStore {
    /// Checks the archive: SQLite's own integrity and foreign keys, and that every cursor stands for stored
    /// events and every resolved edit or redaction points at a stored event. Returns the problems found
    /// (empty when the archive is sound).
    public func verify() throws -> [String] {
        var problems: [String] = []
        let integrity = try db.statement("PRAGMA integrity_check").rows { $0.text(0) ?? "" }
        if integrity != ["ok"] { problems += integrity.map { "sqlite integrity_check: \($0)" } }
        let foreignKeys = try db.statement("PRAGMA foreign_key_check").rows { "\($0.text(0) ?? "?") row \($0.int(1))" }
        problems += foreignKeys.map { "foreign key violation in \($0)" }

        for room in try rooms() {
            let moved = room.cursors.forward != nil || room.cursors.backward != .notStarted
            if moved, room.eventCount == 0, room.archiveStartsAt == nil {
                problems.append("room \(room.roomID): cursors have moved but no events are stored")
            }
            if case .at(let token) = room.cursors.backward, token.isEmpty {
                problems.append("room \(room.roomID): backward cursor is empty")
            }
            if room.cursors.backward != .notStarted, room.eventCount > 0, room.cursors.forward == nil {
                problems.append("room \(room.roomID): events stored but no forward cursor to resume from")
            }
        }
        // An edit counts only inside its room: a winner from another room is as wrong as a missing one.
        let danglingEdits = try db.statement("""
            SELECT e.event_id FROM events e LEFT JOIN events w ON w.event_id = e.replaced_by AND w.room_id = e.room_id
            WHERE e.replaced_by IS NOT NULL AND (w.event_id IS NULL OR w.rel_target != e.event_id)
            """).rows { $0.text(0) ?? "" }
        problems += danglingEdits.map { "event \($0): replaced_by names an event that is not its edit in its room" }
        // A redaction stored as rejected must not have touched its target.
        problems += try db.statement("""
            SELECT e.event_id FROM events e JOIN events r ON r.event_id = e.redacted_by AND r.room_id = e.room_id
            WHERE r.redaction_status = 'rejected' AND r.redacts = e.event_id LIMIT 20
            """).rows { "event \($0.text(0) ?? "?"): redacted by a redaction stored as rejected" }
        let gaps = try db.statement("""
            SELECT room_id FROM events GROUP BY room_id HAVING max(position) - min(position) + 1 != count(*)
            """).rows { $0.text(0) ?? "" }
        problems += gaps.map { "room \($0): timeline positions have gaps" }
        // Decryption: a decrypted payload exactly when the status is ok, and each ok event owning the
        // (session, message index) it used.
        problems += try db.statement("""
            SELECT event_id, decryption FROM events WHERE (decryption = 'ok') != (decrypted_json IS NOT NULL) LIMIT 20
            """).rows { "event \($0.text(0) ?? "?"): decryption '\($0.text(1) ?? "?")' does not match its stored payload" }
        let decrypted = try db.statement("SELECT count(*) FROM events WHERE decryption = 'ok'").firstRow { $0.int(0) } ?? 0
        let claimed = try db.statement("""
            SELECT count(*) FROM megolm_indexes m JOIN events e ON e.event_id = m.event_id WHERE e.decryption = 'ok'
            """).firstRow { $0.int(0) } ?? 0
        if decrypted != claimed {
            problems.append("\(decrypted) events are decrypted but \(claimed) own their session and message index")
        }
        // Media rows are written after their files (sync --media): a row without its file was removed by hand.
        let files = mediaFiles
        let media = try db.statement("SELECT sha256 FROM media ORDER BY sha256").rows { $0.text(0) ?? "" }
        problems += media.filter { !files.contains(sha256: $0) }.map { "media \($0): its file under media/ is missing" }
        return problems
    }
}
