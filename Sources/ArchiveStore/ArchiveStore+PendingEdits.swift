import ArchiveCore

extension ArchiveStore {
    /// Re-derives the edits of the messages a migration listed in `edits_to_resolve` (a migration is SQL
    /// and cannot run the edit rules), then empties the list, in one transaction: a crash leaves the list
    /// for the next open. Every later open costs one lookup in an empty table.
    func resolvePendingEdits() throws {
        let pending = try db.statement("SELECT room_id, event_id FROM edits_to_resolve")
        guard try pending.firstRow(row: { _ in true }) ?? false else { return }
        try db.transaction {
            let keys = try pending.rows { EventKey(roomID: $0.text(0) ?? "", eventID: $0.text(1) ?? "") }
            for key in keys { try resolveEdits(of: key) }
            try db.statement("DELETE FROM edits_to_resolve").run()
        }
    }
}
