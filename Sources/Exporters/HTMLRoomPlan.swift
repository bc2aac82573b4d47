import ArchiveCore

/// Everything the HTML pages of one room need to know before the first one is written: which month pages
/// exist (in order, with their counts), which threads get a page, which attachments are stored, and so
/// where every exported event lives. Computed once from the archive (`load`), then handed as a value to
/// the page builders, which read nothing else.
struct HTMLRoomPlan {
    struct Month: Equatable {
        let key: String
        var count: Int
    }

    let room: StoredRoom
    /// `rooms/<id>`
    let directory: String
    /// The export's filter: an event outside it is not on any page.
    let senders: SenderFilter
    let since: Int64?
    let until: Int64?
    private(set) var months: [Month] = []
    /// Thread roots in the order their first reply appears; each gets `threads/<hash of root>.html`. Only
    /// roots this export holds (`RoomContext.quotedEvent`): a reply can name any id as its root, and a page
    /// for a root that is not there would link from nowhere and be named by whoever sent the reply.
    private(set) var threadRoots: [String] = []
    private(set) var threadSet: Set<String> = []
    /// Every root asked about, and whether it gets a page: each is looked up once.
    private var rootDecisions: [String: Bool] = [:]
    /// With `--include-media`: the export path (`media/<sha256>.<ext>`) of each attachment's stored file,
    /// by `MediaRef.key`.
    var mediaPaths: [String: String] = [:]
    private var cursor = MonthCursor()

    init(room: StoredRoom, directory: String, senders: SenderFilter, since: Int64?, until: Int64?) {
        self.room = room
        self.directory = directory
        self.senders = senders
        self.since = since
        self.until = until
    }

    /// Reads the room's plan from the archive: one pass over its timeline marks, and its media refs.
    static func load(_ context: RoomContext) throws -> HTMLRoomPlan {
        let options = context.options
        var plan = HTMLRoomPlan(room: context.room, directory: context.directory, senders: context.senders,
                                since: options.since, until: options.until)
        try context.source.timelineMarks(roomID: context.roomID, since: options.since, until: options.until) {
            sender, ts, root in
            try plan.add(sender: sender, originServerTS: ts, threadRoot: root) { try context.quotedEvent($0) != nil }
        }
        if options.includeMedia {
            for (key, ref) in try context.source.mediaRefs(roomID: context.roomID) where ref.status == .ok {
                if let digest = ref.sha256 { plan.mediaPaths[key] = context.mediaNames.path(of: digest) }
            }
        }
        return plan
    }

    /// Places one item of the timeline (in timeline order): a thread reply whose root `isExported` makes
    /// its thread's page; any other item (a reply naming a root that is not in this export included)
    /// counts towards its month (by `MonthCursor`, as the month pages are written).
    mutating func add(sender: String, originServerTS: Int64, threadRoot: String?,
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
                    threadSet.insert(threadRoot)
                    threadRoots.append(threadRoot)
                }
            }
            if hasPage { return }
        }
        let (key, isNew) = cursor.month(for: originServerTS)
        if isNew || months.isEmpty { months.append(Month(key: key, count: 0)) }
        months[months.count - 1].count += 1
    }

    var roomID: String { room.roomID }
    var displayName: String { room.displayName }
    /// Items on month pages (thread replies are on their thread's page).
    var monthItemCount: Int { months.reduce(0) { $0 + $1.count } }

    /// True when the item is on its thread's page rather than a month page.
    func isOnThreadPage(_ item: TimelineItem) -> Bool { item.threadRoot.map(threadSet.contains) ?? false }

    /// A thread's page, relative to the room's folder (named by the root's hash: see `ExportPath`).
    static func threadPath(_ root: String) -> String { "threads/" + ExportPath.component(forID: root) + ".html" }

    /// The href (relative to the room's folder) of an event's anchor, or nil when the event is not in this
    /// export.
    func href(of summary: EventSummary) -> String? {
        guard summary.roomID == roomID, summary.isTimelineItem, senders.includes(summary.sender) else { return nil }
        if let since, summary.originServerTS < since { return nil }
        if let until, summary.originServerTS >= until { return nil }
        let anchor = "#" + summary.eventID
        if let root = summary.threadRoot, threadSet.contains(root) { return Self.threadPath(root) + anchor }
        return UTCTime(millis: summary.originServerTS).monthKey + ".html" + anchor
    }

    /// Where an item's stored attachment and thumbnail are, from a page of this room.
    func media(for eventID: String, onThreadPage: Bool) -> HTMLPages.MediaLinks {
        let root = ExportPath.rootPrefix(of: directory + "/page.html") + (onThreadPage ? "../" : "")
        return HTMLPages.MediaLinks(file: mediaPaths[MediaRef.key(eventID, .file)].map { root + $0 },
                                    thumbnail: mediaPaths[MediaRef.key(eventID, .thumbnail)].map { root + $0 })
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
