@testable import ArchiveCore
import Testing

/// Issue 9.9: names that look the same to a reader are the same name, and a name that imitates a user id
/// always shows the real one.
@Suite struct MemberNameTests {
    @Test func namesDifferingOnlyInWhatCannotBeSeenHaveOneKey() {
        let alice = MemberName.comparisonKey("Alice")
        for lookalike in ["alice", "ALICE", " Alice ", "Al\u{200B}ice", "Ali\u{00AD}ce", "\u{FEFF}Alice",
                          "Alic\u{2060}e", "Alice\u{E0041}\u{E007F}", "Ａｌｉｃｅ", "Alice\u{200F}"] {
            #expect(MemberName.comparisonKey(lookalike) == alice, "\(lookalike.unicodeScalars.map(\.value))")
        }
        #expect(MemberName.comparisonKey("Alice  Smith") == MemberName.comparisonKey("alice\tsmith"))
        #expect(MemberName.comparisonKey("Alice Smith") != MemberName.comparisonKey("AliceSmith"))
        #expect(MemberName.comparisonKey("Alicia") != alice)
    }

    @Test func aNameImitatingAUserIDAlwaysShowsTheRealOne() {
        let bob = "@bob:b.org"
        #expect(MemberName.label(userID: bob, displayName: "@alice:a.org", ambiguous: false) == "@alice:a.org (@bob:b.org)")
        #expect(MemberName.label(userID: bob, displayName: "Alice (@alice:a.org)", ambiguous: false)
                == "Alice (@alice:a.org) (@bob:b.org)")
        #expect(MemberName.label(userID: bob, displayName: "Alice\u{FF08}\u{FF20}alice", ambiguous: false)
                == "Alice\u{FF08}\u{FF20}alice (@bob:b.org)")
        #expect(MemberName.label(userID: bob, displayName: "\u{200B}\u{2063} ", ambiguous: false) == bob)
        #expect(MemberName.label(userID: bob, displayName: "Bob", ambiguous: false) == "Bob")
        #expect(MemberName.label(userID: bob, displayName: "alice@a.org", ambiguous: false) == "alice@a.org")
    }

    /// The ASCII shortcut must give the key Foundation's NFKC path gives: every ASCII character alone, in
    /// pairs with a letter and white space around, and random ASCII strings.
    @Test func theASCIIShortcutAgreesWithTheUnicodePath() throws {
        var names: [String] = []
        for value in 0..<128 {
            let c = String(UnicodeScalar(UInt8(value)))
            names += [c, "A" + c + "b", " " + c + " ", c + c + "Z", "a\t" + c + "\n"]
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0...12, using: &generator)
            names.append(String(decoding: (0..<length).map { _ in UInt8.random(in: 0..<128, using: &generator) }, as: UTF8.self))
        }
        for name in names {
            let fast = try #require(MemberName.asciiComparisonKey(name))
            #expect(fast == MemberName.unicodeComparisonKey(name), "\(Array(name.utf8))")
        }
        #expect(MemberName.asciiComparisonKey("Zoë") == nil)
        #expect(MemberName.comparisonKey("Zoë  X") == MemberName.unicodeComparisonKey("Zoë  X"))
    }
}
