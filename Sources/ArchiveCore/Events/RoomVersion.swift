/// The parts of a room version's rules the archive depends on (redaction algorithm, where `redacts`
/// lives). Unknown versions are treated as the newest known rules, which is what servers that created
/// them most likely follow.
public struct RoomVersion: Sendable, Hashable, CustomStringConvertible {
    public let identifier: String

    public init(_ identifier: String) { self.identifier = identifier }

    /// Room version 1 is implied when `m.room.create` has no `room_version`.
    public static let defaultVersion = RoomVersion("1")

    public var description: String { identifier }

    /// The numeric generation of the rules: 1...12 for the spec's versions, 12 for anything unknown.
    var generation: Int {
        if let number = Int(identifier), number >= 1 { return min(number, 12) }
        return 12
    }

    /// From v11, `redacts` moved into the content of `m.room.redaction` (MSC2174).
    public var redactsInContent: Bool { generation >= 11 }
}

/// The redaction algorithm of the spec ("Redactions" in the room version specifications): what is left of
/// an event after it has been redacted. The archive applies this to its stored copy unless the legal-hold
/// option keeps the original.
public enum Redactor {
    public static func redact(_ event: JSONValue, roomVersion: RoomVersion, because redaction: JSONValue?) -> JSONValue {
        guard case .object(let fields) = event else { return event }
        let generation = roomVersion.generation
        var keptTopLevel: Set<String> = [
            "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
            "prev_events", "auth_events", "origin_server_ts",
        ]
        if generation < 11 { keptTopLevel.formUnion(["origin", "membership", "prev_state"]) }

        var result: [String: JSONValue] = [:]
        for (key, value) in fields where keptTopLevel.contains(key) { result[key] = value }
        let type = fields["type"]?.stringValue ?? ""
        result["content"] = .object(keptContent(type: type, content: fields["content"]?.objectValue ?? [:],
                                                generation: generation))
        // Keep the server's own record of why the event is redacted; the archive shows it.
        var unsigned: [String: JSONValue] = [:]
        if let because = redaction ?? fields["unsigned"]?["redacted_because"] {
            unsigned["redacted_because"] = because
        }
        if !unsigned.isEmpty { result["unsigned"] = .object(unsigned) }
        return .object(result)
    }

    static func keptContent(type: String, content: [String: JSONValue], generation: Int) -> [String: JSONValue] {
        var keys: [String] = []
        switch type {
        case "m.room.member":
            keys = ["membership"]
            if generation >= 9 { keys.append("join_authorised_via_users_server") }
            if generation >= 11, let signed = content["third_party_invite"]?["signed"] {
                var kept = pick(content, keys)
                kept["third_party_invite"] = .object(["signed": signed])
                return kept
            }
        case "m.room.create":
            if generation >= 11 { return content }
            keys = ["creator"]
        case "m.room.join_rules":
            keys = ["join_rule"]
            if generation >= 8 { keys.append("allow") }
        case "m.room.power_levels":
            keys = ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"]
            if generation >= 11 { keys.append("invite") }
        case "m.room.aliases":
            if generation <= 5 { keys = ["aliases"] }
        case "m.room.history_visibility":
            keys = ["history_visibility"]
        case "m.room.redaction":
            if generation >= 11 { keys = ["redacts"] }
        default:
            break
        }
        return pick(content, keys)
    }

    private static func pick(_ content: [String: JSONValue], _ keys: [String]) -> [String: JSONValue] {
        var kept: [String: JSONValue] = [:]
        for key in keys { if let value = content[key] { kept[key] = value } }
        return kept
    }
}
