import ArchiveCore
import Foundation
import Testing

/// Debian's headless Chromium, run as the tests' user (root in CI containers needs --no-sandbox).
enum Chromium {
    static var binary: String? {
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return nil
    }

    /// Longest one Chromium run may take: `--virtual-time-budget` is page time, not wall time, and a
    /// page whose script never returns keeps Chromium running for ever; CI must fail, not stall.
    static let timeout: Double = 120

    /// `started` sees the browser's process (its pid is its process group), for the tests of the timeout.
    static func run(_ arguments: [String], timeout: Double = Chromium.timeout,
                    started: (ChildProcess) -> Void = { _ in }) throws -> (status: Int32, stdout: String) {
        guard let binary else { throw HarnessError("chromium is not installed (scripts/install-deps installs it)") }
        let profile = try scratch("chromium-profile")
        defer { try? FileManager.default.removeItem(at: profile) }
        // Its own process group, output in a file, a deadline: see ChildProcess.
        let chromium = try ChildProcess(binary, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                                                 "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                                                 "--user-data-dir=\(profile.path)"] + arguments,
                                        outputFile: profile.appendingPathComponent("output.txt"))
        started(chromium)
        let status = try chromium.finish(within: timeout, what: "chromium \(arguments.last ?? "")")
        return (status, chromium.output())
    }

    /// The DOM after the page ran (scripts, event handlers, network) for a few seconds of virtual time.
    static func dumpDOM(_ file: URL) throws -> String {
        let result = try run(["--virtual-time-budget=3000", "--dump-dom", file.absoluteString])
        guard result.status == 0, result.stdout.contains("</html>") else {
            throw HarnessError("chromium --dump-dom failed (\(result.status))")
        }
        return result.stdout
    }

    static func screenshot(_ file: URL, to png: URL, width: Int = 1000, height: Int = 1500) throws {
        _ = try run(["--hide-scrollbars", "--window-size=\(width),\(height)", "--virtual-time-budget=2000",
                     "--screenshot=\(png.path)", file.absoluteString])
    }
}

/// A TCP listener on the port the seeded hostile HTML points at: any connection is a request the page
/// should never have made.
final class Canary {
    let server: ChildProcess

    init(port: Int) throws {
        let python = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3"
        server = try ChildProcess("/usr/bin/env", [python, "-u", "-c", """
            import socket, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", \(port))); s.listen(16); print("listening", flush=True)
            while True:
                c, _ = s.accept(); c.settimeout(1)
                try: data = c.recv(2048)
                except Exception: data = b""
                print("REQUEST", data.split(b"\\r\\n")[0].decode("latin-1"), flush=True)
                c.close()
            """], outputFile: try scratch("canary").appendingPathComponent("requests.txt"))
        _ = try server.awaitOutput(within: 30, what: "the canary listener") { $0.contains("listening") }
    }

    /// Stops the listener and returns the requests it saw.
    func stop() -> [String] {
        server.killGroup()
        return server.output().split(separator: "\n").filter { $0.hasPrefix("REQUEST") }.map(String.init)
    }
}

/// The live markup of a serialized DOM: every start tag with its attributes. Text is serialized with
/// `&lt;`, so a `<` in the serialization always opens real markup.
struct DOMTags {
    struct Tag { let name: String; let attributes: [(String, String)] }
    let tags: [Tag]

    init(_ html: String) {
        var tags: [Tag] = []
        var tokenizer = SimpleTagScanner(html)
        while let tag = tokenizer.next() { tags.append(tag) }
        self.tags = tags
    }
}

/// Scans `<name attr="value" …>` start tags of a browser-serialized DOM (values always double-quoted).
struct SimpleTagScanner {
    let scalars: [Character]
    var index = 0
    init(_ text: String) { scalars = Array(text) }

    mutating func next() -> DOMTags.Tag? {
        while index < scalars.count {
            guard scalars[index] == "<", index + 1 < scalars.count, scalars[index + 1].isLetter else { index += 1; continue }
            index += 1
            var name = ""
            while index < scalars.count, !scalars[index].isWhitespace, scalars[index] != ">", scalars[index] != "/" {
                name.append(scalars[index]); index += 1
            }
            var attributes: [(String, String)] = []
            while index < scalars.count, scalars[index] != ">" {
                if scalars[index].isWhitespace || scalars[index] == "/" { index += 1; continue }
                var attribute = ""
                while index < scalars.count, scalars[index] != "=", scalars[index] != ">", !scalars[index].isWhitespace {
                    attribute.append(scalars[index]); index += 1
                }
                var value = ""
                if index < scalars.count, scalars[index] == "=" {
                    index += 2  // ="
                    while index < scalars.count, scalars[index] != "\"" { value.append(scalars[index]); index += 1 }
                    index += 1
                }
                attributes.append((attribute.lowercased(), value))
            }
            return DOMTags.Tag(name: name.lowercased(), attributes: attributes)
        }
        return nil
    }
}

@Suite(.serialized) struct ExportHTMLTests {
    static let allowedTags: Set<String> = [
        "html", "head", "meta", "title", "link", "body", "header", "nav", "h1", "h2", "h3", "h4", "h5", "h6", "p",
        "main", "footer", "article", "section", "span", "a", "time", "div", "blockquote", "b", "i", "u", "s",
        "del", "strike", "font", "code", "pre", "ul", "ol", "li", "details", "summary", "dl", "dt", "dd", "table",
        "thead", "tbody", "tr", "th", "td", "caption", "br", "hr", "strong", "em", "sup", "sub", "script", "input",
        "bdi",  // the export isolates names and quoted text in it (a bidi override stays inside)
    ]

    /// The room page with the hostile messages, opened in headless Chromium: no script ran (no marker in the
    /// title), no request reached the canary, and none of the hostile tags or attributes is in the DOM.
    @Test func hostileHTMLChangesNothingInChromium() async throws {
        let archive = try await ExportFixture.shared.archive()
        let out = try scratch("html").appendingPathComponent("site")
        try archive.export(["--format", "html", "--room", "#export:localhost", "--room", "#big:localhost", "--output", out.path])
        let tree = try ExportedTree(out)
        let exportRoom = try archive.seed.room("export")
        let port = Int(exportRoom["canary_port"]?.int64Value ?? 18093)
        let hostileID = try #require(exportRoom["hostile_event"]?.stringValue)
        let pages = (tree.manifest["files"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }.filter { $0.hasSuffix(".html") }

        // Every page: CSP, noindex, no inline script.
        for page in pages {
            let html = try readText(out.appendingPathComponent(page))
            #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self';"), "\(page)")
            #expect(html.contains("<meta name=\"robots\" content=\"noindex\">"), "\(page)")
        }
        let roomDir = try #require(tree.room(exportRoom["room_id"]?.stringValue ?? "")?["path"]?.stringValue).dropLast("index.html".count)
        let monthPages = pages.filter { $0.hasPrefix(roomDir) && !$0.hasSuffix("index.html") && !$0.contains("/threads/") }
        let hostilePage = try #require(try monthPages.first { try readText(out.appendingPathComponent($0)).contains(hostileID) })
        let bigDir = try #require(tree.room(try archive.seed.roomID("big"))?["path"]?.stringValue).dropLast("index.html".count)
        let bigPage = try #require(pages.first { $0.hasPrefix(bigDir) && !$0.hasSuffix("index.html") && !$0.contains("/threads/") })

        let canary = try Canary(port: port)
        var doms: [String: String] = [:]
        do {
            for page in [hostilePage, bigPage, "index.html"] { doms[page] = try Chromium.dumpDOM(out.appendingPathComponent(page)) }
            // The client-side search, opened with a query: results are links to the messages' pages.
            let search = URL(string: out.appendingPathComponent("index.html").absoluteString + "?q=export+thread+reply+2")!
            doms["search"] = try Chromium.dumpDOM(search)
        } catch {
            _ = canary.stop()
            throw error
        }
        let requests = canary.stop()
        #expect(requests == [], "the page made requests: \(requests)")

        for (page, dom) in doms {
            let title = dom.components(separatedBy: "<title>").dropFirst().first?.components(separatedBy: "</title>").first ?? ""
            #expect(!title.contains("PWNED") && !title.isEmpty, "\(page): a script changed the title to \(title)")
            let tags = DOMTags(dom).tags
            #expect(tags.count > 20)
            for tag in tags {
                #expect(Self.allowedTags.contains(tag.name), "\(page): <\(tag.name)> in the DOM")
                for (name, value) in tag.attributes {
                    #expect(!name.hasPrefix("on") && name != "style" && (name != "src" || tag.name == "script")
                            && name != "srcdoc" && name != "action",
                            "\(page): \(name)= on <\(tag.name)>")
                    if name == "href" {
                        let lower = value.lowercased()
                        #expect(!lower.contains("script:") && !lower.hasPrefix("data:"), "\(page): href \(value)")
                        #expect(lower.hasPrefix("https:") || lower.hasPrefix("http:") || lower.hasPrefix("mailto:")
                                || lower.hasPrefix("matrix:") || !lower.contains(":"), "\(page): href \(value)")
                    }
                }
                if tag.name == "script" {
                    // Only the archive's own script files: relative paths, nothing inline.
                    let src = tag.attributes.first { $0.0 == "src" }?.1 ?? ""
                    #expect(src.hasSuffix(".js") && !src.contains(":"), "\(page): <script src=\(src)>")
                }
                if tag.name == "link" {
                    #expect(tag.attributes.contains { $0.0 == "href" && $0.1.hasSuffix("assets/style.css") && !$0.1.contains(":") })
                }
                if tag.name == "meta" {
                    #expect(!tag.attributes.contains { $0.0 == "http-equiv" && $0.1.lowercased() == "refresh" })
                }
            }
            #expect(!dom.contains("127.0.0.1:\(port)"), "\(page): the canary URL survived")
        }
        let dom = try #require(doms[hostilePage])
        #expect(dom.contains("hostile two"))
        #expect(dom.contains("<b>bold</b>"))
        #expect(dom.contains("<a href=\"https://example.org/ok\" rel=\"noopener noreferrer nofollow\">fine link</a>"))
        #expect(dom.contains("<code class=\"language-swift\">let x = 1</code>"))
        // The hostile display name is text.
        #expect(dom.contains("&lt;img src=x onerror="))
        #expect(dom.contains("Bob the &lt;b&gt;Builder&lt;/b&gt;"))
        // Permalinks, edits, reactions, replies, threads and deletions.
        #expect(dom.contains("id=\"\(hostileID)\""))
        #expect(dom.contains("<details class=\"edits\"><summary>edited</summary>"))
        #expect(dom.contains("<li><bdi>👍</bdi> <span class=\"count\">1</span></li>"))
        #expect(dom.contains("<blockquote class=\"reply\"><a href=\""))
        #expect(dom.contains("2 replies in thread"))
        #expect(dom.contains("Message deleted"))
        #expect(dom.contains("File: <bdi>../../etc/passwd</bdi>"))
        #expect(!FileManager.default.fileExists(atPath: out.deletingLastPathComponent().appendingPathComponent("etc").path))

        // The search found the thread reply (on its thread page) and nothing else.
        let searchDOM = try #require(doms["search"])
        #expect(searchDOM.contains("1 message matches."), "\(searchDOM.suffix(1500))")
        #expect(searchDOM.contains("/threads/") && searchDOM.contains("<div class=\"snippet\">export thread reply 2 in thread</div>"))

        // The thread page exists and links back.
        let threadRoot = try #require(exportRoom["thread_root"]?.stringValue)
        let threadPage = try #require(pages.first { $0.hasPrefix(roomDir) && $0.contains("/threads/") })
        let threadHTML = try readText(out.appendingPathComponent(threadPage))
        #expect(threadHTML.contains("export thread reply 2 in thread"))
        #expect(threadHTML.contains("#\(threadRoot)\""))

        // A screenshot of the room page, for people (and reviewers) to look at.
        let shots = ProcessInfo.processInfo.environment["MXARCHIVE_SCREENSHOTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mxarchive-screenshots")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        let png = shots.appendingPathComponent("export-room.png")
        try? FileManager.default.removeItem(at: png)
        try Chromium.screenshot(out.appendingPathComponent(hostilePage), to: png)
        let image = try Data(contentsOf: png)
        #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(image.count > 20_000, "the screenshot looks empty (\(image.count) bytes)")
        try Chromium.screenshot(out.appendingPathComponent("index.html"), to: shots.appendingPathComponent("export-index.png"),
                                width: 1000, height: 600)
    }

    /// `--allow-indexing` drops the robots meta tag; nothing else changes.
    @Test func allowIndexing() async throws {
        let archive = try await ExportFixture.shared.archive()
        let out = try scratch("indexing").appendingPathComponent("site")
        try archive.export(["--format", "html", "--room", "#export:localhost", "--allow-indexing", "--output", out.path])
        let index = try readText(out.appendingPathComponent("index.html"))
        #expect(!index.contains("name=\"robots\""))
        #expect(index.contains("Content-Security-Policy"))
        #expect(try archive.run(["verify-export", out.path]).status == 0)
    }
}
