/// A room event as the server sent it, with the fields the archive needs pulled out for indexing.
/// `json` is the whole event; everything else is derived from it.
public struct RawEvent: Sendable, Hashable {
    public let eventID: String
    public let roomID: String
    public let sender: String
    public let type: String
    public let stateKey: String?
    public let originServerTS: Int64
    public let json: JSONValue

    public var content: JSONValue { json["content"] ?? .object([:]) }

    /// Parses one event of a `/messages` chunk. The page's room id is used when the event omits its own
    /// (clients-server events normally carry it). Returns nil with a reason for an event that cannot be
    /// archived at all (no id, no type): such events are counted and skipped, never stored half-made.
    public static func parse(_ json: JSONValue, roomID pageRoomID: String) -> Result<RawEvent, MalformedEvent> {
        guard case .object = json else { return .failure(MalformedEvent(reason: "not a JSON object", eventID: nil)) }
        guard let eventID = json["event_id"]?.stringValue, eventID.hasPrefix("$") else {
            return .failure(MalformedEvent(reason: "missing or invalid event_id", eventID: nil))
        }
        guard let type = json["type"]?.stringValue else {
            return .failure(MalformedEvent(reason: "missing type", eventID: eventID))
        }
        guard let sender = json["sender"]?.stringValue else {
            return .failure(MalformedEvent(reason: "missing sender", eventID: eventID))
        }
        let roomID = json["room_id"]?.stringValue ?? pageRoomID
        guard roomID == pageRoomID else {
            return .failure(MalformedEvent(reason: "event belongs to another room", eventID: eventID))
        }
        let timestamp = json["origin_server_ts"]?.int64Value ?? 0
        var normalized = json
        if json["room_id"] == nil, case .object(var dict) = json {
            dict["room_id"] = .string(roomID)
            normalized = .object(dict)
        }
        return .success(RawEvent(
            eventID: eventID, roomID: roomID, sender: sender, type: type,
            stateKey: json["state_key"]?.stringValue, originServerTS: timestamp, json: normalized))
    }

    public init(eventID: String, roomID: String, sender: String, type: String, stateKey: String?,
                originServerTS: Int64, json: JSONValue) {
        self.eventID = eventID
        self.roomID = roomID
        self.sender = sender
        self.type = type
        self.stateKey = stateKey
        self.originServerTS = originServerTS
        self.json = json
    }
}

/// Why an event from the server was not archived.
public struct MalformedEvent: ReportableError, Hashable {
    public var category: ErrorCategory { .failure }
    public let reason: String
    public let eventID: String?
    public var description: String { "malformed event \(eventID ?? "(no id)"): \(reason)" }
}
