/// One message of the normalised timeline: the shape of `mxarchive events --jsonl`, of
/// `schemas/event.schema.json`, and of the JSON export.
public struct TimelineItem: Sendable, Hashable {
    public struct ThreadSummary: Sendable, Hashable {
        public let replyCount: Int
        public let latestEventID: String?
        public init(replyCount: Int, latestEventID: String?) {
            self.replyCount = replyCount
            self.latestEventID = latestEventID
        }
    }

    public var eventID: String
    public var roomID: String
    public var sender: String
    public var senderDisplayName: String?
    public var type: String
    public var stateKey: String?
    public var originServerTS: Int64
    public var content: JSONValue
    public var edited: Bool
    public var replacedBy: String?
    public var edits: [String]
    public var reactions: [String: Int]
    public var inReplyTo: String?
    public var threadRoot: String?
    public var thread: ThreadSummary?
    public var redacted: Bool
    public var redactedBy: String?
    public var decryption: DecryptionStatus
    /// Another member had the same display name at this point: people see the sender as
    /// `Name (@user:id)` (`MemberName.label`). Not part of `jsonValue`.
    public var senderNameIsAmbiguous: Bool
    /// A state event's `unsigned.prev_content`: what it replaced (membership sentences read it). Not part
    /// of `jsonValue`.
    public var previousContent: JSONValue?
    /// For a decrypted event: whether its session belongs to a device of `sender`; nil when not decrypted
    /// or not checked yet. Shown, never used to hide the message.
    public var senderKey: SenderKeyStatus?

    public init(eventID: String, roomID: String, sender: String, senderDisplayName: String?, type: String,
                stateKey: String?, originServerTS: Int64, content: JSONValue, edited: Bool, replacedBy: String?,
                edits: [String], reactions: [String: Int], inReplyTo: String?, threadRoot: String?,
                thread: ThreadSummary?, redacted: Bool, redactedBy: String?, decryption: DecryptionStatus,
                senderNameIsAmbiguous: Bool = false, previousContent: JSONValue? = nil,
                senderKey: SenderKeyStatus? = nil) {
        self.eventID = eventID
        self.roomID = roomID
        self.sender = sender
        self.senderDisplayName = senderDisplayName
        self.type = type
        self.stateKey = stateKey
        self.originServerTS = originServerTS
        self.content = content
        self.edited = edited
        self.replacedBy = replacedBy
        self.edits = edits
        self.reactions = reactions
        self.inReplyTo = inReplyTo
        self.threadRoot = threadRoot
        self.thread = thread
        self.redacted = redacted
        self.redactedBy = redactedBy
        self.decryption = decryption
        self.senderNameIsAmbiguous = senderNameIsAmbiguous
        self.previousContent = previousContent
        self.senderKey = senderKey
    }

    /// The sender as people see them in this room (`MemberName.label`).
    public var senderName: String {
        MemberName.label(userID: sender, displayName: senderDisplayName, ambiguous: senderNameIsAmbiguous)
    }

    /// The content that views for people read (`events` text, TXT and HTML exports): `content`, except for
    /// an encrypted event that was not decrypted, which shows only its clear relation. `content` itself
    /// stays as archived for `events --jsonl` (it is data).
    public var shownContent: JSONValue {
        type == "m.room.encrypted" ? .undecryptedContent(envelope: content) : content
    }

    /// The JSON object written by `events --jsonl`. Keys are stable: scripts depend on them.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "event_id": .string(eventID),
            "room_id": .string(roomID),
            "sender": .string(sender),
            "sender_display_name": senderDisplayName.map(JSONValue.string) ?? .null,
            "type": .string(type),
            "origin_server_ts": .int(originServerTS),
            "content": content,
            "edited": .bool(edited),
            "replaced_by": replacedBy.map(JSONValue.string) ?? .null,
            "edits": .array(edits.map(JSONValue.string)),
            "reactions": .object(reactions.mapValues { .int(Int64($0)) }),
            "in_reply_to": inReplyTo.map(JSONValue.string) ?? .null,
            "thread_root": threadRoot.map(JSONValue.string) ?? .null,
            "redacted": .bool(redacted),
            "redacted_by": redactedBy.map(JSONValue.string) ?? .null,
            "decryption": .string(decryption.rawValue),
            "sender_key": decryption != .ok ? .null : .string(senderKey?.rawValue ?? "unchecked"),
        ]
        if let stateKey { object["state_key"] = .string(stateKey) }
        if let thread {
            object["thread"] = [
                "reply_count": .int(Int64(thread.replyCount)),
                "latest_event_id": thread.latestEventID.map(JSONValue.string) ?? .null,
            ]
        } else {
            object["thread"] = .null
        }
        return .object(object)
    }
}
