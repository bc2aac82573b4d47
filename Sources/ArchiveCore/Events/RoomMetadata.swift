/// What the archive records about a room, read from its current state.
public struct RoomMetadata: Sendable, Hashable {
    public var roomID: String
    public var roomVersion: RoomVersion
    public var name: String?
    public var topic: String?
    public var avatarURL: String?
    public var canonicalAlias: String?
    public var encrypted: Bool
    public var roomType: String?
    /// The room this one replaced (`m.room.create` `predecessor.room_id`).
    public var predecessor: String?
    /// The room that replaced this one (`m.room.tombstone` `replacement_room`).
    public var successor: String?

    public init(roomID: String, roomVersion: RoomVersion = .defaultVersion, name: String? = nil,
                topic: String? = nil, avatarURL: String? = nil, canonicalAlias: String? = nil,
                encrypted: Bool = false, roomType: String? = nil, predecessor: String? = nil,
                successor: String? = nil) {
        self.roomID = roomID
        self.roomVersion = roomVersion
        self.name = name
        self.topic = topic
        self.avatarURL = avatarURL
        self.canonicalAlias = canonicalAlias
        self.encrypted = encrypted
        self.roomType = roomType
        self.predecessor = predecessor
        self.successor = successor
    }

    /// Reads the metadata from a room's state events (as `/rooms/{id}/state` returns them).
    public init(roomID: String, state: [RawEvent]) {
        self.init(roomID: roomID)
        for event in state where event.stateKey == "" {
            let content = event.content
            switch event.type {
            case "m.room.create":
                roomVersion = RoomVersion(content["room_version"]?.stringValue ?? "1")
                roomType = content["type"]?.stringValue
                predecessor = content.value(at: "predecessor", "room_id")?.stringValue
            case "m.room.name": name = content["name"]?.stringValue
            case "m.room.topic": topic = content["topic"]?.stringValue
            case "m.room.avatar": avatarURL = content["url"]?.stringValue
            case "m.room.canonical_alias": canonicalAlias = content["alias"]?.stringValue
            case "m.room.encryption": encrypted = content["algorithm"] != nil
            case "m.room.tombstone": successor = content["replacement_room"]?.stringValue
            default: break
            }
        }
    }
}
