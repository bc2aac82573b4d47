/// How far the backward walk of a room has got.
public enum BackwardCursor: Sendable, Hashable {
    /// No page fetched yet.
    case notStarted
    /// Oldest point reached; the next backward page starts here.
    case at(String)
    /// Nothing older is visible (or the archive deliberately starts at a date).
    case complete
}

/// The two pagination cursors kept per room (README.md, Architecture). They are written in the same
/// transaction as the page that moved them, so a cursor is never ahead of the events it stands for.
public struct RoomCursors: Sendable, Hashable {
    public var backward: BackwardCursor
    /// The newest `end` token seen walking forward (or the `start` of the first backward page).
    public var forward: String?

    public init(backward: BackwardCursor = .notStarted, forward: String? = nil) {
        self.backward = backward
        self.forward = forward
    }

    public static let new = RoomCursors()
    public var isNew: Bool { backward == .notStarted && forward == nil }
}

public enum Direction: String, Sendable, Hashable {
    case forward = "f"
    case backward = "b"
}

public struct PageRequest: Sendable, Hashable {
    public let direction: Direction
    public let from: String?
    public init(direction: Direction, from: String?) {
        self.direction = direction
        self.from = from
    }
}

/// The parts of a `/messages` reply that move the cursors.
public struct PageReply: Sendable, Hashable {
    public let start: String?
    public let end: String?
    public let eventCount: Int
    /// For the first backward page of a new room: a token the spec defines for paginating forward from
    /// the page's newest event (`/context`'s `end`). The spec lets servers refuse a backward page's `start`
    /// as a `from` for `dir=f` ("servers are not required to support this"); the page's `start` is used
    /// only when no such token could be had (an empty page).
    public let forwardToken: String?
    public init(start: String?, end: String?, eventCount: Int, forwardToken: String? = nil) {
        self.start = start
        self.end = end
        self.eventCount = eventCount
        self.forwardToken = forwardToken
    }
}

/// Where a page's new events go in the stored timeline order.
public enum Placement: Sendable, Hashable {
    /// Forward pages: increasing positions after the newest stored event, in chunk order.
    case after
    /// Backward pages: decreasing positions before the oldest stored event, in chunk order (newest first).
    case before
}
