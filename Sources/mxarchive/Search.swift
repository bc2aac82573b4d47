import ArchiveService
import ArgumentParser

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search the whole archive (offline): words, phrases, people, rooms, dates.",
        discussion: """
            The query language:
              deploy failed            both words (the last word also matches as a prefix: migr → migration)
              "exact phrase"           the words in this order
              deploy OR release        either; NOT word or -word excludes; (a OR b) c groups
              migra*                   any word starting with migra
              from:@alice:example.org  in:!roomid  in:#alias:example.org  thread:$eventid
              has:image  has:video  has:audio  has:file  has:link
              before:2024-03-01  after:2024-01-01  date:2024-03-01  date:2024-01-01..2024-03-31
            Words are stemmed (running finds runs) in the index's language (`mxarchive reindex --language`);
            Chinese and Japanese are matched by character n-grams. Dates are UTC; `before:` and `after:`
            exclude the day named, `date:A..B` includes both. A query that starts with '-' goes after '--':
              mxarchive search -- '-draft release notes'
            With --json, one object as described by schemas/search-result.schema.json.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The query (several arguments are joined with spaces).", valueName: "query"))
    var query: [String]

    @Option(name: .customLong("room"), help: ArgumentHelp("Only this room (id or alias); repeatable.", valueName: "id-or-alias"))
    var rooms: [String] = []

    @Option(help: ArgumentHelp("Only messages from this user.", valueName: "mxid"))
    var sender: String?

    @Option(help: ArgumentHelp("Only messages at or after this date (YYYY-MM-DD or ISO 8601, UTC).", valueName: "date"))
    var since: String?

    @Option(help: ArgumentHelp("Only messages before this time; a bare day includes that day.", valueName: "date"))
    var until: String?

    @Option(help: ArgumentHelp("Only this thread: its root and its replies.", valueName: "event-id"))
    var thread: String?

    @Option(help: ArgumentHelp("Results to show (1–1000).", valueName: "n"))
    var limit = 20

    @Option(help: ArgumentHelp("Results to skip, for paging.", valueName: "n"))
    var offset = 0

    @Option(help: ArgumentHelp("relevance, or date (newest first).", valueName: "order"))
    var sort: SortOrder = .relevance

    @Option(help: ArgumentHelp("Messages to show before and after each result (0–50).", valueName: "n"))
    var context = 0

    @Flag(help: "Print one JSON object (schemas/search-result.schema.json).")
    var json = false

    enum SortOrder: String, ExpressibleByArgument, CaseIterable {
        case relevance, date
    }

    func validate() throws {
        if query.joined().trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the query is empty") }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
        guard offset >= 0 else { throw ValidationError("--offset must not be negative") }
        guard (0...50).contains(context) else { throw ValidationError("--context must be between 0 and 50") }
        try ValidationError.checkDate("--since", since)
        try ValidationError.checkDate("--until", until)
        if let sender, !sender.hasPrefix("@") { throw ValidationError("--sender takes a user id such as @alice:example.org") }
        if let thread, !thread.hasPrefix("$") { throw ValidationError("--thread takes an event id ($…)") }
    }

    func run() throws {
        var request = SearchRequest(query: query.joined(separator: " "))
        request.rooms = rooms
        request.sender = sender
        request.dates = try DateRange(since: since, until: until)
        request.thread = thread
        request.limit = limit
        request.offset = offset
        request.sortByDate = sort == .date
        request.context = context
        Console.print(try global.open(.search).search(request), json: json)
    }
}

struct Reindex: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the search index from the archive (offline).",
        discussion: """
            `sync` keeps the index current by itself; reindex rebuilds it from scratch, for example in
            another stemming language, after `sync --no-index`, or when `verify` reports a disagreement.
            The new index is built beside the old one and swapped in when complete.
              mxarchive reindex --language german
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Stemming language (english, german, french, …, or none); kept for later syncs.",
                               valueName: "name"))
    var language: String?

    @Option(help: ArgumentHelp("Index shards, each written by its own thread (default: one per core).", valueName: "n"))
    var shards: Int?

    @Flag(help: "Print {\"documents\", \"seconds\", \"language\", \"shards\"} as JSON.")
    var json = false

    func validate() throws {
        if let language, !SearchIndexLanguages.isValid(language) {
            throw ValidationError("--language '\(language)' is not one of: \(SearchIndexLanguages.all.joined(separator: ", "))")
        }
        if let shards, !(1...16).contains(shards) { throw ValidationError("--shards must be between 1 and 16") }
    }

    func run() throws {
        Console.printOutcome(try global.open(.maintain).reindex(language: language, shards: shards), json: json)
    }
}
