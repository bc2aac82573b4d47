import ArchiveCore

extension ArchiveStore {
    /// How many listed messages one transaction re-derives: short enough that a sync or search indexer
    /// waiting on the write lock never waits long, and a kill loses at most one batch of work.
    static let pendingEditsBatch = 500

    /// Re-derives the edits of the messages a migration listed in `edits_to_resolve` (a migration is SQL
    /// and cannot run the edit rules), a batch per transaction, each deleting its own rows: a kill keeps
    /// every finished batch. Only commands that write call it (a `status` must open an archive it may not
    /// write to). When another connection holds the write lock past the busy timeout it stops and returns
    /// false: the rest of the list waits for the next writer's open, and the command goes on. Every later
    /// call costs one lookup in an empty table.
    @discardableResult
    public func resolvePendingEdits() throws -> Bool {
        let next = try db.statement("SELECT room_id, event_id FROM edits_to_resolve ORDER BY room_id, event_id LIMIT ?")
        while true {
            let keys = try next.rows(.int(Int64(Self.pendingEditsBatch))) {
                EventKey(roomID: $0.text(0) ?? "", eventID: $0.text(1) ?? "")
            }
            guard !keys.isEmpty else { return true }
            do {
                try db.transaction {
                    for key in keys {
                        try resolveEdits(of: key)
                        try db.statement("DELETE FROM edits_to_resolve WHERE room_id = ? AND event_id = ?")
                            .run(.text(key.roomID), .text(key.eventID))
                    }
                }
            } catch let error as StoreError where error.code == .busy {
                return false
            }
        }
    }

    /// How many messages still wait in `edits_to_resolve`.
    func pendingEditsCount() throws -> Int {
        try db.statement("SELECT count(*) FROM edits_to_resolve").firstRow { Int($0.int(0)) } ?? 0
    }
}
