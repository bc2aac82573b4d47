import Foundation
import Testing
@testable import Exporters

/// Issue 12.2: an exported media file's extension comes from its first bytes, out of an allowlist of
/// inert types; the sender's name and mimetype never matter, and anything a browser could run is `.bin`.
@Suite struct MediaSnifferTests {
    func ext(_ bytes: [UInt8]) -> String { MediaSniffer.sniff(bytes).fileExtension }
    func ext(_ text: String) -> String { ext(Array(text.utf8)) }
    /// `text` in ASCII at `offset` of a zero-filled buffer of `count` bytes.
    func bytes(_ parts: [(Int, [UInt8])], count: Int = 32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        for (offset, part) in parts { buffer.replaceSubrange(offset..<offset + part.count, with: part) }
        return buffer
    }
    func a(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func eachAllowedSignatureGetsItsExtension() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        #expect(ext(png) == "png")
        #expect(ext([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]) == "jpg")
        #expect(ext("GIF89a\u{1}\u{0}") == "gif")
        #expect(ext("GIF87a\u{1}\u{0}") == "gif")
        #expect(ext(bytes([(0, a("RIFF")), (8, a("WEBPVP8 "))])) == "webp")
        #expect(ext(bytes([(0, a("RIFF")), (8, a("WAVEfmt "))])) == "wav")
        #expect(ext(bytes([(4, a("ftypavif"))])) == "avif")
        #expect(ext(bytes([(4, a("ftypisom"))])) == "mp4")
        #expect(ext(bytes([(4, a("ftypmp42"))])) == "mp4")
        #expect(ext(bytes([(4, a("ftypM4A "))])) == "m4a")
        #expect(ext(bytes([(4, a("ftypqt  "))])) == "mov")
        #expect(ext(bytes([(0, [0x1A, 0x45, 0xDF, 0xA3]), (8, [0x42, 0x82, 0x84]), (11, a("webm"))])) == "webm")
        #expect(ext(bytes([(0, [0x1A, 0x45, 0xDF, 0xA3]), (8, [0x42, 0x82, 0x88]), (11, a("matroska"))])) == "mkv")
        #expect(ext("OggS\u{0}\u{2}") == "ogg")
        #expect(ext("fLaC\u{0}\u{0}\u{0}\u{22}") == "flac")
        #expect(ext(bytes([(0, a("ID3")), (3, [4, 0, 0])])) == "mp3")
        #expect(ext([0xFF, 0xFB, 0x90, 0x64, 0, 0]) == "mp3")
        #expect(ext("%PDF-1.7\n") == "pdf")
        #expect(MediaSniffer.sniff(png).mimeType == "image/png")
    }

    @Test func truncatedSignaturesAreBinary() {
        #expect(ext([]) == "bin")
        #expect(ext([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A]) == "bin")  // 7 of PNG's 8 bytes
        #expect(ext([0xFF, 0xD8]) == "bin")
        #expect(ext("GIF89") == "bin")
        #expect(ext("RIFF\u{0}\u{0}\u{0}\u{0}WEB") == "bin")
        #expect(ext("\u{0}\u{0}\u{0}\u{20}ftyp") == "bin")  // no brand
        #expect(ext("ID3") == "bin")
        #expect(ext("%PDF") == "bin")
    }

    @Test func pagesImagesOfTextAndScriptsAreBinary() {
        // What a sender calls photo.png with image/png: the bytes decide.
        #expect(ext("<!DOCTYPE html><html><script>alert(document.cookie)</script>") == "bin")
        #expect(ext("<html><body>hi") == "bin")
        #expect(ext("\u{FEFF}<html>") == "bin")
        #expect(ext("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>x()</script></svg>") == "bin")
        #expect(ext("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"x()\"/>") == "bin")
        #expect(ext("<?xml version=\"1.0\"?><root/>") == "bin")
        #expect(ext("#!/bin/sh\nrm -rf ~\n") == "bin")
        #expect(ext("alert(1)//") == "bin")
        #expect(ext("PK\u{3}\u{4}") == "bin")  // zip, jar, docx: not inert for a downloader
        #expect(ext(bytes([(4, a("ftypheic"))])) == "bin")  // an unknown brand
        #expect(ext([0xFF, 0xF1, 0x50, 0x80]) == "bin")  // ADTS AAC is not an MPEG audio layer
        #expect(ext("just some text") == "bin")
    }

    /// A file that starts with a known signature is that type, whatever follows: served as image/png
    /// with nosniff, a browser only ever decodes it as an image.
    @Test func aPolyglotWithAPNGSignatureIsAPNG() {
        let polyglot: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + a("<html><script>alert(1)</script>")
        #expect(ext(polyglot) == "png")
    }

    /// Only the first bytes are looked at, so a large file costs no more than a small one.
    @Test func onlyThePrefixCounts() {
        let late = [UInt8](repeating: 0x20, count: MediaSniffer.prefixLength) + a("%PDF-1.7")
        #expect(ext(late) == "bin")
    }
}

/// Issue 12.7: `--mode` is a file mode the owner can read and write and nobody else can change; folders
/// get search wherever files can be read.
@Suite struct ExportFileModeTests {
    @Test func acceptedModes() throws {
        #expect(try ExportFileMode.parse("0600") == 0o600)
        #expect(try ExportFileMode.parse("644") == 0o644)
        #expect(try ExportFileMode.parse("0640") == 0o640)
        #expect(ExportFileMode.directoryMode(for: 0o600) == 0o700)
        #expect(ExportFileMode.directoryMode(for: 0o640) == 0o750)
        #expect(ExportFileMode.directoryMode(for: 0o644) == 0o755)
    }

    @Test func refusedModes() {
        for bad in ["", "rw-r--r--", "0o644", "0888", "64", "06444", "4644", "0444", "0200", "0666", "0620", "0755x"] {
            #expect(throws: ExportError.self, "\(bad)") { try ExportFileMode.parse(bad) }
        }
        #expect {
            try ExportFileMode.parse("0666")
        } throws: { "\($0)".contains("--mode '0666'") && "\($0)".contains("other users") }
    }
}
