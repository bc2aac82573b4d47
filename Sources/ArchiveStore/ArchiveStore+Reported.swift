import ArchiveCore

/// What the last finished sync reported of a room (migration 14): the base a sync's warnings are counted
/// from, so that events waiting for keys and attachments still failing are warned about once, by the run
/// that met them, and again only when the run that met them ended before it could say so.
extension ArchiveStore {
    /// Events of the room stored without their keys since the last run that reported the room.
    public func waitingUnreported(roomID: String) throws -> Int {
        try db.statement("SELECT waiting_unreported FROM rooms WHERE room_id = ?")
            .firstRow(.text(roomID)) { Int($0.int(0)) } ?? 0
    }

    /// The room's attachments (`MediaRef.key`) whose recorded failure was attempted before the last run that
    /// reported the room, and so was reported by it. Empty before any.
    public func reportedMediaFailures(roomID: String) throws -> Set<String> {
        let rows = try db.statement("""
            SELECT r.event_id, r.role FROM media_refs r JOIN events e ON e.event_id = r.event_id
            WHERE e.room_id = ? AND r.status != 'ok'
              AND r.attempted_at <= (SELECT reported_at FROM rooms WHERE room_id = ?)
            """).rows(.text(roomID), .text(roomID)) { row -> String? in
            guard let role = row.text(1).flatMap(Attachment.Role.init) else { return nil }
            return MediaRef.key(row.text(0) ?? "", role)
        }
        return Set(rows.compactMap { $0 })
    }

    /// Records, as a sync's last step, that its warnings reported these rooms: their new waiting events
    /// and media failures so far are not new to the next run. One transaction.
    public func recordReported(roomIDs: [String]) throws {
        try db.transaction {
            let update = try db.statement("UPDATE rooms SET waiting_unreported = 0, reported_at = ? WHERE room_id = ?")
            let now = clock.now().milliseconds
            for roomID in roomIDs { try update.run(.int(now), .text(roomID)) }
        }
    }

    /// Adds a page's events stored without their keys to the room's unreported count (inside the page's
    /// transaction, so a crash never counts a page it lost).
    func countUnreportedWaiting(_ count: Int, roomID: String) throws {
        guard count > 0 else { return }
        try db.statement("UPDATE rooms SET waiting_unreported = waiting_unreported + ? WHERE room_id = ?")
            .run(.int(Int64(count)), .text(roomID))
    }
}
