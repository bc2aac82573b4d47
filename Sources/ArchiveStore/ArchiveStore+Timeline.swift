import ArchiveCore

extension ArchiveStore {
    /// Streams a room's normalised timeline in stored order (the room's `dir=f` order), calling `body` for
    /// each item; memory stays flat however long the room is. `since`/`until` are milliseconds, `until`
    /// exclusive. With `threadRoot`, only that thread's replies.
    public func timeline(roomID: String, since: Int64? = nil, until: Int64? = nil, threadRoot: String? = nil,
                         _ body: (TimelineItem) throws -> Void) throws {
        // A thread's replies are found through the relation index; the unary `+` keeps SQLite from
        // scanning the room's time or position index instead (which would read the whole room per thread).
        // A redaction strips the relation from raw_json but leaves the columns: the reply must also still
        // say it is in the thread, as `TimelineItem.threadRoot` and `timelineMarks` read it, or a redacted
        // reply would be on its month page and on the thread's page.
        let filter = threadRoot == nil
            ? "room_id = ? AND is_timeline_item = 1 AND origin_server_ts >= ? AND origin_server_ts < ?"
            : "+room_id = ? AND is_timeline_item = 1 AND +origin_server_ts >= ? AND +origin_server_ts < ? "
                + "AND rel_type = 'm.thread' AND rel_target = ? "
                + "AND json_extract(raw_json, '$.content.\"m.relates_to\".rel_type') = 'm.thread'"
        // Most messages have no reactions and no thread: two index probes inside this statement say which
        // do, so that the two queries counting them run only there, not twice per message.
        let statement = try db.statement("""
            SELECT event_id, room_id, sender, type, state_key, origin_server_ts, raw_json, decryption,
                   redacted_by, current_content, replaced_by, valid_edits, position, decrypted_json,
                   sender_key_status,
                   EXISTS (SELECT 1 FROM events r WHERE r.rel_target = events.event_id AND r.rel_type = 'm.annotation'),
                   EXISTS (SELECT 1 FROM events r WHERE r.rel_target = events.event_id AND r.rel_type = 'm.thread')
            FROM events
            WHERE \(filter)
            ORDER BY position
            """)
        statement.bind([.text(roomID), .int(since ?? Int64.min), .int(until ?? Int64.max)]
                       + (threadRoot.map { [SQLiteValue.text($0)] } ?? []))
        var names = MemberNames()
        while try statement.step() {
            let eventID = statement.text(0) ?? ""
            let raw = try JSONCoding.decode(statement.text(6) ?? "{}")
            let decrypted = try statement.text(13).map(JSONCoding.decode)
            let envelope = raw["content"] ?? .object([:])
            let content = try statement.text(9).map(JSONCoding.decode)
                ?? decrypted.map { .decryptedContent($0["content"] ?? .object([:]), envelope: envelope) } ?? envelope
            let edits = try statement.text(11).map(JSONCoding.decode)?.arrayValue?.compactMap(\.stringValue) ?? []
            let sender = statement.text(2) ?? ""
            let position = statement.int(12)
            let event = RawEvent(eventID: eventID, roomID: roomID, sender: sender, type: statement.text(3) ?? "",
                                 stateKey: statement.text(4), originServerTS: statement.int(5), json: raw)
            let redactedBy = statement.text(8)
            // Stripped by a redaction (not kept under legal hold): reactions to it are gone with it.
            let stripped = redactedBy != nil && raw.value(at: "unsigned", "redacted_because") != nil
            let name = try names.name(ofSenderOf: event, at: position, roomID: roomID, store: self)
            let item = TimelineItem(
                eventID: eventID, roomID: roomID, sender: sender, senderDisplayName: name.displayName,
                type: decrypted?["type"]?.stringValue ?? event.type, stateKey: event.stateKey, originServerTS: event.originServerTS,
                content: content, edited: statement.text(10) != nil, replacedBy: statement.text(10), edits: edits,
                reactions: stripped || statement.int(15) == 0 ? [:] : try reactions(to: eventID, roomID: roomID),
                inReplyTo: event.inReplyTo, threadRoot: event.threadRoot,
                thread: statement.int(16) == 0 ? nil : try threadSummary(of: eventID, roomID: roomID),
                redacted: redactedBy != nil, redactedBy: redactedBy,
                decryption: statement.text(7).flatMap(DecryptionStatus.init(rawValue:)) ?? DecryptionStatus.none,
                senderNameIsAmbiguous: name.ambiguous, previousContent: raw.value(at: "unsigned", "prev_content"),
                senderKey: statement.text(14).flatMap(SenderKeyStatus.init(rawValue:)))
            try body(item)
        }
    }

    /// Reaction counts: each sender counts once per key; redacted reactions do not count, nor do reactions
    /// from another room (a relation holds only inside one room; the unary `+` keeps SQLite on the relation
    /// index instead of walking the room).
    func reactions(to eventID: String, roomID: String) throws -> [String: Int] {
        var result: [String: Int] = [:]
        let rows = try db.statement("""
            SELECT rel_key, count(DISTINCT sender) FROM events
            WHERE rel_target = ? AND rel_type = 'm.annotation' AND +room_id = ? AND redacted_by IS NULL
                AND rel_key IS NOT NULL
            GROUP BY rel_key
            """).rows(.text(eventID), .text(roomID)) { ($0.text(0) ?? "", Int($0.int(1))) }
        for (key, count) in rows { result[key] = count }
        return result
    }

    /// For a thread root: how many (unredacted) replies of its own room it has and the latest one in
    /// timeline order.
    func threadSummary(of eventID: String, roomID: String) throws -> TimelineItem.ThreadSummary? {
        let row = try db.statement("""
            SELECT count(*), (SELECT event_id FROM events WHERE rel_target = ?1 AND rel_type = 'm.thread'
                              AND +room_id = ?2 AND redacted_by IS NULL ORDER BY position DESC LIMIT 1)
            FROM events WHERE rel_target = ?1 AND rel_type = 'm.thread' AND +room_id = ?2 AND redacted_by IS NULL
            """).firstRow(.text(eventID), .text(roomID)) { (Int($0.int(0)), $0.text(1)) }
        guard let (count, latest) = row, count > 0 else { return nil }
        return TimelineItem.ThreadSummary(replyCount: count, latestEventID: latest)
    }
}
