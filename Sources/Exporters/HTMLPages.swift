import ArchiveCore

/// The HTML export's pages, built by pure functions from values (a room's plan, its results, items and
/// the lookups made for them) to HTML, so each piece is tested without an archive. Bodies are untrusted:
/// `formatted_body` goes through `HTMLSanitizer`, every other value from an event through `esc`/`attr`.
enum HTMLPages {
    static func esc(_ text: String) -> String { HTMLSanitizer.escapeText(text) }
    static func attr(_ text: String) -> String { HTMLSanitizer.escapeAttribute(text) }
    /// Escaped text someone else wrote, in a `<bdi>`: a bidi override (U+202E) or embedding in a name
    /// would otherwise run on into the text the page puts after it (the user id, the time), reversing it;
    /// an isolate ends every override opened inside it.
    static func isolated(_ text: String) -> String { "<bdi>" + esc(text) + "</bdi>" }

    // MARK: Month pages

    /// Page `number` of the month that is `index` in the plan's months and starts with an item at
    /// `firstTS` (the heading spells the month out only when the plan agrees on its key).
    static func monthPage(_ plan: HTMLRoomPlan, index: Int, key: String, number: Int = 1, firstTS: Int64) -> HTMLPage {
        let agrees = index >= 0 && index < plan.months.count && plan.months[index].key == key
        let monthTitle = agrees ? UTCTime(millis: firstTS).monthTitle : key
        let pages = agrees ? plan.months[index].pages : number
        let pageLabel = pages > 1 ? " (page \(number) of \(pages))" : ""
        return HTMLPage(
            path: plan.directory + "/" + PageNames.month(key, page: number),
            title: "\(plan.displayName) — \(key)" + (pages > 1 ? " p\(number)" : ""),
            heading: "\(plan.displayName): \(monthTitle)" + pageLabel,
            subheading: esc(plan.roomID),
            breadcrumbs: "<a href=\"../../index.html\">Archive</a> › <a href=\"index.html\">\(esc(plan.displayName))</a> › "
                + esc(key) + (pages > 1 ? " › page \(number)" : ""),
            pager: agrees ? pager(months: plan.months, index: index, page: number) : "")
    }

    /// The previous and next page, across month boundaries (the last page of the month before, the first
    /// of the month after), and the room's index between them.
    static func pager(months: [HTMLRoomPlan.Month], index: Int, page: Int) -> String {
        guard index >= 0, index < months.count else { return "" }
        func label(_ month: Int, _ number: Int) -> String {
            months[month].pages > 1 ? "\(months[month].key) (\(number)/\(months[month].pages))" : months[month].key
        }
        func link(_ rel: String, _ month: Int, _ number: Int) -> String {
            let text = rel == "prev" ? "← " + label(month, number) : label(month, number) + " →"
            return "<a rel=\"\(rel)\" href=\"\(PageNames.month(months[month].key, page: number))\">\(esc(text))</a>"
        }
        let previous = page > 1 ? link("prev", index, page - 1)
            : index > 0 ? link("prev", index - 1, months[index - 1].pages) : "<span class=\"disabled\">←</span>"
        let next = page < months[index].pages ? link("next", index, page + 1)
            : index + 1 < months.count ? link("next", index + 1, 1) : "<span class=\"disabled\">→</span>"
        return "<nav class=\"pager\">\(previous)<a href=\"index.html\">all months</a>\(next)</nav>"
    }

    /// Previous and next month, and the room's index between them (months of one page each).
    static func pager(months: [String], index: Int) -> String {
        pager(months: months.map { HTMLRoomPlan.Month(key: $0, count: 0) }, index: index, page: 1)
    }

    // MARK: Thread pages

    /// Page `number` of a thread, and what comes before its replies on its first page: the quoted root,
    /// or a notice when the root is not in this export (`RoomContext.quotedEvent`) or is in another room.
    static func threadPage(_ plan: HTMLRoomPlan, root: String, rootSummary: EventSummary?,
                           number: Int = 1) -> (page: HTMLPage, intro: String) {
        let pages = max(plan.threadPages(root), number)
        var page = HTMLPage(
            path: plan.directory + "/" + PageNames.thread(root, page: number),
            title: "\(plan.displayName) — thread" + (pages > 1 ? " p\(number)" : ""),
            heading: "Thread in \(plan.displayName)" + (pages > 1 ? " (page \(number) of \(pages))" : ""),
            subheading: "Thread started by " + (rootSummary.map { isolated($0.senderName) } ?? "unknown"),
            breadcrumbs: "<a href=\"../../../index.html\">Archive</a> › <a href=\"../index.html\">\(isolated(plan.displayName))</a> › thread")
        if pages > 1 {
            let previous = number > 1 ? "<a rel=\"prev\" href=\"\(PageNames.threadFile(root, page: number - 1))\">← page \(number - 1)</a>"
                : "<span class=\"disabled\">←</span>"
            let next = number < pages ? "<a rel=\"next\" href=\"\(PageNames.threadFile(root, page: number + 1))\">page \(number + 1) →</a>"
                : "<span class=\"disabled\">→</span>"
            page.pager = "<nav class=\"pager\">\(previous)<a href=\"../index.html\">all months</a>\(next)</nav>"
        }
        guard number == 1 else { return (page, "") }
        guard let rootSummary, rootSummary.roomID == plan.roomID else {
            return (page, "<p class=\"notice\">The message that started this thread is not in this export.</p>\n")
        }
        return (page, "<section class=\"thread-root\">" + quote(rootSummary, label: "Thread root", plan: plan, onThreadPage: true)
                    + "</section>\n")
    }
}
