import ArchiveCore
import Foundation

/// The nightly run's bookkeeping (issue 10.1): the stored `/sync` `next_batch`, which rooms it covers, and
/// which rooms the account left.
///
/// The rule that keeps the nightly run exact: a room `follows_sync` only while every event of it that is not
/// archived yet lies after the stored batch token. /sync from that token then names every such room that has
/// news, and a room it does not name has nothing to fetch.
extension ArchiveStore {
    /// The `next_batch` of the last finished run, or nil before the first one.
    public func syncBatch() throws -> String? {
        try db.statement("SELECT next_batch FROM sync_batch WHERE id = 1").firstRow { $0.text(0) } ?? nil
    }

    /// Rooms the stored batch token covers (see the type's rule).
    public func roomsFollowingSync() throws -> Set<String> {
        Set(try db.statement("SELECT room_id FROM rooms WHERE follows_sync = 1").rows { $0.text(0) ?? "" })
    }

    /// Rooms the account left (or was removed from): archived up to the leave, not fetched again.
    public func leftRooms() throws -> Set<String> {
        Set(try db.statement("SELECT room_id FROM rooms WHERE left_at IS NOT NULL").rows { $0.text(0) ?? "" })
    }

    /// When the archive saw that the account left the room (milliseconds), or nil while it is a member.
    public func leftAt(roomID: String) throws -> Int64? {
        try db.statement("SELECT left_at FROM rooms WHERE room_id = ?").firstRow(.text(roomID)) { $0.optionalInt(0) } ?? nil
    }

    /// Records that the account is no longer in the room; the room stops following /sync.
    public func markLeft(roomID: String) throws {
        try db.statement("UPDATE rooms SET left_at = coalesce(left_at, ?), follows_sync = 0 WHERE room_id = ?")
            .run(.int(clock.now().milliseconds), .text(roomID))
    }

    /// Records that the account is in the room (again): a room left and joined again is synced like any
    /// other. Called whenever `/state` or /sync shows the account's own membership `join`, so a leave (or
    /// one a hostile server forged) lasts only until the server says otherwise.
    public func clearLeft(roomID: String) throws {
        try db.statement("UPDATE rooms SET left_at = NULL WHERE room_id = ? AND left_at IS NOT NULL").run(.text(roomID))
    }

    /// Stores the run's batch token and which rooms it covers, in one transaction, as the last step of a
    /// run: a kill before it keeps the previous token, from which the next /sync names this run's rooms
    /// again (their events are stored once: ingestion skips known ids).
    /// - Parameters:
    ///   - covered: rooms archived up to at least `token` in this run (walked to the end after the token was
    ///     taken, or given every event /sync had for them).
    ///   - uncovered: rooms that may have events before `token` that are not archived (failed, or /sync named
    ///     them with news this run did not store).
    ///   - onlyCovered: the token did not come from a /sync since the stored one, so it says nothing about
    ///     the other rooms: only `covered` follow it.
    public func storeSyncBatch(_ token: String, covered: Set<String>, uncovered: Set<String>, onlyCovered: Bool) throws {
        try db.transaction {
            if onlyCovered { try db.execute("UPDATE rooms SET follows_sync = 0") }
            let follow = try db.statement("UPDATE rooms SET follows_sync = ? WHERE room_id = ? AND left_at IS NULL")
            for roomID in uncovered { try follow.run(.int(0), .text(roomID)) }
            for roomID in covered.subtracting(uncovered) { try follow.run(.int(1), .text(roomID)) }
            try db.statement("""
                INSERT INTO sync_batch (id, next_batch, stored_at) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET next_batch = excluded.next_batch, stored_at = excluded.stored_at
                """).run(.text(token), .int(clock.now().milliseconds))
        }
    }

    /// Applies state events that /sync reported (its `state`, then the timeline's state events, in order)
    /// to the stored current state, and re-derives the room's metadata from it: a rename, a topic, members or
    /// power levels are kept up to date without fetching the full state again. Returns the new metadata.
    public func applyStateChanges(roomID: String, events: [RawEvent]) throws -> RoomMetadata {
        try db.transaction {
            try insertState(events, roomID: roomID, replace: true)
            let metadata = RoomMetadata(roomID: roomID, state: try currentState(roomID: roomID))
            try writeMetadata(metadata)
            return metadata
        }
    }

    /// The room's stored current state, parsed (rows that do not parse are skipped).
    func currentState(roomID: String) throws -> [RawEvent] {
        try db.statement("SELECT json FROM room_state WHERE room_id = ?").rows(.text(roomID)) {
            $0.text(0) ?? "{}"
        }.compactMap { json -> RawEvent? in
            guard let value = try? JSONCoding.decode(json) else { return nil }
            return try? RawEvent.parse(value, roomID: roomID).get()
        }
    }
}
