import ArchiveCore
import ArchiveStore
import SearchIndex
import Foundation

/// `mxarchive search`: the hits of one query, with their text and context from the store
/// (schemas/search-result.schema.json).
public struct SearchReport: CommandReport {
    public let found: SearchResults
    let offset: Int

    public var jsonValue: JSONValue {
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

    /// Results may miss the newest changes.
    public var warnings: [String] {
        guard found.indexLag > 0 else { return [] }
        return ["note: the search index is \(found.indexLag) changes behind the archive; "
                + "`mxarchive sync` or `mxarchive reindex` brings it up to date"]
    }

    /// - Parameter terminal: the matched words are bold on a terminal.
    public func humanOutput(terminal: Bool) -> [OutputLine] {
        guard !found.results.isEmpty else {
            return [.result(offset > 0 && found.totalEstimate > 0
                            ? "no more matches (about \(found.totalEstimate) in all)" : "no matches")]
        }
        var lines = ["about \(found.totalEstimate) matches; showing \(offset + 1)–\(offset + found.results.count)"]
        for result in found.results {
            let info = result.message
            lines.append("")
            let who = DisplayText.sender(info.sender, displayName: info.senderDisplayName)
            lines.append("\(DisplayText.singleLine(result.roomName ?? info.roomID)) · \(who) · \(Self.time(info.originServerTS))")
            for before in result.contextBefore { lines.append("    \(Self.contextLine(before))") }
            // Deeper than the context lines, so that a line of the message cannot pass for one of them.
            for (index, line) in Self.snippetLines(result.snippet, terminal: terminal).enumerated() {
                lines.append((index == 0 ? "  » " : "      ") + line)
            }
            for after in result.contextAfter { lines.append("    \(Self.contextLine(after))") }
            lines.append("  \(result.permalink)")
        }
        return lines.map(OutputLine.result)
    }

    /// The snippet's lines with the text's controls escaped first and the hit markers (U+0002, U+0003)
    /// kept, so that the bold codes around hits are the only escape sequences that reach the terminal.
    static func snippetLines(_ snippet: Snippet, terminal: Bool) -> [String] {
        DisplayText.lines(snippet.marked, keeping: Snippet.hitMarkers).filter { !$0.isEmpty }.map { line in
            let marked = Snippet(marked: line)
            return terminal ? marked.highlighted(start: "\u{1B}[1m", end: "\u{1B}[0m") : marked.plain
        }
    }

    static func time(_ millis: Int64) -> String { Timestamp(milliseconds: millis).display }

    static func contextLine(_ info: MessageInfo) -> String {
        let text = info.text.map { DisplayText.singleLine($0, breaks: .space) }
            ?? (info.redacted ? "[redacted]" : "[\(DisplayText.singleLine(info.msgtype ?? "message"))]")
        return "[\(time(info.originServerTS))] \(DisplayText.singleLine(MemberName.label(userID: info.sender, displayName: info.senderDisplayName, ambiguous: info.senderNameIsAmbiguous))): \(text.prefix(200))"
    }
}

/// What `mxarchive search` asks besides the query text.
public struct SearchRequest: Sendable {
    public var query: String
    public var rooms: [String] = []
    public var sender: String?
    public var dates = DateRange.all
    public var thread: String?
    public var limit = 20
    public var offset = 0
    public var sortByDate = false
    public var context = 0

    public init(query: String) { self.query = query }
}

extension Archive {
    public func search(_ request: SearchRequest) throws -> SearchReport {
        var options = SearchOptions()
        options.rooms = request.rooms
        options.sender = request.sender
        options.since = request.dates.sinceMillis
        options.until = request.dates.untilMillis
        options.thread = request.thread
        options.limit = request.limit
        options.offset = request.offset
        options.sortByDate = request.sortByDate
        options.context = request.context
        return SearchReport(found: try SearchService(store: store).search(request.query, options: options),
                            offset: request.offset)
    }
}

/// `mxarchive reindex`: the index rebuilt from the archive.
public struct ReindexReport: CommandReport {
    let result: IndexRunResult
    let language: String?
    let shards: Int?

    public var jsonValue: JSONValue {
        ["documents": .int(Int64(result.documentsWritten)), "seconds": .double(result.seconds),
         "language": .string(language ?? ""), "shards": .int(Int64(shards ?? 0))]
    }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        let rate = Double(result.documentsWritten) / max(result.seconds, 0.001)
        return [.result("indexed \(result.documentsWritten) messages in \(String(format: "%.1f", result.seconds)) s "
                        + "(\(Int(rate)) messages/s; language \(language ?? "?"), \(shards ?? 0) shards)")]
    }
}

extension Archive {
    public func reindex(language: String?, shards: Int?) throws -> ReindexReport {
        let indexer = try SearchIndexer(storeDirectory: directory)
        defer { indexer.close() }
        let result = try indexer.catchUp(rebuild: true, language: language?.lowercased(), shards: shards)
        let state = try store.searchIndexState()
        return ReindexReport(result: result, language: state?.language, shards: state?.shards)
    }
}
