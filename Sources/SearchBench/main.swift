// The query half of `scripts/bench search`: runs a file of queries through the same library path as
// `mxarchive search --limit 20` (parse, Xapian, the store's text for each hit, snippets) in one process, so
// the latencies are the search's own and not a process start's.
//
//     SearchBench STORE QUERIES.jsonl   (each line {"class": "...", "query": "...", "sort": "date"|null})
//
// Prints one JSON object: {"class": [milliseconds per query, in file order], ...}. Every query runs once
// to warm the page cache, then once measured.
import ArchiveCore
import ArchiveStore
import Foundation
import ArchiveService

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: SearchBench STORE QUERIES.jsonl\n".utf8))
    exit(2)
}
do {
    let store = try ArchiveStore(directory: URL(fileURLWithPath: arguments[1]), memoryMappedReads: true, create: false)
    let service = SearchService(store: store)
    let lines = try String(contentsOfFile: arguments[2], encoding: .utf8).split(separator: "\n")
    let queries = try lines.map { line -> (String, String, Bool) in
        let json = try JSONCoding.decode(String(line))
        return (json["class"]?.stringValue ?? "?", json["query"]?.stringValue ?? "", json["sort"]?.stringValue == "date")
    }
    var timings: [String: [JSONValue]] = [:]
    var hits = 0
    for pass in 0..<2 {
        for (kind, query, byDate) in queries {
            var options = SearchOptions()
            options.limit = 20
            options.sortByDate = byDate
            let start = DispatchTime.now().uptimeNanoseconds
            let found = try service.search(query, options: options)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
            if pass == 1 {
                timings[kind, default: []].append(.double(elapsed))
                hits += found.results.count
            }
        }
    }
    var output = timings.mapValues(JSONValue.array)
    output["_results"] = .int(Int64(hits))
    print(JSONCoding.encode(.object(output)))
} catch {
    FileHandle.standardError.write(Data("SearchBench: \(error)\n".utf8))
    exit(1)
}
