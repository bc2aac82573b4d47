import ArchiveCore

/// Steps on timeline positions and timestamps that stop at the ends instead of trapping: a timestamp is
/// whatever the server sent (a hostile one sends `origin_server_ts` Int64.min), and a trap there would fail
/// every later export of the room.
extension Int64 {
    var steppedBack: Int64 { self == .min ? .min : self - 1 }
    var steppedForward: Int64 { self == .max ? .max : self + 1 }
}

/// A user's membership of a room at one timeline position, with the positions it holds between, so that a
/// long timeline looks it up once per member event rather than once per message.
struct MemberSnapshot {
    var membership: String?
    var displayName: String?
    /// Holds for positions in `from..<until` (nil: to the end of the archive).
    var from: Int64
    var until: Int64?

    func holds(at position: Int64) -> Bool { position >= from && until.map { position < $0 } ?? true }
}

extension ArchiveStore {
    /// Keeps the lazy-loaded member events of a `/messages` page as history. Synapse gives the state after
    /// the page's first event (handlers/pagination.py: the newest walking backward, the oldest forward); a
    /// member event that is not itself in the timeline was not replaced before that event, so it held at
    /// `inEffectAt`, the page's lowest position. A page seen again (or an older page carrying the same
    /// event) can only lower that point. A member event in the timeline has its own exact position and is
    /// skipped: anchored at the page's start it would rename its sender's messages that came before it.
    ///
    /// A redaction archived before the page state came (a backward walk meets it first) strips the copy,
    /// unless `retainRedacted`.
    func recordMemberHistory(_ members: [RawEvent], roomID: String, roomVersion: RoomVersion,
                             inEffectAt position: Int64, retainRedacted: Bool) throws {
        let inTimeline = try db.statement("SELECT 1 FROM events WHERE event_id = ? AND room_id = ?")
        let insert = try db.statement("""
            INSERT INTO member_history (room_id, user_id, event_id, in_effect_at, json) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (room_id, event_id) DO UPDATE SET in_effect_at = min(in_effect_at, excluded.in_effect_at)
            """)
        let earlierRedactions = try db.statement(IngestSQL.earlierRedactions)
        for event in members where event.type == "m.room.member" {
            guard let userID = event.stateKey,
                  try inTimeline.firstRow(.text(event.eventID), .text(roomID), row: { _ in true }) == nil else { continue }
            try insert.run(.text(roomID), .text(userID), .text(event.eventID), .int(position),
                           .text(JSONCoding.encode(event.json)))
            let redactions = try earlierRedactions.rows(.text(event.eventID), .text(roomID)) {
                ($0.text(0) ?? "", $0.text(1) ?? "{}")
            }
            for (redactionID, json) in redactions {
                try redactMemberHistory(event.eventID, redactionID: redactionID, because: try? JSONCoding.decode(json),
                                        roomID: roomID, roomVersion: roomVersion, retain: retainRedacted)
            }
        }
    }

    /// The membership `userID` had at timeline `position`: the latest member event known to hold at or
    /// before it (a timeline member event, or page state seen in effect there). Before the first one known,
    /// the `unsigned.prev_content` of the next one says what held (the spec's rule since v1.2; none: no
    /// membership); only with no later member event known, the room's current state.
    ///
    /// Page state is anchored where it was seen, which can be long after it happened: when the account may
    /// not see part of the history (`history_visibility: joined`), a member's rename is known only from a
    /// page where they speak. So the next page state after `position` already holds there when its
    /// `origin_server_ts` is at or before `timestamp` and after the member event otherwise chosen. That rule
    /// trusts a clock the server sets, so it is asked for (`timestamp` not nil) for the user a message is
    /// shown from, and for other members only as a second reading that may add a namesake: decided by it
    /// alone, a future-dated message would make real members count as renamed or gone.
    func memberSnapshot(of userID: String, at position: Int64, timestamp: Int64?,
                        roomID: String) throws -> MemberSnapshot {
        let timelineSQL = "SELECT position, raw_json FROM events WHERE room_id = ? AND type = 'm.room.member' "
            + "AND state_key = ? AND position"
        // A copy of an event the timeline also holds is ignored: its exact position there wins. (Ingest
        // deletes such copies; archives written before it kept some.)
        let historySQL = "SELECT in_effect_at, json FROM member_history WHERE room_id = ? AND user_id = ? "
            + "AND NOT EXISTS (SELECT 1 FROM events WHERE events.event_id = member_history.event_id "
            + "AND events.room_id = member_history.room_id) AND in_effect_at"
        func first(_ sql: String) throws -> (position: Int64, json: JSONValue)? {
            guard let (at, text) = try db.statement(sql).firstRow(.text(roomID), .text(userID), .int(position), row: {
                ($0.int(0), $0.text(1) ?? "{}")
            }) else { return nil }
            return (at, try JSONCoding.decode(text))
        }
        let timelineBefore = try first(timelineSQL + " <= ? ORDER BY position DESC LIMIT 1")
        let historyBefore = try first(historySQL + " <= ? ORDER BY in_effect_at DESC LIMIT 1")
        let timelineAfter = try first(timelineSQL + " > ? ORDER BY position LIMIT 1")
        let historyAfter = try first(historySQL + " > ? ORDER BY in_effect_at LIMIT 1")

        let from = max(timelineBefore?.position ?? Int64.min, historyBefore?.position ?? Int64.min)
        let untils = [timelineAfter?.position, historyAfter?.position].compactMap { $0 }
        var snapshot = MemberSnapshot(membership: nil, displayName: nil, from: from, until: untils.min())
        var content: JSONValue?
        // A tie is the same event seen twice (page state that is also in the timeline).
        let before = [timelineBefore, historyBefore].compactMap({ $0 }).max(by: { $0.position < $1.position })
        let sent = { (entry: (position: Int64, json: JSONValue)) in entry.json["origin_server_ts"]?.int64Value ?? Int64.max }
        if let timestamp, let next = historyAfter, sent(next) > before.map(sent) ?? Int64.min {
            if sent(next) <= timestamp {
                snapshot.displayName = next.json.value(at: "content", "displayname")?.stringValue
                snapshot.membership = next.json.value(at: "content", "membership")?.stringValue
                snapshot.from = position
                return snapshot
            }
            // It may come to hold at any later message, by the clock: look again each time.
            snapshot.until = position.steppedForward
        }
        if let before {
            content = before.json["content"]
        } else if let next = [timelineAfter, historyAfter].compactMap({ $0 }).min(by: { $0.position < $1.position }) {
            // What the user's next known member event replaced held until it. No `prev_content` means it
            // replaced nothing (spec: the previous membership was `leave`): a later joiner was no member
            // here, and must not be counted as one under the name they took later. Page state does not hold
            // before where it was seen, save by the timestamp rule above.
            content = next.json.value(at: "unsigned", "prev_content")
        } else {
            // Nothing later is known of the user: the room's current state is the best there is.
            content = try db.statement(
                "SELECT json FROM room_state WHERE room_id = ? AND type = 'm.room.member' AND state_key = ?")
                .firstRow(.text(roomID), .text(userID)) { $0.text(0) }?
                .flatMap { try JSONCoding.decode($0)["content"] }
        }
        snapshot.membership = content?["membership"]?.stringValue
        snapshot.displayName = content?["displayname"]?.stringValue
        return snapshot
    }

    /// Every display name any archived member event of the room (timeline, page state, current state, or
    /// the `prev_content` one replaced) ever gave a user: the only ones who can share a name. Read once per
    /// pass, since names are compared in a normalised form SQL cannot make.
    func displayNamesEverGiven(roomID: String) throws -> [(userID: String, name: String)] {
        try db.statement("""
            SELECT state_key, json_extract(raw_json, '$.content.displayname') FROM events
                WHERE room_id = ?1 AND type = 'm.room.member' AND state_key IS NOT NULL
            UNION SELECT state_key, json_extract(raw_json, '$.unsigned.prev_content.displayname') FROM events
                WHERE room_id = ?1 AND type = 'm.room.member' AND state_key IS NOT NULL
            UNION SELECT user_id, json_extract(json, '$.content.displayname') FROM member_history WHERE room_id = ?1
            UNION SELECT user_id, json_extract(json, '$.unsigned.prev_content.displayname') FROM member_history
                WHERE room_id = ?1
            UNION SELECT state_key, json_extract(json, '$.content.displayname') FROM room_state
                WHERE room_id = ?1 AND type = 'm.room.member'
            """).rows(.text(roomID)) { ($0.text(0) ?? "", $0.text(1)) }
            .compactMap { row in row.1.map { (userID: row.0, name: $0) } }
    }
}

/// Display names as of a timeline position, with the spec's disambiguation ("Calculating the display name
/// for a user"): a name is ambiguous when another member with membership `join` or `invite` at that
/// position has it too. Members are judged from what the archive holds: timeline member events, the page
/// state it was given, and the room's current state for users it knows nothing earlier of.
/// Remembers what it looked up: one instance serves one pass over a timeline.
struct MemberNames {
    /// Snapshots with and without the timestamp rule differ: each is remembered apart. A struct key, not
    /// a joined string: this is looked up for every message of an export.
    private struct SnapshotKey: Hashable {
        let roomID: String
        let userID: String
        let clock: Bool
    }

    private var snapshots: [SnapshotKey: MemberSnapshot] = [:]
    private var named: [String: [String: Set<String>]] = [:]

    /// The sender's display name at `position` (nil: none known, or nothing visible in it), and whether it
    /// needs their user id: another member of that moment has the same name (compared as
    /// `MemberName.comparisonKey`), or the name itself looks like a user id.
    mutating func name(of userID: String, at position: Int64, timestamp: Int64, roomID: String,
                       store: ArchiveStore) throws -> (displayName: String?, ambiguous: Bool) {
        guard let name = try snapshot(of: userID, at: position, timestamp: timestamp, roomID: roomID,
                                      store: store).displayName else { return (nil, false) }
        let key = MemberName.comparisonKey(name)
        guard !key.isEmpty else { return (nil, false) }
        if MemberName.needsUserID(key: key) { return (name, true) }
        // Another member shares the name when their place in the timeline says so, or the clock rule does
        // (a name they took in history the account could not see). Either is enough: the clock can only
        // add a sharer here, never make a real one count as renamed or gone, so a future-dated message
        // cannot strip the id from whoever copies a name.
        for other in try namesakes(roomID: roomID, store: store)[key] ?? [] where other != userID {
            for clock in [nil, timestamp] {
                let state = try snapshot(of: other, at: position, timestamp: clock, roomID: roomID, store: store)
                if let otherName = state.displayName, MemberName.comparisonKey(otherName) == key,
                   state.membership == "join" || state.membership == "invite" {
                    return (name, true)
                }
            }
        }
        return (name, false)
    }

    /// The users each normalised name was ever given to in the room.
    private mutating func namesakes(roomID: String, store: ArchiveStore) throws -> [String: Set<String>] {
        if let known = named[roomID] { return known }
        var byKey: [String: Set<String>] = [:]
        for (userID, name) in try store.displayNamesEverGiven(roomID: roomID) {
            byKey[MemberName.comparisonKey(name), default: []].insert(userID)
        }
        named[roomID] = byKey
        return byKey
    }

    /// The name an event is shown under. A member event about its own sender is told under the name it
    /// replaced, as people saw them until then ("Alice changed their display name to Alicia", "Bob left"),
    /// or under its own when there was none before (a first join).
    mutating func name(ofSenderOf event: RawEvent, at position: Int64, roomID: String,
                       store: ArchiveStore) throws -> (displayName: String?, ambiguous: Bool) {
        if event.type == "m.room.member", event.stateKey == event.sender, position > Int64.min {
            let before = try name(of: event.sender, at: position.steppedBack, timestamp: event.originServerTS.steppedBack,
                                  roomID: roomID, store: store)
            if before.displayName != nil { return before }
        }
        return try name(of: event.sender, at: position, timestamp: event.originServerTS, roomID: roomID, store: store)
    }

    private mutating func snapshot(of userID: String, at position: Int64, timestamp: Int64?, roomID: String,
                                   store: ArchiveStore) throws -> MemberSnapshot {
        let key = SnapshotKey(roomID: roomID, userID: userID, clock: timestamp != nil)
        if let cached = snapshots[key], cached.holds(at: position) { return cached }
        let fresh = try store.memberSnapshot(of: userID, at: position, timestamp: timestamp, roomID: roomID)
        snapshots[key] = fresh
        return fresh
    }
}
