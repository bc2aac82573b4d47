/// The view of an event the edit rules need. Encrypted events are given with their decrypted type and
/// content, so the same rules serve both (an edit of an encrypted message keeps `m.relates_to` in the clear
/// and `m.new_content` inside).
public struct EditSubject: Sendable, Hashable {
    /// How the event was sent. The spec requires the edit of an encrypted event to be encrypted too, and
    /// an encrypted event's `m.new_content` to be read only from its decrypted payload.
    public enum Encryption: Sendable, Hashable {
        /// Sent in the clear.
        case none
        /// Sent as `m.room.encrypted`; `type` and `content` are what it decrypted to.
        case decrypted
        /// Sent as `m.room.encrypted` and not decrypted (yet): `content` is the cleartext envelope, which
        /// anyone can fill with an `m.new_content` of their choice.
        case undecrypted
    }

    public let eventID: String
    public let roomID: String
    public let sender: String
    public let type: String
    public let hasStateKey: Bool
    public let originServerTS: Int64
    /// What the rules read: the decrypted content with the clear relation, else the event's own content.
    public let content: JSONValue
    public let isRedacted: Bool
    public let encryption: Encryption
    /// The relation the decrypted payload carries itself (nil when it has none, or for a clear event).
    /// Never the event's relation, but a genuine client sends the same one inside and outside.
    public let payloadRelation: JSONValue?

    /// An event as sent, with what it decrypted to if it is an encrypted one that did: the one way both
    /// the store and the tests make a subject, so that they cannot read an event differently. A decrypted
    /// event takes the decrypted type and content but keeps the relation of its clear envelope: the
    /// payload's own `m.relates_to` is ignored (spec, End-to-end encryption), so it can neither make an
    /// event an edit nor point an edit at another target; it is kept aside to be compared.
    public init(_ event: RawEvent, decrypted: (type: String, content: JSONValue)? = nil, isRedacted: Bool) {
        eventID = event.eventID
        roomID = event.roomID
        sender = event.sender
        type = decrypted?.type ?? event.type
        hasStateKey = event.stateKey != nil
        originServerTS = event.originServerTS
        content = decrypted.map { .decryptedContent($0.content, envelope: event.content) } ?? event.content
        self.isRedacted = isRedacted
        encryption = event.type != "m.room.encrypted" ? .none : decrypted == nil ? .undecrypted : .decrypted
        payloadRelation = decrypted?.content["m.relates_to"]
    }

    var replaceTarget: String? {
        guard content.value(at: "m.relates_to", "rel_type")?.stringValue == Relation.Kind.replace.rawValue else {
            return nil
        }
        return content.value(at: "m.relates_to", "event_id")?.stringValue
    }
}

/// Why an edit does not apply. Stored edits that are invalid stay in the archive but never change the
/// message (Matrix spec, "Validity of replacement events").
public enum EditRejection: String, Sendable, Hashable {
    case notAnEditOfThisEvent = "not_an_edit_of_this_event"
    case otherRoom = "other_room"
    case otherSender = "other_sender"
    case otherType = "other_type"
    case stateEvent = "state_event"
    case originalIsAnEdit = "original_is_an_edit"
    case missingNewContent = "missing_new_content"
    case redacted = "redacted"
    /// A cleartext edit of an encrypted event (spec, Event replacements: the replacement of an encrypted
    /// event must be encrypted too).
    case unencryptedEditOfEncrypted = "unencrypted_edit_of_encrypted"
    /// The edit is encrypted and not decrypted: its only `m.new_content` would be the cleartext one.
    case editNotDecrypted = "edit_not_decrypted"
    /// The original is encrypted and not decrypted: its type, which the edit must match, is unknown.
    case originalNotDecrypted = "original_not_decrypted"
    /// The decrypted payload names another target or relation than the clear `m.relates_to`: a server
    /// rewrote the clear relation of a genuine edit to move it onto another message (clients send both).
    case payloadRelationMismatch = "payload_relation_mismatch"
}

/// The outcome of resolving all the edits of one message.
public struct ResolvedEdits: Sendable, Hashable {
    /// The content to show: the winning edit's `m.new_content` with the original's `m.relates_to`.
    public let currentContent: JSONValue
    public let winner: String?
    /// Valid edits, oldest first (by the same order that picks the winner), for the edit history.
    public let validEdits: [String]
    public let rejected: [String: EditRejection]
}

public enum EditResolver {
    public static func validate(edit: EditSubject, of original: EditSubject) -> EditRejection? {
        if edit.replaceTarget != original.eventID { return .notAnEditOfThisEvent }
        if edit.isRedacted { return .redacted }
        if edit.roomID != original.roomID { return .otherRoom }
        if edit.sender != original.sender { return .otherSender }
        if original.encryption != .none && edit.encryption == .none { return .unencryptedEditOfEncrypted }
        if original.encryption == .undecrypted { return .originalNotDecrypted }
        if edit.encryption == .undecrypted { return .editNotDecrypted }
        if let inside = edit.payloadRelation, inside["rel_type"] != edit.content.value(at: "m.relates_to", "rel_type")
            || inside["event_id"] != edit.content.value(at: "m.relates_to", "event_id") { return .payloadRelationMismatch }
        if edit.type != original.type { return .otherType }
        if edit.hasStateKey || original.hasStateKey { return .stateEvent }
        if original.replaceTarget != nil { return .originalIsAnEdit }
        guard case .object = edit.content["m.new_content"] else { return .missingNewContent }
        return nil
    }

    /// Resolves edits independently of the order they arrived in: the valid edit with the greatest
    /// `origin_server_ts` wins, ties broken by the lexicographically greatest event id.
    public static func resolve(original: EditSubject, edits: [EditSubject]) -> ResolvedEdits {
        var valid: [EditSubject] = []
        var rejected: [String: EditRejection] = [:]
        for edit in edits {
            if let reason = validate(edit: edit, of: original) {
                rejected[edit.eventID] = reason
            } else {
                valid.append(edit)
            }
        }
        valid.sort { ($0.originServerTS, $0.eventID) < ($1.originServerTS, $1.eventID) }
        guard let winner = valid.last, !original.isRedacted,
              case .object(var newContent) = winner.content["m.new_content"] else {
            return ResolvedEdits(currentContent: original.content, winner: nil,
                                 validEdits: valid.map(\.eventID), rejected: rejected)
        }
        newContent["m.relates_to"] = original.content["m.relates_to"]
        return ResolvedEdits(currentContent: .object(newContent), winner: winner.eventID,
                             validEdits: valid.map(\.eventID), rejected: rejected)
    }
}
