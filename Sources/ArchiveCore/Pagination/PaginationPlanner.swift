/// The pagination state machine of one room in one sync run, without I/O: it says which page to fetch
/// next and how a reply moves the cursors.
///
/// A new room is walked backward from now (remembering where it began as the forward cursor) or forward
/// from its first event (`--from-start`). A known room first finishes an interrupted backward walk, then
/// walks forward from its forward cursor until the server has nothing newer.
public struct PaginationPlanner: Sendable {
    public enum StartMode: Sendable, Hashable {
        case latest
        case fromStart
    }

    public private(set) var cursors: RoomCursors
    public let startMode: StartMode
    private var forwardFinished = false
    /// Pages in a row that stored no new event (empty, or only events already archived). A hidden stretch
    /// of history is legitimately many pages long, but a server that hands out fresh tokens with such
    /// pages forever must not keep a nightly run going forever: past this many, the run stops walking,
    /// with the cursors kept where they are (nothing is marked complete), so the next run goes on from there.
    public static let maxEmptyPagesPerRun = 1_000
    private var emptyPagesInARow = 0
    /// The `from` tokens requested in this run: a reply sending the walk back to one of them is a cycle.
    private var requested: Set<String> = []
    /// True when this run stopped early (`maxEmptyPagesPerRun`, or a token cycle); the room is not complete.
    public private(set) var stoppedForThisRun = false

    public init(cursors: RoomCursors, startMode: StartMode) {
        self.cursors = cursors
        self.startMode = startMode
    }

    /// True when `request` is the first backward page of a new room, whose reply should carry a
    /// `forwardToken` (see `PageReply`).
    public func needsForwardToken(_ request: PageRequest) -> Bool {
        request.direction == .backward && request.from == nil && cursors.forward == nil
    }

    /// The next page to fetch, or nil when the room is up to date.
    public func nextRequest() -> PageRequest? {
        if stoppedForThisRun { return nil }
        switch cursors.backward {
        case .notStarted where cursors.forward == nil:
            switch startMode {
            case .latest: return PageRequest(direction: .backward, from: nil)
            case .fromStart: return PageRequest(direction: .forward, from: nil)
            }
        case .at(let token):
            return PageRequest(direction: .backward, from: token)
        case .notStarted, .complete:
            if forwardFinished { return nil }
            return PageRequest(direction: .forward, from: cursors.forward)
        }
    }

    /// Tells the planner how many events of the last page were new to the archive (after storing it).
    public mutating func recordStored(newEvents: Int) {
        emptyPagesInARow = newEvents == 0 ? emptyPagesInARow + 1 : 0
        if emptyPagesInARow >= Self.maxEmptyPagesPerRun { stoppedForThisRun = true }
    }

    /// Applies a reply to `request`, returning where its events go. The caller stores the events and the new
    /// `cursors` in one transaction.
    @discardableResult
    public mutating func apply(_ reply: PageReply, to request: PageRequest) -> Placement {
        // Only a reply without `end` is the end of that direction. An empty chunk with an `end` is not:
        // Synapse sends one when every event of the page is hidden from the account (ignored users,
        // history it may not see), and the spec says to paginate until no `end` comes. A token that does
        // not move ends the walk too, so a server that repeats itself cannot keep a sync going forever.
        let exhausted = reply.end == nil || reply.end == request.from
        if let from = request.from { requested.insert(request.direction.rawValue + from) }
        // A -> B -> A: the walk would go round for ever. Stop this run; the cursor stays where it got to.
        if !exhausted, let end = reply.end, requested.contains(request.direction.rawValue + end) { stoppedForThisRun = true }
        switch request.direction {
        case .backward:
            if request.from == nil, cursors.forward == nil {
                // The first backward page starts at "now": that is where later forward walks begin.
                cursors.forward = reply.forwardToken ?? reply.start
            }
            cursors.backward = exhausted ? .complete : .at(reply.end!)
            return .before
        case .forward:
            if request.from == nil { cursors.backward = .complete }
            // Every `end` is kept, even of an empty page: a resumed walk starts after the hidden stretch.
            if let end = reply.end { cursors.forward = end }
            if exhausted { forwardFinished = true }
            return .after
        }
    }
}
