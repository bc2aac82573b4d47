import ArchiveCore

extension HTMLPages {
    /// A room's `index.html`: its metadata and counts, its months and how many threads it has.
    static func roomIndex(_ plan: HTMLRoomPlan, result: RoomExportResult) -> (page: HTMLPage, body: String) {
        let metadata = plan.room.metadata
        let page = HTMLPage(path: plan.directory + "/index.html", title: plan.displayName, heading: plan.displayName,
                            subheading: esc(plan.roomID),
                            breadcrumbs: "<a href=\"../../index.html\">Archive</a> › \(esc(plan.displayName))")
        var body = "<dl class=\"meta\">"
        if let alias = metadata.canonicalAlias { body += "<dt>Address</dt><dd>\(esc(alias))</dd>" }
        if let topic = metadata.topic { body += "<dt>Topic</dt><dd>\(esc(topic))</dd>" }
        body += "<dt>Events</dt><dd>\(result.events) (\(result.messages) messages, \(result.redacted) redacted, \(result.undecryptable) undecryptable)</dd>"
        if let first = result.firstTS, let last = result.lastTS {
            body += "<dt>Period</dt><dd>\(UTCTime(millis: first).display) – \(UTCTime(millis: last).display)</dd>"
        }
        if let predecessor = metadata.predecessor { body += "<dt>Replaces</dt><dd>\(esc(predecessor))</dd>" }
        if let successor = metadata.successor { body += "<dt>Replaced by</dt><dd>\(esc(successor))</dd>" }
        body += "</dl>\n<h2>Months</h2>\n"
        if plan.months.isEmpty {
            body += "<p>No messages in this export.</p>\n"
        } else {
            // The month index: each month with its count and, when it is paged, a link to every page.
            body += "<table class=\"months\"><thead><tr><th>Month</th><th>Events</th><th>Pages</th></tr></thead><tbody>\n"
            for month in plan.months {
                var pages = "1"
                if month.pages > 1 {
                    pages = (1...month.pages).map { "<a href=\"\(PageNames.month(month.key, page: $0))\">\($0)</a>" }
                        .joined(separator: " ")
                }
                body += "<tr><td><a href=\"\(month.key).html\">\(month.key)</a></td><td>\(month.count)</td><td>\(pages)</td></tr>\n"
            }
            body += "</tbody></table>\n"
        }
        if !plan.threadRoots.isEmpty {
            body += "<h2>Threads</h2>\n<p>\(plan.threadRoots.count) threads; each is linked from the message that started it.</p>\n"
        }
        return (page, body)
    }

    /// The export's `index.html`: the rooms, each space's rooms nested under it, and the search box when
    /// some room has search data (`searchScripts`, loaded only when the templates have `search.js`).
    static func archiveIndex(rooms: [RoomExportResult], spaces: [String: [String]], searchScripts: [String],
                             hasSearchAsset: Bool) -> (page: HTMLPage, body: String) {
        let byID = Dictionary(rooms.map { ($0.roomID, $0) }, uniquingKeysWith: { first, _ in first })
        let nested = Set(spaces.values.joined())
        var body = "<ul class=\"rooms\">\n"
        var listed: Set<String> = []
        func item(_ room: RoomExportResult, depth: Int) {
            guard listed.insert(room.roomID).inserted else { return }
            let name = room.name ?? room.canonicalAlias ?? room.roomID
            body += "<li><a href=\"\(attr(room.path))\">\(isolated(name))</a>"
            if room.roomType == "m.space" { body += " <span class=\"meta\">(space)</span>" }
            body += " <span class=\"meta\">\(esc(room.canonicalAlias ?? room.roomID)) · \(room.messages) messages"
            if let first = room.firstTS, let last = room.lastTS {
                body += " · \(UTCTime(millis: first).dayKey) – \(UTCTime(millis: last).dayKey)"
            }
            body += "</span>"
            if let children = spaces[room.roomID], depth < 8 {
                body += "\n<ul class=\"rooms\">\n"
                for child in children { if let childRoom = byID[child] { item(childRoom, depth: depth + 1) } }
                body += "</ul>"
            }
            body += "</li>\n"
        }
        for room in rooms where !nested.contains(room.roomID) { item(room, depth: 0) }
        for room in rooms { item(room, depth: 0) }  // rooms only reachable through a cycle of spaces
        body += "</ul>\n"
        if !searchScripts.isEmpty {
            body += """
                <h2>Search</h2>
                <div class="search"><input id="mxa-search" type="search" placeholder="Search messages (words, sender)" aria-label="Search messages" autocomplete="off"></div>
                <p id="mxa-search-status" class="meta" role="status"></p>
                <ol id="mxa-results" class="results"></ol>

                """
        }
        var page = HTMLPage(path: "index.html", title: "Matrix archive", heading: "Matrix archive",
                            subheading: "\(rooms.count) rooms", breadcrumbs: "Archive")
        if !searchScripts.isEmpty, hasSearchAsset { page.scripts = searchScripts + ["assets/search.js"] }
        return (page, body)
    }
}
