import ArchiveCore
import Foundation
import Testing

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONCoding.decode(#" { "a" : [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d"} } "#)
        #expect(value == ["a": [1, -2, .double(3.5), .double(1000), true, false, nil], "b": ["c": "d"]])
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONCoding.decode(#""q\" b\\ s\/ \n\t \u00e9 \ud83d\ude00 ü""#)
        #expect(value == .string("q\" b\\ s/ \n\t é 😀 ü"))
    }

    @Test func roundTripsThroughTheWriter() throws {
        let original: JSONValue = ["z": "line\nbreak \"quoted\" \u{1}", "a": [1, .double(2.25), nil, ["k": false]],
                                   "emoji": "🎉", "big": .int(Int64.max)]
        let text = JSONCoding.encode(original)
        #expect(text.hasPrefix(#"{"a":"#))
        #expect(try JSONCoding.decode(text) == original)
        // Foundation's parser agrees with our writer.
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }

    @Test func rejectsMalformedInput() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "\"\\ud800\"", "01", "1.", "tru", "{} x", "\"a\u{1}\"",
                    "[" + String(repeating: "[", count: 300) + String(repeating: "]", count: 301)] {
            #expect(throws: JSONParser.Failure.self, "accepted \(bad.prefix(20))") { try JSONCoding.decode(bad) }
        }
    }

    @Test func integersStayIntegersAndHugeOnesBecomeDoubles() throws {
        #expect(try JSONCoding.decode("1700000000000") == .int(1_700_000_000_000))
        #expect(try JSONCoding.decode("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    /// Issue 12.6: a 64 MiB reply of tiny values once grew to almost 900 MB of `JSONValue`s. The parser now
    /// stops at its value budget, early in the text, and says so in a way the client can act on.
    @Test func aDocumentOfTinyValuesStopsAtTheValueBudget() throws {
        var zeros = [UInt8]("[".utf8)
        zeros.reserveCapacity(64 << 20)
        while zeros.count < (64 << 20) - 2 { zeros.append(UInt8(ascii: "0")); zeros.append(UInt8(ascii: ",")) }
        zeros.append(contentsOf: "0]".utf8)
        let failure = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(zeros) }
        #expect(failure.exceedsValueLimit)
        #expect(failure.offset < 2 * JSONParser.maxValues + 16)

        var keys = "{"
        for index in 0..<6 { keys += "\"k\(index)\":0," }
        keys += "\"last\":0}"
        // 1 object + 7 keys + 7 values.
        #expect(try JSONParser.parse(keys.utf8, maxValues: 15).objectValue?.count == 7)
        let overKeys = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(keys.utf8, maxValues: 14) }
        #expect(overKeys.exceedsValueLimit)
        // Malformed text is not mistaken for "too many values".
        let malformed = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse("[1,]".utf8) }
        #expect(!malformed.exceedsValueLimit)
    }
}
