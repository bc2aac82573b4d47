import ArchiveCore
import Testing

/// The one set of rules that makes other people's text safe for TXT exports and terminal lines.
@Suite struct DisplayTextTests {
    @Test(arguments: ["\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}"])
    func everyLineBreakEndsALine(_ lineBreak: String) {
        #expect(DisplayText.lines("one" + lineBreak + "two") == ["one", "two"])
        #expect(DisplayText.lines(lineBreak) == ["", ""])
        #expect(DisplayText.singleLine("a" + lineBreak + "b", breaks: .space) == "a b")
        let escaped = DisplayText.singleLine("a" + lineBreak + "b")
        #expect(escaped.hasPrefix("a\\u{") && escaped.hasSuffix("}b"))
        #expect(!escaped.unicodeScalars.contains(where: DisplayText.isLineBreak))
    }

    @Test func crlfIsOneBreakAndLFCRIsTwo() {
        #expect(DisplayText.lines("a\r\nb") == ["a", "b"])
        #expect(DisplayText.lines("a\n\rb") == ["a", "", "b"])
        #expect(DisplayText.singleLine("a\r\nb", breaks: .space) == "a b")
        #expect(DisplayText.singleLine("a\r\nb") == "a\\u{D}\\u{A}b")
    }

    @Test func terminalSequencesAreShownNotSent() {
        #expect(DisplayText.singleLine("\u{1B}]52;c;ZXZpbA==\u{07}") == "\\u{1B}]52;c;ZXZpbA==\\u{7}")
        #expect(DisplayText.lines("up\u{1B}[1A\u{1B}[2Kgone") == ["up\\u{1B}[1A\\u{1B}[2Kgone"])
        #expect(DisplayText.singleLine("\u{0}\u{7F}\u{9B}31m\u{9D}") == "\\u{0}\\u{7F}\\u{9B}31m\\u{9D}")  // NUL, DEL, C1 CSI and OSC
    }

    @Test func bidiControlsAreShown() {
        for scalar in ["\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}",
                       "\u{2069}", "\u{200E}", "\u{200F}", "\u{061C}"] {
            let shown = DisplayText.singleLine("x" + scalar + "y")
            #expect(shown == "x\\u{\(String(scalar.unicodeScalars.first!.value, radix: 16, uppercase: true))}y")
            #expect(DisplayText.lines("x" + scalar + "y") == [shown])
        }
    }

    @Test func tabStaysInBodiesOnly() {
        #expect(DisplayText.lines("\tcode") == ["\tcode"])
        #expect(DisplayText.singleLine("a\tb") == "a\\u{9}b")
    }

    @Test func ordinaryTextIsUntouched() {
        let text = "Grüße, naïve café — 你好世界 こんにちは 👩‍👩‍👧 🏳️‍🌈 👍🏽 עברית مرحبا \\u{1B} is typed text"
        #expect(DisplayText.singleLine(text) == text)
        #expect(DisplayText.singleLine(text, breaks: .space) == text)
        #expect(DisplayText.lines(text) == [text])
    }

    @Test func markersTheCallerAddsCanBeKept() {
        #expect(DisplayText.lines("a\u{2}hit\u{3}\u{1B}", keeping: ["\u{2}", "\u{3}"]) == ["a\u{2}hit\u{3}\\u{1B}"])
    }

    @Test func continuationLinesAreIndented() {
        #expect(DisplayText.indented("one\r\ntwo\u{2028}three", by: 4) == "one\n    two\n    three")
        #expect(DisplayText.indented("one", by: 4) == "one")
    }

    @Test func sendersAreOneLine() {
        #expect(DisplayText.sender("@a:hs", displayName: "Alice") == "Alice (@a:hs)")
        #expect(DisplayText.sender("@a:hs", displayName: nil) == "@a:hs")
        #expect(DisplayText.sender("@a:hs", displayName: "A\nB\u{202E}") == "A\\u{A}B\\u{202E} (@a:hs)")
    }
}
