import Testing

@testable import SearchIndex

/// The static search's terms come from `mxa_xtokenize` (the index writer's term generator without a
/// stemmer); search.js must split queries the same way, so these pin what the generator gives.
@Suite struct XapianTokenizerTests {
    static func terms(_ parts: [String]) throws -> [String: [UInt32]] {
        var result: [String: [UInt32]] = [:]
        for (term, positions) in try XapianTokenizer().terms(of: parts) {
            #expect(result[term] == nil, "term \(term) twice")
            result[term] = positions
        }
        return result
    }

    @Test func positionsAndCaseFolding() throws {
        #expect(try Self.terms(["Hello world HELLO"]) == ["hello": [1, 3], "world": [2]])
    }

    /// Parts (body, file name, …) are 100 positions apart, so a phrase never spans two of them.
    @Test func partsAreAHundredPositionsApart() throws {
        #expect(try Self.terms(["hello world", "again"]) == ["hello": [1], "world": [2], "again": [103]])
        #expect(try Self.terms(["", "again"]) == ["again": [101]])
    }

    /// CJK: every character with its position, and the two-character grams without positions.
    @Test func cjkUnigramsAndBigrams() throws {
        #expect(try Self.terms(["迁移计划"]) == ["迁": [1], "移": [2], "计": [3], "划": [4], "迁移": [], "移计": [], "计划": []])
    }

    /// Rules search.js has to copy (termgenerator_internal.cc): initials, zero-width characters, suffixes.
    @Test func generatorRules() throws {
        #expect(try Self.terms(["U.S.A. c++++ foo\u{200B}bar don\u{2019}t"]) == ["usa": [1], "c": [2], "foobar": [3], "don't": [4]])
    }

    /// Terms are bytes: the two spellings of "école" are two terms, as the static index keeps them.
    @Test func canonicallyEquivalentFormsAreTwoTerms() throws {
        let terms = try XapianTokenizer().terms(of: ["\u{E9}cole e\u{301}cole"]).map { Array($0.term.utf8) }
        #expect(Set(terms) == [Array("\u{E9}cole".utf8), Array("e\u{301}cole".utf8)])
    }
}
