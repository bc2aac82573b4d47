import ArchiveCore

/// Everything the HTML pages of one room need to know before the first one is written: which month pages
/// exist (in order, with their counts), which threads get a page, which attachments are stored, and so
/// where every exported event lives. Computed once from the archive (`load`), then handed as a value to
/// the page builders, which read nothing else.
struct HTMLRoomPlan {
    struct Month: Equatable {
        let key: String
        var count: Int
        /// Pages of at most the plan's `pageLimit` items.
        var pages: Int = 1
    }

    /// One page of the room: a month's or a thread's `number`th (from 1).
    struct Page: Hashable {
        enum Owner: Hashable { case month(Int), thread(Int) }
        let owner: Owner
        let number: Int
    }

    /// `--page-messages` unless given.
    static let defaultPageLimit = ExportOptions.defaultPageMessages

    let room: StoredRoom
    /// `rooms/<id>`
    let directory: String
    /// The export's filter: an event outside it is not on any page.
    let senders: SenderFilter
    let since: Int64?
    let until: Int64?
    /// At most this many items on a month or thread page.
    let pageLimit: Int
    private(set) var months: [Month] = []
    /// Thread roots in the order their first reply appears; each gets `threads/<hash of root>.html` (and
    /// `-p2.html`… past `pageLimit` replies). Only roots this export holds (`RoomContext.quotedEvent`): a
    /// reply can name any id as its root, and a page for a root that is not there would link from nowhere
    /// and be named by whoever sent the reply.
    private(set) var threadRoots: [String] = []
    /// Each root with a page: its place in `threadRoots`.
    private var threadIndex: [String: Int] = [:]
    /// Replies per thread, by `threadRoots` index.
    private(set) var threadCounts: [Int] = []
    /// Every root asked about, and whether it gets a page: each is looked up once.
    private var rootDecisions: [String: Bool] = [:]
    /// Every page, in the order its first item appears; `locations` points into it.
    private(set) var pages: [Page] = []
    /// Where each planned event is: its `EventKey` → index in `pages`. Twelve bytes an event, the one
    /// per-event table the plan keeps (a link can name any event of the room, so every page must be known
    /// before the first is written).
    private var locations: [UInt64: UInt32] = [:]
    /// Keys two planned events share (a 64-bit collision: rare, but anyone can mint ids to make one):
    /// neither is looked up by key, both link through the permalink page, which matches whole ids.
    private var ambiguousKeys: Set<UInt64> = []
    /// `EventKey.of`; a test hands in a colliding one.
    private let eventKey: (String) -> UInt64
    /// The newest page of each thread and of the current month: where the next item goes.
    private var threadLastPage: [Int] = []
    private var monthLastPage = -1
    /// With `--include-media`: the export path (`media/<sha256>.<ext>`) of each attachment's stored file,
    /// by `MediaRef.key`.
    var mediaPaths: [String: String] = [:]
    private var pager: MonthPager

    init(room: StoredRoom, directory: String, senders: SenderFilter, since: Int64?, until: Int64?,
         pageLimit: Int = HTMLRoomPlan.defaultPageLimit, eventKey: @escaping (String) -> UInt64 = EventKey.of) {
        self.eventKey = eventKey
        self.room = room
        self.directory = directory
        self.senders = senders
        self.since = since
        self.until = until
        self.pageLimit = max(1, pageLimit)
        pager = MonthPager(limit: self.pageLimit)
    }

    /// Reads the room's plan from the archive: one pass over its timeline marks, and its media refs.
    static func load(_ context: RoomContext) throws -> HTMLRoomPlan {
        let options = context.options
        var plan = HTMLRoomPlan(room: context.room, directory: context.directory, senders: context.senders,
                                since: options.since, until: options.until, pageLimit: options.pageMessages)
        try context.source.timelineMarks(roomID: context.roomID, since: options.since, until: options.until) {
            eventID, sender, ts, root in
            try plan.add(eventID: eventID, sender: sender, originServerTS: ts, threadRoot: root) {
                try context.quotedEvent($0) != nil
            }
        }
        if options.includeMedia {
            for (key, ref) in try context.source.mediaRefs(roomID: context.roomID) where ref.status == .ok {
                if let digest = ref.sha256 { plan.mediaPaths[key] = context.mediaNames.path(of: digest) }
            }
        }
        return plan
    }

    /// Places one item of the timeline (in timeline order): a thread reply whose root `isExported` goes
    /// on its thread's pages; any other item (a reply naming a root that is not in this export included)
    /// on its month's pages (by `MonthPager`, as the renderer writes them).
    mutating func add(eventID: String, sender: String, originServerTS: Int64, threadRoot: String?,
                      isExported: (_ root: String) throws -> Bool) rethrows {
        guard senders.includes(sender) else { return }
        if let threadRoot {
            let hasPage: Bool
            if let known = rootDecisions[threadRoot] {
                hasPage = known
            } else {
                hasPage = try isExported(threadRoot)
                rootDecisions[threadRoot] = hasPage
                if hasPage {
                    threadIndex[threadRoot] = threadRoots.count
                    threadRoots.append(threadRoot)
                    threadCounts.append(0)
                    threadLastPage.append(-1)
                }
            }
            if hasPage, let thread = threadIndex[threadRoot] {
                if threadCounts[thread] % pageLimit == 0 {
                    pages.append(Page(owner: .thread(thread), number: threadCounts[thread] / pageLimit + 1))
                    threadLastPage[thread] = pages.count - 1
                }
                threadCounts[thread] += 1
                locate(eventID, page: threadLastPage[thread])
                return
            }
        }
        let place = pager.place(originServerTS)
        if place.isNewMonth { months.append(Month(key: place.key, count: 0)) }
        months[months.count - 1].count += 1
        months[months.count - 1].pages = place.number
        if place.isNewPage {
            pages.append(Page(owner: .month(months.count - 1), number: place.number))
            monthLastPage = pages.count - 1
        }
        locate(eventID, page: monthLastPage)
    }

    /// Records an event's page; a key already taken (by another id: the timeline holds each id once)
    /// becomes ambiguous rather than pointing one event at the other's page.
    private mutating func locate(_ eventID: String, page: Int) {
        let key = eventKey(eventID)
        if locations.updateValue(UInt32(page), forKey: key) != nil { ambiguousKeys.insert(key) }
    }

    var roomID: String { room.roomID }
    var displayName: String { room.displayName }
    /// Items on month pages (thread replies are on their thread's page).
    var monthItemCount: Int { months.reduce(0) { $0 + $1.count } }
    /// Every planned item: month items and thread replies.
    var itemCount: Int { monthItemCount + threadCounts.reduce(0, +) }

    func hasThreadPage(_ root: String) -> Bool { threadIndex[root] != nil }

    /// True when the item is on its thread's page rather than a month page.
    func isOnThreadPage(_ item: TimelineItem) -> Bool { item.threadRoot.map(hasThreadPage) ?? false }

    /// Pages of a thread (1 when the plan did not see it).
    func threadPages(_ root: String) -> Int {
        threadIndex[root].map { PageNames.pageCount(threadCounts[$0], limit: pageLimit) } ?? 1
    }

    /// A thread's first page, relative to the room's folder (named by the root's hash: see `ExportPath`).
    static func threadPath(_ root: String) -> String { PageNames.thread(root, page: 1) }

    /// A page's file, relative to the room's folder.
    func path(of page: Page) -> String {
        switch page.owner {
        case .month(let index): PageNames.month(months[index].key, page: page.number)
        case .thread(let index): PageNames.thread(threadRoots[index], page: page.number)
        }
    }

    /// The page an event of the plan is on.
    /// The page an event of the plan is on; nil when the plan did not see it or its key is ambiguous.
    func page(of eventID: String) -> Page? {
        let key = eventKey(eventID)
        guard !ambiguousKeys.contains(key) else { return nil }
        return locations[key].map { pages[Int($0)] }
    }

    /// The permalink page: finds any event's page by its id from the room's sharded lookup.
    static let permalinkPage = "event.html"

    /// THE place that says where an event lives: the href (relative to the room's folder) of its anchor
    /// on its month or thread page, or nil when the event is not in this export. An event the export
    /// includes but the plan cannot place (its key collides with another event's, or the plan did not see
    /// it) links to the permalink page, which finds it by its whole id.
    func href(of summary: EventSummary) -> String? {
        guard summary.roomID == roomID, summary.isTimelineItem, senders.includes(summary.sender) else { return nil }
        if let since, summary.originServerTS < since { return nil }
        if let until, summary.originServerTS >= until { return nil }
        let anchor = "#" + summary.eventID
        guard let page = page(of: summary.eventID) else { return Self.permalinkPage + anchor }
        return path(of: page) + anchor
    }

    /// Where an item's stored attachment and thumbnail are, from a page of this room.
    func media(for eventID: String, onThreadPage: Bool) -> HTMLPages.MediaLinks {
        // Asked for every item: nothing to build when the export has no media (most exports, and every
        // item without an attachment of its own).
        let file = mediaPaths.isEmpty ? nil : mediaPaths[MediaRef.key(eventID, .file)]
        let thumbnail = mediaPaths.isEmpty ? nil : mediaPaths[MediaRef.key(eventID, .thumbnail)]
        guard file != nil || thumbnail != nil else { return .none }
        let root = ExportPath.rootPrefix(of: directory + "/page.html") + (onThreadPage ? "../" : "")
        return HTMLPages.MediaLinks(file: file.map { root + $0 }, thumbnail: thumbnail.map { root + $0 })
    }
}

/// The day headings of a page: one before the first item of each new day (timeline order, so a skewed
/// clock's earlier day gets none). Month pages anchor them (`#day-2024-01-02`); thread pages do not.
struct DayHeadings {
    let anchored: Bool
    private var last = ""

    init(anchored: Bool) { self.anchored = anchored }

    /// The heading to put before an item at `millis`, or "" when its day already has one.
    mutating func heading(before millis: Int64) -> String {
        let day = UTCTime(millis: millis).dayKey
        guard day > last else { return "" }
        last = day
        return anchored ? "<h2 class=\"day\" id=\"day-\(day)\">\(day)</h2>\n" : "<h2 class=\"day\">\(day)</h2>\n"
    }
}
