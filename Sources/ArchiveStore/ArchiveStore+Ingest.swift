import ArchiveCore
import Foundation

/// One `/messages` page ready to be stored, with the cursors it moves the room to.
public struct PageIngest: Sendable {
    public var roomID: String
    public var roomVersion: RoomVersion
    public var events: [RawEvent]
    public var placement: Placement
    public var cursors: RoomCursors
    /// Lazy-loaded member events of the page (`state` of the reply): its senders' membership as of the
    /// page, kept as member history (`recordMemberHistory`).
    public var memberState: [RawEvent]
    public var malformed: [(MalformedEvent, JSONValue)]
    /// Legal hold: keep the content of events that a redaction in this page removes, marked as redacted.
    public var retainRedacted: Bool

    public init(roomID: String, roomVersion: RoomVersion, events: [RawEvent], placement: Placement,
                cursors: RoomCursors, memberState: [RawEvent] = [], malformed: [(MalformedEvent, JSONValue)] = [],
                retainRedacted: Bool = false) {
        self.roomID = roomID
        self.roomVersion = roomVersion
        self.events = events
        self.placement = placement
        self.cursors = cursors
        self.memberState = memberState
        self.malformed = malformed
        self.retainRedacted = retainRedacted
    }
}

public struct IngestOutcome: Sendable, Hashable {
    public var newEvents: Int
    public var duplicates: Int
    /// Events whose id is already archived for another room: recorded in `malformed_events`, not stored.
    public var malformed: Int
    /// New encrypted events stored without their keys (missing_key, unknown_index).
    public var newWaitingForKeys = 0

    public init(newEvents: Int, duplicates: Int, malformed: Int = 0) {
        self.newEvents = newEvents
        self.duplicates = duplicates
        self.malformed = malformed
    }
}

/// An event as relations name it: event ids are unique only within a room (servers choose them in room
/// versions 1 and 2), and a relation holds only between events of one room.
struct EventKey: Hashable {
    let roomID: String
    let eventID: String
}

extension ArchiveStore {
    /// Stores a page: its new events, the redactions and edits they apply, and the new cursors, in one
    /// transaction. A crash loses at most this page and never leaves a cursor ahead of its events.
    /// Events already stored (by id) are skipped, so a page fetched twice changes nothing. An event whose
    /// id is already stored for another room is recorded in `malformed_events` (the schema keys events by id
    /// alone), never silently lost.
    /// Megolm events are decrypted with `decrypt` as they are stored (without it, or without their session,
    /// they wait as `missing_key` until keys arrive) and then normalised like any plaintext event.
    public func ingest(_ page: PageIngest, decrypt: Decrypt? = nil) throws -> IngestOutcome {
        try db.transaction {
            var outcome = IngestOutcome(newEvents: 0, duplicates: 0)
            var affected: [EventKey] = []
            var newRedactions: [RawEvent] = []
            var newEvents: [RawEvent] = []

            // Two queries, not min() and max() in one: SQLite answers each alone from the (room_id, position)
            // index in one step, but both together by scanning the whole room.
            let newest = try db.statement(IngestSQL.newestPosition)
                .firstRow(.text(page.roomID)) { $0.optionalInt(0) } ?? nil
            let oldest = try db.statement(IngestSQL.oldestPosition)
                .firstRow(.text(page.roomID)) { $0.optionalInt(0) } ?? nil
            var nextAfter = (newest ?? 0) + 1
            var nextBefore = (oldest ?? 1) - 1

            let insert = try db.statement("""
                INSERT OR IGNORE INTO events (event_id, room_id, position, sender, type, state_key,
                    origin_server_ts, raw_json, rel_type, rel_target, rel_key, reply_to, redacts, redacted_by,
                    is_timeline_item, session_id, decryption, change_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                        (SELECT coalesce(max(change_seq), 0) + 1 FROM events))
                """)
            // The page's lowest timeline position, counting events stored before: where its member state held.
            var lowestPosition: Int64?
            let storedPosition = try db.statement("SELECT position FROM events WHERE event_id = ? AND room_id = ?")
            let forgetMemberHistory = try db.statement("DELETE FROM member_history WHERE room_id = ? AND event_id = ?")
            for event in page.events {
                let position: Int64
                switch page.placement {
                case .after: position = nextAfter
                case .before: position = nextBefore
                }
                let primary = event.relations.first { $0.kind != .reply }
                let redacts = event.redactionTarget(roomVersion: page.roomVersion)
                let payload = EncryptedPayload(event, roomID: page.roomID)
                try insert.run(
                    .text(event.eventID), .text(page.roomID), .int(position), .text(event.sender), .text(event.type),
                    .optional(event.stateKey), .int(event.originServerTS), .text(JSONCoding.encode(event.json)),
                    .optional(primary?.relType), .optional(primary?.target), .optional(primary?.key),
                    .optional(event.inReplyTo), .optional(redacts), .optional(event.redactedBecause),
                    .int(event.isAggregationOnly ? 0 : 1), .optional(payload?.sessionID),
                    .text(Self.initialDecryptionStatus(event, payload: payload).rawValue))
                guard db.changes > 0 else {
                    if try recordIfArchivedElsewhere(event, roomID: page.roomID) {
                        outcome.malformed += 1
                    } else {
                        outcome.duplicates += 1
                        if let stored = try storedPosition.firstRow(.text(event.eventID), .text(page.roomID), row: { $0.int(0) }) {
                            lowestPosition = min(lowestPosition ?? stored, stored)
                        }
                    }
                    continue
                }
                lowestPosition = min(lowestPosition ?? position, position)
                outcome.newEvents += 1
                switch page.placement {
                case .after: nextAfter += 1
                case .before: nextBefore -= 1
                }
                newEvents.append(event)
                if event.type == "m.room.member" {
                    // Its page-state copy held from where it was seen; the timeline's exact position wins.
                    try forgetMemberHistory.run(.text(page.roomID), .text(event.eventID))
                }
                var touched = [event.eventID]
                if let payload {
                    var status = Self.initialDecryptionStatus(event, payload: payload)
                    if let decrypt {
                        let result = decrypt(payload)
                        status = result.status
                        touched += try applyDecryption(result, to: payload, position: position)
                    }
                    if DecryptionStatus.awaitingKeys.contains(status) { outcome.newWaitingForKeys += 1 }
                }
                if let target = event.replaceTarget { touched.append(target) }
                affected += touched.map { EventKey(roomID: page.roomID, eventID: $0) }
                if redacts != nil { newRedactions.append(event) }
            }

            // Redactions in this page, then redactions stored earlier whose target only arrived now (a
            // backward walk meets the redaction before the event it removes).
            for redaction in newRedactions {
                if let target = redaction.redactionTarget(roomVersion: page.roomVersion) {
                    affected += try applyRedaction(redaction.eventID, redactionJSON: redaction.json, target: target,
                                                   roomID: page.roomID, roomVersion: page.roomVersion,
                                                   retain: page.retainRedacted)
                        .map { EventKey(roomID: page.roomID, eventID: $0) }
                }
            }
            // Only a redaction from the same room counts. The (redacts, room_id) index answers this directly;
            // an index on redacts alone let SQLite prefer scanning the whole room for every new event. Every
            // redaction not judged yet is tried: one its sender may not make must not hide a later valid one.
            let earlierRedactions = try db.statement(IngestSQL.earlierRedactions)
            for event in newEvents {
                let redactions = try earlierRedactions.rows(.text(event.eventID), .text(page.roomID)) {
                    ($0.text(0) ?? "", $0.text(1) ?? "{}")
                }
                for (redactionID, json) in redactions {
                    affected += try applyRedaction(redactionID, redactionJSON: try? JSONCoding.decode(json),
                                                   target: event.eventID, roomID: page.roomID,
                                                   roomVersion: page.roomVersion, retain: page.retainRedacted)
                        .map { EventKey(roomID: page.roomID, eventID: $0) }
                }
            }

            if !page.retainRedacted {
                try stripEditsOfRedactedOriginals(newEvents, roomID: page.roomID, roomVersion: page.roomVersion)
            }

            var seen: Set<EventKey> = []
            for key in affected where seen.insert(key).inserted {
                try resolveEdits(of: key)
            }

            try countUnreportedWaiting(outcome.newWaitingForKeys, roomID: page.roomID)

            if !page.memberState.isEmpty {
                try insertState(page.memberState, roomID: page.roomID, replace: false)
                if let lowestPosition {
                    try recordMemberHistory(page.memberState, roomID: page.roomID, roomVersion: page.roomVersion,
                                            inEffectAt: lowestPosition, retainRedacted: page.retainRedacted)
                }
            }
            let recordMalformed = try db.statement(
                "INSERT INTO malformed_events (room_id, event_id, reason, raw_json, seen_at) VALUES (?, ?, ?, ?, ?)")
            for (problem, json) in page.malformed {
                try recordMalformed.run(.text(page.roomID), .optional(problem.eventID), .text(problem.reason),
                                        .text(JSONCoding.encode(json)), .int(clock.now().milliseconds))
            }
            try saveCursors(page.cursors, roomID: page.roomID)
            return outcome
        }
    }

    /// Megolm events wait for their key until decrypted; an encrypted event this archive cannot decrypt at
    /// all (another algorithm, no ciphertext or session) is `failed`; a redacted one has nothing left.
    static func initialDecryptionStatus(_ event: RawEvent, payload: EncryptedPayload?) -> DecryptionStatus {
        if payload != nil { return .missingKey }
        guard event.type == "m.room.encrypted", event.content.objectValue?.isEmpty == false else { return .none }
        return .failed
    }

    func saveCursors(_ cursors: RoomCursors, roomID: String) throws {
        let (state, token): (String, String?) = switch cursors.backward {
        case .notStarted: ("not_started", nil)
        case .at(let token): ("at", token)
        case .complete: ("complete", nil)
        }
        try db.statement("UPDATE rooms SET backward_state = ?, backward_token = ?, forward_token = ? WHERE room_id = ?")
            .run(.text(state), .optional(token), .optional(cursors.forward), .text(roomID))
        guard db.changes == 1 else { throw StoreError.corrupt("cursors for unknown room \(roomID)") }
    }

    /// When `event` was not inserted because its id is stored for another room, records it in
    /// `malformed_events` (once, however often the page is fetched) and returns true; false for a plain
    /// duplicate of this room.
    private func recordIfArchivedElsewhere(_ event: RawEvent, roomID: String) throws -> Bool {
        let storedRoom = try db.statement("SELECT room_id FROM events WHERE event_id = ?")
            .firstRow(.text(event.eventID)) { $0.text(0) } ?? nil
        guard let storedRoom, storedRoom != roomID else { return false }
        try db.statement("""
            INSERT INTO malformed_events (room_id, event_id, reason, raw_json, seen_at)
            SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS
                (SELECT 1 FROM malformed_events WHERE room_id = ?1 AND event_id = ?2 AND reason = ?3)
            """).run(.text(roomID), .text(event.eventID), .text(Self.idArchivedElsewhere),
                     .text(JSONCoding.encode(event.json)), .int(clock.now().milliseconds))
        return true
    }

    static let idArchivedElsewhere = "event id already archived for another room"

    /// Re-derives the current content of a timeline event from all its stored edits of its own room.
    /// Order-independent: the result depends only on which edits are stored, not on the order they came in.
    func resolveEdits(of key: EventKey) throws {
        let (eventID, roomID) = (key.eventID, key.roomID)
        // An encrypted event takes part as what it decrypted to: the edit rules compare decrypted types
        // and read `m.new_content` inside the ciphertext, while its relation stays the clear one of the
        // envelope (`EditSubject` applies it; the stored payload keeps its own, as decrypted).
        // Undecrypted, it is an `m.room.encrypted` event whose cleartext is never read as an edit's content.
        let subjectColumns = "event_id, room_id, sender, type, state_key, origin_server_ts, raw_json, decrypted_json, redacted_by"
        func subject(_ row: SQLiteStatement) throws -> EditSubject {
            let event = RawEvent(eventID: row.text(0) ?? "", roomID: row.text(1) ?? "", sender: row.text(2) ?? "",
                                 type: row.text(3) ?? "", stateKey: row.text(4), originServerTS: row.int(5),
                                 json: try JSONCoding.decode(row.text(6) ?? "{}"))
            let decrypted = try row.text(7).map(JSONCoding.decode).map {
                (type: $0["type"]?.stringValue ?? event.type, content: $0["content"] ?? .object([:]))
            }
            return EditSubject(event, decrypted: decrypted, isRedacted: !row.isNull(8))
        }
        // Most events have no edits and never had: one index probe and done, without decoding anything.
        let hasEdits = try db.statement(IngestSQL.hasEdits).firstRow(.text(eventID), .text(roomID)) { _ in true } ?? false
        let wasResolved = try db.statement(IngestSQL.wasResolved)
            .firstRow(.text(eventID), .text(roomID)) { $0.int(0) != 0 } ?? false
        guard hasEdits || wasResolved else { return }
        guard let (original, isTimelineItem, hadResolution, isVerified) = try db.statement("""
            SELECT \(subjectColumns), is_timeline_item, valid_edits IS NOT NULL, sender_key_status IS 'verified'
            FROM events WHERE event_id = ? AND room_id = ?
            """).firstRow(.text(eventID), .text(roomID), row: {
                (try subject($0), $0.int(9) != 0, $0.int(10) != 0, $0.int(11) != 0)
            }),
            isTimelineItem else { return }
        // Only rows that can be valid are read (same sender; encrypted too when the original is): anyone in
        // the room can send thousands of edits of someone else's message, and decoding each costs.
        // A `verified` original keeps its words against an edit whose session is another user's
        // (`mismatch`): `events --jsonl` shows the winner's content beside the original's sender-key status,
        // so such an edit would pass forged words off as verified. Re-resolved when statuses change.
        let edits = try db.statement("""
            SELECT \(subjectColumns) FROM events
            WHERE rel_target = ? AND rel_type = 'm.replace' AND +room_id = ? AND +sender = ?
              AND (? = 0 OR +type = 'm.room.encrypted')
              AND (? = 0 OR +sender_key_status IS NOT 'mismatch')
            """).rows(.text(eventID), .text(roomID), .text(original.sender),
                      .int(original.encryption == .none ? 0 : 1), .int(isVerified ? 1 : 0), row: subject)
        guard !edits.isEmpty || hadResolution else { return }
        let resolved = EditResolver.resolve(original: original, edits: edits)
        try db.statement("UPDATE events SET current_content = ?, replaced_by = ?, valid_edits = ? WHERE event_id = ?")
            .run(resolved.winner == nil ? .null : .text(JSONCoding.encode(resolved.currentContent)),
                 .optional(resolved.winner), .text(JSONCoding.encode(.array(resolved.validEdits.map(JSONValue.string)))),
                 .text(eventID))
    }
}

/// The statements ingestion runs once per event or page. Each must be answered from an index: one that
/// scans a room turns a backfill quadratic (a 20,000-event room took 72 s instead of under 1 s).
/// `ArchiveStoreTests` checks their query plans.
enum IngestSQL {
    static let newestPosition = "SELECT max(position) FROM events WHERE room_id = ?"
    static let oldestPosition = "SELECT min(position) FROM events WHERE room_id = ?"
    static let earlierRedactions = """
        SELECT event_id, raw_json FROM events WHERE redacts = ? AND room_id = ? AND redaction_status IS NULL
        """
    /// Relations hold inside one room: the unary `+` keeps SQLite on the relation index, checking the room
    /// on the few rows it finds, instead of walking the room's own indexes.
    static let hasEdits = "SELECT 1 FROM events WHERE rel_target = ? AND rel_type = 'm.replace' AND +room_id = ? LIMIT 1"
    static let wasResolved = "SELECT valid_edits IS NOT NULL FROM events WHERE event_id = ? AND room_id = ?"

    static let perEvent = [newestPosition, oldestPosition, earlierRedactions, hasEdits, wasResolved]
}

extension ArchiveStore {
    /// SQLite's plan for each per-event statement (`EXPLAIN QUERY PLAN`), for tests that keep them indexed.
    func ingestQueryPlans() throws -> [String: [String]] {
        var plans: [String: [String]] = [:]
        for sql in IngestSQL.perEvent {
            plans[sql] = try queryPlan(sql, arguments: Array(repeating: .text("x"), count: sql.filter { $0 == "?" }.count))
        }
        return plans
    }
}
