import ArchiveCore

extension ArchiveStore {
    /// Whether the stored redaction `redactionID` may remove `target`, judged with the power levels the
    /// archive holds for that point of the room's history: the latest `m.room.power_levels` in the timeline
    /// before the redaction, else the room's current state (a backward walk may not have reached the one in
    /// effect yet), else none (the spec's defaults).
    func mayRedact(_ redactionID: String, target: RedactionRights.Party, roomID: String,
                   roomVersion: RoomVersion) throws -> Bool {
        guard let (sender, position) = try db.statement(
            "SELECT sender, position FROM events WHERE event_id = ? AND room_id = ?")
            .firstRow(.text(redactionID), .text(roomID), row: { ($0.text(0) ?? "", $0.int(1)) })
        else { return false }
        let redaction = RedactionRights.Party(eventID: redactionID, sender: sender)
        // Most redactions are of the sender's own events or from their own server: no state to read.
        if RedactionRights.sameSenderOrServer(redaction, target, roomVersion: roomVersion) { return true }
        let timeline = try db.statement("""
            SELECT raw_json FROM events WHERE room_id = ? AND type = 'm.room.power_levels' AND state_key = ''
                AND position < ? ORDER BY position DESC LIMIT 1
            """).firstRow(.text(roomID), .int(position)) { $0.text(0) } ?? nil
        let powerLevels = try (timeline ?? stateJSON(roomID: roomID, type: "m.room.power_levels"))
            .flatMap { try JSONCoding.decode($0)["content"] }
        let creator = try (stateJSON(roomID: roomID, type: "m.room.create") ?? db.statement(
            "SELECT raw_json FROM events WHERE room_id = ? AND type = 'm.room.create' AND state_key = '' LIMIT 1")
            .firstRow(.text(roomID)) { $0.text(0) } ?? nil)
            .flatMap { try JSONCoding.decode($0)["sender"]?.stringValue }
        return RedactionRights.mayRedact(redaction, target, roomVersion: roomVersion, powerLevels: powerLevels,
                                         creator: creator)
    }

    private func stateJSON(roomID: String, type: String) throws -> String? {
        try db.statement("SELECT json FROM room_state WHERE room_id = ? AND type = ? AND state_key = ''")
            .firstRow(.text(roomID), .text(type)) { $0.text(0) } ?? nil
    }

    /// Redactions stored as 'rejected': their senders may not redact their targets.
    public func rejectedRedactionCount(roomID: String? = nil) throws -> Int {
        try db.statement("""
            SELECT count(*) FROM events WHERE redacts IS NOT NULL AND redaction_status = 'rejected'
                AND (?1 IS NULL OR room_id = ?1)
            """).firstRow(.optional(roomID)) { Int($0.int(0)) } ?? 0
    }
}
