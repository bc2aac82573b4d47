/// Whether a decrypted event's megolm session belongs to a device of the event's sender (issue 9.8). The
/// spec asks clients to check this: anyone who holds a session can encrypt in it, and the server sets
/// `sender`, so a message "from Alice" in Bob's session is Bob's words under Alice's name.
public enum SenderKeyStatus: String, Sendable, Hashable, CaseIterable {
    /// A device of the sender, with a valid self-signature, has the session's curve25519 key.
    case verified
    /// The key belongs to a device of another user, or the event's clear `sender_key` is not the session's.
    case mismatch
    /// No device of the sender (nor of any other user asked) has the key any more, or the sender's devices
    /// could not be read: checked again on later syncs.
    case unknown
}

/// What a `/keys/query` told about users' devices: for each user the server answered for, the curve25519
/// keys of their devices whose keys carry a valid self-signature.
public struct KnownDeviceKeys: Sendable, Hashable {
    public var curve25519ByUser: [String: Set<String>]

    public init(curve25519ByUser: [String: Set<String>] = [:]) {
        self.curve25519ByUser = curve25519ByUser
    }

    /// The status of an event from `sender` decrypted with a session whose key came with `sessionSenderKey`
    /// (from the key backup or export; nil when it did not say) and whose clear content claims
    /// `clearSenderKey` (deprecated since v1.3, often absent).
    public func status(sender: String, sessionSenderKey: String?, clearSenderKey: String?) -> SenderKeyStatus {
        if let sessionSenderKey, let clearSenderKey, sessionSenderKey != clearSenderKey { return .mismatch }
        guard let key = sessionSenderKey ?? clearSenderKey else { return .unknown }
        if curve25519ByUser[sender]?.contains(key) == true { return .verified }
        // Only a positive sighting of the key on another user's device is a mismatch: a device the sender
        // deleted looks the same as one that never existed, and is unknown.
        if curve25519ByUser.contains(where: { $0.key != sender && $0.value.contains(key) }) { return .mismatch }
        return .unknown
    }
}
