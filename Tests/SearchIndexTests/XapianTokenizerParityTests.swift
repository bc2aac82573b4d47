import Foundation
import Testing

@testable import SearchIndex

/// search.js splits a query into the terms `mxa_xtokenize` gives the static index, or a query finds
/// nothing the CLI finds. Tricky strings go through both, the real Xapian and search.js under node.
@Suite struct XapianTokenizerParityTests {
    static let cases = [
        "U.S.A. rocks", "P.T.O", "M&S and AT&T", "A. b", "É.T. phone", "U.S.A.x", "don't don\u{2019}t o\u{201B}k",
        "c++ c#++ c++++ fish+chips C# x+", "1,000.50 3.14 1;2 1'2 \u{B2},3 ٣;٤ 1\u{2044}2 a.b",
        "می\u{200C}خواهم", "foo\u{200B}bar x\u{2060}y z\u{FEFF}w a\u{200D}b", "x\u{5F4}y a\u{2027}b", "צה\u{5F4}ל",
        "中文字 中 ⼀⼁ 가나다 mixed中文", "ΣΟΦΟΣ İstanbul", "ŉ ǅ", "__proto__ constructor", "e-mail snake_case",
        "\u{E9}cole e\u{301}cole", "trailing\u{200B} \u{200B}leading", "'quoted' &amp;",
    ]

    /// search.js's words under node, with just enough of a page for it to start.
    static func scriptWords(_ texts: [String]) throws -> [[(terms: [String], cjk: Bool)]] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("exports/html/assets/search.js")
        let harness = """
            const element = () => ({ addEventListener() {}, appendChild() {}, removeChild() {}, style: {} });
            globalThis.window = globalThis;
            globalThis.location = { search: "" };
            globalThis.mxaSearchMeta = { messages: 0, segments: 0, segment_size: 65536, chunk_size: 64, position_cap: 64, rooms: [] };
            globalThis.document = { getElementById: element, createElement: element, body: element() };
            require("vm").runInThisContext(require("fs").readFileSync(process.argv[1], "utf8"));
            const texts = JSON.parse(require("fs").readFileSync(0, "utf8"));
            process.stdout.write(JSON.stringify(texts.map((t) => window.mxaSearch.words(t))));
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["node", "-e", harness, script.path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: texts))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "node must be installed for this test")
        let lists = try #require(try JSONSerialization.jsonObject(with: data) as? [[[String: Any]]])
        return lists.map { $0.map { (($0["terms"] as? [String]) ?? [], ($0["cjk"] as? Bool) ?? false) } }
    }

    static func isCJK(_ term: String) -> Bool {
        term.unicodeScalars.contains { scalar in
            let p = scalar.value
            return (0x2E80...0x2FDF).contains(p) || (0x3000...0x9FFF).contains(p) || (0xA700...0xA71F).contains(p)
                || (0xAC00...0xD7AF).contains(p) || (0xF900...0xFAFF).contains(p) || (0xFE30...0xFE4F).contains(p)
                || (0xFF00...0xFFEF).contains(p) || (0x20000...0x2A6DF).contains(p) || (0x2F800...0x2FA1F).contains(p)
        }
    }

    /// The words (not CJK) in order, as bytes: what a query's words and phrases are matched against.
    @Test func queryWordsAreXapiansTerms() throws {
        let script = try Self.scriptWords(Self.cases)
        try #require(script.count == Self.cases.count)
        for (text, words) in zip(Self.cases, script) {
            let xapian = try XapianTokenizer().terms(of: [text])
            var byPosition: [(UInt32, [UInt8])] = []
            for (term, positions) in xapian where !Self.isCJK(term) {
                for position in positions { byPosition.append((position, Array(term.utf8))) }
            }
            let expected = byPosition.sorted { $0.0 < $1.0 }.map(\.1)
            let got = words.filter { !$0.cjk }.map { Array($0.terms[0].utf8) }
            #expect(got == expected, "\(text): search.js \(got.map { String(decoding: $0, as: UTF8.self) }) Xapian \(expected.map { String(decoding: $0, as: UTF8.self) })")
            // CJK: the grams a query asks for are terms of the index.
            let all = Set(xapian.map { Array($0.term.utf8) })
            for gram in words.filter(\.cjk).flatMap(\.terms) {
                #expect(all.contains(Array(gram.utf8)), "\(text): CJK gram \(gram) not a Xapian term")
            }
        }
    }
}
