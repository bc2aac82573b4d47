import ArchiveCore

extension HTMLPages {
    /// A room's permalink page, `event.html#<event id>`: `assets/permalink.js` reads the id from the
    /// address, loads the one lookup shard (`PermalinkIndex`) that can hold it and goes to the event's
    /// page and anchor, or says the id is not in this export. The shard count is an attribute of the
    /// status line (no inline script under the CSP). Without scripts the page says where to look instead.
    static func permalinkPage(_ plan: HTMLRoomPlan, shardCount: Int) -> (page: HTMLPage, body: String) {
        var page = HTMLPage(path: plan.directory + "/" + HTMLRoomPlan.permalinkPage,
                            title: "\(plan.displayName) — message", heading: plan.displayName,
                            subheading: esc(plan.roomID),
                            breadcrumbs: "<a href=\"../../index.html\">Archive</a> › <a href=\"index.html\">\(esc(plan.displayName))</a> › message")
        page.scripts = ["assets/permalink.js"]
        let body = "<p id=\"mxa-permalink\" class=\"notice\" role=\"status\" data-shards=\"\(shardCount)\">"
            + "Finding a message by its id needs JavaScript; the room's months are listed on "
            + "<a href=\"index.html\">its page</a>.</p>\n"
        return (page, body)
    }
}
