/// Whether a decrypted event's megolm session belongs to a device of the event's sender (issue 9.8). The
/// spec asks clients to check this: anyone who holds a session can encrypt in it, and the server sets
/// `sender`, so a message "from Alice" in Bob's session is Bob's words under Alice's name.
public enum SenderKeyStatus: String, Sendable, Hashable, CaseIterable {
    /// A device of the sender, with a valid self-signature, has the session's curve25519 key.
    case verified
    /// The sender's devices were read and none has the key, while exactly one other user's device lists it.
    case mismatch
    /// No device of the sender (nor of any other user asked) has the key any more, or the sender's devices
    /// could not be read, or several users claim the key: checked again on later syncs (as is `mismatch`).
    case unknown
}

/// What a `/keys/query` told about users' devices: for each user the server answered for, the curve25519
/// keys of their devices whose keys carry a valid self-signature.
public struct KnownDeviceKeys: Sendable, Hashable {
    public let curve25519ByUser: [String: Set<String>]
    /// Who claims each key, built once per check rather than once per event.
    private let usersByKey: [String: Set<String>]

    public init(curve25519ByUser: [String: Set<String>] = [:]) {
        self.curve25519ByUser = curve25519ByUser
        var usersByKey: [String: Set<String>] = [:]
        for (user, keys) in curve25519ByUser { for key in keys { usersByKey[key, default: []].insert(user) } }
        self.usersByKey = usersByKey
    }

    /// The status of an event from `sender` decrypted with a session whose key came with `sessionSenderKey`
    /// (from the key backup or export; nil when it did not say). The event's clear `content.sender_key` is
    /// deliberately not an input: it sits outside megolm's MAC, so a server can rewrite it at will, and
    /// trusting it either way would let the server brand genuine messages or vouch for forged ones.
    public func status(sender: String, sessionSenderKey: String?) -> SenderKeyStatus {
        guard let key = sessionSenderKey else { return .unknown }
        // A sender the server did not answer for (absent, or their server in `failures`) proves nothing.
        guard let senderKeys = curve25519ByUser[sender] else { return .unknown }
        if senderKeys.contains(key) { return .verified }
        // A self-signature does not prove possession of the curve25519 key it lists: anyone can publish
        // Alice's key on a device of their own. So only a key exactly one other user claims, while the
        // sender (answered) has no device with it, is a mismatch; several claimants make it unknown, and a
        // device the sender deleted looks the same as one that never existed (unknown, too).
        let others = usersByKey[key, default: []].subtracting([sender])
        return others.count == 1 ? .mismatch : .unknown
    }
}
