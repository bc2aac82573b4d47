import Foundation

/// A named export of `config.toml` (`[export.NAME]`), run by `mxarchive export --job NAME` and by
/// `sync --then-export`. Its output is a pattern: `{date}` is the day of the run (UTC, YYYY-MM-DD; the
/// day of SOURCE_DATE_EPOCH when set, as for the export's own timestamps) and `{room}` makes one export
/// per named room.
public struct ExportJob: Sendable {
    public static let placeholders = ["{date}", "{room}"]

    public let name: String
    public var format: ExportRequest.Format = .json
    public var output = ""
    public var rooms: [String] = []
    public var spaces: [String] = []
    public var since: String?
    public var until: String?
    public var senders: [String] = []
    public var includeMedia = false
    public var retainRedacted = false
    public var allowIndexing = false
    public var templates: String?
    public var mode: String?
    /// `--page-messages`: at most this many messages on an HTML month or thread page.
    public var pageMessages: Int?

    init(name: String) { self.name = name }

    var perRoom: Bool { output.contains("{room}") }

    /// The job as export requests: one, or one per room with `{room}`. A relative output is taken
    /// relative to the store (a timer or cron runs in / or ~, never where the config was written).
    public func requests(date: String, storeDirectory: URL, toolVersion: String) throws -> [ExportRequest] {
        let targets: [(rooms: [String], slug: String?)] = perRoom ? rooms.map { ([$0], Self.slug($0)) } : [(rooms, nil)]
        return try targets.map { target in
            var path = output.replacingOccurrences(of: "{date}", with: date)
            if let slug = target.slug { path = path.replacingOccurrences(of: "{room}", with: slug) }
            // Joined as text: a trailing / (a folder export) is kept as written.
            if !path.hasPrefix("/") { path = storeDirectory.path + "/" + path }
            var request = ExportRequest(format: format, output: path, toolVersion: toolVersion)
            request.rooms = target.rooms
            request.spaces = spaces
            request.dates = try DateRange(since: since, until: until)
            request.senders = senders
            request.includeMedia = includeMedia
            request.retainRedacted = retainRedacted
            request.allowIndexing = allowIndexing
            request.templates = templates
            request.mode = mode
            request.pageMessages = pageMessages
            return request
        }
    }

    /// A room as written in the job, made a safe file-name part: `#team:example.org` → `team_example.org`.
    static func slug(_ room: String) -> String {
        let bare = room.drop { $0 == "#" || $0 == "!" }
        return String(bare.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }

    /// The day `{date}` stands for: YYYY-MM-DD in UTC of `seconds` since the epoch.
    public static func day(ofSeconds seconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
