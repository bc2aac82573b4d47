import ArchiveCore
import Foundation

/// A parsed search query: the tree `mxarchive search` turns into a Xapian query.
public indirect enum SearchExpression: Sendable, Hashable {
    /// One word as typed (stemmed by the index's language; `*` at the end makes it a prefix). `partial`:
    /// the last word of the query, which also matches as a prefix (`migr` finds `migration`).
    case word(String, partial: Bool)
    /// `"exact phrase"`.
    case phrase(String)
    /// `from:@alice:example.org`
    case sender(String)
    /// `in:!roomid` or `in:#alias` (aliases are resolved against the archive).
    case room(String)
    /// `has:image` …
    case has(SearchFeature)
    /// Milliseconds since the epoch: `from` inclusive, `until` exclusive.
    case time(from: Int64?, until: Int64?)
    /// `thread:$root`: the root and its replies.
    case thread(String)
    case and([SearchExpression])
    case or([SearchExpression])
    case not(SearchExpression)

    /// Filters select without scoring; words and phrases score.
    public var isFilter: Bool {
        switch self {
        case .sender, .room, .has, .time, .thread: return true
        case .word, .phrase, .not: return false
        case .and(let items), .or(let items): return items.allSatisfy(\.isFilter)
        }
    }
}

/// A query that does not parse: the message names the offending part. Exit code 2.
public struct SearchQueryError: ReportableError {
    public var category: ErrorCategory { .usage }
    public let description: String
    init(_ message: String) { description = message }
}

/// The query language of `mxarchive search`:
///
///     words  "exact phrase"  a AND b  a OR b  NOT a  -a  (a OR b) c  migr*
///     from:@alice:example.org  in:!room  in:#alias  has:image|video|audio|file|link
///     before:2024-03-01  after:2024-01-01  date:2024-03-01  date:2024-01-01..2024-03-31  thread:$event
///
/// Words next to each other must all match. `AND`, `OR`, `NOT` are operators only in capitals. Dates are UTC:
/// `before:D` is before that day starts, `after:D` after it ends, `date:A..B` includes both days; a full time
/// (`2024-03-01T12:00:00Z`) is taken as it is.
public enum SearchQueryParser {
    public static func parse(_ text: String) throws -> SearchExpression {
        var tokens = try tokenize(text)
        guard !tokens.isEmpty else { throw SearchQueryError("the query is empty") }
        // The last word of the query also matches as a prefix: people type queries as they think.
        if let last = tokens.lastIndex(where: { if case .word = $0.kind { return true } else { return false } }),
           case .word(let word) = tokens[last].kind, !word.hasSuffix("*"), word.count >= 3,
           !(last > 0 && (tokens[last - 1].kind == .minus || tokens[last - 1].kind == .not)) {
            tokens[last].partial = true
        }
        var parser = Parser(tokens: tokens, text: text)
        let expression = try parser.parseOr()
        if let extra = parser.peek {
            throw parser.error(at: extra, extra.kind == .close ? "unmatched ')'" : "unexpected '\(extra.text)'")
        }
        return expression
    }

    struct Token {
        enum Kind: Equatable {
            case word(String)
            case phrase(String)
            case field(String, String)
            case open, close, and, or, not, minus
        }
        var kind: Kind
        var text: String
        var offset: Int
        var partial = false
    }

    static let fields: Set<String> = ["from", "in", "has", "before", "after", "date", "thread"]

    static func tokenize(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var index = 0
        func isBreak(_ character: Character) -> Bool { character.isWhitespace || character == "(" || character == ")" }
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                index += 1
            } else if character == "(" || character == ")" {
                tokens.append(Token(kind: character == "(" ? .open : .close, text: String(character), offset: index))
                index += 1
            } else if character == "\"" {
                guard let end = characters[(index + 1)...].firstIndex(of: "\"") else {
                    throw SearchQueryError("unterminated quote in the query at \"\(String(characters[index...]).prefix(30))\"")
                }
                let phrase = String(characters[(index + 1)..<end])
                tokens.append(Token(kind: .phrase(phrase), text: "\"\(phrase)\"", offset: index))
                index = end + 1
            } else if character == "-", index + 1 < characters.count, !characters[index + 1].isWhitespace,
                      characters[index + 1] != "-", characters[index + 1] != ")" {
                tokens.append(Token(kind: .minus, text: "-", offset: index))
                index += 1
            } else {
                var end = index
                while end < characters.count, !isBreak(characters[end]) {
                    // A quoted field value: in:"#my room:example.org" is not needed (ids have no spaces).
                    end += 1
                }
                let word = String(characters[index..<end])
                let kind: Token.Kind
                switch word {
                case "AND": kind = .and
                case "OR": kind = .or
                case "NOT": kind = .not
                default:
                    if let colon = word.firstIndex(of: ":"), fields.contains(word[..<colon].lowercased()) {
                        kind = .field(word[..<colon].lowercased(), String(word[word.index(after: colon)...]))
                    } else {
                        kind = .word(word)
                    }
                }
                tokens.append(Token(kind: kind, text: word, offset: index))
                index = end
            }
        }
        return tokens
    }

    struct Parser {
        var tokens: [Token]
        let text: String
        var position = 0

        var peek: Token? { position < tokens.count ? tokens[position] : nil }

        func error(at token: Token?, _ message: String) -> SearchQueryError {
            guard let token else { return SearchQueryError("the query ends too early: \(message)") }
            return SearchQueryError("cannot parse the query at '\(token.text)' (character \(token.offset + 1)): \(message)")
        }

        mutating func parseOr() throws -> SearchExpression {
            var items = [try parseAnd()]
            while let token = peek, token.kind == .or {
                position += 1
                guard let next = peek, next.startsTerm else { throw error(at: peek ?? token, "OR needs a term on both sides") }
                items.append(try parseAnd())
            }
            return items.count == 1 ? items[0] : .or(items)
        }

        mutating func parseAnd() throws -> SearchExpression {
            var items = [try parseUnary()]
            while let token = peek, token.kind != .or, token.kind != .close {
                if token.kind == .and {
                    position += 1
                    guard let next = peek, next.startsTerm else { throw error(at: peek ?? token, "AND needs a term on both sides") }
                }
                items.append(try parseUnary())
            }
            return items.count == 1 ? items[0] : .and(items)
        }

        mutating func parseUnary() throws -> SearchExpression {
            guard let token = peek else { throw error(at: nil, "a term is missing") }
            if token.kind == .not || token.kind == .minus {
                position += 1
                guard let next = peek, next.startsTerm, next.kind != .not, next.kind != .minus else {
                    throw error(at: peek ?? token, "\(token.text) needs a term after it")
                }
                return .not(try parseUnary())
            }
            return try parseAtom()
        }

        mutating func parseAtom() throws -> SearchExpression {
            guard let token = peek else { throw error(at: nil, "a term is missing") }
            position += 1
            switch token.kind {
            case .open:
                if peek?.kind == .close { throw error(at: token, "empty parentheses") }
                let inner = try parseOr()
                guard peek?.kind == .close else { throw error(at: token, "missing ')'") }
                position += 1
                return inner
            case .close: throw error(at: token, "unmatched ')'")
            case .and, .or: throw error(at: token, "\(token.text) needs a term on both sides")
            case .not, .minus: throw error(at: token, "\(token.text) needs a term after it")
            case .word(let word): return .word(word, partial: token.partial)
            case .phrase(let phrase):
                guard phrase.contains(where: { $0.isLetter || $0.isNumber }) else { throw error(at: token, "empty phrase") }
                return .phrase(phrase)
            case .field(let name, let value): return try field(name, value, token)
            }
        }

        func field(_ name: String, _ value: String, _ token: Token) throws -> SearchExpression {
            guard !value.isEmpty else { throw error(at: token, "\(name): needs a value") }
            switch name {
            case "from":
                guard value.hasPrefix("@"), value.contains(":") else {
                    throw error(at: token, "from: takes a user id such as @alice:example.org")
                }
                return .sender(value)
            case "in":
                guard value.hasPrefix("!") || value.hasPrefix("#") else {
                    throw error(at: token, "in: takes a room id (!…) or alias (#…)")
                }
                return .room(value)
            case "thread":
                guard value.hasPrefix("$") else { throw error(at: token, "thread: takes an event id ($…)") }
                return .thread(value)
            case "has":
                if value == "attachment" { return .has(.file) }
                guard let feature = SearchFeature(rawValue: value) else {
                    throw error(at: token, "has: takes one of \(SearchFeature.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return .has(feature)
            case "before":
                let bound = try date(value, token)
                return .time(from: nil, until: bound.start)
            case "after":
                let bound = try date(value, token)
                return .time(from: bound.isDay ? bound.start + Timestamp.dayMilliseconds : bound.start + 1, until: nil)
            case "date":
                if let range = value.range(of: "..") {
                    let low = String(value[..<range.lowerBound])
                    let high = String(value[range.upperBound...])
                    guard !low.isEmpty || !high.isEmpty else { throw error(at: token, "date: range needs a start or an end") }
                    let from = low.isEmpty ? nil : try date(low, token).start
                    var until: Int64?
                    if !high.isEmpty {
                        let bound = try date(high, token)
                        until = bound.isDay ? bound.start + Timestamp.dayMilliseconds : bound.start + 1
                    }
                    if let from, let until, from >= until { throw error(at: token, "date: range ends before it starts") }
                    return .time(from: from, until: until)
                }
                let bound = try date(value, token)
                return .time(from: bound.start, until: bound.isDay ? bound.start + Timestamp.dayMilliseconds : bound.start + 1)
            default:
                throw error(at: token, "unknown field \(name):")
            }
        }

        func date(_ value: String, _ token: Token) throws -> (start: Int64, isDay: Bool) {
            guard let date = DateArgument(value) else {
                throw error(at: token, "'\(value)' is not a date (use YYYY-MM-DD or 2024-03-01T12:00:00Z, UTC)")
            }
            return (date.start.milliseconds, date.isDay)
        }
    }
}

extension SearchQueryParser.Token {
    /// Whether a term can begin with this token (for "AND needs a term on both sides").
    var startsTerm: Bool {
        switch kind {
        case .and, .or, .close: return false
        default: return true
        }
    }
}
