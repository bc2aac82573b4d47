import ArchiveCore

/// Builds events for unit tests, in the shape servers send them.
public struct EventFactory {
    public var roomID = "!room:example.org"
    public var clock: Int64 = 1_700_000_000_000
    /// Starts every generated id: factories of different rooms give theirs different prefixes, or their
    /// events would share ids (which the store records as reused, not stored).
    public let idPrefix: String
    private var counter = 0

    public init(roomID: String = "!room:example.org", idPrefix: String = "e") {
        self.roomID = roomID
        self.idPrefix = idPrefix
    }

    public mutating func nextID() -> String {
        counter += 1
        return "$\(idPrefix)\(String(format: "%04d", counter))"
    }

    public mutating func event(type: String = "m.room.message", sender: String = "@alice:example.org", id: String? = nil,
                        ts: Int64? = nil, stateKey: String? = nil, content: JSONValue,
                        extra: [String: JSONValue] = [:]) -> RawEvent {
        clock += 1000
        var object: [String: JSONValue] = [
            "event_id": .string(id ?? nextID()), "room_id": .string(roomID), "sender": .string(sender),
            "type": .string(type), "origin_server_ts": .int(ts ?? clock), "content": content,
        ]
        if let stateKey { object["state_key"] = .string(stateKey) }
        for (key, value) in extra { object[key] = value }
        return try! RawEvent.parse(.object(object), roomID: roomID).get()
    }

    public mutating func message(_ body: String, sender: String = "@alice:example.org", id: String? = nil,
                          ts: Int64? = nil) -> RawEvent {
        event(sender: sender, id: id, ts: ts, content: ["msgtype": "m.text", "body": .string(body)])
    }

    public mutating func edit(of target: String, to body: String, sender: String = "@alice:example.org", id: String? = nil,
                       ts: Int64? = nil, withNewContent: Bool = true) -> RawEvent {
        var content: [String: JSONValue] = [
            "msgtype": "m.text", "body": .string("* \(body)"),
            "m.relates_to": ["rel_type": "m.replace", "event_id": .string(target)],
        ]
        if withNewContent { content["m.new_content"] = ["msgtype": "m.text", "body": .string(body)] }
        return event(sender: sender, id: id, ts: ts, content: .object(content))
    }

    public mutating func reaction(to target: String, key: String, sender: String = "@alice:example.org") -> RawEvent {
        event(type: "m.reaction", sender: sender,
              content: ["m.relates_to": ["rel_type": "m.annotation", "event_id": .string(target), "key": .string(key)]])
    }

    public mutating func redaction(of target: String, sender: String = "@alice:example.org", id: String? = nil,
                                   v11: Bool = true) -> RawEvent {
        v11 ? event(type: "m.room.redaction", sender: sender, id: id, content: ["redacts": .string(target)],
                    extra: ["redacts": .string(target)])
            : event(type: "m.room.redaction", sender: sender, id: id, content: [:], extra: ["redacts": .string(target)])
    }
}
