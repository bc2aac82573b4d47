import ArchiveCore
import Foundation

/// One match of a search.
public struct SearchMatch: Sendable, Hashable {
    public let eventID: String
    public let score: Double
}

/// A snippet with its hits marked; rendered bold on a terminal and plain elsewhere.
public struct Snippet: Sendable, Hashable {
    /// The text with each hit between U+0002 and U+0003.
    public let marked: String

    public init(marked: String) { self.marked = marked }

    /// The two markers, for callers that escape the text around them.
    public static let hitMarkers = Set((XapianResults.highlightStart + XapianResults.highlightEnd).unicodeScalars)

    public var plain: String {
        String(decoding: marked.utf8.filter { $0 != 0x02 && $0 != 0x03 }, as: UTF8.self)
    }

    /// The snippet with each hit between `start` and `end`, always balanced: Xapian can mark a phrase's
    /// words so that a start follows a start (or a cut snippet ends inside a hit), and a terminal would keep
    /// bold on past the snippet. Repeated starts and stray ends are dropped; an open hit is closed at the end.
    public func highlighted(start: String, end: String) -> String {
        var output = ""
        var open = false
        for character in marked {
            switch String(character) {
            case XapianResults.highlightStart:
                if !open { output += start; open = true }
            case XapianResults.highlightEnd:
                if open { output += end; open = false }
            default:
                output.append(character)
            }
        }
        if open { output += end }
        return output
    }

    public var hasHits: Bool { marked.utf8.contains(0x02) }
}

/// One page of results, able to make snippets for its matches.
public final class SearchPage {
    public let matches: [SearchMatch]
    /// Xapian's estimate of all matches (exact for small result sets).
    public let totalEstimate: Int
    private let results: XapianResults

    init(results: XapianResults) throws {
        self.results = results
        matches = try (0..<results.count).map {
            let item = try results.item($0)
            return SearchMatch(eventID: item.eventID, score: item.weight)
        }
        totalEstimate = max(results.estimate, matches.count)
    }

    /// The part of `text` around the hits, about `length` bytes. The hit markers are control characters
    /// a sender can type too: in the text they become U+FFFD first, so every marker in a snippet is
    /// Xapian's and a message cannot switch bold on (or leave it on) in a terminal.
    public func snippet(of text: String, length: Int = 200) throws -> Snippet {
        let markers = Snippet.hitMarkers
        let unmarked = String(String.UnicodeScalarView(text.unicodeScalars.map { markers.contains($0) ? "\u{FFFD}" : $0 }))
        return Snippet(marked: try results.snippet(unmarked, length: length))
    }
}

/// Reads the index: every shard opened together as one database.
public final class SearchIndexReader {
    public let layout: SearchIndexLayout
    private let reader: XapianReader

    public init(layout: SearchIndexLayout) throws {
        guard layout.exists else { throw SearchIndexError.missing(layout.directory.path) }
        self.layout = layout
        reader = try XapianReader(paths: layout.shardPaths, language: layout.language)
    }

    public func documentCount() throws -> Int { try reader.documentCount() }

    /// Event id → content hash of every document (for `verify`).
    public func allDocuments() throws -> [String: UInt64] { try reader.allDocuments() }

    /// Runs a parsed query. `resolveRoom` turns an `in:` value (id or alias) into a room id.
    public func search(_ expression: SearchExpression, offset: Int, limit: Int, sortByDate: Bool,
                       resolveRoom: (String) throws -> String) throws -> SearchPage {
        guard let query = try compile(expression, resolveRoom: resolveRoom) else {
            throw SearchQueryError("the query has no word to search for")
        }
        return try SearchPage(results: reader.search(query, offset: offset, limit: limit, sortByDate: sortByDate))
    }

    /// The Xapian query of an expression, for tests and `--explain`.
    public func describe(_ expression: SearchExpression, resolveRoom: (String) throws -> String) throws -> String {
        try compile(expression, resolveRoom: resolveRoom)?.description ?? "(nothing)"
    }

    /// nil means "no constraint" (a fragment without searchable words).
    private func compile(_ expression: SearchExpression, resolveRoom: (String) throws -> String) throws -> XapianQuery? {
        switch expression {
        case .word(let word, let partial):
            return try reader.textQuery(word, partial: partial)
        case .phrase(let phrase):
            let cleaned = phrase.replacingOccurrences(of: "\"", with: " ")
            return try reader.textQuery("\"\(cleaned)\"", partial: false)
        case .sender(let userID):
            return .term(SearchTerm.sender(userID))
        case .room(let idOrAlias):
            return .term(SearchTerm.room(try resolveRoom(idOrAlias)))
        case .has(let feature):
            return .term(SearchTerm.has(feature))
        case .thread(let root):
            return .combine(.or, [.term(SearchTerm.thread(root)), .term(SearchTerm.id(root))])
        case .time(let from, let until):
            return .time(from: from, through: until.map { $0 - 1 })
        case .not(let inner):
            guard let excluded = try compile(inner, resolveRoom: resolveRoom) else { return nil }
            return .combine(.andNot, [.all, excluded])
        case .or(let items):
            let parts = try items.compactMap { try compile($0, resolveRoom: resolveRoom) }
            return parts.isEmpty ? nil : .combine(.or, parts)
        case .and(let items):
            var scoring: [XapianQuery] = []
            var filters: [XapianQuery] = []
            var excluded: [XapianQuery] = []
            for item in items {
                if case .not(let inner) = item {
                    if let query = try compile(inner, resolveRoom: resolveRoom) { excluded.append(query) }
                } else if item.isFilter {
                    if let query = try compile(item, resolveRoom: resolveRoom) { filters.append(query) }
                } else if let query = try compile(item, resolveRoom: resolveRoom) {
                    scoring.append(query)
                }
            }
            var base: XapianQuery? = scoring.isEmpty ? nil : .combine(.and, scoring)
            if !filters.isEmpty {
                let filter = XapianQuery.combine(.and, filters)
                base = base.map { XapianQuery.combine(.filter, [$0, filter]) } ?? filter
            }
            if !excluded.isEmpty {
                base = XapianQuery.combine(.andNot, [base ?? XapianQuery.all, XapianQuery.combine(.or, excluded)])
            }
            return base
        }
    }
}
