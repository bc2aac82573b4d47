import ArchiveCore
import ArchiveStore
import Foundation
import SearchIndex

/// What to search for, beside the query text: the command-line filters.
public struct SearchOptions: Sendable {
    public var rooms: [String] = []
    public var sender: String?
    /// Milliseconds; `since` inclusive, `until` exclusive.
    public var since: Int64?
    public var until: Int64?
    public var thread: String?
    public var limit = 20
    public var offset = 0
    public var sortByDate = false
    public var context = 0
    public var snippetLength = 200

    public init() {}
}

/// One search result, ready to print.
public struct SearchResult: Sendable {
    public var message: MessageInfo
    public var roomName: String?
    public var score: Double
    public var snippet: Snippet
    public var contextBefore: [MessageInfo]
    public var contextAfter: [MessageInfo]

    /// `https://matrix.to/#/ROOM/EVENT`, the link every client opens.
    public var permalink: String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~!$:@"))
        func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        return "https://matrix.to/#/\(encode(message.roomID))/\(encode(message.eventID))"
    }
}

public struct SearchResults: Sendable {
    public var query: String
    public var totalEstimate: Int
    public var results: [SearchResult]
    /// Changes the index has not caught up with (a sync ran with --no-index, or is running now).
    public var indexLag: Int64
}

/// `mxarchive search`: parses the query, searches the index, and reads each hit's current text, room,
/// sender and context from the store (the store is the truth; the index only finds). The index is opened
/// at the first search and kept for the next ones.
public final class SearchService {
    let store: ArchiveStore
    private var opened: (reader: SearchIndexReader, buildID: String)?

    public init(store: ArchiveStore) { self.store = store }

    /// Parses a query; a `SearchQueryError` is a usage error.
    public static func parse(_ query: String) throws -> SearchExpression {
        do { return try SearchQueryParser.parse(query) } catch let error as SearchQueryError {
            throw ArchiveError.usage(error.description)
        }
    }

    public func search(_ query: String, options: SearchOptions) throws -> SearchResults {
        try store.reading { try run(query, options: options) }
    }

    private func run(_ query: String, options: SearchOptions) throws -> SearchResults {
        var terms = [try Self.parse(query)]
        if !options.rooms.isEmpty { terms.append(.or(options.rooms.map(SearchExpression.room))) }
        if let sender = options.sender { terms.append(.sender(sender)) }
        if options.since != nil || options.until != nil { terms.append(.time(from: options.since, until: options.until)) }
        if let thread = options.thread { terms.append(.thread(thread)) }
        let expression: SearchExpression = terms.count == 1 ? terms[0] : .and(terms.flatMap { term -> [SearchExpression] in
            if case .and(let items) = term { return items }
            return [term]
        })

        guard let state = try store.searchIndexState() else { throw Self.noIndex(store) }
        let reader: SearchIndexReader
        if let opened, opened.buildID == state.buildID {
            reader = opened.reader
        } else {
            guard let (layout, _) = try SearchIndexer.currentLayout(store: store) else { throw Self.noIndex(store) }
            reader = try SearchIndexReader(layout: layout)
            opened = (reader, state.buildID)
        }
        let page: SearchPage
        do {
            page = try reader.search(expression, offset: options.offset, limit: options.limit,
                                     sortByDate: options.sortByDate, resolveRoom: resolveRoom)
        } catch let error as SearchQueryError {
            throw ArchiveError.usage(error.description)
        }
        var results: [SearchResult] = []
        var roomNames: [String: String?] = [:]
        for match in page.matches {
            // A document the store no longer backs (a crash between store and index) is skipped; the next
            // sync repairs the index.
            guard let message = try store.messageInfo(eventID: match.eventID) else { continue }
            if roomNames[message.roomID] == nil { roomNames[message.roomID] = try store.roomLabel(message.roomID) }
            let text = message.text ?? ""
            var snippet = text.isEmpty ? Snippet(marked: "") : try page.snippet(of: text, length: options.snippetLength)
            if snippet.plain.allSatisfy(\.isWhitespace) {
                // Never empty: a message found by its filters alone, or an attachment without a caption.
                snippet = Snippet(marked: text.isEmpty ? "[\(message.msgtype ?? "message")]" : String(text.prefix(options.snippetLength)))
            }
            let context = try store.neighbours(of: message, count: options.context)
            results.append(SearchResult(message: message, roomName: roomNames[message.roomID] ?? nil, score: match.score,
                                        snippet: snippet, contextBefore: context.before, contextAfter: context.after))
        }
        let lag = max(0, try store.latestChange() - state.cursor)
        return SearchResults(query: query, totalEstimate: page.totalEstimate, results: results, indexLag: lag)
    }

    static func noIndex(_ store: ArchiveStore) -> ArchiveError {
        .failure("there is no search index in \(store.directory.path) yet: run `mxarchive reindex`")
    }

    func resolveRoom(_ idOrAlias: String) throws -> String {
        if idOrAlias.hasPrefix("#") {
            guard let roomID = try store.roomID(forAlias: idOrAlias) else {
                throw ArchiveError.usage("room \(idOrAlias) is not in the archive")
            }
            return roomID
        }
        return idOrAlias
    }
}

/// `verify`'s view of the index: does it hold exactly the messages the store says it should, each as the
/// store has it now? Changes the index has not reached yet (a sync killed mid-way, `sync --no-index`) are
/// not a disagreement — the next sync catches up — and are reported as notes; so is an index a crash left
/// half-built, which the next sync rebuilds.
public enum SearchIndexCheck {
    public static func check(store: ArchiveStore) throws -> (problems: [String], notes: [String]) {
        guard let state = try store.searchIndexState() else { return ([], []) }  // never indexed
        guard let (layout, _) = try SearchIndexer.currentLayout(store: store) else {
            return ([], ["search index: missing or not the build the archive expects; the next sync or `mxarchive reindex` rebuilds it"])
        }
        var notes: [String] = []
        let latest = try store.latestChange()
        if state.cursor < latest {
            notes.append("search index: \(latest - state.cursor) changes behind the archive; the next `mxarchive sync` (or `mxarchive reindex`) catches up")
        }
        var expected: [String: UInt64] = [:]
        var pending: Set<String> = []
        var cursor: Int64 = 0
        while true {
            let (events, last) = try store.changedEvents(after: cursor, limit: 5_000)
            guard let last else { break }
            for event in events {
                if event.changeSeq > state.cursor {
                    pending.insert(event.eventID)  // the index may hold it as it was, or not yet
                } else if case .put(let document) = SearchDocument.action(for: event) {
                    expected[document.eventID] = document.contentHash
                }
            }
            cursor = last
        }
        let indexed = try SearchIndexReader(layout: layout).allDocuments()
        var problems: [String] = []
        let missing = expected.keys.filter { indexed[$0] == nil }.sorted()
        let extra = indexed.keys.filter { expected[$0] == nil && !pending.contains($0) }.sorted()
        let stale = expected.filter { id, hash in indexed[id].map { $0 != hash } ?? false }.keys.sorted()
        func report(_ ids: [String], _ what: String) {
            guard !ids.isEmpty else { return }
            let sample = ids.prefix(5).joined(separator: ", ")
            problems.append("search index: \(ids.count) \(what) (\(sample)\(ids.count > 5 ? ", …" : "")); run `mxarchive reindex`")
        }
        report(missing, "messages of the archive are not indexed")
        report(extra, "indexed documents are not (or no longer) searchable messages of the archive")
        report(stale, "indexed documents differ from the archive's current text")
        return (problems, notes)
    }
}

/// The stemming languages an index can use (`reindex --language`).
public enum SearchIndexLanguages {
    public static var all: [String] { SearchIndexLayout.supportedLanguages }
    public static func isValid(_ name: String) -> Bool { SearchIndexLayout.isValidLanguage(name) }
}
