/// Who may redact whom (issue 9.4). The archive applies a redaction only when the server could have
/// accepted it: a hostile server can send one that removes another server's users' messages.
public enum RedactionRights {
    /// One side of a redaction: the redaction or the event it removes.
    public struct Party: Sendable, Hashable {
        public let eventID: String
        public let sender: String

        public init(eventID: String, sender: String) {
            self.eventID = eventID
            self.sender = sender
        }
    }

    /// True when `redaction` may remove `target`: the same sender; else the same server — in room versions
    /// 1 and 2 by the domains of the event ids (the auth rule of those versions; servers chose the ids), from
    /// v3 by the senders' domains (ids are hashes) — else a `redact` power level the sender holds.
    /// `powerLevels` is the `m.room.power_levels` content in effect (nil when the room has none);
    /// `creator` is the `m.room.create` sender, who has 100 without power levels and, from v12, always outranks.
    public static func mayRedact(_ redaction: Party, _ target: Party, roomVersion: RoomVersion,
                                 powerLevels: JSONValue?, creator: String?) -> Bool {
        if sameSenderOrServer(redaction, target, roomVersion: roomVersion) { return true }
        if roomVersion.generation >= 12, redaction.sender == creator { return true }
        // Without power levels the creator has 100 and everyone else 0, against the default `redact` of 50.
        guard let powerLevels else { return redaction.sender == creator }
        let level = number(powerLevels["users"]?[redaction.sender]) ?? number(powerLevels["users_default"]) ?? 0
        return level >= (number(powerLevels["redact"]) ?? 50)
    }

    /// The rights that need no room state: the same sender, or the same server (see `mayRedact`).
    public static func sameSenderOrServer(_ redaction: Party, _ target: Party, roomVersion: RoomVersion) -> Bool {
        if redaction.sender == target.sender { return true }
        return roomVersion.generation < 3
            ? domain(redaction.eventID).map { $0 == domain(target.eventID) } ?? false
            : domain(redaction.sender).map { $0 == domain(target.sender) } ?? false
    }

    /// The server name of a user or (v1/v2) event id: everything after the first colon.
    static func domain(_ identifier: String) -> String? {
        guard let colon = identifier.firstIndex(of: ":") else { return nil }
        let name = identifier[identifier.index(after: colon)...]
        return name.isEmpty ? nil : String(name)
    }

    /// Power levels are integers; rooms before v10 may hold them as strings of digits.
    static func number(_ value: JSONValue?) -> Int64? {
        value?.int64Value ?? value?.stringValue.flatMap { Int64($0) }
    }
}
