import ArchiveCore

extension ArchiveStore {
    /// Marks `target` redacted by `redactionID` and, unless retained, strips it and its edits to what the
    /// room version keeps; a target of another room is left alone, and so is one the redaction's sender may
    /// not redact (the redaction is then stored as 'rejected'). Returns the events whose edit resolution
    /// this changes.
    func applyRedaction(_ redactionID: String, redactionJSON: JSONValue?, target: String, roomID: String,
                        roomVersion: RoomVersion, retain: Bool) throws -> [String] {
        let row = try db.statement(
            "SELECT raw_json, redacted_by, rel_type, rel_target, sender FROM events WHERE event_id = ? AND room_id = ?")
            .firstRow(.text(target), .text(roomID)) { ($0.text(0), $0.text(1), $0.text(2), $0.text(3), $0.text(4)) }
        // A member event known only from page state has its copy in member_history, which would bring the
        // removed name back. Judged here too, not only when the event itself arrives in a timeline.
        try redactMemberHistory(target, redactionID: redactionID, because: redactionJSON, roomID: roomID,
                                roomVersion: roomVersion, retain: retain)
        try redactCurrentState(target, redactionID: redactionID, because: redactionJSON, roomID: roomID,
                               roomVersion: roomVersion, retain: retain)
        guard let (rawJSON, redactedBy, relType, relTarget, targetSender) = row, let rawJSON else { return [] }
        // Judged even when another redaction got there first, so every stored redaction is counted once.
        let allowed = try mayRedact(redactionID, target: RedactionRights.Party(eventID: target, sender: targetSender ?? ""),
                                    roomID: roomID, roomVersion: roomVersion)
        try db.statement("UPDATE events SET redaction_status = ? WHERE event_id = ? AND room_id = ?")
            .run(.text(allowed ? "accepted" : "rejected"), .text(redactionID), .text(roomID))
        guard allowed, redactedBy == nil else { return [] }
        if retain {
            try db.statement("UPDATE events SET redacted_by = ? WHERE event_id = ?").run(.text(redactionID), .text(target))
        } else {
            try strip(target, rawJSON: rawJSON, redactionID: redactionID, because: redactionJSON, roomVersion: roomVersion)
            try stripEdits(of: target, roomID: roomID, redactionID: redactionID, because: redactionJSON,
                           roomVersion: roomVersion)
        }
        var affected = [target]
        if relType == Relation.Kind.replace.rawValue, let relTarget { affected.append(relTarget) }
        return affected
    }

    /// Redacting a message removes it with all its edits (issue 9.11): otherwise the edits' `m.new_content`
    /// would keep the very text the redaction removed. New events of a page meet this both ways: an original
    /// that arrives already stripped (the server redacted it) takes its stored edits with it, and an edit
    /// whose original is already stripped is stripped on arrival (a forward sync after the redaction).
    func stripEditsOfRedactedOriginals(_ events: [RawEvent], roomID: String, roomVersion: RoomVersion) throws {
        for event in events {
            if let redactionID = event.redactedBecause {
                try stripEdits(of: event.eventID, roomID: roomID, redactionID: redactionID,
                               because: event.json.value(at: "unsigned", "redacted_because"), roomVersion: roomVersion)
            }
            guard let original = event.replaceTarget, let (redactionID, because) = try strippedRedaction(of: original, roomID: roomID)
            else { continue }
            let raw = try db.statement("SELECT raw_json FROM events WHERE event_id = ? AND room_id = ? AND redacted_by IS NULL")
                .firstRow(.text(event.eventID), .text(roomID)) { $0.text(0) } ?? nil
            guard let raw else { continue }
            try strip(event.eventID, rawJSON: raw, redactionID: redactionID, because: because, roomVersion: roomVersion)
        }
    }

    /// The redaction that stripped `eventID` (its id and the JSON the stripped event keeps of it); nil when
    /// the event is not stored, not redacted, or kept under legal hold (no `redacted_because` in its JSON).
    private func strippedRedaction(of eventID: String, roomID: String) throws -> (String, JSONValue)? {
        let row = try db.statement("""
            SELECT redacted_by, json_extract(raw_json, '$.unsigned.redacted_because') FROM events
            WHERE event_id = ? AND room_id = ? AND redacted_by IS NOT NULL
            """).firstRow(.text(eventID), .text(roomID)) { ($0.text(0), $0.text(1)) }
        guard let (redactedBy, because) = row, let redactedBy, let because else { return nil }
        return (redactedBy, try JSONCoding.decode(because))
    }

    /// Strips the not yet redacted edits of `original` in its room (edits held under legal hold stay held).
    private func stripEdits(of original: String, roomID: String, redactionID: String, because: JSONValue?,
                            roomVersion: RoomVersion) throws {
        let edits = try db.statement("""
            SELECT event_id, raw_json FROM events
            WHERE rel_target = ? AND rel_type = 'm.replace' AND +room_id = ? AND redacted_by IS NULL
            """).rows(.text(original), .text(roomID)) { ($0.text(0) ?? "", $0.text(1) ?? "{}") }
        for (edit, raw) in edits {
            try strip(edit, rawJSON: raw, redactionID: redactionID, because: because, roomVersion: roomVersion)
        }
    }

    /// Rewrites one event as the redaction algorithm leaves it. Stripping also drops the decrypted payload:
    /// an encrypted event keeps nothing to decrypt.
    private func strip(_ eventID: String, rawJSON: String, redactionID: String, because: JSONValue?,
                       roomVersion: RoomVersion) throws {
        let newJSON = JSONCoding.encode(Redactor.redact(try JSONCoding.decode(rawJSON), roomVersion: roomVersion,
                                                        because: because))
        try db.statement("""
            UPDATE events SET redacted_by = ?, raw_json = ?, decrypted_json = NULL, decryption = 'none', session_id = NULL
            WHERE event_id = ?
            """).run(.text(redactionID), .text(newJSON), .text(eventID))
    }

    /// Strips the member_history copy of a redacted member event to what the room version keeps (its
    /// membership, not its display name or avatar), as `strip` does to the timeline's copy, when the
    /// redaction's sender may redact it. Under legal hold (`--retain-redacted`) the copy stays whole.
    func redactMemberHistory(_ target: String, redactionID: String, because: JSONValue?, roomID: String,
                             roomVersion: RoomVersion, retain: Bool) throws {
        guard !retain, let copy = try redactedCopy(of: target, in: "member_history", redactionID: redactionID,
                                                   because: because, roomID: roomID, roomVersion: roomVersion)
        else { return }
        try db.statement("UPDATE member_history SET json = ? WHERE event_id = ? AND room_id = ?")
            .run(.text(copy.stripped), .text(target), .text(roomID))
    }

    /// When `target` is the room's current state event for its key (a rename redacted after a /sync brought
    /// it), strips `room_state`'s copy as the timeline's is stripped and re-derives the room's metadata from
    /// the result, in the caller's transaction: otherwise the name the redaction removed would stay the
    /// room's name in every listing and export. Under legal hold the copy stays whole, as the event does.
    func redactCurrentState(_ target: String, redactionID: String, because: JSONValue?, roomID: String,
                            roomVersion: RoomVersion, retain: Bool) throws {
        guard !retain, let copy = try redactedCopy(of: target, in: "room_state", redactionID: redactionID,
                                                   because: because, roomID: roomID, roomVersion: roomVersion),
              copy.stripped != copy.original
        else { return }
        try db.statement("UPDATE room_state SET json = ? WHERE event_id = ? AND room_id = ?")
            .run(.text(copy.stripped), .text(target), .text(roomID))
        // Metadata comes from the state events with an empty key, and only from a state that holds the
        // create event (its room version): a room known from page state alone keeps the metadata it has.
        let state = try currentState(roomID: roomID)
        guard copy.event["state_key"]?.stringValue == "", state.contains(where: { $0.type == "m.room.create" })
        else { return }
        try writeMetadata(RoomMetadata(roomID: roomID, state: state))
    }

    /// The copy of `target` kept in `table` (member_history or room_state, keyed by event and room), and
    /// that copy redacted as the room version says, when the redaction's sender may redact it; nil when
    /// the table holds no copy or the sender may not.
    private func redactedCopy(of target: String, in table: String, redactionID: String, because: JSONValue?,
                              roomID: String, roomVersion: RoomVersion) throws
        -> (event: JSONValue, original: String, stripped: String)? {
        guard let text = try db.statement("SELECT json FROM \(table) WHERE event_id = ? AND room_id = ?")
            .firstRow(.text(target), .text(roomID), row: { $0.text(0) }) ?? nil else { return nil }
        let event = try JSONCoding.decode(text)
        let party = RedactionRights.Party(eventID: target, sender: event["sender"]?.stringValue ?? "")
        guard try mayRedact(redactionID, target: party, roomID: roomID, roomVersion: roomVersion) else { return nil }
        return (event, text, JSONCoding.encode(Redactor.redact(event, roomVersion: roomVersion, because: because)))
    }
}
