/// What an export needs to show about an event other than the one being rendered: the message a reply
/// quotes, a thread's root.
public struct EventSummary: Sendable, Hashable {
    public let eventID: String
    public let roomID: String
    public let sender: String
    public let senderDisplayName: String?
    public let originServerTS: Int64
    /// The current content (edits applied; what the redaction kept when redacted).
    public let content: JSONValue
    public let redacted: Bool
    public let isTimelineItem: Bool
    public let threadRoot: String?
    /// Another member had the same display name then (`MemberName.label`).
    public let senderNameIsAmbiguous: Bool

    public init(eventID: String, roomID: String, sender: String, senderDisplayName: String?, originServerTS: Int64,
                content: JSONValue, redacted: Bool, isTimelineItem: Bool, threadRoot: String?,
                senderNameIsAmbiguous: Bool = false) {
        self.eventID = eventID
        self.roomID = roomID
        self.sender = sender
        self.senderDisplayName = senderDisplayName
        self.originServerTS = originServerTS
        self.content = content
        self.redacted = redacted
        self.isTimelineItem = isTimelineItem
        self.threadRoot = threadRoot
        self.senderNameIsAmbiguous = senderNameIsAmbiguous
    }

    /// The sender as people see them in this room (`MemberName.label`).
    public var senderName: String {
        MemberName.label(userID: sender, displayName: senderDisplayName, ambiguous: senderNameIsAmbiguous)
    }
}

/// One version of an edited message, for the edit history of exports.
public struct ContentVersion: Sendable, Hashable {
    public let eventID: String
    public let originServerTS: Int64
    public let content: JSONValue

    public init(eventID: String, originServerTS: Int64, content: JSONValue) {
        self.eventID = eventID
        self.originServerTS = originServerTS
        self.content = content
    }
}
