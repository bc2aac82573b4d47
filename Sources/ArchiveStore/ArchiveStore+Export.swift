import ArchiveCore

extension ArchiveStore {
    /// The raw JSON of a room's current state events of one type (e.g. `m.space.child`, `m.room.member`),
    /// ordered by state key.
    public func stateEvents(roomID: String, type: String) throws -> [JSONValue] {
        try db.statement("SELECT json FROM room_state WHERE room_id = ? AND type = ? ORDER BY state_key")
            .rows(.text(roomID), .text(type)) { $0.text(0) ?? "{}" }
            .map { try JSONCoding.decode($0) }
    }

    /// A short view of an archived event of `roomID`, or nil when that room has no such event: a reply or
    /// thread naming another room's event quotes nothing of it.
    public func eventSummary(roomID: String, eventID: String) throws -> EventSummary? {
        let row = try db.statement("""
            SELECT room_id, sender, origin_server_ts, raw_json, current_content, redacted_by,
                   is_timeline_item,
                   position, rel_type, rel_target, type, decrypted_json
            FROM events WHERE event_id = ? AND room_id = ?
            """).firstRow(.text(eventID), .text(roomID)) { row in
            (row.text(0) ?? "", row.text(1) ?? "", row.int(2), row.text(3) ?? "{}", row.text(4), row.text(5) != nil,
             row.int(6) != 0, row.int(7), row.text(8), row.text(9), row.text(10) ?? "", row.text(11))
        }
        guard let (roomID, sender, ts, rawText, current, redacted, isItem, position, relType, relTarget, type,
                   decryptedText) = row else {
            return nil
        }
        let content = try current.map(JSONCoding.decode)
            ?? Self.readableContent(type: type, raw: JSONCoding.decode(rawText), decrypted: decryptedText.map(JSONCoding.decode))
        var names = MemberNames()
        let name = try names.name(of: sender, at: position, timestamp: ts, roomID: roomID, store: self)
        return EventSummary(
            eventID: eventID, roomID: roomID, sender: sender, senderDisplayName: name.displayName,
            originServerTS: ts, content: content, redacted: redacted, isTimelineItem: isItem,
            threadRoot: relType == Relation.Kind.thread.rawValue ? relTarget : nil, senderNameIsAmbiguous: name.ambiguous)
    }

    /// A stored event's content as people are shown it: a decrypted payload with its clear relation, only
    /// the clear relation of an encrypted event that was not decrypted (its cleartext `body` is anyone's
    /// to plant), else the event's content.
    static func readableContent(type: String, raw: JSONValue, decrypted: JSONValue?) -> JSONValue {
        let envelope = raw["content"] ?? .object([:])
        if let decrypted { return .decryptedContent(decrypted["content"] ?? .object([:]), envelope: envelope) }
        return type == "m.room.encrypted" ? .undecryptedContent(envelope: envelope) : envelope
    }

    /// Every version of an edited message, oldest first: the original content, then each valid edit's
    /// `m.new_content`, ordered as the edit rules order them (timestamp, then event id).
    public func contentVersions(of eventID: String, validEdits: [String]) throws -> [ContentVersion] {
        var versions: [ContentVersion] = []
        let statement = try db.statement("SELECT origin_server_ts, coalesce(decrypted_json, raw_json) FROM events WHERE event_id = ?")
        let original = try db.statement("SELECT origin_server_ts, type, raw_json, decrypted_json FROM events WHERE event_id = ?")
            .firstRow(.text(eventID)) { ($0.int(0), $0.text(1) ?? "", $0.text(2) ?? "{}", $0.text(3)) }
        if let (ts, type, raw, decrypted) = original {
            versions.append(ContentVersion(eventID: eventID, originServerTS: ts, content: try Self.readableContent(
                type: type, raw: JSONCoding.decode(raw), decrypted: decrypted.map(JSONCoding.decode))))
        }
        var edits: [ContentVersion] = []
        for edit in validEdits {
            guard let (ts, raw) = try statement.firstRow(.text(edit), row: { ($0.int(0), $0.text(1) ?? "{}") }) else { continue }
            let json = try JSONCoding.decode(raw)
            edits.append(ContentVersion(eventID: edit, originServerTS: ts,
                                        content: json.value(at: "content", "m.new_content") ?? .object([:])))
        }
        edits.sort { ($0.originServerTS, $0.eventID) < ($1.originServerTS, $1.eventID) }
        return versions + edits
    }
}

extension ArchiveStore {
    /// A cheap pass over the same items `timeline` yields (same filter, same order), giving only each
    /// item's id, sender, timestamp and thread root (as `TimelineItem.threadRoot` has it: read from the
    /// content, so a redacted reply has none): exporters plan pages with it before rendering.
    public func timelineMarks(roomID: String, since: Int64? = nil, until: Int64? = nil,
                              _ body: (_ eventID: String, _ sender: String, _ originServerTS: Int64,
                                       _ threadRoot: String?) throws -> Void) throws {
        let statement = try db.statement("""
            SELECT sender, origin_server_ts,
                   CASE WHEN rel_type = 'm.thread'
                        AND json_extract(raw_json, '$.content."m.relates_to".rel_type') = 'm.thread'
                   THEN rel_type END, rel_target, event_id
            FROM events
            WHERE room_id = ? AND is_timeline_item = 1 AND origin_server_ts >= ? AND origin_server_ts < ?
            ORDER BY position
            """)
        statement.bind([.text(roomID), .int(since ?? Int64.min), .int(until ?? Int64.max)])
        while try statement.step() {
            let threadRoot = statement.text(2) == Relation.Kind.thread.rawValue ? statement.text(3) : nil
            try body(statement.text(4) ?? "", statement.text(0) ?? "", statement.int(1), threadRoot)
        }
    }
}
