import ArchiveCore

/// A decrypted event whose sender key is still to be checked (never checked, or `unknown` last time).
public struct SenderKeyCandidate: Sendable, Hashable {
    public let eventID: String
    public let sender: String
    /// The curve25519 key the session's key came with (key backup or export), if it said.
    public let sessionSenderKey: String?
    /// The event's clear `content.sender_key` (deprecated since v1.3), if present.
    public let clearSenderKey: String?
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
    /// Every decrypted event not known to be `verified` or `mismatch`, with what its session says about its
    /// sender key. Reads only the partial index `events_sender_key_to_check`, so a sync of an archive
    /// whose events are all settled costs nothing here.
    public func senderKeyCandidates() throws -> [SenderKeyCandidate] {
        try db.statement("""
            SELECT e.event_id, e.sender, s.sender_key, json_extract(e.raw_json, '$.content.sender_key')
            FROM events e LEFT JOIN megolm_sessions s ON s.room_id = e.room_id AND s.session_id = e.session_id
            WHERE e.decryption = 'ok' AND (e.sender_key_status IS NULL OR e.sender_key_status = 'unknown')
            """).rows { row in
            SenderKeyCandidate(eventID: row.text(0) ?? "", sender: row.text(1) ?? "", sessionSenderKey: row.text(2),
                               clearSenderKey: row.text(3))
        }
    }

    /// The senders of every event in the sessions of the candidates: the owner of a session is usually among
    /// them, and only a key seen on another user's device makes a `mismatch` (rather than `unknown`).
    public func sendersSharingSessionsWithCandidates() throws -> Set<String> {
        Set(try db.statement("""
            SELECT DISTINCT o.sender FROM events e
            JOIN events o ON o.session_id = e.session_id AND o.room_id = e.room_id
            WHERE e.decryption = 'ok' AND (e.sender_key_status IS NULL OR e.sender_key_status = 'unknown')
            """).rows { $0.text(0) ?? "" })
    }

    /// Stores the outcome of one check, in one transaction.
    public func recordSenderKeyStatuses(_ statuses: [String: SenderKeyStatus]) throws {
        guard !statuses.isEmpty else { return }
        try db.transaction {
            let update = try db.statement("UPDATE events SET sender_key_status = ? WHERE event_id = ? AND decryption = 'ok'")
            for (eventID, status) in statuses { try update.run(.text(status.rawValue), .text(eventID)) }
        }
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
