import ArchiveCore
import Foundation

/// The second half of `HTMLSearchIndexWriter.finish`: merges the sorted temporary runs term by term,
/// renumbers each term's messages by rank and writes the fragment files:
/// `mxaSearch.fragment("<name>",["<term>","<postings>",...]);` (pairs in an array, not an object literal,
/// in which a term `__proto__` would set the prototype instead of a key), the postings in
/// `SearchNumberText`: for each message, the rank's distance from the previous one (the segment's first
/// rank minus one to start with), the number of positions (`positionCap + 1`: more than the cap, of
/// which `positionCap` follow), then the positions as distances from the previous one.
///
/// A fragment holds one segment's postings of the terms under one key: a term's first two Unicode
/// scalars, and longer where a key was split. A key whose fragment in some segment would pass
/// `fragmentLimit` bytes is split (in every segment alike) by the scalar that follows it: its own term
/// (the term equal to the key) stays under it, every longer term goes under key + next scalar, and so on
/// down until each fragment is under the limit or holds one term. So a rare word never downloads a
/// frequent neighbour's postings ("messenger" beside "message"), a term no message has is known to be
/// missing from the split list alone, and a sender posting a million distinct `zz…` words makes many
/// small fragments instead of one of 50 MB. The splits are returned for `search/meta.js`.
struct HTMLSearchFragmentWriter {
    let runs: [UnsafeMutablePointer<FILE>]
    let rankOfDoc: [UInt32]
    let fragmentLimit: Int

    /// A split key and the scalars that follow it in its terms, in byte order.
    typealias Split = (key: [UInt8], next: [[UInt8]])

    func write(to writer: ExportWriter) throws -> [Split] {
        var readers = runs.map(RunReader.init)
        var heads = try readers.indices.map { try readers[$0].next() }
        var group = PrefixGroup()
        var prefix: [UInt8]?
        var splits: [Split] = []
        var budget = HTMLSearchLayout.splitListBudget
        while let term = Self.smallest(heads) {
            var positions: [UInt32] = []
            var spans: [Span] = []
            for index in heads.indices where heads[index]?.term == term {
                try decode(heads[index]!.postings, into: &spans, positions: &positions)
                heads[index] = try readers[index].next()
            }
            spans.sort { $0.rank < $1.rank }
            // Compared as bytes: two canonically equivalent prefixes are two keys, as search.js names them.
            let termPrefix = HTMLSearchLayout.prefix(of: term)
            if termPrefix != prefix {
                if let prefix { try group.write(key: prefix, limit: fragmentLimit, to: writer, splits: &splits, budget: &budget) }
                group = PrefixGroup()
                prefix = termPrefix
            }
            try group.add(term, spans: spans, positions: positions)
        }
        if let prefix { try group.write(key: prefix, limit: fragmentLimit, to: writer, splits: &splits, budget: &budget) }
        return splits
    }

    /// The smallest head term, without building an array per term (the merge visits every term).
    private static func smallest(_ heads: [(term: [UInt8], postings: [UInt8])?]) -> [UInt8]? {
        var best: [UInt8]?
        for case let head? in heads where best.map({ head.term.lexicographicallyPrecedes($0) }) ?? true {
            best = head.term
        }
        return best
    }

    typealias Span = (rank: UInt32, start: Int, count: Int, more: Bool)

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
}

/// The terms of one two-scalar prefix with their encoded postings, per segment, until all of them are
/// known and the prefix's keys can be chosen. Flat buffers with 32-bit ends: a hostile prefix of a
/// million terms costs about 20 bytes per (term, segment) beyond its text, not an array each.
private struct PrefixGroup {
    /// The terms' UTF-8 bytes, one after another; `termEnds[i]` ends term i.
    var termBytes: [UInt8] = []
    var termEnds: [UInt32] = []
    /// Each term's JSON key and its postings texts, one after another.
    var text: [UInt8] = []
    var keyEnds: [UInt32] = []
    /// (segment, end in `text`) of each term's postings text in a segment, terms in order, segments
    /// ascending; `pieceEnds[i]` ends term i's.
    var pieces: [(segment: UInt32, end: UInt32)] = []
    var pieceEnds: [UInt32] = []

    mutating func add(_ term: [UInt8], spans: [HTMLSearchFragmentWriter.Span], positions: [UInt32]) throws {
        termBytes.append(contentsOf: term)
        termEnds.append(UInt32(termBytes.count))
        text.append(contentsOf: JSONCoding.encodeForScript(.string(String(decoding: term, as: UTF8.self))).utf8)
        keyEnds.append(UInt32(text.count))
        var segment = -1
        var previous: Int64 = 0
        for span in spans {
            let entrySegment = Int(span.rank) / HTMLSearchLayout.segmentSize
            if entrySegment != segment {
                if segment >= 0 { pieces.append((UInt32(segment), UInt32(text.count))) }
                segment = entrySegment
                previous = Int64(segment * HTMLSearchLayout.segmentSize) - 1
            }
            SearchNumberText.append(UInt64(Int64(span.rank) - previous), to: &text)
            previous = Int64(span.rank)
            SearchNumberText.append(UInt64(span.count + (span.more ? 1 : 0)), to: &text)
            var last: UInt32 = 0
            for position in positions[span.start..<(span.start + span.count)] {
                SearchNumberText.append(UInt64(position &- last), to: &text)
                last = position
            }
        }
        if segment >= 0 { pieces.append((UInt32(segment), UInt32(text.count))) }
        pieceEnds.append(UInt32(pieces.count))
        // 32-bit ends: one prefix's postings past 4 GB would wrap them (and could not be held anyway).
        guard text.count < Int(UInt32.max), termBytes.count < Int(UInt32.max) else {
            throw ExportError.failure("search index: the terms of one prefix pass 4 GB")
        }
    }

    var count: Int { termEnds.count }

    func term(_ index: Int) -> ArraySlice<UInt8> {
        termBytes[Int(index == 0 ? 0 : termEnds[index - 1])..<Int(termEnds[index])]
    }

    func pieceRange(_ index: Int) -> Range<Int> {
        Int(index == 0 ? 0 : pieceEnds[index - 1])..<Int(pieceEnds[index])
    }

    /// Writes the fragments of `terms` (all starting with `key`) under `key`, splitting it when a
    /// segment's fragment would pass `limit` and some term is longer than the key.
    /// `budget`: bytes the split list may still take in meta.js (loaded when index.html opens). Past it,
    /// and past `maxKeyScalars`, a key is not split and its fragment stays big: slower, never wrong. Both
    /// bounds are for hostile rooms: thousands of short words sized to split key after key, or a sender id
    /// of 64 KB from a hostile server, which would split one scalar at a time down to its end.
    func write(key: [UInt8], limit: Int, to writer: ExportWriter,
               splits: inout [HTMLSearchFragmentWriter.Split], budget: inout Int) throws {
        try write(key: key, scalars: Self.scalarCount(key), terms: 0..<count, limit: limit, to: writer,
                  splits: &splits, budget: &budget)
    }

    private func write(key: [UInt8], scalars: Int, terms: Range<Int>, limit: Int, to writer: ExportWriter,
                       splits: inout [HTMLSearchFragmentWriter.Split], budget: inout Int) throws {
        guard scalars < HTMLSearchLayout.maxKeyScalars, terms.contains(where: { term($0).count > key.count }),
              largestFragment(terms) > limit else {
            return try writeFragments(key: key, terms: terms, to: writer)
        }
        // The key's own term sorts before every longer one (a prefix precedes its extensions).
        var own = terms.lowerBound
        while own < terms.upperBound, term(own).count == key.count { own += 1 }
        var children: [(scalar: [UInt8], terms: Range<Int>)] = []
        var index = own
        while index < terms.upperBound {
            let scalar = Self.firstScalar(of: term(index).dropFirst(key.count))
            let child = key + scalar
            var end = index + 1
            while end < terms.upperBound, term(end).starts(with: child) { end += 1 }
            children.append((scalar, index..<end))
            index = end
        }
        // What the split takes in meta.js: the key and each next scalar as written there (escaped: a
        // hostile server's control characters take 6 bytes each), quoted, with separators.
        func written(_ bytes: [UInt8]) -> Int {
            JSONCoding.encodeForScript(.string(String(decoding: bytes, as: UTF8.self))).utf8.count
        }
        let cost = written(key) + 6 + children.reduce(0) { $0 + written($1.scalar) + 1 }
        guard cost <= budget else { return try writeFragments(key: key, terms: terms, to: writer) }
        budget -= cost
        if own > terms.lowerBound { try writeFragments(key: key, terms: terms.lowerBound..<own, to: writer) }
        for child in children {
            try write(key: key + child.scalar, scalars: scalars + 1, terms: child.terms, limit: limit, to: writer,
                      splits: &splits, budget: &budget)
        }
        splits.append((key, children.map(\.scalar)))
    }

    static func scalarCount(_ bytes: [UInt8]) -> Int {
        bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    static func firstScalar(of bytes: ArraySlice<UInt8>) -> [UInt8] {
        var end = bytes.startIndex + 1
        while end < bytes.endIndex, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return Array(bytes[bytes.startIndex..<end])
    }

    /// The size of the largest segment's fragment of these terms (roughly: key, postings, separators).
    private func largestFragment(_ terms: Range<Int>) -> Int {
        var sizes: [UInt32: Int] = [:]
        for index in terms {
            let key = Int(keyEnds[index]) - keyStart(index)
            for piece in pieceRange(index) {
                sizes[pieces[piece].segment, default: 0] += key + 4 + pieceTextRange(index, piece).count
            }
        }
        return sizes.values.max() ?? 0
    }

    /// The postings text of a term's piece: the first starts after the term's key.
    func pieceTextRange(_ index: Int, _ piece: Int) -> Range<Int> {
        let first = pieceRange(index).lowerBound
        let start = piece == first ? Int(keyEnds[index]) : Int(pieces[piece - 1].end)
        return start..<Int(pieces[piece].end)
    }

    private func writeFragments(key: [UInt8], terms: Range<Int>, to writer: ExportWriter) throws {
        var bodies: [UInt32: [UInt8]] = [:]
        for index in terms {
            let keyText = text[keyStart(index)..<Int(keyEnds[index])]
            for piece in pieceRange(index) {
                // In place (the `default:` subscript passed inout): a copy taken out and written back
                // would be a second reference to the buffer, so every append would copy the fragment.
                func add(to body: inout [UInt8]) {
                    if !body.isEmpty { body.append(UInt8(ascii: ",")) }
                    body.append(contentsOf: keyText)
                    body.append(contentsOf: ",\"".utf8)
                    body.append(contentsOf: text[pieceTextRange(index, piece)])
                    body.append(UInt8(ascii: "\""))
                }
                add(to: &bodies[pieces[piece].segment, default: []])
            }
        }
        // In segment order, so that an export is the same file list every time (SOURCE_DATE_EPOCH).
        for (segment, body) in bodies.sorted(by: { $0.key < $1.key }) {
            let name = HTMLSearchLayout.fragmentName(segment: Int(segment), prefix: key)
            let file = ExportFile()
            file.append("mxaSearch.fragment(\"\(name)\",[")
            body.withUnsafeBytes { file.append($0) }
            file.append("]);\n")
            try writer.add(HTMLSearchLayout.fragmentPath(segment: Int(segment), prefix: key), file)
        }
    }

    /// Where term i's key starts in `text`: after the previous term's last postings (or its key).
    private func keyStart(_ index: Int) -> Int {
        guard index > 0 else { return 0 }
        let previous = pieceRange(index - 1)
        return previous.isEmpty ? Int(keyEnds[index - 1]) : Int(pieces[previous.upperBound - 1].end)
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
        // 64 KB at a time (FILE buffers too): a merge of many runs holds one buffer per run.
        var block = [UInt8](repeating: 0, count: max(needed, 64 << 10))
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
