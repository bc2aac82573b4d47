import ArchiveCore

/// One page of the HTML export: where it goes and what its template's placeholders say. `subheading`,
/// `breadcrumbs` and `pager` are HTML already; `title` and `heading` are text (escaped when filled in).
struct HTMLPage: Equatable {
    var path: String
    var title: String
    var heading: String
    var subheading: String = ""
    var breadcrumbs: String = ""
    var pager: String = ""
    /// Script files (paths relative to the export root), loaded at the end of the page.
    var scripts: [String] = []
}

/// What every page carries whatever it shows: the head (a CSP that allows no script but the archive's own
/// and nothing from the network, `noindex` unless indexing is allowed) and the footer line.
struct HTMLChrome {
    let toolVersion: String
    let allowIndexing: Bool
    /// Seconds.
    let exportTime: Int64

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "media-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'"

    init(options: ExportOptions) {
        self.init(toolVersion: options.toolVersion, allowIndexing: options.allowIndexing, exportTime: options.exportTime)
    }

    init(toolVersion: String, allowIndexing: Bool, exportTime: Int64) {
        self.toolVersion = toolVersion
        self.allowIndexing = allowIndexing
        self.exportTime = exportTime
    }

    var head: String {
        var head = """
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)">
            <meta name="referrer" content="no-referrer">
            <meta name="generator" content="mxarchive \(HTMLPages.esc(toolVersion))">
            """
        if !allowIndexing { head += "\n<meta name=\"robots\" content=\"noindex\">" }
        return head
    }

    /// The template's placeholder values for `page` (all but `content`, which the page's body fills).
    func values(_ page: HTMLPage) -> [String: String] {
        let root = ExportPath.rootPrefix(of: page.path)
        return [
            "head": head, "title": HTMLPages.esc(page.title), "root": root,
            "breadcrumbs": page.breadcrumbs, "heading": HTMLPages.esc(page.heading),
            "subheading": page.subheading.isEmpty ? "" : "<p class=\"subheading\">\(page.subheading)</p>",
            "pager": page.pager,
            "scripts": page.scripts.map { "<script src=\"\(root)\($0)\"></script>" }.joined(separator: "\n"),
            "footer": "Exported by mxarchive \(HTMLPages.esc(toolVersion)) on \(UTCTime(millis: exportTime * 1000).display). All times are UTC.",
        ]
    }
}
