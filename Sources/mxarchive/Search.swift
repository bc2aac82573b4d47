import ArchiveCore
import ArchiveStore
import ArgumentParser
import Foundation
import ArchiveService

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
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, DateArgument.parse(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a date (use YYYY-MM-DD or 2024-03-01T12:00:00Z)")
            }
        }
        if let sender, !sender.hasPrefix("@") { throw ValidationError("--sender takes a user id such as @alice:example.org") }
        if let thread, !thread.hasPrefix("$") { throw ValidationError("--thread takes an event id ($…)") }
    }

    func run() throws {
        let store = try global.openStore(memoryMappedReads: true)
        var options = SearchOptions()
        options.rooms = rooms
        options.sender = sender
        options.since = since.flatMap(DateArgument.parse)
        options.until = until.flatMap(DateArgument.parse)
        if let until, DateArgument.isDay(until), let day = options.until { options.until = day + DateArgument.dayMillis }
        options.thread = thread
        options.limit = limit
        options.offset = offset
        options.sortByDate = sort == .date
        options.context = context
        let text = query.joined(separator: " ")
        let found = try SearchService(store: store).search(text, options: options)
        if found.indexLag > 0 {
            ErrorReporter.printError("note: the search index is \(found.indexLag) changes behind the archive; "
                                     + "`mxarchive sync` or `mxarchive reindex` brings it up to date")
        }
        if json {
            emit(JSONCoding.encode(Self.json(found)))
        } else {
            printHuman(found, bold: isTerminal(1))
        }
    }

    static func json(_ found: SearchResults) -> JSONValue {
        func message(_ info: MessageInfo) -> JSONValue {
            [
                "event_id": .string(info.eventID),
                "sender": .string(info.sender),
                "sender_display_name": info.senderDisplayName.map(JSONValue.string) ?? .null,
                "origin_server_ts": .int(info.originServerTS),
                "body": info.text.map(JSONValue.string) ?? .null,
            ]
        }
        let results: [JSONValue] = found.results.map { result in
            let info = result.message
            return [
                "event_id": .string(info.eventID),
                "room_id": .string(info.roomID),
                "room_name": result.roomName.map(JSONValue.string) ?? .null,
                "sender": .string(info.sender),
                "sender_display_name": info.senderDisplayName.map(JSONValue.string) ?? .null,
                "origin_server_ts": .int(info.originServerTS),
                "body": info.text.map(JSONValue.string) ?? .null,
                "snippet": .string(result.snippet.plain),
                "score": .double(result.score),
                "thread_root": info.threadRoot.map(JSONValue.string) ?? .null,
                "permalink": .string(result.permalink),
                "context_before": .array(result.contextBefore.map(message)),
                "context_after": .array(result.contextAfter.map(message)),
            ]
        }
        return ["query": .string(found.query), "total_estimate": .int(Int64(found.totalEstimate)),
                "results": .array(results)]
    }

    func printHuman(_ found: SearchResults, bold: Bool) {
        guard !found.results.isEmpty else {
            emit(offset > 0 && found.totalEstimate > 0 ? "no more matches (about \(found.totalEstimate) in all)" : "no matches")
            return
        }
        let first = offset + 1
        emit("about \(found.totalEstimate) matches; showing \(first)–\(offset + found.results.count)")
        for result in found.results {
            let info = result.message
            emit("")
            emit("\(result.roomName ?? info.roomID) · \(Self.who(info)) · \(Self.time(info.originServerTS))")
            for before in result.contextBefore { emit("    \(Self.contextLine(before))") }
            let snippet = bold ? result.snippet.highlighted(start: "\u{1B}[1m", end: "\u{1B}[0m") : result.snippet.plain
            for (index, line) in snippet.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
                emit((index == 0 ? "  » " : "    ") + line)
            }
            for after in result.contextAfter { emit("    \(Self.contextLine(after))") }
            emit("  \(result.permalink)")
        }
    }

    static func who(_ info: MessageInfo) -> String {
        info.senderDisplayName.map { "\($0) (\(info.sender))" } ?? info.sender
    }

    static func time(_ millis: Int64) -> String {
        DateArgument.format(millis).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    static func contextLine(_ info: MessageInfo) -> String {
        let text = info.text.map { $0.replacingOccurrences(of: "\n", with: " ") } ?? (info.redacted ? "[redacted]" : "[\(info.msgtype ?? "message")]")
        return "[\(time(info.originServerTS))] \(info.senderDisplayName ?? info.sender): \(text.prefix(200))"
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
        let store = try global.openStore()
        let lock = try StoreLock(directory: global.storeURL)
        defer { withExtendedLifetime(lock) {} }
        let indexer = try SearchIndexer(storeDirectory: store.directory)
        defer { indexer.close() }
        let result = try indexer.catchUp(rebuild: true, language: language?.lowercased(), shards: shards)
        let state = try store.searchIndexState()
        let rate = Double(result.documentsWritten) / max(result.seconds, 0.001)
        if json {
            emit(JSONCoding.encode([
                "documents": .int(Int64(result.documentsWritten)), "seconds": .double(result.seconds),
                "language": .string(state?.language ?? ""), "shards": .int(Int64(state?.shards ?? 0)),
            ]))
        } else {
            emit("indexed \(result.documentsWritten) messages in \(String(format: "%.1f", result.seconds)) s "
                 + "(\(Int(rate)) messages/s; language \(state?.language ?? "?"), \(state?.shards ?? 0) shards)")
        }
    }
}
