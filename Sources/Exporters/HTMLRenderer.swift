import ArchiveCore
import ArchiveStore
import Foundation

/// The page template and assets of the HTML export, read from `exports/html/` (or `--templates DIR`).
struct HTMLTemplates {
    let prefix: String  // page.html up to {{content}}
    let suffix: String  // after {{content}}
    let assets: [(name: String, data: [UInt8])]

    static let placeholders: Set<String> = ["head", "title", "root", "breadcrumbs", "heading", "subheading", "pager",
                                            "content", "footer", "scripts"]

    /// `explicit`, else `$MXARCHIVE_TEMPLATES`, else `share/mxarchive/html` beside the executable's folder,
    /// else the source checkout's `exports/html`.
    static func locate(_ explicit: URL?) throws -> URL {
        if let explicit { return explicit }
        var candidates: [URL] = []
        if let fromEnv = ProcessInfo.processInfo.environment["MXARCHIVE_TEMPLATES"], !fromEnv.isEmpty {
            candidates.append(URL(fileURLWithPath: fromEnv))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/mxarchive/html"))
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("exports/html"))
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("page.html").path) {
            return candidate
        }
        throw ExportError.usage("cannot find the HTML templates (exports/html/page.html); pass --templates DIR")
    }

    init(directory: URL) throws {
        let pageURL = directory.appendingPathComponent("page.html")
        guard let data = FileManager.default.contents(atPath: pageURL.path) else {
            throw ExportError.usage("cannot read the template \(pageURL.path)")
        }
        let page = String(decoding: data, as: UTF8.self)
        for required in ["{{head}}", "{{content}}"] where !page.contains(required) {
            throw ExportError.usage("the template \(pageURL.path) has no \(required) placeholder")
        }
        let parts = page.components(separatedBy: "{{content}}")
        guard parts.count == 2 else { throw ExportError.usage("\(pageURL.path) must contain {{content}} once") }
        for part in parts {
            for name in Self.names(in: part) where !Self.placeholders.contains(name) {
                throw ExportError.usage("the template \(pageURL.path) uses an unknown placeholder {{\(name)}}")
            }
        }
        prefix = parts[0]
        suffix = parts[1]
        let assetsURL = directory.appendingPathComponent("assets")
        var assets: [(String, [UInt8])] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: assetsURL.path)) ?? []
        for name in names.sorted() where !name.hasPrefix(".") {
            guard ExportPath.isSafe(name) else { throw ExportError.usage("asset file name not allowed: \(name)") }
            guard let bytes = FileManager.default.contents(atPath: assetsURL.appendingPathComponent(name).path) else { continue }
            assets.append((name, Array(bytes)))
        }
        self.assets = assets
    }

    static func names(in text: String) -> [String] {
        var result: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            result.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return result
    }

    static func fill(_ text: String, _ values: [String: String]) -> String {
        var output = ""
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { rest = rest[open.lowerBound...]; break }
            output += values[String(rest[open.upperBound..<close.lowerBound])] ?? ""
            rest = rest[close.upperBound...]
        }
        return output + rest
    }
}

/// A static HTML archive: `index.html` lists the rooms (nested under their spaces); each room has
/// `rooms/<id>/index.html`, one page per month (`<YYYY-MM>.html`, day headings, `id="<event id>"` on every
/// message) and one page per thread (`threads/<root id>.html`). Bodies are untrusted: `formatted_body` goes
/// through `HTMLSanitizer`, everything else is escaped. Every page carries a CSP that allows no script but
/// the archive's own and nothing from the network, and `noindex` unless indexing is allowed.
final class HTMLRenderer: ExportRenderer {
    let roomEntryName = "index.html"
    let templates: HTMLTemplates
    /// Each room's search data file, for the index page.
    private var searchScripts: [String] = []
    let options: ExportOptions
    let store: ArchiveStore
    /// With `--include-media`: the current room's stored attachments (event and role → file digest), shown
    /// inline from the export's `media/` folder.
    private var storedMedia: [String: String] = [:]

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "media-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'"

    init(options: ExportOptions, store: ArchiveStore) throws {
        self.options = options
        self.store = store
        templates = try HTMLTemplates(directory: try HTMLTemplates.locate(options.templates))
    }

    var head: String {
        var head = """
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)">
            <meta name="referrer" content="no-referrer">
            <meta name="generator" content="mxarchive \(esc(options.toolVersion))">
            """
        if !options.allowIndexing { head += "\n<meta name=\"robots\" content=\"noindex\">" }
        return head
    }

    func esc(_ text: String) -> String { HTMLSanitizer.escapeText(text) }
    func attr(_ text: String) -> String { HTMLSanitizer.escapeAttribute(text) }

    struct Page {
        var path: String
        var title: String
        var heading: String
        var subheading: String = ""
        var breadcrumbs: String = ""
        var pager: String = ""
        /// Script files (paths relative to the export root), loaded at the end of the page.
        var scripts: [String] = []
    }

    /// Rooms with more messages than this get no client-side search data (the file would be too large
    /// for a browser to load comfortably).
    static let searchLimit = 200_000

    func open(_ page: Page) -> ExportFile {
        let file = ExportFile()
        file.append(HTMLTemplates.fill(templates.prefix, values(page)))
        return file
    }

    func close(_ file: ExportFile, _ page: Page, writer: ExportWriter) throws {
        file.append(HTMLTemplates.fill(templates.suffix, values(page)))
        try writer.add(page.path, file)
    }

    func values(_ page: Page) -> [String: String] {
        [
            "head": head, "title": esc(page.title), "root": ExportPath.rootPrefix(of: page.path),
            "breadcrumbs": page.breadcrumbs, "heading": esc(page.heading),
            "subheading": page.subheading.isEmpty ? "" : "<p class=\"subheading\">\(page.subheading)</p>",
            "pager": page.pager,
            "scripts": page.scripts.map { "<script src=\"\(ExportPath.rootPrefix(of: page.path))\($0)\"></script>" }
                .joined(separator: "\n"),
            "footer": "Exported by mxarchive \(esc(options.toolVersion)) on \(UTCTime(millis: options.exportTime * 1000).display). All times are UTC.",
        ]
    }

    func begin(rooms: [StoredRoom], writer: ExportWriter) throws {
        for asset in templates.assets {
            let file = ExportFile()
            asset.data.withUnsafeBytes { file.append($0) }
            try writer.add("assets/" + asset.name, file)
        }
    }

    // MARK: Rooms

    func renderRoom(_ context: RoomContext, result: inout RoomExportResult, writer: ExportWriter,
                    progress: (_ eventsSoFar: Int) -> Void) throws {
        storedMedia = [:]
        if options.includeMedia {
            for (key, ref) in try context.store.mediaRefs(roomID: context.roomID) where ref.status == .ok {
                if let digest = ref.sha256 { storedMedia[key] = digest }
            }
        }
        // Plan: which month pages exist (in order, with counts) and which threads have pages.
        var planCursor = MonthCursor()
        var months: [(key: String, count: Int)] = []
        var threadRoots: [String] = []
        var threadSet: Set<String> = []
        try context.store.timelineMarks(roomID: context.roomID, since: options.since, until: options.until) { sender, ts, root in
            guard context.includes(sender: sender) else { return }
            if let root {
                if threadSet.insert(root).inserted { threadRoots.append(root) }
                return
            }
            let (key, isNew) = planCursor.month(for: ts)
            if isNew || months.isEmpty { months.append((key, 0)) }
            months[months.count - 1].count += 1
        }
        let links = RoomLinks(context: context, threadRoots: threadSet)
        let searchable = months.reduce(0) { $0 + $1.count } + threadSet.count > 0
            && months.reduce(0) { $0 + $1.count } <= Self.searchLimit
        let search = ExportFile()
        if searchable {
            search.append("(window.mxaSearchRooms = window.mxaSearchRooms || []).push({\"name\": "
                          + JSONCoding.encode(.string(context.displayName)) + ", \"base\": "
                          + JSONCoding.encode(.string(context.directory + "/")) + ", \"docs\": [\n")
        }
        func addToSearch(_ item: TimelineItem, page: String) {
            guard searchable, item.stateKey == nil, !EventText.isStripped(item), !EventText.isUndecryptable(item) else { return }
            var text = EventText.body(item)
            if text.count > 500 { text = String(text.prefix(500)) + "…" }
            let time = UTCTime(millis: item.originServerTS)
            let entry: JSONValue = [.string(page + "#" + item.eventID), .string(time.dayKey + " " + time.clock),
                                    .string(item.senderDisplayName ?? item.sender), .string(text)]
            search.append(JSONCoding.encode(entry) + ",\n")
        }
        let roomCrumbs = "<a href=\"../../index.html\">Archive</a> › <a href=\"index.html\">\(esc(context.displayName))</a>"

        // Month pages.
        var cursor = MonthCursor()
        var monthIndex = -1
        var file: ExportFile?
        var page: Page?
        var lastDay = ""
        var localResult = result
        func flush() throws {
            if let file, let page { try close(file, page, writer: writer) }
            file = nil
            progress(localResult.events)
        }
        try context.forEachItem { item in
            if item.threadRoot != nil {
                localResult.count(item)
                return  // on its thread's page
            }
            let (key, isNew) = cursor.month(for: item.originServerTS)
            if isNew || file == nil {
                try flush()
                monthIndex = min(monthIndex + 1, months.count - 1)
                let title = UTCTime(millis: item.originServerTS).monthTitle
                let monthTitle = monthIndex >= 0 && months[monthIndex].key == key ? title : key
                let newPage = Page(
                    path: context.directory + "/" + key + ".html",
                    title: "\(context.displayName) — \(key)", heading: "\(context.displayName): \(monthTitle)",
                    subheading: esc(context.roomID),
                    breadcrumbs: roomCrumbs + " › " + esc(key),
                    pager: pager(months: months.map { $0.key }, index: monthIndex))
                page = newPage
                file = open(newPage)
                lastDay = ""
            }
            let day = UTCTime(millis: item.originServerTS).dayKey
            if day > lastDay {
                file?.append("<h2 class=\"day\" id=\"day-\(day)\">\(day)</h2>\n")
                lastDay = day
            }
            file?.append(renderItemSafely(item, links: links, fromThreadPage: false, result: &localResult))
            addToSearch(item, page: key + ".html")
            localResult.count(item)
            if localResult.events % 2000 == 0 { progress(localResult.events) }
        }
        try flush()

        // Thread pages.
        for root in threadRoots {
            let path = context.directory + "/threads/" + ExportPath.component(forID: root) + ".html"
            let rootSummary = try store.eventSummary(root)
            var threadPage = Page(path: path, title: "\(context.displayName) — thread",
                                  heading: "Thread in \(context.displayName)", subheading: esc(root),
                                  breadcrumbs: "<a href=\"../../../index.html\">Archive</a> › <a href=\"../index.html\">\(esc(context.displayName))</a> › thread")
            threadPage.subheading = "Thread started by " + esc(rootSummary.map { $0.senderDisplayName ?? $0.sender } ?? "unknown")
            let threadFile = open(threadPage)
            if let rootSummary, rootSummary.roomID == context.roomID {
                threadFile.append("<section class=\"thread-root\">")
                threadFile.append(quote(rootSummary, label: "Thread root", links: links, fromThreadPage: true))
                threadFile.append("</section>\n")
            } else {
                threadFile.append("<p class=\"notice\">The message that started this thread is not in the archive.</p>\n")
            }
            var threadDay = ""
            try context.forEachItem(threadRoot: root) { item in
                let day = UTCTime(millis: item.originServerTS).dayKey
                if day > threadDay {
                    threadFile.append("<h2 class=\"day\">\(day)</h2>\n")
                    threadDay = day
                }
                threadFile.append(renderItemSafely(item, links: links, fromThreadPage: true, result: &localResult))
                addToSearch(item, page: "threads/" + ExportPath.component(forID: root) + ".html")
            }
            try close(threadFile, threadPage, writer: writer)
        }
        result = localResult
        if searchable {
            search.append("[]]});\n")
            try writer.add(context.directory + "/search.js", search)
            searchScripts.append(context.directory + "/search.js")
        }

        // The room's index page.
        let metadata = context.room.metadata
        var indexPage = Page(path: context.directory + "/index.html", title: context.displayName, heading: context.displayName,
                             subheading: esc(context.roomID), breadcrumbs: "<a href=\"../../index.html\">Archive</a> › \(esc(context.displayName))")
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
        if months.isEmpty {
            body += "<p>No messages in this export.</p>\n"
        } else {
            body += "<table class=\"months\"><thead><tr><th>Month</th><th>Events</th></tr></thead><tbody>\n"
            for month in months {
                body += "<tr><td><a href=\"\(month.key).html\">\(month.key)</a></td><td>\(month.count)</td></tr>\n"
            }
            body += "</tbody></table>\n"
        }
        if !threadRoots.isEmpty { body += "<h2>Threads</h2>\n<p>\(threadRoots.count) threads; each is linked from the message that started it.</p>\n" }
        indexPage.pager = ""
        let indexFile = open(indexPage)
        indexFile.append(body)
        try close(indexFile, indexPage, writer: writer)
    }

    func pager(months: [String], index: Int) -> String {
        guard index >= 0, index < months.count else { return "" }
        let previous = index > 0 ? "<a rel=\"prev\" href=\"\(months[index - 1]).html\">← \(months[index - 1])</a>"
            : "<span class=\"disabled\">←</span>"
        let next = index + 1 < months.count ? "<a rel=\"next\" href=\"\(months[index + 1]).html\">\(months[index + 1]) →</a>"
            : "<span class=\"disabled\">→</span>"
        return "<nav class=\"pager\">\(previous)<a href=\"index.html\">all months</a>\(next)</nav>"
    }

    /// Where events live in this room's export, for permalinks between pages.
    struct RoomLinks {
        let context: RoomContext
        let threadRoots: Set<String>

        /// The href (relative to the room's folder) of an event's page anchor, or nil when the event is
        /// not in this export.
        func href(of summary: EventSummary) -> String? {
            guard summary.roomID == context.roomID, summary.isTimelineItem, context.includes(sender: summary.sender) else { return nil }
            if let since = context.options.since, summary.originServerTS < since { return nil }
            if let until = context.options.until, summary.originServerTS >= until { return nil }
            let anchor = "#" + summary.eventID
            if let root = summary.threadRoot, threadRoots.contains(root) {
                return "threads/" + ExportPath.component(forID: root) + ".html" + anchor
            }
            return UTCTime(millis: summary.originServerTS).monthKey + ".html" + anchor
        }
    }

    // MARK: Items

    /// Renders an item; a failure to render becomes a notice and is counted, never stops the export.
    func renderItemSafely(_ item: TimelineItem, links: RoomLinks, fromThreadPage: Bool, result: inout RoomExportResult) -> String {
        do {
            return try renderItem(item, links: links, fromThreadPage: fromThreadPage)
        } catch {
            result.badEvents += 1
            return "<article class=\"msg bad-event\" id=\"\(attr(item.eventID))\"><p class=\"notice\">This event could not be shown.</p></article>\n"
        }
    }

    func renderItem(_ item: TimelineItem, links: RoomLinks, fromThreadPage: Bool) throws -> String {
        let id = attr(item.eventID)
        let time = UTCTime(millis: item.originServerTS)
        let name = item.senderDisplayName ?? item.sender
        let up = fromThreadPage ? "../" : ""
        let permalink = "<a class=\"time\" href=\"#\(id)\"><time datetime=\"\(time.iso8601)\">\(time.clock)</time></a>"
        if item.stateKey != nil, let sentence = EventText.stateSentence(item) {
            return "<div class=\"msg state\" id=\"\(id)\"><span class=\"sender\" title=\"\(attr(item.sender))\">\(esc(name))</span> \(esc(sentence)) \(permalink)</div>\n"
        }
        var html = "<article class=\"msg\" id=\"\(id)\">\n<header><span class=\"sender\" title=\"\(attr(item.sender))\">\(esc(name))</span>"
        html += "<span class=\"mxid\">\(esc(item.sender))</span>\(permalink)</header>\n"
        if let replyTo = item.inReplyTo {
            if let summary = try store.eventSummary(replyTo) {
                html += quote(summary, label: "In reply to", links: links, fromThreadPage: fromThreadPage)
            } else {
                html += "<blockquote class=\"reply\">In reply to a message that is not in the archive</blockquote>\n"
            }
        }
        if EventText.isStripped(item) {
            html += "<p class=\"notice redacted\">Message deleted</p>\n"
        } else if EventText.isUndecryptable(item) {
            html += "<p class=\"notice undecryptable\">Unable to decrypt this message (\(esc(item.decryption)))</p>\n"
        } else {
            if item.redacted { html += "<p class=\"notice redacted\">Deleted by its sender; the content is kept under legal hold.</p>\n" }
            let root = ExportPath.rootPrefix(of: links.context.directory + "/page.html") + up
            let media = MediaLinks(
                file: storedMedia[ArchiveStore.mediaKey(item.eventID, .file)].map { root + "media/" + $0 },
                thumbnail: storedMedia[ArchiveStore.mediaKey(item.eventID, .thumbnail)].map { root + "media/" + $0 })
            html += "<div class=\"body\">" + bodyHTML(item.content, type: item.type, senderName: name,
                                                      isReply: item.inReplyTo != nil, media: media) + "</div>\n"
            if item.edited {
                html += try editHistory(item)
            }
        }
        if !item.reactions.isEmpty {
            html += "<ul class=\"reactions\" aria-label=\"Reactions\">"
            for (key, count) in item.reactions.sorted(by: { $0.key < $1.key }) {
                html += "<li>\(esc(key)) <span class=\"count\">\(count)</span></li>"
            }
            html += "</ul>\n"
        }
        if let thread = item.thread, links.threadRoots.contains(item.eventID) {
            let href = up + "threads/" + ExportPath.component(forID: item.eventID) + ".html"
            let label = thread.replyCount == 1 ? "1 reply" : "\(thread.replyCount) replies"
            html += "<p class=\"thread-link\"><a href=\"\(attr(href))\">\(label) in thread</a></p>\n"
        }
        html += "</article>\n"
        return html
    }

    /// A quoted event (reply target, thread root) with a link to it when it is in this export.
    func quote(_ summary: EventSummary, label: String, links: RoomLinks, fromThreadPage: Bool) -> String {
        let name = esc(summary.senderDisplayName ?? summary.sender)
        var text = summary.redacted && summary.content["body"] == nil ? "[message deleted]"
            : TextRenderer.snippet(EventText.stripReplyFallback(summary.content["body"]?.stringValue ?? "[\(summary.content["msgtype"]?.stringValue ?? "event")]"))
        if text.isEmpty { text = "…" }
        var head = "\(esc(label)) <b>\(name)</b>"
        if let href = links.href(of: summary) {
            head = "<a href=\"\(attr((fromThreadPage ? "../" : "") + href))\">\(head)</a>"
        }
        return "<blockquote class=\"reply\">\(head): \(esc(text))</blockquote>\n"
    }

    /// The earlier versions of an edited message, oldest first, in a `<details>`.
    func editHistory(_ item: TimelineItem) throws -> String {
        let versions = try store.contentVersions(of: item.eventID, validEdits: item.edits)
        let earlier = versions.filter { $0.eventID != item.replacedBy }
        var html = "<details class=\"edits\"><summary>edited</summary><ol>"
        for version in earlier {
            let time = UTCTime(millis: version.originServerTS)
            html += "<li><time datetime=\"\(time.iso8601)\">\(time.display)</time>: "
                + bodyHTML(version.content, type: item.type, senderName: item.senderDisplayName ?? item.sender, isReply: false) + "</li>"
        }
        return html + "</ol></details>\n"
    }

    /// Where an item's attachment and thumbnail are in this export (nil: not included).
    struct MediaLinks {
        var file: String?
        var thumbnail: String?
        static let none = MediaLinks(file: nil, thumbnail: nil)
    }

    func bodyHTML(_ content: JSONValue, type: String, senderName: String, isReply: Bool,
                  media: MediaLinks = .none) -> String {
        let body = content["body"]?.stringValue ?? ""
        // A sticker has no msgtype: it is an image.
        let msgtype = type == "m.sticker" ? "m.image" : content["msgtype"]?.stringValue
        switch msgtype {
        case "m.image", "m.file", "m.video", "m.audio":
            let label = type == "m.sticker" ? "Sticker"
                : ["m.image": "Image", "m.file": "File", "m.video": "Video", "m.audio": "Audio"][msgtype!]!
            let fileName = content["filename"]?.stringValue ?? body
            let size = content.value(at: "info", "size")?.int64Value.map { " (\(Self.byteCount($0)))" } ?? ""
            var html = ""
            // Files are named by their SHA-256 in media/, without a type: every link carries `download` (with
            // the real name), so that a file is saved, never opened as a page of the archive's own origin.
            if msgtype == "m.image", let shown = media.thumbnail ?? media.file {
                html += "<a class=\"image\" href=\"\(attr(media.file ?? shown))\" download=\"\(attr(fileName))\">"
                    + "<img src=\"\(attr(shown))\" alt=\"\(attr(fileName))\" loading=\"lazy\"></a>"
            }
            if let file = media.file {
                html += "<a class=\"attachment\" href=\"\(attr(file))\" download=\"\(attr(fileName))\">\(label): "
                    + "\(esc(fileName))\(size)</a>"
            } else {
                html += "<span class=\"attachment\">\(label): \(esc(fileName))\(size) — not included in this export</span>"
            }
            if let caption = content["filename"]?.stringValue, caption != body, !body.isEmpty {
                html += "<p>\(plainHTML(body))</p>"
            }
            return html
        case "m.location":
            return "<span class=\"attachment\">Location: \(esc(body)) \(esc(content["geo_uri"]?.stringValue ?? ""))</span>"
        default:
            break
        }
        var html: String
        if content["format"]?.stringValue == "org.matrix.custom.html", let formatted = content["formatted_body"]?.stringValue {
            html = HTMLSanitizer.sanitize(formatted)
        } else if content["body"] != nil {
            html = plainHTML(isReply ? EventText.stripReplyFallback(body) : body)
        } else {
            html = "<span class=\"notice\">[\(esc(type))]</span>"
        }
        if msgtype == "m.emote" { html = "<span class=\"emote\">* \(esc(senderName))</span> " + html }
        return html
    }

    func plainHTML(_ text: String) -> String {
        esc(text).replacingOccurrences(of: "\n", with: "<br>")
    }

    static func byteCount(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return "\(bytes / 1024) KB" }
        return "\(bytes >> 20) MB"
    }

    // MARK: Index

    func finish(rooms: [RoomExportResult], spaces: [String: [String]], writer: ExportWriter) throws {
        let byID = Dictionary(rooms.map { ($0.roomID, $0) }, uniquingKeysWith: { first, _ in first })
        let nested = Set(spaces.values.joined())
        var body = "<ul class=\"rooms\">\n"
        var listed: Set<String> = []
        func item(_ room: RoomExportResult, depth: Int) {
            guard listed.insert(room.roomID).inserted else { return }
            let name = room.name ?? room.canonicalAlias ?? room.roomID
            body += "<li><a href=\"\(attr(room.path))\">\(esc(name))</a>"
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
        var page = Page(path: "index.html", title: "Matrix archive", heading: "Matrix archive",
                        subheading: "\(rooms.count) rooms", breadcrumbs: "Archive")
        if !searchScripts.isEmpty, templates.assets.contains(where: { $0.name == "search.js" }) {
            page.scripts = searchScripts + ["assets/search.js"]
        }
        let file = open(page)
        file.append(body)
        try close(file, page, writer: writer)
    }
}
