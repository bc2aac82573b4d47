import Foundation
import Testing
import ArchiveCore
import TestSupport
@testable import Exporters

/// The hex form of swift-crypto's SHA-256 that the manifest records, in memory and as files stream.
@Suite struct SHA256Tests {
    static let million = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    @Test func knownVectors() {
        #expect(sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == Self.million)
    }

    /// The streaming hashers of the writer and the verifier: a file spilled to disk and read back in
    /// chunks gets the same digest as the bytes in memory.
    @Test func streamedFilesGetTheKnownDigest() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        let file = ExportFile(spillThreshold: 1000)
        let thousand = String(repeating: "a", count: 1000)
        for _ in 0..<1000 { file.append(thousand) }
        #expect(try writer.add("a.txt", file))
        #expect(try writer.add("abc.txt", text: "abc"))
        #expect(try writer.writtenFiles().map(\.sha256) == [Self.million, sha256Hex(Array("abc".utf8))])
        try writer.finish()
        #expect(try ExportVerifier.hashFile(base.appendingPathComponent("a.txt").path) == (1_000_000, Self.million))
    }
}

@Suite struct ExportPathTests {
    /// Names are the first 32 lower-case hex digits of the id's SHA-256: fixed length, safe, and distinct
    /// even where the file system ignores case.
    @Test func idsBecomeHashedNames() {
        #expect(ExportPath.component(forID: "!abc:localhost") == "75a1e2215b3d46105cd96ce395b229a1")
        #expect(ExportPath.component(forID: "$root") == "ddcb2dfa42d81931eef1c63ed9157b42")
        for id in ["!abc:localhost", "$../..", "$/abs", "!..", "!.", "$a/b+c=", "!ünï", "$\u{0}x", "", "!",
                   "$" + String(repeating: "x", count: 300)] {
            let name = ExportPath.component(forID: id)
            #expect(ExportPath.isSafe(name), "\(id) → \(name)")
            #expect(name.utf8.count == 32 && name == name.lowercased(), "\(id) → \(name)")
        }
    }

    /// Issue 12: the old names kept a readable encoding and cut long ones to 180 bytes plus 16 hex digits
    /// of their hash. A short id spelling out a long id's cut name got the same name; `$abc` and `$ABC`
    /// differed only in case.
    @Test func craftedIdsDoNotMeet() {
        let long = "$" + String(repeating: "a", count: 250)
        let craft = "$" + String(repeating: "a", count: 180) + "-" + sha256Hex(Array(long.utf8)).prefix(16)
        #expect(ExportPath.component(forID: long) != ExportPath.component(forID: craft))
        #expect(ExportPath.component(forID: "$abc").lowercased() != ExportPath.component(forID: "$ABC").lowercased())
        #expect(ExportPath.component(forID: "!a_b") != ExportPath.component(forID: "!a:b"))
    }

    @Test func unsafePathsAreRefused() {
        for path in ["", "/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/", "a b", "a\\b", "ü"] {
            #expect(!ExportPath.isSafe(path), "\(path)")
        }
        #expect(ExportPath.isSafe("rooms/abc_3Alocalhost/events/2024-01.jsonl"))
        #expect(ExportPath.rootPrefix(of: "rooms/x/2024-01.html") == "../../")
        #expect(ExportPath.rootPrefix(of: "index.html") == "")
    }
}

@Suite struct UTCTimeTests {
    @Test func calendarFields() {
        #expect(UTCTime(millis: 0).display == "1970-01-01 00:00:00 UTC")
        #expect(UTCTime(millis: 1_704_200_645_000).display == "2024-01-02 13:04:05 UTC")
        #expect(UTCTime(millis: 1_709_164_800_000).dayKey == "2024-02-29")
        #expect(UTCTime(millis: -1).display == "1969-12-31 23:59:59 UTC")
        #expect(UTCTime(millis: 4_102_444_799_999).iso8601 == "2099-12-31T23:59:59Z")
        #expect(UTCTime(millis: 1_704_200_645_000).monthTitle == "January 2024")
    }

    @Test func monthFilesNeverRepeat() {
        var cursor = MonthCursor()
        let jan = Int64(1_704_200_645_000), feb = Int64(1_706_900_000_000), mar = Int64(1_709_500_000_000)
        func step(_ millis: Int64) -> String {
            let (key, isNew) = cursor.month(for: millis)
            return key + (isNew ? " new" : "")
        }
        #expect(step(jan) == "2024-01 new")
        #expect(step(feb) == "2024-02 new")
        // A skewed clock: stamped in January, but after February's events in the room's order.
        #expect(step(jan) == "2024-02")
        #expect(step(mar) == "2024-03 new")
    }
}

@Suite struct HTMLTokenizerTests {
    @Test func attributesInEveryForm() {
        let tokens = HTMLTokenizer.tokenize(#"<A HREF=x title='y z' data-x="&amp;&#65;&#x42;" checked href=dup>t&lt;</a>"#)
        #expect(tokens.count == 3)
        guard case .startTag(let name, let attributes, _) = tokens[0] else { Issue.record("no start tag"); return }
        #expect(name == "a")
        #expect(attributes.map(\.0) == ["href", "title", "data-x", "checked"])
        #expect(attributes.map(\.1) == ["x", "y z", "&AB", ""])
        #expect(tokens[1] == .text("t<"))
        #expect(tokens[2] == .endTag(name: "a"))
    }

    @Test func rawTextElementsHideMarkup() {
        let tokens = HTMLTokenizer.tokenize("<script>if (a < b) { x('</scr' + 'ipt>') }</SCRIPT >after")
        #expect(tokens.first == .startTag(name: "script", attributes: [], selfClosing: false))
        #expect(tokens.contains(.endTag(name: "script")))
        #expect(tokens.last == .text("after"))
        let title = HTMLTokenizer.tokenize("<title>&lt;b&gt;</title>")
        #expect(title[1] == .text("<b>"))
    }

    @Test func commentsAndBogusMarkup() {
        #expect(HTMLTokenizer.tokenize("a<!-- <script> -->b") == [.text("a"), .comment, .text("b")])
        #expect(HTMLTokenizer.tokenize("<!DOCTYPE html><?php x ?>c") == [.comment, .comment, .text("c")])
        #expect(HTMLTokenizer.tokenize("1 < 2 <3") == [.text("1 "), .text("< 2 "), .text("<3")])
        #expect(HTMLTokenizer.tokenize("<!--unterminated <b>") == [.comment])
    }
}

@Suite struct HTMLSanitizerTests {
    static let forbidden = ["<script", "onerror", "onclick", "onload", "javascript", "<iframe", "<style", "style=",
                            "<object", "<embed", "<form", "<base", "<link", "<meta", "<svg", "<math", "<textarea",
                            "<img", "src=", "url(", "PWNED"]

    @Test(arguments: [
        "<script>document.title='PWNED'</script>",
        "<img src=x onerror=\"document.title='PWNED'\">",
        "<a href=\"javascript:alert('PWNED')\">x</a>",
        "<a href=\"&#106;avascript:alert('PWNED')\">x</a>",
        "<a href=\"java&#x09;script:alert('PWNED')\">x</a>",
        "<a href=\" JaVaScRiPt:alert('PWNED')\">x</a>",
        "<a href=\"javascript&colon;alert('PWNED')\">x</a>",
        "<iframe src=\"http://127.0.0.1/PWNED\"></iframe>",
        "<style>body{background:url(http://x/PWNED)}</style>",
        "<div style=\"background:url(http://x/PWNED)\">d</div>",
        "<svg><script>PWNED</script></svg>",
        "<math><mi xlink:href=\"javascript:PWNED\">x</mi></math>",
        "<object data=\"http://x/PWNED\"></object><embed src=\"http://x/PWNED\">",
        "<form action=\"http://x/PWNED\"><button>go</button></form>",
        "<base href=\"http://x/PWNED\"><link rel=stylesheet href=\"http://x/PWNED\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=http://x/PWNED\">",
        "<noscript><img src=x onerror=PWNED></noscript>",
        "<textarea><script>PWNED</script></textarea>",
        "<scr<script>ipt>PWNED</script>",
        "<p onmouseover=\"PWNED\">p</p>",
        "<img/src=x/onerror=PWNED>",
        "<a href=\"data:text/html,<script>PWNED</script>\">x</a>",
        "<a href=\"vbscript:PWNED\">x</a>",
        "<mx-reply><img src=x onerror=PWNED></mx-reply>",
        "<![CDATA[<script>PWNED</script>]]>",
        "<script>unterminated PWNED",
        "<style>unterminated PWNED",
    ])
    func hostileMarkupIsInert(_ input: String) {
        let output = HTMLSanitizer.sanitize(input).lowercased()
        for needle in Self.forbidden {
            let lowerNeedle = needle.lowercased()
            // Escaped text is fine ("&lt;script" is text); only live markup matters, and the PWNED marker
            // must not survive at all where it sat inside dropped elements or attributes.
            if lowerNeedle.hasPrefix("<") || lowerNeedle.hasSuffix("=") || lowerNeedle == "url(" {
                #expect(!output.contains(lowerNeedle), "\(input) → \(output)")
            }
        }
        #expect(!output.contains("href=\"javascript") && !output.contains("href=\"data") && !output.contains("href=\"vbscript"))
    }

    @Test func allowedFormattingSurvives() {
        let input = #"<p><b>bold</b> <i>it</i> <code class="language-swift">x</code></p><ul><li>one</li></ul><a href="https://matrix.org" target="_blank">m</a><ol start="3"><li>3</li></ol><span data-mx-spoiler>s</span><pre>a &lt; b</pre>"#
        let output = HTMLSanitizer.sanitize(input)
        #expect(output == #"<p><b>bold</b> <i>it</i> <code class="language-swift">x</code></p><ul><li>one</li></ul><a href="https://matrix.org" rel="noopener noreferrer nofollow">m</a><ol start="3"><li>3</li></ol><span class="spoiler">s</span><pre>a &lt; b</pre>"#)
    }

    @Test func linksOnlyWithAllowedSchemes() {
        #expect(HTMLSanitizer.sanitize("<a href=\"mailto:a@b.c\">m</a>").contains("href=\"mailto:a@b.c\""))
        #expect(HTMLSanitizer.sanitize("<a href=\"matrix:r/room:example.org\">m</a>").contains("href=\"matrix:"))
        #expect(HTMLSanitizer.sanitize("<a href=\"/relative\">m</a>") == "<a>m</a>")
        #expect(HTMLSanitizer.sanitize("<a href='https://x.org/?a=\"b\"&amp;c'>m</a>")
                == "<a href=\"https://x.org/?a=&quot;b&quot;&amp;c\" rel=\"noopener noreferrer nofollow\">m</a>")
    }

    @Test func outputIsBalancedAndTextEscaped() {
        #expect(HTMLSanitizer.sanitize("<b><i>x</b>y") == "<b><i>x</i></b>y")
        #expect(HTMLSanitizer.sanitize("<p>unclosed") == "<p>unclosed</p>")
        #expect(HTMLSanitizer.sanitize("</div>stray") == "stray")
        #expect(HTMLSanitizer.sanitize("a < b > c & d") == "a &lt; b &gt; c &amp; d")
        #expect(HTMLSanitizer.sanitize("<unknown>kept text</unknown>") == "kept text")
        #expect(HTMLSanitizer.sanitize("<img src=\"mxc://a/b\" alt=\"a <cat>\">") == "<span class=\"inline-image\">[image: a &lt;cat&gt;]</span>")
        let deep = String(repeating: "<div>", count: 500) + "x"
        let output = HTMLSanitizer.sanitize(deep)
        #expect(output.components(separatedBy: "<div>").count - 1 == HTMLSanitizer.maximumDepth)
        #expect(output.components(separatedBy: "</div>").count - 1 == HTMLSanitizer.maximumDepth)
    }
}

@Suite struct LibArchiveTests {
    func writeArchive(_ kind: ArchiveKind, to path: String) throws {
        let writer = try ExportWriter(destination: .archive(path, kind), modificationTime: 1_700_000_000)
        try writer.add("a/plain-name.txt", text: "hello\n")
        let big = ExportFile(spillThreshold: 1000)
        for i in 0..<5000 { big.append("line \(i) of a file that spills to a temporary file\n") }
        try writer.add("b/big.txt", big)
        try writer.add("c.json", text: "{}")
        try writer.finish()
    }

    /// A folder export is staged in `PATH.partial`. What is already under that name is removed only when
    /// it is the marked leftover of a killed export of ours; anything else (the user's own `report.partial`,
    /// something another local user planted) is refused and kept. `site/` stages beside `site`, not inside.
    @Test func onlyOurOwnStagingLeftoverIsRemoved() throws {
        let base = uniqueTemporaryDirectory("mxa-partial")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let output = base.appendingPathComponent("report").path
        try FileManager.default.createDirectory(atPath: output + ".partial", withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: output + ".partial/notes.txt"))
        #expect(throws: ExportError.self) {
            try ExportWriter(destination: .directory(output), modificationTime: 0)
        }
        #expect(FileManager.default.contents(atPath: output + ".partial/notes.txt") == Data("mine".utf8))
        try FileManager.default.removeItem(atPath: output + ".partial")

        // A killed export's leftover: created, written into, never finished.
        var killed: ExportWriter? = try ExportWriter(destination: .directory(output), modificationTime: 0)
        try killed?.add("a.txt", text: "half\n")
        let leftover = try FileManager.default.contentsOfDirectory(atPath: output + ".partial")
        #expect(leftover.contains(ExportWriter.stagingMarker))
        killed = nil  // deinit removes it as a failed export does; put one back as a kill would leave it
        try FileManager.default.createDirectory(atPath: output + ".partial", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        _ = FileManager.default.createFile(atPath: output + ".partial/" + ExportWriter.stagingMarker, contents: Data())
        _ = FileManager.default.createFile(atPath: output + ".partial/a.txt", contents: Data("half\n".utf8))
        let writer = try ExportWriter(destination: .directory(output + "/"), modificationTime: 0)
        try writer.add("b.txt", text: "whole\n")
        try writer.finish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: output) == ["b.txt"])
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
    }

    /// Files are written on a thread of their own: a write that fails there (here a file standing where
    /// a folder must be) is still the export's error, thrown by a later `add` or by `finish`, nothing
    /// handed over after it is written, and no folder appears under the final name.
    @Test func aFailedWriteBehindTheCallerFailsTheExport() throws {
        let base = uniqueTemporaryDirectory("mxa-queue-fail")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let output = base.appendingPathComponent("site").path
        var writer: ExportWriter? = try ExportWriter(destination: .directory(output), modificationTime: 0)
        var thrown: (any Error)?
        do {
            try writer?.add("a", text: "a file\n")
            try writer?.add("a/b.txt", text: "cannot be written: a is a file\n")
            for n in 0..<50 { try writer?.add("later/\(n).txt", text: "after the failure\n") }
            try writer?.finish()
        } catch {
            thrown = error
        }
        #expect("\(thrown.map { String(describing: $0) } ?? "no error")".contains("a/b.txt"))
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: output + ".partial/later"))
        writer = nil
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
    }

    /// The write queue's bound: while a job larger than the limit (a spilled page, an attachment) is
    /// queued, the next file waits for it instead of piling up beside it.
    @Test func theWriteQueueHoldsOneLargeJobAtATime() throws {
        let queue = ExportFileQueue(limit: 1 << 20)
        let release = DispatchSemaphore(value: 0)
        try queue.submit(.init(bytes: 50 << 20) { release.wait() })
        let secondQueued = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? queue.submit(.init(bytes: 1 << 10) {})
            secondQueued.signal()
        }
        #expect(secondQueued.wait(timeout: .now() + 0.3) == .timedOut)
        release.signal()
        #expect(secondQueued.wait(timeout: .now() + 10) == .success)
        try queue.drain()
        // A spilled file counts its bytes (its temporary file may be on a tmpfs), not its empty buffer.
        let spilled = ExportFile(spillThreshold: 1000)
        for _ in 0..<50 { spilled.append(String(repeating: "x", count: 100)) }
        #expect(spilled.heldBytes == 5000)
    }

    /// A writer torn down (a failed export) waits for the write in flight and skips what is queued
    /// behind it: nothing is written into a staging folder that is about to be removed.
    @Test func anAbandonedQueueSkipsWhatIsQueued() throws {
        let queue = ExportFileQueue()
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = ThreadFlag()
        let ran = ThreadFlag()
        try queue.submit(.init(bytes: 1) {
            started.signal()
            release.wait()
            finished.set()
        })
        try queue.submit(.init(bytes: 1) { ran.set() })
        #expect(started.wait(timeout: .now() + 10) == .success)
        // Released a second later: by then abandon() has long set its flag and waits for this job.
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) { release.signal() }
        queue.abandon()
        #expect(finished.isSet)
        #expect(!ran.isSet)
    }

    /// Issue 12.7: verify-export reports a symlink in an export folder (never reading through it) and a
    /// name that appears twice in an archive, instead of skipping them.
    @Test func verifyExportReportsSymlinksAndDuplicateNames() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-vx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let folder = base.appendingPathComponent("export").path
        let writer = try ExportWriter(destination: .directory(folder), modificationTime: 1_700_000_000)
        try writer.add("a.txt", text: "hello\n")
        try writer.add(Exporter.manifestName, text: JSONCoding.encode(["files": .array(try writer.writtenFiles().map {
            ["path": .string($0.path), "size": .int($0.size), "sha256": .string($0.sha256)]
        })]))
        try writer.finish()
        #expect(try ExportVerifier.verify(path: folder).ok)
        try FileManager.default.createSymbolicLink(atPath: folder + "/linked.txt", withDestinationPath: "/etc/hostname")
        #expect(try ExportVerifier.verify(path: folder).problems == [.init(kind: .symlink, path: "linked.txt")])

        let manifest = JSONCoding.encode(["files": [["path": "a.txt", "size": 6,
                                                     "sha256": .string(sha256Hex(Array("hello\n".utf8)))]]])
        let archive = base.appendingPathComponent("twice.tar").path
        let stream = try ArchiveStreamWriter(path: archive, kind: .tar, modificationTime: 1_700_000_000)
        for (name, text) in [("a.txt", "hello\n"), ("a.txt", "other\n"), (Exporter.manifestName, manifest)] {
            let bytes = Array(text.utf8)
            try stream.beginFile(path: name, size: Int64(bytes.count))
            try bytes.withUnsafeBytes { try stream.write($0) }
        }
        try stream.close()
        #expect(try ExportVerifier.verify(path: archive).problems == [.init(kind: .duplicate, path: "a.txt")])
    }

    /// Issue 12.7: the `.partial` file is created anew (O_EXCL | O_NOFOLLOW), 0600. A symlink planted at
    /// its path once made the export truncate and overwrite the file it pointed at.
    @Test func aSymlinkPlantedAtThePartialPathIsNeverFollowed() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-link-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let victim = base.appendingPathComponent("victim.txt")
        try Data("precious\n".utf8).write(to: victim)
        let output = base.appendingPathComponent("export.tar.gz").path
        try FileManager.default.createSymbolicLink(atPath: output + ".partial", withDestinationPath: victim.path)
        try writeArchive(.tarGzip, to: output)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
    }

    @Test(arguments: [ArchiveKind.tarGzip, .tarZstd, .tarXz, .zip])
    func roundTripAndReproducible(_ kind: ArchiveKind) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-la-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let first = base.appendingPathComponent("one.\(kind.rawValue)").path
        let second = base.appendingPathComponent("two.\(kind.rawValue)").path
        try writeArchive(kind, to: first)
        try writeArchive(kind, to: second)
        #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))
        #expect(!FileManager.default.fileExists(atPath: first + ".partial"))

        let reader = try ArchiveStreamReader(path: first)
        var entries: [String: (Int64, String)] = [:]
        while let entry = try reader.next() {
            var bytes: [UInt8] = []
            try reader.readData { bytes.append(contentsOf: $0) }
            entries[entry.path] = (Int64(bytes.count), sha256Hex(bytes))
        }
        #expect(Set(entries.keys) == ["a/plain-name.txt", "b/big.txt", "c.json"])
        #expect(entries["a/plain-name.txt"]?.1 == sha256Hex(Array("hello\n".utf8)))
        #expect((entries["b/big.txt"]?.0 ?? 0) > 200_000)
    }

    @Test func unsafePathsNeverReachTheArchive() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-la-\(UUID().uuidString)")
        let writer = try ExportWriter(destination: .directory(base.path), modificationTime: 0)
        defer { try? FileManager.default.removeItem(at: base) }
        for path in ["../escape.txt", "/tmp/abs.txt", "a/../../b.txt"] {
            #expect(throws: ExportError.self) { try writer.add(path, text: "x") }
        }
        try writer.add("ok.txt", text: "x")
    }

    /// Issue 12: a path written twice used to abort the whole export. The second file is skipped and
    /// counted; a name differing only in case counts as the same (one file on macOS, or a zip opened on
    /// Windows), so the first file's bytes are what the export holds.
    @Test(arguments: [ArchiveKind.zip, nil])
    func aPathWrittenTwiceIsSkippedAndCounted(_ kind: ArchiveKind?) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-dup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let out = kind == nil ? base.path : base.path + ".zip"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let writer = try ExportWriter(destination: kind.map { .archive(out, $0) } ?? .directory(out), modificationTime: 0)
        #expect(try writer.add("threads/abc.html", text: "first"))
        #expect(try !writer.add("threads/abc.html", text: "again"))
        #expect(try !writer.add("threads/ABC.html", text: "case"))
        #expect(try writer.add("threads/abd.html", text: "other"))
        try writer.finish()
        #expect(writer.skippedPaths == ["threads/abc.html", "threads/ABC.html"])
        #expect(writer.paths == ["threads/abc.html", "threads/abd.html"])
        if kind == nil {
            #expect(try String(contentsOfFile: out + "/threads/abc.html", encoding: .utf8) == "first")
        }
    }
}

/// Issue 12.7: an export holds decrypted history, so it is private unless `--mode` widens it: every file
/// 0600 and folder 0700 (archive entries too), whatever the umask; with a mode, exactly that mode.
@Suite(.serialized) struct ExportModeTests {
    func writeFolder(_ folder: String, mode: UInt16?) throws {
        let writer = try mode.map { try ExportWriter(destination: .directory(folder), modificationTime: 0, fileMode: $0) }
            ?? ExportWriter(destination: .directory(folder), modificationTime: 0)
        try writer.add("rooms/abc/2024-01.txt", text: "secret history\n")
        try writer.add("index.txt", text: "x\n")
        try writer.finish()
    }

    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    /// Runs `body` with a permissive umask, so that only the writer's own modes can make things private.
    func withUmask(_ mask: mode_t, _ body: () throws -> Void) rethrows {
        let old = umask(mask)
        defer { umask(old) }
        try body()
    }

    @Test func foldersAreCreatedPrivateByDefault() throws {
        let base = uniqueTemporaryDirectory("mxa-mode")
        defer { try? FileManager.default.removeItem(at: base) }
        let folder = base.appendingPathComponent("export").path
        try withUmask(0o022) { try writeFolder(folder, mode: nil) }
        #expect(try mode(folder) == 0o700)
        #expect(try mode(folder + "/rooms") == 0o700)
        #expect(try mode(folder + "/rooms/abc") == 0o700)
        #expect(try mode(folder + "/rooms/abc/2024-01.txt") == 0o600)
        #expect(try mode(folder + "/index.txt") == 0o600)
    }

    @Test func aModeIsAppliedExactly() throws {
        let base = uniqueTemporaryDirectory("mxa-mode")
        defer { try? FileManager.default.removeItem(at: base) }
        let folder = base.appendingPathComponent("site").path
        // An umask that would take the group's and others' bits away: --mode says what the user wants.
        try withUmask(0o027) { try writeFolder(folder, mode: 0o644) }
        #expect(try mode(folder) == 0o755)
        #expect(try mode(folder + "/rooms/abc") == 0o755)
        #expect(try mode(folder + "/rooms/abc/2024-01.txt") == 0o644)
    }

    @Test(arguments: [nil, UInt16(0o640)])
    func archivesAndTheirEntriesFollowTheMode(_ fileMode: UInt16?) throws {
        let base = uniqueTemporaryDirectory("mxa-mode")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let path = base.appendingPathComponent("export.tar.gz").path
        try withUmask(0o022) {
            let writer = try ExportWriter(destination: .archive(path, .tarGzip), modificationTime: 0,
                                          fileMode: fileMode ?? ExportFileMode.privateDefault)
            try writer.add("rooms/abc/2024-01.txt", text: "secret history\n")
            try writer.finish()
        }
        let expected = Int(fileMode ?? 0o600)
        #expect(try mode(path) == expected)
        let reader = try ArchiveStreamReader(path: path)
        let entry = try #require(try reader.next())
        #expect(Int(entry.permissions) == expected)
    }
}

/// A flag set on one thread and read on another.
private final class ThreadFlag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
