import ArchiveCore
import Foundation
import SearchIndex

/// libFuzzer target for the search query language (issue 12.11): any text a user types is parsed or
/// refused with `SearchQueryError`; a parsed query compiles to a Xapian query and runs against a real
/// (small) index without a trap or an uncaught C++ exception, and the highlighted snippets a terminal is sent are balanced.
// libFuzzer calls the entry point from one thread only, so the one reader needs no lock.
nonisolated(unsafe) private let reader: SearchIndexReader = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxarchive-fuzz-index-\(getpid())")
    let layout = SearchIndexLayout(directory: directory, shards: 2, language: "english")
    do {
        let writer = try SearchIndexWriter(layout: layout, fresh: true)
        var documents: [SearchDocument.Action] = []
        for (number, body) in ["hello world", "zwölf Boxkämpfer jagen Viktor", "東京タワー 東京駅", "from the sender"].enumerated() {
            let event = IndexableEvent(changeSeq: Int64(number + 1), eventID: "$e\(number)", roomID: "!r:fuzz",
                                       sender: "@u\(number):fuzz", type: "m.room.message",
                                       originServerTS: 1_700_000_000_000 + Int64(number) * 86_400_000,
                                       isTimelineItem: true, content: ["msgtype": "m.text", "body": .string(body)],
                                       stripped: false, threadRoot: nil)
            documents.append(SearchDocument.action(for: event))
        }
        try writer.submit(documents)
        try writer.commit()
        writer.close()
        return try SearchIndexReader(layout: layout)
    } catch {
        fatalError("could not build the fuzzing index: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSearchQuery(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let expression = try? SearchQueryParser.parse(text) else { return 0 }
    let resolve: (String) throws -> String = { $0 }
    _ = try? reader.describe(expression, resolveRoom: resolve)
    guard let page = try? reader.search(expression, offset: 0, limit: 10, sortByDate: true, resolveRoom: resolve)
    else { return 0 }
    for match in page.matches {
        guard let snippet = try? page.snippet(of: "hello world " + text, length: 80) else { continue }
        // What a terminal is sent: every hit opened is closed, in order.
        var open = false
        for scalar in snippet.highlighted(start: "\u{2}", end: "\u{3}").unicodeScalars {
            if scalar == "\u{2}" { guard !open else { fatalError("a hit opened twice for \(match.eventID)") }; open = true }
            if scalar == "\u{3}" { guard open else { fatalError("a hit closed unopened for \(match.eventID)") }; open = false }
        }
        guard !open else { fatalError("a hit left open for \(match.eventID)") }
    }
    return 0
}
