/// What became of one attachment (`media_refs.status`).
public enum MediaStatus: String, Sendable, Hashable, CaseIterable {
    case ok
    /// The ciphertext did not match the event's SHA-256. Final for this (mxc, key): the file on the
    /// server will not change, so retrying would only download it again.
    case hashMismatch = "hash_mismatch"
    /// Longer than `--max-media-size`; tried again by a later run (the limit may have been raised).
    case tooLarge = "too_large"
    case notFound = "not_found"
    case forbidden
    /// Anything else (server error, connection) after retries; tried again by a later run.
    case failed
    /// The event's description cannot be used (an mxc URI that is not one, an unusable key). Final.
    case invalid

    /// A later run does not try this (mxc, key) again.
    public var isFinal: Bool { self == .ok || self == .hashMismatch || self == .invalid }
}

/// One row of `media_refs`.
public struct MediaRef: Sendable, Hashable {
    public let eventID: String
    public let role: Attachment.Role
    public let mxc: String
    public let keyDigest: String
    public let status: MediaStatus
    public let sha256: String?
    /// Runs in a row that ended in this status for this mxc and key (1 for the first), and when the last
    /// one was (milliseconds): as recorded, not as given when recording (the store counts).
    public let attempts: Int
    public let attemptedAt: Int64

    public init(eventID: String, role: Attachment.Role, mxc: String, keyDigest: String, status: MediaStatus,
                sha256: String?, attempts: Int = 1, attemptedAt: Int64 = 0) {
        self.eventID = eventID
        self.role = role
        self.mxc = mxc
        self.keyDigest = keyDigest
        self.status = status
        self.sha256 = sha256
        self.attempts = attempts
        self.attemptedAt = attemptedAt
    }

    /// Until when (milliseconds) a later run leaves this attachment alone; nil: the next run tries it.
    /// Only for the media repository's answers that the file is not there for us (`not_found`,
    /// `forbidden`: `MediaFetcher.status(of:)`): a link anyone can post to a deleted or remote-only file
    /// otherwise costs a request (and for remote media the homeserver's own federation attempt) every
    /// night. Tried again at the next run after the first such answer; after the second in a row (at
    /// least `repeatGap` later) 20 hours later (a nightly run a day later tries it), then three times as
    /// long after each further one, at most 30 days. `failed` (a server error or the connection)
    /// and `too_large` (the limit may be raised) are tried by every run.
    public var retryAfter: Int64? {
        guard status == .notFound || status == .forbidden, attempts >= 2 else { return nil }
        var hours: Int64 = 20
        for _ in 2..<min(attempts, 8) { hours *= 3 }
        return attemptedAt + min(hours, Self.longestWaitHours) * 3_600_000
    }

    static let longestWaitHours: Int64 = 30 * 24
    /// The same answer counts as another one in a row only this long (ms) after the last: 12 hours, so
    /// two nightly runs count twice, and reruns on one day once.
    public static let repeatGap: Int64 = 12 * 3_600_000

    /// The key of an attachment's outcome in a room's table of refs: one per event and role.
    public static func key(_ eventID: String, _ role: Attachment.Role) -> String { "\(role.rawValue) \(eventID)" }
}

/// One stored attachment of an exported event.
public struct ExportableMedia: Sendable, Hashable {
    public let sha256: String
    public let eventID: String
    public let sender: String
    public let role: String
    public let mxc: String
    public let mimetype: String?
    public let size: Int64
    /// The file name the event gives (`filename`, else `body`): the sender's words, for the index only,
    /// never a path.
    public let name: String?

    public init(sha256: String, eventID: String, sender: String, role: String, mxc: String, mimetype: String?,
                size: Int64, name: String? = nil) {
        self.sha256 = sha256
        self.eventID = eventID
        self.sender = sender
        self.role = role
        self.mxc = mxc
        self.mimetype = mimetype
        self.size = size
        self.name = name
    }
}
