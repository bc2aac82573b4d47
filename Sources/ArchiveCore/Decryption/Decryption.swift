/// Megolm decryption as values: what the store hands to a decryptor, and what comes back. An event that
/// cannot be decrypted is data (a status kept with the raw event), never a thrown error.

/// The per-event status shown as `decryption` by `events --jsonl` (`none` for events never encrypted).
public enum DecryptionStatus: String, Sendable, Hashable, CaseIterable {
    case none
    case ok
    /// No key for the event's session yet.
    case missingKey = "missing_key"
    /// The session is known only from a later message index than this event's.
    case unknownIndex = "unknown_index"
    /// The ciphertext is damaged, fails its MAC/signature, or the plaintext is not an event.
    case failed
    /// The plaintext names another room: never trusted.
    case roomMismatch = "room_mismatch"
    /// The same session and message index already decrypted another event id.
    case replay

    /// Statuses that new keys can change.
    public static let awaitingKeys: [DecryptionStatus] = [.missingKey, .unknownIndex]

    /// An encrypted event whose plaintext the archive does not have: exports show a notice instead of
    /// its content, and count it.
    public var isUndecryptable: Bool {
        switch self {
        case .none, .ok: false
        case .missingKey, .unknownIndex, .failed, .roomMismatch, .replay: true
        }
    }
}

/// An `m.room.encrypted` megolm event as stored.
public struct EncryptedPayload: Sendable, Hashable {
    public var eventID: String
    public var roomID: String
    public var sessionID: String
    public var ciphertext: String

    public init(eventID: String, roomID: String, sessionID: String, ciphertext: String) {
        self.eventID = eventID
        self.roomID = roomID
        self.sessionID = sessionID
        self.ciphertext = ciphertext
    }

    /// Reads a megolm payload from an event's type and content; nil for anything else (other algorithms,
    /// redacted content). `roomID` is the room the event was archived in, never a claim inside the event.
    public init?(eventID: String, roomID: String, type: String, content: JSONValue) {
        guard type == "m.room.encrypted", content["algorithm"]?.stringValue == "m.megolm.v1.aes-sha2",
              let sessionID = content["session_id"]?.stringValue,
              let ciphertext = content["ciphertext"]?.stringValue else { return nil }
        self.init(eventID: eventID, roomID: roomID, sessionID: sessionID, ciphertext: ciphertext)
    }

    public init?(_ event: RawEvent, roomID: String) {
        self.init(eventID: event.eventID, roomID: roomID, type: event.type, content: event.content)
    }
}

/// What decrypting one payload gave, before the store's replay check.
public enum DecryptionResult: Sendable, Hashable {
    case decrypted(type: String, content: JSONValue, messageIndex: UInt32)
    case missingKey
    case unknownIndex
    case failed(reason: String)
    case roomMismatch

    public var status: DecryptionStatus {
        switch self {
        case .decrypted: .ok
        case .missingKey: .missingKey
        case .unknownIndex: .unknownIndex
        case .failed: .failed
        case .roomMismatch: .roomMismatch
        }
    }
}

/// A megolm session's key as a key backup or key-export file carries it (libolm's export format).
public struct MegolmSessionKey: Sendable, Hashable {
    public var roomID: String
    public var sessionID: String
    /// Secret: never logged or printed.
    public var sessionKey: String
    public var senderKey: String?
    public var firstMessageIndex: UInt32

    public init(roomID: String, sessionID: String, sessionKey: String, senderKey: String?, firstMessageIndex: UInt32) {
        self.roomID = roomID
        self.sessionID = sessionID
        self.sessionKey = sessionKey
        self.senderKey = senderKey
        self.firstMessageIndex = firstMessageIndex
    }
}

extension JSONValue {
    /// The content an encrypted event shows once decrypted: the plaintext's content, with the clear
    /// `m.relates_to` of the encrypted envelope (where clients put relations so servers can aggregate them).
    /// A relation only inside the plaintext is dropped: the spec says to ignore it, and keeping it would
    /// let a payload-only `m.replace` pass for an edit the server never saw as one. Stored payloads keep
    /// their own relation (evidence); every reader passes them through here.
    public static func decryptedContent(_ plaintext: JSONValue, envelope: JSONValue) -> JSONValue {
        guard var object = plaintext.objectValue else { return plaintext }
        object["m.relates_to"] = envelope["m.relates_to"]
        return .object(object)
    }

    /// What people are shown of an encrypted event that was not decrypted: no content but its clear
    /// relation (what it replies to, which thread). Its cleartext can carry a `body` that the sender or a
    /// server planted beside the ciphertext, which no client would show.
    public static func undecryptedContent(envelope: JSONValue) -> JSONValue {
        guard let relatesTo = envelope["m.relates_to"] else { return .object([:]) }
        return ["m.relates_to": relatesTo]
    }
}
