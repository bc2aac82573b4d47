/// What an event says about another event, read from `content.m.relates_to` (and `redacts`).
public struct Relation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case replace = "m.replace"
        case annotation = "m.annotation"
        case thread = "m.thread"
        case reference = "m.reference"
        case reply = "m.in_reply_to"
        case other
    }

    public let kind: Kind
    /// The raw `rel_type` (kept for relation types this version does not know).
    public let relType: String
    public let target: String
    /// Reaction key for `m.annotation`.
    public let key: String?

    public init(kind: Kind, relType: String, target: String, key: String?) {
        self.kind = kind
        self.relType = relType
        self.target = target
        self.key = key
    }
}

extension RawEvent {
    /// The relations this event declares, in the clear part of its content. A thread reply yields both
    /// its thread relation and its fallback reply; a plain reply yields only the reply.
    public var relations: [Relation] {
        guard let relatesTo = content["m.relates_to"] else { return [] }
        var result: [Relation] = []
        if let relType = relatesTo["rel_type"]?.stringValue, let target = relatesTo["event_id"]?.stringValue {
            let kind = Relation.Kind(rawValue: relType) ?? .other
            result.append(Relation(kind: kind == .reply ? .other : kind, relType: relType, target: target,
                                   key: relatesTo["key"]?.stringValue))
        }
        if let replyTarget = relatesTo.value(at: "m.in_reply_to", "event_id")?.stringValue {
            result.append(Relation(kind: .reply, relType: Relation.Kind.reply.rawValue, target: replyTarget, key: nil))
        }
        return result
    }

    public var replaceTarget: String? { relations.first { $0.kind == .replace }?.target }
    public var threadRoot: String? { relations.first { $0.kind == .thread }?.target }

    /// The reply target, but not a thread's fallback reply (`is_falling_back: true`), which only exists for
    /// clients without threads.
    public var inReplyTo: String? {
        let relatesTo = content["m.relates_to"]
        if relatesTo?["rel_type"]?.stringValue == Relation.Kind.thread.rawValue,
           relatesTo?["is_falling_back"]?.boolValue == true {
            return nil
        }
        return relations.first { $0.kind == .reply }?.target
    }

    /// The event a redaction removes: `content.redacts` from room version 11 on, top-level `redacts`
    /// before. Servers send both for v11+; either is accepted when the preferred one is missing.
    public func redactionTarget(roomVersion: RoomVersion) -> String? {
        guard type == "m.room.redaction" else { return nil }
        let inContent = content["redacts"]?.stringValue
        let topLevel = json["redacts"]?.stringValue
        return roomVersion.redactsInContent ? (inContent ?? topLevel) : (topLevel ?? inContent)
    }

    /// `unsigned.redacted_because` means the server already redacted the event before sending it.
    public var redactedBecause: String? {
        json.value(at: "unsigned", "redacted_because", "event_id")?.stringValue
    }

    /// Event types that are relations rather than timeline items: they change other events and are not
    /// listed by `events` on their own.
    public var isAggregationOnly: Bool {
        if type == "m.room.redaction" || type == "m.reaction" { return true }
        // Encrypted reactions and edits are `m.room.encrypted`: their clear relation tells what they are.
        return relations.contains { $0.kind == .replace || $0.kind == .annotation }
    }
}
