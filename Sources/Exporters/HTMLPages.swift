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

    /// The month page that starts with an item at `firstTS` and is `index` in the plan's months (the
    /// heading spells the month out only when the plan agrees on its key).
    static func monthPage(_ plan: HTMLRoomPlan, index: Int, key: String, firstTS: Int64) -> HTMLPage {
        let monthTitle = index >= 0 && plan.months[index].key == key ? UTCTime(millis: firstTS).monthTitle : key
        return HTMLPage(
            path: plan.directory + "/" + key + ".html",
            title: "\(plan.displayName) — \(key)", heading: "\(plan.displayName): \(monthTitle)",
            subheading: esc(plan.roomID),
            breadcrumbs: "<a href=\"../../index.html\">Archive</a> › <a href=\"index.html\">\(esc(plan.displayName))</a> › "
                + esc(key),
            pager: pager(months: plan.months.map(\.key), index: index))
    }

    /// Previous and next month, and the room's index between them.
    static func pager(months: [String], index: Int) -> String {
        guard index >= 0, index < months.count else { return "" }
        let previous = index > 0 ? "<a rel=\"prev\" href=\"\(months[index - 1]).html\">← \(months[index - 1])</a>"
            : "<span class=\"disabled\">←</span>"
        let next = index + 1 < months.count ? "<a rel=\"next\" href=\"\(months[index + 1]).html\">\(months[index + 1]) →</a>"
            : "<span class=\"disabled\">→</span>"
        return "<nav class=\"pager\">\(previous)<a href=\"index.html\">all months</a>\(next)</nav>"
    }

    // MARK: Thread pages

    /// A thread's page, and what comes before its replies: the quoted root, or a notice when the root is
    /// not in this export (`RoomContext.quotedEvent`) or is in another room.
    static func threadPage(_ plan: HTMLRoomPlan, root: String, rootSummary: EventSummary?) -> (page: HTMLPage, intro: String) {
        let page = HTMLPage(
            path: plan.directory + "/" + HTMLRoomPlan.threadPath(root),
            title: "\(plan.displayName) — thread", heading: "Thread in \(plan.displayName)",
            subheading: "Thread started by " + (rootSummary.map { isolated($0.senderName) } ?? "unknown"),
            breadcrumbs: "<a href=\"../../../index.html\">Archive</a> › <a href=\"../index.html\">\(isolated(plan.displayName))</a> › thread")
        guard let rootSummary, rootSummary.roomID == plan.roomID else {
            return (page, "<p class=\"notice\">The message that started this thread is not in this export.</p>\n")
        }
        return (page, "<section class=\"thread-root\">" + quote(rootSummary, label: "Thread root", plan: plan, onThreadPage: true)
                    + "</section>\n")
    }
}
