import ArchiveCore
import Foundation

/// What the store remembers about the search index: which build it is (the same id is written into the
/// index folder, so a half-swapped or foreign index is noticed), its language and shard count, and the
/// change it has caught up to.
public struct SearchIndexState: Sendable, Hashable {
    public var buildID: String
    public var language: String
    public var shards: Int
    public var cursor: Int64

    public init(buildID: String, language: String, shards: Int, cursor: Int64) {
        self.buildID = buildID
        self.language = language
        self.shards = shards
        self.cursor = cursor
    }
}

/// A message as a search result or its context shows it.
public struct MessageInfo: Sendable, Hashable {
    public var eventID: String
    public var roomID: String
    public var sender: String
    public var senderDisplayName: String?
    /// Another member had the same display name then: people see it with the user id (`MemberName`).
    public var senderNameIsAmbiguous: Bool = false
    public var originServerTS: Int64
    /// The current text (edit applied, reply fallback removed); nil when redacted or unreadable.
    public var text: String?
    public var msgtype: String?
    public var threadRoot: String?
    public var position: Int64
    public var redacted: Bool
}

extension ArchiveStore {
    // MARK: The index's cursor

    public func searchIndexState() throws -> SearchIndexState? {
        try db.statement("SELECT build_id, language, shards, cursor FROM search_index WHERE id = 1").firstRow {
            SearchIndexState(buildID: $0.text(0) ?? "", language: $0.text(1) ?? "english", shards: Int($0.int(2)),
                             cursor: $0.int(3))
        }
    }

    public func saveSearchIndexState(_ state: SearchIndexState) throws {
        try db.statement("""
            INSERT INTO search_index (id, build_id, language, shards, cursor, built_at) VALUES (1, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET build_id = excluded.build_id, language = excluded.language,
                shards = excluded.shards, cursor = excluded.cursor, built_at = excluded.built_at
            """).run(.text(state.buildID), .text(state.language), .int(Int64(state.shards)), .int(state.cursor),
                     .int(clock.now().milliseconds))
    }

    /// Moves the cursor of build `buildID` (a no-op if another build has replaced it meanwhile).
    public func setSearchIndexCursor(_ cursor: Int64, buildID: String) throws {
        try db.statement("UPDATE search_index SET cursor = ? WHERE id = 1 AND build_id = ?")
            .run(.int(cursor), .text(buildID))
    }

    /// The newest change: the index is current when its cursor equals this.
    public func latestChange() throws -> Int64 {
        try db.statement("SELECT coalesce(max(change_seq), 0) FROM events").firstRow { $0.int(0) } ?? 0
    }

    /// Changes with `after < change_seq <= through`, oldest first, at most `limit`. Returns them and the
    /// last change_seq read (nil when there were none), so skipped events still move the cursor.
    public func changedEvents(after: Int64, through: Int64 = .max, limit: Int) throws -> (events: [IndexableEvent], last: Int64?) {
        let statement = try db.statement("""
            SELECT change_seq, event_id, room_id, sender, type, origin_server_ts, is_timeline_item,
                   CASE WHEN is_timeline_item = 1 AND type IN ('m.room.message', 'm.room.encrypted')
                        THEN raw_json END,
                   decrypted_json, current_content, redacted_by, rel_type, rel_target
            FROM events WHERE change_seq > ? AND change_seq <= ? ORDER BY change_seq LIMIT ?
            """)
        statement.bind([.int(after), .int(through), .int(Int64(limit))])
        var events: [IndexableEvent] = []
        var last: Int64?
        while try statement.step() {
            last = statement.int(0)
            guard let rawText = statement.text(7) else { continue }
            events.append(try indexable(statement, seq: statement.int(0), rawText: rawText))
        }
        return (events, last)
    }

    /// Reads an event row (columns as in `changedEvents`) into what the index needs.
    private func indexable(_ row: SQLiteStatement, seq: Int64, rawText: String) throws -> IndexableEvent {
        let raw = try JSONCoding.decode(rawText)
        var type = row.text(4) ?? ""
        var content: JSONValue? = raw["content"]
        if type == "m.room.encrypted" {
            content = nil
            if let decryptedText = row.text(8), let decrypted = try? JSONCoding.decode(decryptedText) {
                type = decrypted["type"]?.stringValue ?? type
                content = .decryptedContent(decrypted["content"] ?? .object([:]), envelope: raw["content"] ?? .object([:]))
            }
        }
        if let current = row.text(9) { content = try JSONCoding.decode(current) }
        let stripped = !row.isNull(10) && raw.value(at: "unsigned", "redacted_because") != nil
        return IndexableEvent(
            changeSeq: seq, eventID: row.text(1) ?? "", roomID: row.text(2) ?? "", sender: row.text(3) ?? "",
            type: type, originServerTS: row.int(5), isTimelineItem: row.int(6) != 0, content: content,
            stripped: stripped, threadRoot: row.text(11) == Relation.Kind.thread.rawValue ? row.text(12) : nil)
    }

    // MARK: Results and their context

    private static let messageColumns = """
        change_seq, event_id, room_id, sender, type, origin_server_ts, is_timeline_item, raw_json,
        decrypted_json, current_content, redacted_by, rel_type, rel_target, position
        """

    private func messageInfo(_ row: SQLiteStatement, names: inout MemberNames) throws -> MessageInfo {
        let event = try indexable(row, seq: row.int(0), rawText: row.text(7) ?? "{}")
        let position = row.int(13)
        let text = event.stripped ? nil : event.content.flatMap(SearchDocument.displayText)
        let name = try names.name(of: event.sender, at: position, timestamp: event.originServerTS, roomID: event.roomID,
                                  store: self)
        return MessageInfo(
            eventID: event.eventID, roomID: event.roomID, sender: event.sender,
            senderDisplayName: name.displayName, senderNameIsAmbiguous: name.ambiguous,
            originServerTS: event.originServerTS, text: text, msgtype: event.content?["msgtype"]?.stringValue,
            threadRoot: event.threadRoot, position: position, redacted: !row.isNull(10))
    }

    /// One message by id, for showing a search result.
    public func messageInfo(eventID: String) throws -> MessageInfo? {
        var names = MemberNames()
        return try db.statement("SELECT \(Self.messageColumns) FROM events WHERE event_id = ?")
            .firstRow(.text(eventID)) { try messageInfo($0, names: &names) }
    }

    /// Up to `count` messages before and after `message` in its room's timeline (oldest first).
    public func neighbours(of message: MessageInfo, count: Int) throws -> (before: [MessageInfo], after: [MessageInfo]) {
        guard count > 0 else { return ([], []) }
        var names = MemberNames()
        let filter = "room_id = ? AND is_timeline_item = 1 AND type IN ('m.room.message', 'm.room.encrypted')"
        let before = try db.statement("""
            SELECT \(Self.messageColumns) FROM events WHERE \(filter) AND position < ? ORDER BY position DESC LIMIT ?
            """).rows(.text(message.roomID), .int(message.position), .int(Int64(count))) {
            try messageInfo($0, names: &names)
        }
        let after = try db.statement("""
            SELECT \(Self.messageColumns) FROM events WHERE \(filter) AND position > ? ORDER BY position LIMIT ?
            """).rows(.text(message.roomID), .int(message.position), .int(Int64(count))) {
            try messageInfo($0, names: &names)
        }
        return (before.reversed(), after)
    }

    /// A room's name (else its alias) for showing results.
    public func roomLabel(_ roomID: String) throws -> String? {
        try db.statement("SELECT coalesce(name, canonical_alias) FROM rooms WHERE room_id = ?")
            .firstRow(.text(roomID)) { $0.text(0) } ?? nil
    }
}
