import ArchiveCore
import Foundation
import Testing

@testable import Exporters

/// A hand-made tokeniser for these unit tests (the export uses SearchIndex's Xapian one): words split at
/// spaces, lower-cased, numbered from 1.
struct SpaceTokenizer: TextTokenizer {
    func terms(of parts: [String]) throws -> [(term: String, positions: [UInt32])] {
        var positions: [String: [UInt32]] = [:]
        var order: [String] = []
        var position: UInt32 = 0
        for part in parts {
            for word in part.lowercased().split(separator: " ") {
                position += 1
                if positions[String(word)] == nil { order.append(String(word)) }
                positions[String(word), default: []].append(position)
            }
            position += 100
        }
        return order.map { ($0, positions[$0]!) }
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
    static func write(_ items: [TimelineItem], runLimit: Int) throws -> [String: String] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-ssearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        let index = try HTMLSearchIndexWriter(tokenizer: SpaceTokenizer(), runLimit: runLimit)
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

    /// A fragment's terms and their (rank, positions) postings, decoded as search.js decodes them.
    static func postings(_ fragment: String, segment: Int = 0) throws -> [String: [(rank: Int, positions: [Int])]] {
        let json = String(fragment.drop { $0 != "{" }.dropLast(3))  // "...,{...});\n"
        let object = try #require(try JSONCoding.decode(json).objectValue)
        let alphabet = Array(String(decoding: SearchNumberText.alphabet, as: UTF8.self))
        var result: [String: [(rank: Int, positions: [Int])]] = [:]
        for (term, value) in object {
            let chars = Array(value.stringValue ?? "")
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
            var list: [(rank: Int, positions: [Int])] = []
            while index < chars.count {
                rank += number()
                var positions: [Int] = []
                var position = 0
                for _ in 0..<number() { position += number(); positions.append(position) }
                list.append((rank, positions))
            }
            result[term] = list
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
