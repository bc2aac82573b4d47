import ArchiveCore
import CXapian
import Foundation

/// The one file that talks to the Xapian shim. Each class owns one handle and frees it in `deinit`; every
/// failure arrives as an error string from the shim (which catches every C++ exception) and leaves here as
/// a `SearchIndexError`. No pointer escapes.
func takeError(_ error: UnsafeMutablePointer<CChar>?, step: String) -> SearchIndexError {
    guard let error else { return .xapian(step: step, message: "failed") }
    defer { mxa_x_free(error) }
    return .xapian(step: step, message: String(cString: error))
}

/// A document flattened into the one buffer the shim reads (every string of it, with its ranges), made on
/// the thread that reads the store so that a shard's writer thread spends its time in Xapian.
struct PreparedDocument: Sendable {
    var buffer: [UInt8] = []
    var id = 0..<0, text = 0..<0, terms = 0..<0, room = 0..<0, data = 0..<0
    var timestamp: Double
    var hash: UInt64

    init(_ document: SearchDocument) {
        timestamp = Double(document.originServerTS)
        hash = document.contentHash
        buffer.reserveCapacity(document.textParts.reduce(128) { $0 + $1.utf8.count } + document.terms.count * 48)
        id = append(SearchTerm.id(document.eventID))
        let textStart = buffer.count
        for (index, part) in document.textParts.enumerated() {
            if index > 0 { buffer.append(0x1F) }
            buffer.append(contentsOf: part.utf8)
        }
        text = textStart..<buffer.count
        let termsStart = buffer.count
        for term in document.terms {
            buffer.append(contentsOf: term.utf8)
            buffer.append(0)
        }
        terms = termsStart..<buffer.count
        room = append(document.roomID)
        data = append(document.eventID)
    }

    private mutating func append(_ text: String) -> Range<Int> {
        let start = buffer.count
        buffer.append(contentsOf: text.utf8)
        return start..<buffer.count
    }
}

/// One writable shard. Used by one thread at a time.
final class XapianWriter: @unchecked Sendable {
    private let handle: OpaquePointer
    let path: String

    /// Waits between attempts at a write lock that is refused (see `init`): about 1.3 s in all.
    static let lockRetryDelays: [useconds_t] = [2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 400_000, 500_000]

    /// Opens the shard, trying again for about a second while its write lock is refused. Xapian's lock
    /// is an open-file-description lock on `flintlock`: a child that any thread of this process spawns
    /// holds a copy of that description from fork to exec, so a writer closed an instant ago can still
    /// look locked (a Xapian-only loop beside posix_spawn saw it on two opens in three). A writer that
    /// really holds the lock keeps it for longer than this, and the error then says so.
    init(path: String, overwrite: Bool, language: String) throws {
        var delays = Self.lockRetryDelays[...]
        while true {
            var error: UnsafeMutablePointer<CChar>?
            if let handle = mxa_xwriter_open(path, overwrite ? 1 : 0, language, &error) {
                self.handle = handle
                self.path = path
                return
            }
            let failure = takeError(error, step: "open \(path)")
            guard failure.isLocked, let delay = delays.popFirst() else { throw failure }
            usleep(delay)
        }
    }

    deinit { mxa_xwriter_close(handle) }

    /// Adds or replaces (by its id term) one document.
    func put(_ document: PreparedDocument, replace: Bool) throws {
        var error: UnsafeMutablePointer<CChar>?
        let status = document.buffer.withUnsafeBufferPointer { raw -> Int32 in
            let base = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: CChar.self)
            var input = mxa_xdoc(
                id_term: base + document.id.lowerBound, id_term_length: document.id.count,
                text: base + document.text.lowerBound, text_length: document.text.count,
                terms: base + document.terms.lowerBound, terms_length: document.terms.count,
                timestamp: document.timestamp,
                room: base + document.room.lowerBound, room_length: document.room.count,
                hash: document.hash, data: base + document.data.lowerBound, data_length: document.data.count)
            return mxa_xwriter_put(handle, &input, replace ? 1 : 0, &error)
        }
        if status != 0 {
            let eventID = String(decoding: document.buffer[document.data], as: UTF8.self)
            throw takeError(error, step: "index \(eventID)")
        }
    }

    func delete(eventID: String) throws {
        let term = Array(SearchTerm.id(eventID).utf8)
        var error: UnsafeMutablePointer<CChar>?
        let status = term.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { mxa_xwriter_delete(handle, $0.baseAddress, $0.count, &error) }
        }
        if status != 0 { throw takeError(error, step: "remove \(eventID)") }
    }

    func commit() throws {
        var error: UnsafeMutablePointer<CChar>?
        if mxa_xwriter_commit(handle, &error) != 0 { throw takeError(error, step: "commit \(path)") }
    }

    func documentCount() throws -> Int {
        var error: UnsafeMutablePointer<CChar>?
        let count = mxa_xwriter_document_count(handle, &error)
        if count < 0 { throw takeError(error, step: "count documents in \(path)") }
        return Int(count)
    }
}

/// The shards opened together as one database, for searching.
final class XapianReader {
    private let handle: OpaquePointer

    init(paths: [String], language: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        var cStrings = paths.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let handle = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) {
                mxa_xreader_open($0.baseAddress, $0.count, language, &error)
            }
        }
        guard let handle else { throw takeError(error, step: "open the search index") }
        self.handle = handle
    }

    deinit { mxa_xreader_close(handle) }

    func documentCount() throws -> Int {
        var error: UnsafeMutablePointer<CChar>?
        let count = mxa_xreader_document_count(handle, &error)
        if count < 0 { throw takeError(error, step: "count documents") }
        return Int(count)
    }

    /// Every document's event id and content hash.
    func allDocuments() throws -> [String: UInt64] {
        final class Sink { var documents: [String: UInt64] = [:] }
        let sink = Sink()
        var error: UnsafeMutablePointer<CChar>?
        let status = withExtendedLifetime(sink) {
            mxa_xreader_each(handle, Unmanaged.passUnretained(sink).toOpaque(), { context, data, length, hash in
                guard let context, let data else { return }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                let id = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                sink.documents[id] = hash
            }, &error)
        }
        if status != 0 { throw takeError(error, step: "list the index's documents") }
        return sink.documents
    }

    /// Free text through Xapian's query parser; nil when the text holds no searchable word.
    func textQuery(_ text: String, partial: Bool) throws -> XapianQuery? {
        var error: UnsafeMutablePointer<CChar>?
        var empty: Int32 = 0
        guard let query = mxa_xquery_text(handle, text, partial ? 1 : 0, &empty, &error) else {
            throw SearchQueryError("cannot parse the query at '\(text)': \(takeError(error, step: "parse").message)")
        }
        let result = XapianQuery(query)
        return empty != 0 ? nil : result
    }

    func search(_ query: XapianQuery, offset: Int, limit: Int, sortByDate: Bool) throws -> XapianResults {
        var error: UnsafeMutablePointer<CChar>?
        guard let results = mxa_xreader_search(handle, query.handle, UInt32(clamping: offset), UInt32(clamping: limit),
                                               sortByDate ? 1 : 0, UInt32(clamping: offset + limit + 1), &error)
        else { throw takeError(error, step: "search") }
        return XapianResults(results)
    }
}

/// A Xapian query under construction.
final class XapianQuery {
    fileprivate let handle: OpaquePointer

    fileprivate init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { mxa_xquery_free(handle) }

    static func term(_ term: String) -> XapianQuery {
        let bytes = Array(term.utf8)
        let handle = bytes.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { mxa_xquery_term($0.baseAddress, $0.count) }
        }
        return XapianQuery(handle!)
    }

    static var all: XapianQuery { XapianQuery(mxa_xquery_all()!) }

    /// Inclusive bounds in milliseconds.
    static func time(from: Int64?, through: Int64?) -> XapianQuery {
        XapianQuery(mxa_xquery_time_range(from == nil ? 0 : 1, Double(from ?? 0),
                                          through == nil ? 0 : 1, Double(through ?? 0))!)
    }

    enum Operator: Int32 {
        case and = 0, or = 1, andNot = 2, filter = 3
    }

    static func combine(_ op: Operator, _ queries: [XapianQuery]) -> XapianQuery {
        if queries.count == 1, op == .and || op == .or { return queries[0] }
        let handles: [OpaquePointer?] = queries.map(\.handle)
        let combined = withExtendedLifetime(queries) {
            handles.withUnsafeBufferPointer { mxa_xquery_combine(op.rawValue, $0.baseAddress, $0.count) }
        }
        return XapianQuery(combined!)
    }

    var description: String {
        guard let text = mxa_xquery_describe(handle) else { return "?" }
        defer { mxa_x_free(text) }
        return String(cString: text)
    }
}

/// One page of results. Keeps what Xapian needs to highlight snippets.
final class XapianResults {
    private let handle: OpaquePointer

    fileprivate init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { mxa_xresults_free(handle) }

    var count: Int { mxa_xresults_count(handle) }
    var estimate: Int { Int(mxa_xresults_estimate(handle)) }

    func item(_ index: Int) throws -> (eventID: String, weight: Double) {
        var error: UnsafeMutablePointer<CChar>?
        var length = 0
        var weight = 0.0
        guard let data = mxa_xresults_item(handle, index, &length, &weight, &error) else {
            throw takeError(error, step: "read result \(index)")
        }
        defer { mxa_x_free(data) }
        let id = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        return (id, weight)
    }

    static let highlightStart = "\u{2}"
    static let highlightEnd = "\u{3}"

    /// A snippet around the hits; hits are wrapped in U+0002…U+0003 and the text is plain (unescaped).
    func snippet(_ text: String, length: Int) throws -> String {
        var error: UnsafeMutablePointer<CChar>?
        let bytes = Array(text.utf8)
        let snippet = bytes.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) {
                mxa_xresults_snippet(handle, $0.baseAddress, $0.count, length, Self.highlightStart, Self.highlightEnd,
                                     "…", &error)
            }
        }
        guard let snippet else { throw takeError(error, step: "make a snippet") }
        defer { mxa_x_free(snippet) }
        return HTMLText.decodeEntities(String(cString: snippet))
    }
}

/// The index's term generator run over text, with no database (`XapianTokenizer`).
enum XapianTerms {
    static func terms(of parts: [String]) throws -> [(term: String, positions: [UInt32])] {
        final class Sink { var terms: [(term: String, positions: [UInt32])] = [] }
        guard parts.contains(where: { !$0.isEmpty }) else { return [] }
        var text: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 { text.append(0x1F) }
            text.append(contentsOf: part.utf8)
        }
        let sink = Sink()
        var error: UnsafeMutablePointer<CChar>?
        let status = text.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(bytes.count, 1)) { pointer in
                mxa_xtokenize(pointer, bytes.count, Unmanaged.passUnretained(sink).toOpaque(), { context, term, length, positions, count in
                    guard let context, let term else { return }
                    let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                    let name = String(decoding: UnsafeRawBufferPointer(start: term, count: length), as: UTF8.self)
                    let list = positions.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
                    sink.terms.append((name, list))
                }, &error)
            }
        }
        if status != 0 { throw takeError(error, step: "tokenize") }
        return sink.terms
    }
}
