import ArchiveCore
import Foundation

/// The second half of `HTMLSearchIndexWriter.finish`: merges the sorted temporary runs term by term,
/// renumbers each term's messages by rank and writes one fragment file per (segment, term prefix):
/// `mxaSearch.fragment("<name>",["<term>","<postings>",...]);` (pairs in an array, not an object literal,
/// in which a term `__proto__` would set the prototype instead of a key), the postings in
/// `SearchNumberText`: for each message, the rank's distance from the previous one (the segment's first
/// rank minus one to start with), the number of positions (`positionCap + 1`: more than the cap, of
/// which `positionCap` follow), then the positions as distances from the previous one.
struct HTMLSearchFragmentWriter {
    let runs: [UnsafeMutablePointer<FILE>]
    let rankOfDoc: [UInt32]

    func write(to writer: ExportWriter) throws {
        var readers = runs.map(RunReader.init)
        var heads = try readers.indices.map { try readers[$0].next() }
        var prefix: [UInt8]?
        var segments: [Int: [UInt8]] = [:]
        while let term = heads.compactMap({ $0?.term }).min(by: { $0.lexicographicallyPrecedes($1) }) {
            var positions: [UInt32] = []
            var spans: [Span] = []
            for index in heads.indices where heads[index]?.term == term {
                try decode(heads[index]!.postings, into: &spans, positions: &positions)
                heads[index] = try readers[index].next()
            }
            spans.sort { $0.rank < $1.rank }
            let entries: [Entry] = spans.map { ($0.rank, positions[$0.start..<($0.start + $0.count)], $0.more) }
            let text = String(decoding: term, as: UTF8.self)
            // Compared as bytes: two canonically equivalent prefixes are two fragment files, as search.js names them.
            let termPrefix = HTMLSearchLayout.prefix(of: term)
            if termPrefix != prefix {
                if let prefix { try flush(prefix, &segments, writer) }
                prefix = termPrefix
            }
            append(text, entries, to: &segments)
        }
        if let prefix { try flush(prefix, &segments, writer) }
    }

    typealias Span = (rank: UInt32, start: Int, count: Int, more: Bool)
    typealias Entry = (rank: UInt32, positions: ArraySlice<UInt32>, more: Bool)

    private func decode(_ bytes: [UInt8], into spans: inout [Span],
                        positions: inout [UInt32]) throws {
        var index = 0
        var doc: Int64 = -1
        while index < bytes.count {
            doc += Int64(VarInt.read(bytes, &index))
            let written = Int(VarInt.read(bytes, &index))
            let count = min(written, HTMLSearchLayout.positionCap)
            // Read back from a file: a damaged one must fail the export, not index out of range.
            guard doc >= 0, doc < Int64(rankOfDoc.count), count <= bytes.count - index else { throw RunReader.truncated }
            let start = positions.count
            var position: UInt32 = 0
            for _ in 0..<count {
                position &+= UInt32(truncatingIfNeeded: VarInt.read(bytes, &index))
                positions.append(position)
            }
            spans.append((rankOfDoc[Int(doc)], start, count, written > count))
        }
    }

    /// Adds one term's postings (in rank order) to the fragments of its prefix, one per segment it has.
    private func append(_ term: String, _ entries: [Entry],
                        to segments: inout [Int: [UInt8]]) {
        let key = Array(JSONCoding.encodeForScript(.string(term)).utf8)
        var segment = -1
        var encoded: [UInt8] = []
        var previous: Int64 = 0
        func close() {
            guard segment >= 0 else { return }
            // In place (the `default:` subscript passed inout): a copy taken out and written back would be a
            // second reference to the buffer, so every append copied the whole fragment (quadratic in its terms).
            func add(to fragment: inout [UInt8]) {
                if !fragment.isEmpty { fragment.append(UInt8(ascii: ",")) }
                fragment.append(contentsOf: key)
                fragment.append(contentsOf: ",\"".utf8)
                fragment.append(contentsOf: encoded)
                fragment.append(UInt8(ascii: "\""))
            }
            add(to: &segments[segment, default: []])
        }
        for (rank, positions, more) in entries {
            let entrySegment = Int(rank) / HTMLSearchLayout.segmentSize
            if entrySegment != segment {
                close()
                segment = entrySegment
                encoded = []
                previous = Int64(segment * HTMLSearchLayout.segmentSize) - 1
            }
            SearchNumberText.append(UInt64(Int64(rank) - previous), to: &encoded)
            previous = Int64(rank)
            SearchNumberText.append(UInt64(positions.count + (more ? 1 : 0)), to: &encoded)
            var last: UInt32 = 0
            for position in positions {
                SearchNumberText.append(UInt64(position &- last), to: &encoded)
                last = position
            }
        }
        close()
    }

    private func flush(_ prefix: [UInt8], _ segments: inout [Int: [UInt8]], _ writer: ExportWriter) throws {
        // In segment order, so that an export is the same file list every time (SOURCE_DATE_EPOCH).
        for (segment, body) in segments.sorted(by: { $0.key < $1.key }) {
            let name = HTMLSearchLayout.fragmentName(segment: segment, prefix: prefix)
            let file = ExportFile()
            file.append("mxaSearch.fragment(\"\(name)\",[")
            body.withUnsafeBytes { file.append($0) }
            file.append("]);\n")
            try writer.add(HTMLSearchLayout.fragmentPath(segment: segment, prefix: prefix), file)
        }
        segments = [:]
    }
}

/// Reads one temporary run back, a term and its postings at a time.
private struct RunReader {
    let file: UnsafeMutablePointer<FILE>
    var buffer: [UInt8] = []
    var index = 0

    init(_ file: UnsafeMutablePointer<FILE>) {
        self.file = file
        rewind(file)
    }

    mutating func next() throws -> (term: [UInt8], postings: [UInt8])? {
        guard let termLength = try number() else { return nil }
        let term = try bytes(Int(termLength))
        guard let postingsLength = try number() else { throw Self.truncated }
        return (term, try bytes(Int(postingsLength)))
    }

    static let truncated = ExportError.failure("the search index's temporary file is truncated")

    static let unreadable = ExportError.failure("cannot read the search index's temporary file")

    /// False at the end of the file; a read error throws: taken for the end, it would drop the rest of the run.
    private mutating func fill(_ needed: Int) throws -> Bool {
        if buffer.count - index >= needed { return true }
        buffer.removeFirst(index)
        index = 0
        var block = [UInt8](repeating: 0, count: max(needed, 1 << 20))
        while buffer.count < needed {
            let read = block.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if read == 0 {
                if ferror(file) != 0 { throw Self.unreadable }
                return false
            }
            buffer.append(contentsOf: block[0..<read])
        }
        return true
    }

    private mutating func number() throws -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var first = true
        while true {
            guard try fill(1) else {
                if first { return nil }
                throw Self.truncated
            }
            first = false
            let byte = buffer[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    private mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard try fill(count) else { throw Self.truncated }
        defer { index += count }
        return Array(buffer[index..<(index + count)])
    }
}
