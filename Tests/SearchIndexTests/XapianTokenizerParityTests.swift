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

    /// search.js under node, with just enough of a page for it to start: `window.mxaSearch[function]` of
    /// each of `texts`, as JSON.
    static func runScript(_ function: String, _ texts: [String]) throws -> Any {
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
            process.stdout.write(JSON.stringify(texts.map((t) => window.mxaSearch[process.argv[2]](t))));
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["node", "-e", harness, script.path, function]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: texts))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "node must be installed for this test")
        return try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
    }

    /// search.js's words of each text.
    static func scriptWords(_ texts: [String]) throws -> [[(terms: [String], cjk: Bool)]] {
        let lists = try #require(try runScript("words", texts) as? [[[String: Any]]])
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

    /// Queries whose reading differs between "every multi-word token is a phrase" and Xapian's QueryParser
    /// (the CLI gives each word and "phrase" of a query to it): separators that make a phrase and those that
    /// AND, CJK ending a group, CJK inside quotes, a * dropped inside a phrase.
    static let queries = [
        "key=value", "fish+chips", "foo,bar", "a|b", "foo\u{2014}bar", "Mac\u{7248}Office", "e-mail", "e--mail", "e-.mail",
        "a=-b", "a,-b", "a.b-c", "x@y:z", "e\\mail", "u.s.a", "C++-x", "a-b=c-d", "foo&bar-baz", "x-Mac\u{7248}Office-y",
        "e-ma*", "key=va*", "\"hello \u{4E16}\u{754C} world\"", "\"hello \u{4E16}\u{754C}\"", "\"\u{6771}\u{4EAC} \u{30BF}\u{30EF}\u{30FC}\"",
        "\"key=value e-mail\"", "\u{4E16}-x", "plain",
    ]

    /// A query as a sorted list of what it requires: `term:t` (AND-ed), `phrase:a b c`, `prefix:p`.
    static func constraints(xapian description: String) -> [String] {
        var text = description
        var result: [String] = []
        // Innermost "(a@1 PHRASE 3 b@2 PHRASE 3 c@3)" groups first, then what is left.
        while let range = text.range(of: #"\([^()]*PHRASE[^()]*\)"#, options: .regularExpression) {
            let inner = text[range].dropFirst().dropLast()
            let terms = inner.components(separatedBy: " PHRASE ").map { part -> String in
                let term = part.split(separator: " ").last.map(String.init) ?? ""
                return String(term.prefix { $0 != "@" })
            }
            result.append("phrase:" + terms.joined(separator: " "))
            text.replaceSubrange(range, with: " ")
        }
        while let range = text.range(of: #"WILDCARD SYNONYM [^\s()]+"#, options: .regularExpression) {
            result.append("prefix:" + text[range].dropFirst("WILDCARD SYNONYM ".count))
            text.replaceSubrange(range, with: " ")
        }
        for match in text.matches(of: /([^\s()]+)@[0-9]+/) { result.append("term:" + match.1) }
        return result.sorted()
    }

    static func constraints(script groups: [[String: Any]]) -> [String] {
        groups.flatMap { group -> [String] in
            let terms = group["terms"] as? [String] ?? []
            switch group["kind"] as? String {
            case "phrase": return ["phrase:" + terms.joined(separator: " ")]
            case "prefix": return terms.map { "prefix:" + $0 }
            default: return terms.map { "term:" + $0 }
            }
        }.sorted()
    }

    /// search.js reads each query as Xapian's own QueryParser does (the shim's mxa_xquery_text, which the
    /// CLI's search uses, over an empty unstemmed index): the same terms, phrases and prefixes.
    @Test func queriesReadAsXapiansQueryParser() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-qp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do { _ = try XapianWriter(path: directory.path, overwrite: true, language: "none") }
        let reader = try XapianReader(paths: [directory.path], language: "none")
        let parsed = try #require(try Self.runScript("parse", Self.queries) as? [Any])
        try #require(parsed.count == Self.queries.count)
        for (query, page) in zip(Self.queries, parsed) {
            let xapian = try #require(try reader.textQuery(query, partial: false)).description
            let groups = ((page as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
            #expect(Self.constraints(script: groups) == Self.constraints(xapian: xapian),
                    "\(query): search.js \(Self.constraints(script: groups)), Xapian \(xapian)")
        }
    }

    /// from: as the CLI reads it: a user id or refused; parentheses (the CLI's grouping) refused.
    @Test func fromAndParenthesesAsTheCLIReadsThem() throws {
        let queries = ["from:hello", "from:", "(from:@a:hs)", "(in:!x)", "a(b", "from:@a:hs from:@b:hs"]
        let parsed = try #require(try Self.runScript("parse", queries) as? [[String: Any]])
        try #require(parsed.count == queries.count)
        for (query, page) in zip(queries.dropLast(), parsed) {
            #expect(page["error"] is String, "\(query): \(page)")
        }
        // The CLI refuses these two too (exit 2); it runs the parenthesised ones as groups, which the page does not.
        for query in ["from:hello", "from:"] {
            #expect(throws: SearchQueryError.self, "\(query)") { _ = try SearchQueryParser.parse(query) }
        }
        let senders = (parsed.last?["groups"] as? [[String: Any]])?.map { $0["terms"] as? [String] ?? [] }
        #expect(senders == [["@a:hs"], ["@b:hs"]])
    }
}
