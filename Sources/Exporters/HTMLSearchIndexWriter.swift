import ArchiveCore
import Foundation

/// Builds the HTML export's static search index (layout: `HTMLSearchLayout`) as the rooms stream by.
///
/// Every searched message (the rule of `SearchDocument.searchedText`, so the page finds what the CLI
/// finds) is tokenised by the search index's own tokeniser; its postings go into an in-memory run that is
/// written, sorted by term, to an unlinked temporary file whenever it grows past `runLimit`, and its
/// summary line to another. Only a few numbers per message stay in memory (time, summary offset), so a
/// million-message export stays bounded. `finish` ranks the messages newest first, merges the runs term by
/// term (terms of one prefix are adjacent in byte order, so one prefix's postings are in memory at a time)
/// and writes the fragment files (split by size: `HTMLSearchFragmentWriter`), the summary chunks in rank order and `search/meta.js`.
///
/// Messages are indexed on a worker queue of their own, in batches, while the caller renders pages: on
/// two cores that takes the index (tokenising, postings, summaries: a fifth of a large export's CPU) off
/// the export's critical path. Unchecked Sendable: everything but `roomNames` and `pending` is touched
/// only on `queue` until `finish` has drained it; `roomNames` and `pending` only by the caller.
final class HTMLSearchIndexWriter: @unchecked Sendable {
    /// A term's postings in the current run: (message delta, position count, position deltas) as `VarInt`s.
    fileprivate struct RunPostings {
        var bytes: [UInt8] = []
        var lastDoc: Int64 = -1
    }

    private let tokenizer: any TextTokenizer
    private let runLimit: Int
    private let fragmentLimit: Int
    private var roomNames: [String] = []
    private var times: [Int64] = []
    /// Where each message's summary starts in `summaries`; one more entry at the end.
    private var summaryOffsets: [Int64] = [0]
    private let summaries: UnsafeMutablePointer<FILE>
    private var summaryBuffer: [UInt8] = []
    /// Keyed by the term's UTF-8 bytes, as Xapian keys its terms: a `String` key would merge canonically
    /// equivalent spellings ("é" and "e" + U+0301) that the CLI's index keeps apart.
    private var run: [[UInt8]: RunPostings] = [:]
    private var runBytes = 0
    private var runs: [UnsafeMutablePointer<FILE>] = []

    private let queue = DispatchQueue(label: "mxarchive.html-search-index")
    /// Batches handed to `queue` and not yet indexed, at most `slots`' count: memory stays bounded when
    /// the index is slower than the pages.
    private let slots = DispatchSemaphore(value: 4)
    /// What the worker needs of one searched message, taken from the item on the caller's side: the
    /// item's content tree (a hostile event's can be many times its 64 KB) is never kept waiting.
    private struct Entry: Sendable {
        let parts: [String]
        let sender: String
        let senderName: String
        let time: Int64
        let text: String
        let room: Int
        let href: String
    }

    private var pending: [Entry] = []
    private var pendingBytes = 0
    /// A batch goes to the worker at this many messages or this many bytes of text, whichever first.
    private static let batchSize = 256
    private static let batchBytes = 1 << 20
    /// The worker's first error, for the caller's next `add` or `finish` (read under `failureLock`).
    private var failure: (any Error)?
    private let failureLock = NSLock()

    /// `runLimit` counts postings bytes and 64 per new term; the run's dictionary takes about twice that.
    init(tokenizer: any TextTokenizer, runLimit: Int = 16 << 20,
         fragmentLimit: Int = HTMLSearchLayout.fragmentLimit) throws {
        self.tokenizer = tokenizer
        self.runLimit = runLimit
        self.fragmentLimit = fragmentLimit
        summaries = try HTMLSearchSpillFile.create()
    }

    deinit {
        fclose(summaries)
        for file in runs { fclose(file) }
    }

    /// Starts a room; its messages are added with the number returned.
    func beginRoom(name: String) -> Int {
        roomNames.append(name)
        return roomNames.count - 1
    }

    /// Adds one exported item when it is searched; `href` is its anchor from the export's root. Queued: an
    /// error of an earlier item is thrown here or by `finish`.
    func add(_ item: TimelineItem, room: Int, href: String) throws {
        guard HTMLPages.showsContent(item), item.stateKey == nil,
              let parts = SearchDocument.searchedText(type: item.type, content: item.shownContent, stripped: false)
        else { return }
        let entry = Entry(parts: parts, sender: item.sender,
                          // A display name is bounded only by the event size on a federated server (64 KiB):
                          // cut, or a sender with a huge name makes every chunk holding their messages megabytes.
                          senderName: Self.cut(item.senderName, to: HTMLSearchLayout.senderNameLength),
                          time: item.originServerTS, text: Self.cut(EventText.body(item), to: HTMLSearchLayout.snippetLength),
                          room: room, href: href)
        pending.append(entry)
        pendingBytes += parts.reduce(entry.sender.utf8.count + entry.href.utf8.count) { $0 + $1.utf8.count }
        if pending.count >= Self.batchSize || pendingBytes >= Self.batchBytes { try submit() }
    }

    private func submit() throws {
        if let failure = failureLock.withLock({ failure }) { throw failure }
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        pendingBytes = 0
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failureLock.withLock({ failure == nil }) else { return }
            do {
                for entry in batch { try index(entry) }
            } catch {
                failureLock.withLock { failure = error }
            }
        }
    }

    /// Indexes one item (on `queue`).
    private func index(_ entry: Entry) throws {
        let doc = Int64(times.count)
        for (term, positions) in try tokenizer.terms(of: entry.parts) where !term.isEmpty {
            addPosting(term, doc: doc, positions: positions)
        }
        // The sender as a term of its own (`from:`): no word term starts with "@".
        addPosting(entry.sender, doc: doc, positions: [])
        times.append(entry.time)
        try appendSummary(entry)
        if runBytes > runLimit { try flushRun() }
    }

    private func addPosting(_ term: String, doc: Int64, positions: [UInt32]) {
        run[Array(term.utf8), default: RunPostings()].append(doc: doc, positions: positions, counting: &runBytes)
    }

    private func appendSummary(_ entry: Entry) throws {
        let time = UTCTime(millis: entry.time)
        let line = JSONCoding.encodeForScript([.string(entry.href), .int(Int64(entry.room)), .string(time.dayKey + " " + time.clock),
                                               .string(entry.senderName), .string(entry.sender), .string(entry.text)])
        summaryBuffer.append(contentsOf: line.utf8)
        summaryOffsets.append(summaryOffsets[summaryOffsets.count - 1] + Int64(line.utf8.count))
        if summaryBuffer.count > 1 << 20 { try flushSummaries() }
    }

    /// `text` cut to `limit` Unicode scalars (and "…"). By scalars, not grapheme clusters: one cluster of
    /// thousands of combining marks would pass `prefix` whole and make every summary chunk it lands in
    /// tens of KB.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.unicodeScalars.count > limit else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit))) + "…"
    }

    private func flushSummaries() throws {
        try HTMLSearchSpillFile.write(summaryBuffer, to: summaries)
        summaryBuffer.removeAll(keepingCapacity: true)
    }

    /// Writes the current run to a temporary file, its terms in byte order.
    private func flushRun() throws {
        guard !run.isEmpty else { return }
        let file = try HTMLSearchSpillFile.create()
        runs.append(file)  // closed by deinit even when a write below fails
        var buffer: [UInt8] = []
        for term in run.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let postings = run[term]!.bytes
            VarInt.append(UInt64(term.count), to: &buffer)
            buffer.append(contentsOf: term)
            VarInt.append(UInt64(postings.count), to: &buffer)
            buffer.append(contentsOf: postings)
            if buffer.count > 1 << 20 {
                try HTMLSearchSpillFile.write(buffer, to: file)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try HTMLSearchSpillFile.write(buffer, to: file)
        try HTMLSearchSpillFile.finish(file)
        run = [:]
        runBytes = 0
    }

    /// Writes the index's files; returns the script `index.html` loads (nil when no message is searched).
    func finish(writer: ExportWriter) throws -> String? {
        try submit()
        queue.sync {}  // every batch indexed; what the worker wrote is visible here from now on
        if let failure = failureLock.withLock({ failure }) { throw failure }
        guard !times.isEmpty else { return nil }
        try flushRun()
        try flushSummaries()
        try HTMLSearchSpillFile.finish(summaries)
        // Newest first; of two at the same millisecond the later in the timeline first.
        // 32-bit message numbers, sorted in place, and the times freed once ranked: this is the moment of
        // the export's peak memory (8 bytes a message less than [Int] and a sorted copy).
        let messages = times.count
        var order = [UInt32](0..<UInt32(messages))
        order.sort { times[Int($0)] != times[Int($1)] ? times[Int($0)] > times[Int($1)] : $0 > $1 }
        times = []
        var rankOfDoc = [UInt32](repeating: 0, count: order.count)
        for (rank, doc) in order.enumerated() { rankOfDoc[Int(doc)] = UInt32(rank) }
        let splits = try HTMLSearchFragmentWriter(runs: runs, rankOfDoc: rankOfDoc, fragmentLimit: fragmentLimit)
            .write(to: writer)
        try writeChunks(order: order, writer: writer)
        let segments = (messages + HTMLSearchLayout.segmentSize - 1) / HTMLSearchLayout.segmentSize
        let meta: JSONValue = [
            "messages": .int(Int64(messages)), "segments": .int(Int64(segments)),
            "segment_size": .int(Int64(HTMLSearchLayout.segmentSize)), "position_cap": .int(Int64(HTMLSearchLayout.positionCap)), "chunk_size": .int(Int64(HTMLSearchLayout.chunkSize)),
            "rooms": .array(roomNames.map(JSONValue.string)),
            // [key, [the scalars after it]] of every split fragment key (HTMLSearchFragmentWriter).
            "splits": .array(splits.map { split in
                .array([.string(String(decoding: split.key, as: UTF8.self)),
                        .array(split.next.map { .string(String(decoding: $0, as: UTF8.self)) })])
            }),
        ]
        try writer.add(HTMLSearchLayout.metaPath, text: "window.mxaSearchMeta = " + JSONCoding.encodeForScript(meta) + ";\n")
        return HTMLSearchLayout.metaPath
    }

    /// The summaries in rank order, `chunkSize` to a file, read back from the temporary file by offset.
    private func writeChunks(order: [UInt32], writer: ExportWriter) throws {
        let descriptor = fileno(summaries)
        var chunk: [UInt8] = []
        var line: [UInt8] = []
        for (rank, number) in order.enumerated() {
            let doc = Int(number)
            if rank % HTMLSearchLayout.chunkSize == 0 { chunk = Array("mxaSearch.chunk(\(rank / HTMLSearchLayout.chunkSize),[".utf8) }
            let start = summaryOffsets[doc]
            let length = Int(summaryOffsets[doc + 1] - start)
            line = [UInt8](repeating: 0, count: length)
            let read = line.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length, off_t(start)) }
            guard read == length else { throw ExportError.failure("cannot read the search index's temporary file") }
            if rank % HTMLSearchLayout.chunkSize != 0 { chunk.append(UInt8(ascii: ",")) }
            chunk.append(contentsOf: line)
            if rank % HTMLSearchLayout.chunkSize == HTMLSearchLayout.chunkSize - 1 || rank == order.count - 1 {
                chunk.append(contentsOf: "]);\n".utf8)
                let file = ExportFile()
                chunk.withUnsafeBytes { file.append($0) }
                try writer.add(HTMLSearchLayout.chunkPath(rank / HTMLSearchLayout.chunkSize), file)
            }
        }
    }
}

extension HTMLSearchIndexWriter.RunPostings {
    fileprivate mutating func append(doc: Int64, positions: [UInt32], counting total: inout Int) {
        let before = bytes.count
        VarInt.append(UInt64(doc - lastDoc), to: &bytes)
        let kept = positions.prefix(HTMLSearchLayout.positionCap)
        VarInt.append(UInt64(positions.count > kept.count ? kept.count + 1 : kept.count), to: &bytes)
        var previous: UInt32 = 0
        for position in kept {
            VarInt.append(UInt64(position &- previous), to: &bytes)
            previous = position
        }
        lastDoc = doc
        // A new term costs its key and bookkeeping too: counted roughly, so many rare terms flush as well.
        total += bytes.count - before + (before == 0 ? 64 : 0)
    }
}
