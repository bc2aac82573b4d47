import ArchiveCore
import Foundation
import Testing

@testable import Exporters

/// A hand-made tokeniser for these unit tests (the export uses SearchIndex's Xapian one): words split at
/// spaces, lower-cased, numbered from 1; terms are told apart by their bytes, as Xapian's are.
struct SpaceTokenizer: TextTokenizer {
    func terms(of parts: [String]) throws -> [(term: String, positions: [UInt32])] {
        var positions: [[UInt8]: [UInt32]] = [:]
        var order: [[UInt8]] = []
        var position: UInt32 = 0
        for part in parts {
            for word in part.lowercased().split(separator: " ") {
                position += 1
                let key = Array(word.utf8)
                if positions[key] == nil { order.append(key) }
                positions[key, default: []].append(position)
            }
            position += 100
        }
        return order.map { (String(decoding: $0, as: UTF8.self), positions[$0]!) }
    }
}

@Suite struct HTMLSearchIndexWriterTests {
    static func item(_ id: String, ts: Int64, body: String, sender: String = "@alice:hs", type: String = "m.room.message") -> TimelineItem {
        TimelineItem(eventID: id, roomID: "!room:hs", sender: sender, senderDisplayName: nil, type: type, stateKey: nil,
                     originServerTS: ts, content: ["msgtype": "m.text", "body": .string(body)], edited: false, replacedBy: nil,
                     edits: [], reactions: [:], inReplyTo: nil, threadRoot: nil, thread: nil, redacted: false,
                     redactedBy: nil, decryption: .none)
    }

    /// Writes the index of `items` with the given run limit; returns the files written (path → text).
    static func write(_ items: [TimelineItem], runLimit: Int,
                      fragmentLimit: Int = HTMLSearchLayout.fragmentLimit) throws -> [String: String] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-ssearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        let index = try HTMLSearchIndexWriter(tokenizer: SpaceTokenizer(), runLimit: runLimit, fragmentLimit: fragmentLimit)
        let room = index.beginRoom(name: "Room")
        for item in items { try index.add(item, room: room, href: "rooms/x/2024-01.html#" + item.eventID) }
        #expect(try index.finish(writer: writer) == "search/meta.js")
        try writer.finish()
        var files: [String: String] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: base.path) where path.hasSuffix(".js") {
            files[path] = try String(contentsOf: base.appendingPathComponent(path), encoding: .utf8)
        }
        return files
    }

    /// A fragment's terms and their (rank, positions, more than kept) postings, decoded as search.js does.
    static func postings(_ fragment: String, segment: Int = 0) throws -> [String: [(rank: Int, positions: [Int], more: Bool)]] {
        let json = String(fragment.drop { $0 != "[" }.dropLast(3))  // "...,[...]);\n"
        let pairs = try #require(try JSONCoding.decode(json).arrayValue).map { $0.stringValue ?? "" }
        #expect(pairs.count % 2 == 0)
        let alphabet = Array(String(decoding: SearchNumberText.alphabet, as: UTF8.self))
        var result: [String: [(rank: Int, positions: [Int], more: Bool)]] = [:]
        for pair in stride(from: 0, to: pairs.count, by: 2) {
            let chars = Array(pairs[pair + 1])
            var index = 0
            func number() -> Int {
                var value = 0, shift = 0, digit = 0
                repeat {
                    digit = alphabet.firstIndex(of: chars[index])!
                    index += 1
                    value |= (digit & 31) << shift
                    shift += 5
                } while digit & 32 != 0
                return value
            }
            var rank = segment * HTMLSearchLayout.segmentSize - 1
            var list: [(rank: Int, positions: [Int], more: Bool)] = []
            while index < chars.count {
                rank += number()
                let count = number()
                var positions: [Int] = []
                var position = 0
                for _ in 0..<min(count, HTMLSearchLayout.positionCap) { position += number(); positions.append(position) }
                list.append((rank, positions, count > HTMLSearchLayout.positionCap))
            }
            #expect(result[pairs[pair]] == nil)
            result[pairs[pair]] = list
        }
        return result
    }

    /// Ranks are newest first whatever the timeline order; a word after the 500th character is found; the
    /// runs spilled to temporary files and merged give the same files as one run in memory.
    @Test func ranksNewestFirstAndMergesSpilledRuns() throws {
        let long = String(repeating: "filler ", count: 120) + "needle at the end"
        let items = [
            Self.item("$a", ts: 3000, body: "hello world"),
            Self.item("$b", ts: 1000, body: "hello again"),
            Self.item("$c", ts: 2000, body: long, sender: "@bob:hs"),
            Self.item("$d", ts: 4000, body: "world hello"),
            Self.item("$state", ts: 5000, body: "hello", type: "m.room.member"),
        ]
        let spilled = try Self.write(items, runLimit: 1)
        let inMemory = try Self.write(items, runLimit: 1 << 30)
        #expect(spilled == inMemory)
        // Ranks: $d 0, $a 1, $c 2, $b 3 (the state event is not searched).
        let he = try Self.postings(try #require(spilled["search/f/0-6865.js"]))
        #expect(he["hello"]?.map(\.rank) == [0, 1, 3])
        #expect(he["hello"]?.map(\.positions) == [[2], [1], [1]])
        let ne = try Self.postings(try #require(spilled["search/f/0-6e65.js"]))
        #expect(ne["needle"]?.map(\.rank) == [2] && ne["needle"]?.first?.positions == [121])
        let sender = try Self.postings(try #require(spilled["search/f/0-4062.js"]))  // "@b"
        #expect(sender["@bob:hs"]?.map(\.rank) == [2] && sender["@bob:hs"]?.first?.positions == [])
        // Summaries in rank order, the snippet cut, the full text indexed.
        let chunk = try #require(spilled["search/s/0.js"])
        #expect(chunk.hasPrefix("mxaSearch.chunk(0,[[\"rooms/x/2024-01.html#$d\",0,"))
        let order = ["$d", "$a", "$c", "$b"].map { chunk.range(of: "#" + $0 + "\"")!.lowerBound }
        #expect(order == order.sorted())
        #expect(!chunk.contains("needle") && chunk.contains("fill…"))
        #expect(spilled["search/meta.js"]?.contains("\"messages\":4") == true)
    }

    /// "école" precomposed and decomposed are two terms in Xapian (bytes); Swift's `String` equality would
    /// merge them under whichever came first, and search.js, asking for the other's fragment, found nothing.
    @Test func canonicallyEquivalentTermsStayApart() throws {
        let composed = "\u{E9}cole", decomposed = "e\u{301}cole"
        let items = [
            Self.item("$decomposed", ts: 1000, body: decomposed),
            Self.item("$composed", ts: 2000, body: composed),
            Self.item("$both", ts: 3000, body: composed + " " + decomposed),
        ]
        for runLimit in [1, 1 << 30] {
            let files = try Self.write(items, runLimit: runLimit)
            // Ranks: $both 0, $composed 1, $decomposed 2.
            let precomposed = try Self.postings(try #require(files["search/f/0-c3a963.js"]))
            #expect(Array(precomposed.keys.map { Array($0.utf8) }) == [Array(composed.utf8)])
            #expect(precomposed.values.first?.map(\.rank) == [0, 1])
            let combining = try Self.postings(try #require(files["search/f/0-65cc81.js"]))
            #expect(Array(combining.keys.map { Array($0.utf8) }) == [Array(decomposed.utf8)])
            #expect(combining.values.first?.map(\.rank) == [0, 2])
            #expect(combining.values.first?.first?.positions == [2])
        }
    }

    @Test func prefixIsTwoScalarsOfBytes() {
        #expect(HTMLSearchLayout.prefix(of: Array("e\u{301}cole".utf8)) == [0x65, 0xCC, 0x81])
        #expect(HTMLSearchLayout.prefix(of: Array("\u{E9}cole".utf8)) == [0xC3, 0xA9, 0x63])
        #expect(HTMLSearchLayout.prefix(of: Array("a".utf8)) == [0x61])
        #expect(HTMLSearchLayout.prefix(of: Array("\u{1F600}\u{1F600}x".utf8)).count == 8)
        #expect(HTMLSearchLayout.prefix(of: []) == [])
    }

    /// A term repeated past the cap keeps `positionCap` positions and says there are more; a term
    /// `__proto__` is a key like any other (an object literal would have set the prototype instead).
    @Test func positionsCappedAndProtoIsATerm() throws {
        let body = Array(repeating: "the", count: 100).joined(separator: " ") + " __proto__"
        let files = try Self.write([Self.item("$a", ts: 1, body: body), Self.item("$b", ts: 2, body: "the end")], runLimit: 1)
        let th = try Self.postings(try #require(files["search/f/0-7468.js"]))
        #expect(th["the"]?.map(\.rank) == [0, 1])
        #expect(th["the"]?.map(\.more) == [false, true])
        #expect(th["the"]?.last?.positions == Array(1...HTMLSearchLayout.positionCap))
        let proto = try Self.postings(try #require(files["search/f/0-5f5f.js"]))
        #expect(proto["__proto__"]?.map(\.rank) == [1])
        #expect(files["search/meta.js"]?.contains("\"position_cap\":64") == true)
    }

    /// Indexes `count` distinct terms of one prefix ("zz…", 1,000 to a message) and times `finish` alone
    /// (the fragment merge, with its splits by size); checks the fragments of "zz" and the keys under it
    /// hold every term once, first and last.
    static func timeOnePrefix(_ count: Int) throws -> Duration {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-ssearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        let index = try HTMLSearchIndexWriter(tokenizer: SpaceTokenizer())
        let room = index.beginRoom(name: "Room")
        let padding = String(repeating: "x", count: 29)
        for start in stride(from: 0, to: count, by: 1000) {
            // 40 bytes each, about what a bot's ids and hashes are (Xapian keeps words up to 64 bytes).
            let words = (start..<min(start + 1000, count)).map { "zz" + String(100_000_000 + $0) + padding }
            try index.add(Self.item("$m\(start)", ts: Int64(start), body: words.joined(separator: " ")), room: room, href: "x")
        }
        // CPU time of this thread (the merge runs on it): the suites beside this one share the cores, and
        // wall-clock time would measure them.
        let before = Self.threadCPUTime()
        _ = try index.finish(writer: writer)
        let elapsed = Self.threadCPUTime() - before
        try writer.finish()
        let folder = base.appendingPathComponent("search/f")
        let fragment = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("0-7a7a") }
            .map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }.joined()
        #expect(fragment.components(separatedBy: "\"zz1").count - 1 == count)
        #expect(fragment.contains("\"zz100000000\(padding)\"") && fragment.contains("\"zz\(100_000_000 + count - 1)\(padding)\""))
        return elapsed
    }

    /// The fragment keys a term is looked up under, as search.js finds them from meta.js's split list.
    static func key(of term: String, splits: [String: Set<String>]) -> String? {
        let scalars = Array(term.unicodeScalars).map { String($0) }
        var length = min(2, scalars.count)
        var key = scalars[0..<length].joined()
        while length < scalars.count, let next = splits[key] {
            guard next.contains(scalars[length]) else { return nil }
            key += scalars[length]
            length += 1
        }
        return key
    }

    static func splits(_ files: [String: String]) throws -> [String: Set<String>] {
        let meta = try #require(files["search/meta.js"])
        let json = String(meta.dropFirst("window.mxaSearchMeta = ".count).dropLast(2))
        var result: [String: Set<String>] = [:]
        for pair in try #require(try JSONCoding.decode(json)["splits"]?.arrayValue) {
            let parts = try #require(pair.arrayValue)
            result[try #require(parts[0].stringValue)] = Set(try #require(parts[1].arrayValue).compactMap(\.stringValue))
        }
        return result
    }

    /// M3: a key whose fragment passes the limit is split by the next character, so a rare word beside a
    /// frequent one ("messenger", "message") fetches only its own small fragment. Every term is in the
    /// fragment its key names (as search.js finds it from the split list) and nowhere else, with the same
    /// postings as without splits; a fragment past the limit holds one term; a term no message has finds
    /// no key under a split; the term equal to a split key ("me") stays under it. Fails on a writer that
    /// does not split: "me" holds all of them.
    @Test func aFragmentPastTheLimitIsSplitByTheNextCharacter() throws {
        var items: [TimelineItem] = []
        for i in 0..<400 {
            var body = "message number\(i) me"
            if i % 100 == 7 { body += " messenger" }
            if i % 50 == 3 { body += " mess meal" }
            items.append(Self.item("$m\(i)", ts: Int64(i), body: body))
        }
        let limit = 600
        let split = try Self.write(items, runLimit: 1 << 30, fragmentLimit: limit)
        let whole = try Self.write(items, runLimit: 1 << 30, fragmentLimit: 1 << 30)
        let splits = try Self.splits(split)
        #expect(try Self.splits(whole).isEmpty)
        #expect(splits["me"] != nil && splits["mes"] != nil, "\(splits)")
        let reference = try Self.postings(try #require(whole["search/f/0-6d65.js"]))
        var found: [String: String] = [:]  // term -> the fragment that holds it
        for (path, text) in split where path.hasPrefix("search/f/0-") {
            let terms = try Self.postings(text)
            #expect(text.utf8.count <= limit + 64 || terms.count == 1, "\(path): \(text.utf8.count) bytes, \(terms.count) terms")
            for (term, list) in terms {
                #expect(found[term] == nil, "\(term) in two fragments")
                found[term] = path
                if let expected = reference[term] {
                    #expect(list.map(\.rank) == expected.map(\.rank) && list.map(\.positions) == expected.map(\.positions), "\(term)")
                }
                let key = try #require(Self.key(of: term, splits: splits), "\(term) has no key")
                #expect(path == HTMLSearchLayout.fragmentPath(segment: 0, prefix: Array(key.utf8)), "\(term) in \(path), looked up under \(key)")
            }
        }
        #expect(Set(found.keys) == Set(reference.keys).union(try Self.postings(try #require(whole["search/f/0-6e75.js"])).keys)
            .union(try Self.postings(try #require(whole["search/f/0-4061.js"])).keys))
        #expect(found["me"] == "search/f/0-6d65.js")
        #expect(found["messenger"] != found["message"])
        let messenger = try #require(found["messenger"])
        #expect(try #require(split[messenger]).utf8.count < 200, "the rare word's fragment: \(split[messenger]!.utf8.count) bytes")
        #expect(Self.key(of: "messy", splits: splits) == nil)
        #expect(Self.key(of: "zebra", splits: splits) == "ze")
    }

    /// Every term of the written fragments is in the file its key names, as search.js finds it.
    static func expectEveryTermFindable(_ files: [String: String], splits: [String: Set<String>]) throws {
        for (path, text) in files where path.hasPrefix("search/f/0-") {
            for term in try Self.postings(text).keys {
                let key = try #require(Self.key(of: term, splits: splits), "\(term.prefix(40)) has no key")
                #expect(path == HTMLSearchLayout.fragmentPath(segment: 0, prefix: Array(key.utf8)), "\(term.prefix(40)) in \(path)")
            }
        }
    }

    /// Hostile rooms cannot grow meta.js (loaded when index.html opens) or the split recursion without
    /// bound: a 70 KB sender id (a hostile server's) splits no deeper than `maxKeyScalars`, and thousands of
    /// short words sized to split key after key stop at the split list's budget; every term is still found.
    @Test func splitsStayBoundedForHostileTerms() throws {
        let longSender = "@" + String(repeating: "a", count: 70_000) + ":evil.example"
        var items = (0..<40).map { Self.item("$s\($0)", ts: Int64($0), body: "hello", sender: longSender) }
        items += (0..<40).map { Self.item("$t\($0)", ts: Int64(100 + $0), body: "hello", sender: longSender + "x") }
        let deep = try Self.write(items, runLimit: 1 << 30, fragmentLimit: 200)
        let deepSplits = try Self.splits(deep)
        #expect(deepSplits.keys.allSatisfy { $0.unicodeScalars.count < HTMLSearchLayout.maxKeyScalars }, "\(deepSplits.keys.map(\.count).max() ?? 0)")
        try Self.expectEveryTermFindable(deep, splits: deepSplits)

        // 30,000 words of three letters after "zz", spread over 300 messages.
        let letters = Array("abcdefghijklmnopqrstuvwxyzàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ")
        var words: [String] = []
        for a in letters { for b in letters { for c in letters.prefix(10) where words.count < 30_000 { words.append("zz\(a)\(b)\(c)") } } }
        let wide = (0..<300).map { Self.item("$w\($0)", ts: Int64($0), body: words[($0 * 100)..<($0 * 100 + 100)].joined(separator: " ")) }
        let files = try Self.write(wide, runLimit: 1 << 30, fragmentLimit: 100)
        let meta = try #require(files["search/meta.js"])
        #expect(meta.utf8.count < HTMLSearchLayout.splitListBudget + 4_096, "meta.js: \(meta.utf8.count) bytes")
        try Self.expectEveryTermFindable(files, splits: try Self.splits(files))
    }

    /// H1: the fragment of one (segment, prefix) grows in place. Copied out of the dictionary and written
    /// back per term, it grew quadratically (a bot's 10^5 distinct ids in one prefix took minutes, 10^6
    /// about 17). Compared with a linear reference in this same run, not a wall-clock bound: 300k terms
    /// at once must take at most twice as long as 8k terms ten times, in CPU time. (Quadratic is 10 times in
    /// theory; in a debug build, where the per-term work is slow, the old code took 8 times at 300k terms.)
    @Test func oneHugePrefixMergesInLinearTime() throws {
        var reference: Duration = .zero
        for _ in 0..<10 { reference += try Self.timeOnePrefix(8_000) }
        let large = try Self.timeOnePrefix(80_000)
        print("fragment merge: 80k terms of one prefix \(large), 10 × 8k terms \(reference)")
        #expect(large <= reference * 2, "80k terms: \(large); 10 × 8k terms: \(reference)")
    }

    /// CPU time used by the calling thread so far.
    static func threadCPUTime() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    /// L5: the summary is cut at 200 Unicode scalars: "a" with 30,000 combining marks is one grapheme
    /// cluster, which `prefix(200)` of characters kept whole (60 KB in the chunk).
    @Test func snippetCutByScalarsNotClusters() throws {
        let body = "a" + String(repeating: "\u{301}", count: 30_000) + " tail"
        let files = try Self.write([Self.item("$z", ts: 1, body: body)], runLimit: 1 << 30)
        let chunk = try #require(files["search/s/0.js"])
        #expect(chunk.utf8.count < 1_000, "chunk is \(chunk.utf8.count) bytes")
        // "a" and 199 marks, then the ellipsis (compared by scalars: as Characters the cluster is one).
        #expect(chunk.unicodeScalars.filter { $0 == "\u{301}" }.count == 199)
        #expect(chunk.unicodeScalars.contains("…"))
    }

    /// A display name as long as an event allows (a federated server's member event) is cut in every
    /// summary, as the body is.
    @Test func aHugeDisplayNameIsCutInTheSummaries() throws {
        var item = Self.item("$n", ts: 1, body: "hello")
        item.senderDisplayName = String(repeating: "N", count: 60_000)
        let files = try Self.write([item], runLimit: 1 << 30)
        let chunk = try #require(files["search/s/0.js"])
        #expect(chunk.utf8.count < 1_000, "chunk is \(chunk.utf8.count) bytes")
        #expect(chunk.contains(String(repeating: "N", count: 100) + "…"))
    }

    /// L2: a read error on a run is an error, not the end of the run (which silently dropped its rest).
    /// The run here is a file open only for appending, so fread fails with EBADF.
    @Test func unreadableRunFailsTheExport() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-run-\(UUID().uuidString)").path
        defer { unlink(path) }
        var run: [UInt8] = []
        VarInt.append(2, to: &run)
        run.append(contentsOf: "zz".utf8)
        VarInt.append(2, to: &run)
        run.append(contentsOf: [1, 0])  // message 0, no positions
        let writing = try #require(fopen(path, "w"))
        try HTMLSearchSpillFile.write(run, to: writing)
        fclose(writing)
        let appendOnly = try #require(fopen(path, "a"))
        defer { fclose(appendOnly) }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-ssearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        #expect(throws: ExportError.self) {
            try HTMLSearchFragmentWriter(runs: [appendOnly], rankOfDoc: [0], fragmentLimit: HTMLSearchLayout.fragmentLimit).write(to: writer)
        }
    }

    /// L3: a spill file that cannot be written names the directory and $TMPDIR, where a full tmpfs is the
    /// usual cause (a read-only stream stands in for the full disk).
    @Test func spillWriteErrorNamesTMPDIR() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-spill-\(UUID().uuidString)").path
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let readOnly = try #require(fopen(path, "r"))
        defer { fclose(readOnly) }
        do {
            try HTMLSearchSpillFile.write(Array(repeating: 1, count: 10), to: readOnly)
            Issue.record("the write to a read-only stream succeeded")
        } catch {
            let message = (error as? ExportError)?.description ?? ""
            let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            #expect(message.contains("$TMPDIR") && message.contains(directory), "\(message)")
        }
    }

    @Test func nothingSearchedWritesNothing() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-ssearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        let index = try HTMLSearchIndexWriter(tokenizer: SpaceTokenizer())
        _ = index.beginRoom(name: "Room")
        try index.add(Self.item("$s", ts: 1, body: "x", type: "m.room.member"), room: 0, href: "x")
        #expect(try index.finish(writer: writer) == nil)
    }
}
