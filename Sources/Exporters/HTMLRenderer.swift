import ArchiveCore

/// A static HTML archive: `index.html` lists the rooms (nested under their spaces); each room has
/// `rooms/<hash of the room id>/index.html`, the pages of each month (`<YYYY-MM>.html`, then
/// `<YYYY-MM>-p2.html`… of at most `--page-messages` items; day headings, `id="<event id>"` on every
/// message), the pages of each thread whose root is in the export (`threads/<hash of the root id>.html`,
/// paged the same way) and a permalink page (`event.html#<event id>`) with its lookup (`events/<n>.js`). This class only orchestrates: it reads the room's plan once,
/// streams the timeline, makes the lookups each item needs, and writes what the page builders
/// (`HTMLPages`) return into the template's frame (`HTMLChrome`, `HTMLTemplates`).
final class HTMLRenderer: ExportRenderer {
    let roomEntryName = "index.html"
    let templates: HTMLTemplates
    let chrome: HTMLChrome
    let source: any ExportSource
    /// The static search index, built as the rooms stream by (nil without the index's tokeniser).
    private let searchIndex: HTMLSearchIndexWriter?

    init(options: ExportOptions, source: any ExportSource) throws {
        self.source = source
        chrome = HTMLChrome(options: options)
        templates = try HTMLTemplates(directory: try HTMLTemplates.locate(options.templates))
        searchIndex = try options.searchTokenizer.map { try HTMLSearchIndexWriter(tokenizer: $0) }
    }

    func open(_ page: HTMLPage) -> ExportFile {
        let file = ExportFile()
        file.append(HTMLTemplates.fill(templates.prefix, chrome.values(page)))
        return file
    }

    func close(_ file: ExportFile, _ page: HTMLPage, writer: ExportWriter) throws {
        file.append(HTMLTemplates.fill(templates.suffix, chrome.values(page)))
        try writer.add(page.path, file)
    }

    func write(_ page: HTMLPage, body: String, writer: ExportWriter) throws {
        let file = open(page)
        file.append(body)
        try close(file, page, writer: writer)
    }

    private var hasPermalinkAsset: Bool { templates.assets.contains { $0.name == "permalink.js" } }

    func begin(rooms: [StoredRoom], writer: ExportWriter) throws {
        for asset in templates.assets {
            let file = ExportFile()
            asset.data.withUnsafeBytes { file.append($0) }
            try writer.add("assets/" + asset.name, file)
        }
    }

    func renderRoom(_ context: RoomContext, result: inout RoomExportResult, writer: ExportWriter,
                    progress: (_ eventsSoFar: Int) -> Void) throws {
        let plan = try HTMLRoomPlan.load(context)
        let searchRoom = searchIndex?.beginRoom(name: plan.displayName)
        let permalinks = PermalinkIndex(expectedEvents: plan.itemCount)
        try renderMonths(context, plan, searchRoom: searchRoom, permalinks: permalinks, result: &result,
                         writer: writer, progress: progress)
        try renderThreads(context, plan, permalinks: permalinks, result: &result, writer: writer)
        // Templates without the permalink script get no permalink page: a page that can never find
        // anything (and its lookup files) would only be dead weight in the export.
        if hasPermalinkAsset {
            _ = try permalinks.write(directory: context.directory, writer: writer)
            let permalinkPage = HTMLPages.permalinkPage(plan, shardCount: permalinks.shardCount)
            try write(permalinkPage.page, body: permalinkPage.body, writer: writer)
        }
        let index = HTMLPages.roomIndex(plan, result: result)
        try write(index.page, body: index.body, writer: writer)
    }

    /// The month pages, written as the timeline streams by (a new file at each month and every
    /// `pageLimit` items, by the same `MonthPager` as the plan); thread replies are only counted (and
    /// indexed for search, with the link to their thread page) here.
    private func renderMonths(_ context: RoomContext, _ plan: HTMLRoomPlan, searchRoom: Int?,
                              permalinks: PermalinkIndex, result: inout RoomExportResult, writer: ExportWriter,
                              progress: (_ eventsSoFar: Int) -> Void) throws {
        var pager = MonthPager(limit: plan.pageLimit)
        var monthIndex = -1
        var file: ExportFile?
        var page: HTMLPage?
        var pagePath = ""
        var days = DayHeadings(anchored: true)
        var localResult = result
        func flush() throws {
            if let file, let page { try close(file, page, writer: writer) }
            file = nil
            progress(localResult.events)
        }
        try context.forEachItem { item in
            if let searchRoom { try addToSearch(item, plan: plan, room: searchRoom) }
            if plan.isOnThreadPage(item) {
                localResult.count(item)
                return
            }
            let place = pager.place(item.originServerTS)
            if place.isNewPage || file == nil {
                try flush()
                if place.isNewMonth { monthIndex = min(monthIndex + 1, plan.months.count - 1) }
                let newPage = HTMLPages.monthPage(plan, index: monthIndex, key: place.key, number: place.number,
                                                  firstTS: item.originServerTS)
                page = newPage
                pagePath = PageNames.month(place.key, page: place.number)
                file = open(newPage)
                // Each page has its own headings: a page that starts mid-day says which day it is.
                days = DayHeadings(anchored: true)
            }
            file?.append(days.heading(before: item.originServerTS))
            file?.append(itemHTML(item, context, plan, onThreadPage: false, result: &localResult))
            permalinks.add(eventID: item.eventID, page: pagePath)
            localResult.count(item)
            if localResult.events % 2000 == 0 { progress(localResult.events) }
        }
        try flush()
        result = localResult
    }

    /// The pages of each thread of the plan: its root quoted on the first, then its replies, at most
    /// `pageLimit` a page.
    private func renderThreads(_ context: RoomContext, _ plan: HTMLRoomPlan, permalinks: PermalinkIndex,
                               result: inout RoomExportResult, writer: ExportWriter) throws {
        for root in plan.threadRoots {
            let rootSummary = try context.quotedEvent(root)
            var file: ExportFile?
            var page: HTMLPage?
            var number = 0
            var onPage = 0
            var days = DayHeadings(anchored: false)
            func startPage() throws {
                if let file, let page { try close(file, page, writer: writer) }
                number += 1
                onPage = 0
                let (newPage, intro) = HTMLPages.threadPage(plan, root: root, rootSummary: rootSummary, number: number)
                let newFile = open(newPage)
                newFile.append(intro)
                file = newFile
                page = newPage
                days = DayHeadings(anchored: false)
            }
            try startPage()
            try context.forEachItem(threadRoot: root) { item in
                if onPage >= plan.pageLimit { try startPage() }
                onPage += 1
                let path = PageNames.thread(root, page: number)
                file?.append(days.heading(before: item.originServerTS))
                file?.append(itemHTML(item, context, plan, onThreadPage: true, result: &result))
                permalinks.add(eventID: item.eventID, page: path)
            }
            if let file, let page { try close(file, page, writer: writer) }
        }
    }

    /// Indexes an item for the static search, linked where the plan says it lives (`href(of:)`).
    private func addToSearch(_ item: TimelineItem, plan: HTMLRoomPlan, room: Int) throws {
        guard let searchIndex else { return }
        let summary = EventSummary(eventID: item.eventID, roomID: item.roomID, sender: item.sender,
                                   senderDisplayName: item.senderDisplayName, originServerTS: item.originServerTS,
                                   content: item.content, redacted: item.redacted, isTimelineItem: true,
                                   threadRoot: item.threadRoot)
        guard let href = plan.href(of: summary) else { return }
        try searchIndex.add(item, room: room, href: plan.directory + "/" + href)
    }

    /// An item with the lookups it needs (the message it replies to, as this export may quote it; its
    /// earlier versions); a failure becomes a notice and is counted, never stops the export.
    private func itemHTML(_ item: TimelineItem, _ context: RoomContext, _ plan: HTMLRoomPlan, onThreadPage: Bool,
                          result: inout RoomExportResult) -> String {
        do {
            var replyTarget: EventSummary?
            var versions: [ContentVersion] = []
            if !HTMLPages.isStateLine(item) {
                replyTarget = try item.inReplyTo.flatMap { try context.quotedEvent($0) }
                if item.edited && HTMLPages.showsContent(item) {
                    versions = try source.contentVersions(of: item.eventID, validEdits: item.edits)
                }
            }
            return HTMLPages.item(item, replyTarget: replyTarget, versions: versions,
                                  media: plan.media(for: item.eventID, onThreadPage: onThreadPage),
                                  plan: plan, onThreadPage: onThreadPage)
        } catch {
            result.badEvents += 1
            return HTMLPages.badEvent(item)
        }
    }

    func finish(rooms: [RoomExportResult], spaces: [String: [String]], writer: ExportWriter) throws {
        let searchScripts = try searchIndex?.finish(writer: writer).map { [$0] } ?? []
        let index = HTMLPages.archiveIndex(rooms: rooms, spaces: spaces, searchScripts: searchScripts,
                                           hasSearchAsset: templates.assets.contains { $0.name == "search.js" })
        try write(index.page, body: index.body, writer: writer)
    }
}
