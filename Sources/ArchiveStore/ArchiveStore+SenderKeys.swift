import ArchiveCore

/// A decrypted event whose sender key is still to be checked (never checked, or `unknown` or `mismatch`
/// last time: a mismatch rests on another user's claim, which that user can withdraw).
public struct SenderKeyCandidate: Sendable, Hashable {
    public let eventID: String
    public let sender: String
    /// The curve25519 key the session's key came with (key backup or export), if it said.
    public let sessionSenderKey: String?
}

/// Per room: decrypted events by sender-key status; `unchecked` counts those no sync has checked yet.
public struct SenderKeyCounts: Sendable, Hashable {
    public var verified = 0
    public var mismatch = 0
    public var unknown = 0
    public var unchecked = 0

    public init() {}
}

extension ArchiveStore {
    /// Every decrypted event not known to be `verified`, with what its session says about its
    /// sender key. Reads only the partial index `events_sender_key_to_check`, so a sync of an archive
    /// whose events are all settled costs nothing here.
    public func senderKeyCandidates() throws -> [SenderKeyCandidate] {
        try db.statement(SenderKeySQL.candidates).rows { row in
            SenderKeyCandidate(eventID: row.text(0) ?? "", sender: row.text(1) ?? "", sessionSenderKey: row.text(2))
        }
    }

    /// The senders of every event in a session whose key is a candidate's: the owner of a device is usually
    /// among them, and only a key seen on another user's device makes a `mismatch` (rather than `unknown`).
    public func sendersSharingSessionsWithCandidates() throws -> Set<String> {
        Set(try db.statement(SenderKeySQL.sendersSharingSessions).rows { $0.text(0) ?? "" })
    }

    /// Stores the outcome of one check, in one transaction. Where a status changed, the edits of the
    /// event (or the original it edits) are resolved again: whether an edit may replace a `verified`
    /// original's content depends on both statuses (see `resolveEdits`).
    /// Returns how many events became `mismatch` by this check (a mismatch already recorded is asked
    /// about again every sync, and is news only once).
    @discardableResult
    public func recordSenderKeyStatuses(_ statuses: [String: SenderKeyStatus]) throws -> Int {
        guard !statuses.isEmpty else { return 0 }
        var newMismatches = 0
        try db.transaction {
            let read = try db.statement("""
                SELECT room_id, sender_key_status, rel_target, rel_type FROM events WHERE event_id = ? AND decryption = 'ok'
                """)
            let update = try db.statement("UPDATE events SET sender_key_status = ? WHERE event_id = ? AND decryption = 'ok'")
            var affected: [EventKey] = []
            for (eventID, status) in statuses.sorted(by: { $0.key < $1.key }) {
                guard let (roomID, old, target, relType) = try read.firstRow(.text(eventID), row: {
                    ($0.text(0) ?? "", $0.text(1), $0.text(2), $0.text(3))
                }) else { continue }
                try update.run(.text(status.rawValue), .text(eventID))
                guard old != status.rawValue else { continue }
                if status == .mismatch { newMismatches += 1 }
                affected.append(EventKey(roomID: roomID, eventID: eventID))
                if relType == "m.replace", let target { affected.append(EventKey(roomID: roomID, eventID: target)) }
            }
            var seen = Set<EventKey>()
            for key in affected where seen.insert(key).inserted { try resolveEdits(of: key) }
        }
        return newMismatches
    }

    /// The sender-key statuses of a room's decrypted events (nil room: the whole archive).
    public func senderKeyCounts(roomID: String? = nil) throws -> SenderKeyCounts {
        var counts = SenderKeyCounts()
        let statement = try db.statement("""
            SELECT sender_key_status, count(*) FROM events WHERE decryption = 'ok'
            """ + (roomID == nil ? "" : " AND room_id = ?") + " GROUP BY sender_key_status")
        statement.bind(roomID.map { [SQLiteValue.text($0)] } ?? [])
        var rows: [(String?, Int)] = []
        while try statement.step() { rows.append((statement.text(0), Int(statement.int(1)))) }
        for (status, count) in rows {
            switch status.flatMap(SenderKeyStatus.init(rawValue:)) {
            case .verified: counts.verified += count
            case .mismatch: counts.mismatch += count
            case .unknown: counts.unknown += count
            case nil: counts.unchecked += count
            }
        }
        return counts
    }
}

/// The rows a sender-key check (re-)reads; the partial index `events_sender_key_to_check` has the same
/// condition (migration 12), so the query is answered from it.
enum SenderKeySQL {
    static let toCheck = "(sender_key_status IS NULL OR sender_key_status IN ('unknown', 'mismatch'))"
    static let candidates = """
        SELECT e.event_id, e.sender, s.sender_key
        FROM events e LEFT JOIN megolm_sessions s ON s.room_id = e.room_id AND s.session_id = e.session_id
        WHERE e.decryption = 'ok' AND \(toCheck)
        """
    /// The candidates' session keys first (DISTINCT), then every session with one of those keys, then the
    /// distinct senders of their events: joining each candidate to every event of its session was N².
    /// Sessions sharing a key come from one device, so its owner is among their senders even when all of
    /// the owner's own events are already verified and no longer candidates (a re-checked mismatch needs
    /// the other user asked again, or it would fall to unknown).
    static let sendersSharingSessions = """
        WITH keys AS (
            SELECT DISTINCT s.sender_key FROM events e
            JOIN megolm_sessions s ON s.room_id = e.room_id AND s.session_id = e.session_id
            WHERE e.decryption = 'ok' AND \(toCheck) AND s.sender_key IS NOT NULL)
        SELECT DISTINCT o.sender FROM keys k
        JOIN megolm_sessions m ON m.sender_key = k.sender_key
        JOIN events o ON o.room_id = m.room_id AND o.session_id = m.session_id
        """
}
