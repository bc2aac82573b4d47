/// A room as the archive knows it. A plain value here rather than in the store, so that readers of the
/// archive (the exporters) can take rooms without depending on SQLite.
public struct StoredRoom: Sendable, Hashable {
    public let metadata: RoomMetadata
    public let cursors: RoomCursors
    public let archiveStartsAt: Int64?
    public let lastSyncAt: Int64?
    public let eventCount: Int
    public var roomID: String { metadata.roomID }

    public init(metadata: RoomMetadata, cursors: RoomCursors, archiveStartsAt: Int64?, lastSyncAt: Int64?,
                eventCount: Int) {
        self.metadata = metadata
        self.cursors = cursors
        self.archiveStartsAt = archiveStartsAt
        self.lastSyncAt = lastSyncAt
        self.eventCount = eventCount
    }
}
