import ArchiveCore
import Foundation
import Testing

/// A static file server on a free loopback port that logs each request's path and the bytes it sent, for
/// the browser tests that must hold over HTTP as well as from `file://`.
final class LoopbackFileServer {
    let server: ChildProcess
    private(set) var port = 0

    init(root: URL) throws {
        let python = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3"
        server = try ChildProcess("/usr/bin/env", [python, "-u", "-c", """
            import functools, http.server, sys
            class Handler(http.server.SimpleHTTPRequestHandler):
                def log_request(self, code="-", size="-"):
                    print("SERVED", code, self.path, size, flush=True)
                def log_message(self, *args):
                    pass
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
            print("port", server.server_address[1], flush=True)
            server.serve_forever()
            """, root.path], outputFile: try scratch("loopback").appendingPathComponent("served.txt"))
        let seen = try server.awaitOutput(within: 30, what: "the loopback file server") { $0.contains("\n") }
        guard let line = seen.split(separator: "\n").first, line.hasPrefix("port "), let port = Int(line.dropFirst(5)) else {
            throw HarnessError("the loopback file server said \(seen)")
        }
        self.port = port
    }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)/" + path)! }

    /// Stops the server and returns the paths it served (status 200), in order.
    func stop() -> [String] {
        server.killGroup()
        return server.output().split(separator: "\n").filter { $0.hasPrefix("SERVED 200 ") }.map { String($0.split(separator: " ")[2]) }
    }
}

/// Issue 11.2: `rooms/<id>/event.html#<event id>` finds the page of any event through the sharded lookup
/// and lands on it, in headless Chromium, from `file://` and over HTTP; an unknown id says so.
@Suite(.serialized) struct PermalinkBrowserTests {
    /// The big room (3,100 messages) exported at 500 a page: the event in the middle of the third page
    /// of one of its months.
    static func exportWithPageThree() async throws -> (site: URL, roomDir: String, page: String, eventID: String) {
        let archive = try await ExportFixture.shared.archive()
        let site = try scratch("permalink").appendingPathComponent("site", isDirectory: true)
        try archive.export(["--format", "html", "--room", "#big:localhost", "--page-messages", "500", "--output", site.path])
        let tree = try ExportedTree(site)
        #expect(tree.manifest["options"]?["page_messages"] == 500)
        let roomDir = String(try #require(tree.room(try archive.seed.roomID("big"))?["path"]?.stringValue).dropLast("index.html".count))
        let pages = (tree.manifest["files"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }
        let page = try #require(pages.first { $0.hasPrefix(roomDir) && $0.hasSuffix("-p3.html") && !$0.contains("/threads/") })
        let html = try readText(site.appendingPathComponent(page))
        let ids = html.components(separatedBy: "<article class=\"msg\" id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(ids.count > 100, "\(page) has \(ids.count) messages")
        return (site, roomDir, page, ids[ids.count / 2])
    }

    /// What Chromium shows: the DOM after the page ran, and a screenshot (to compare where it scrolled).
    static func look(_ url: URL, shot: URL) throws -> (dom: String, png: Data) {
        let dom = try Chromium.dumpDOM(url)
        try? FileManager.default.removeItem(at: shot)
        try Chromium.screenshot(url, to: shot, width: 900, height: 700)
        return (dom, try Data(contentsOf: shot))
    }

    @Test func aPermalinkLandsOnItsEventOnPageThreeFromFileAndOverHTTP() async throws {
        let (site, roomDir, page, eventID) = try await Self.exportWithPageThree()
        let shots = try scratch("permalink-shots")
        let pageName = String(page.dropFirst(roomDir.count))
        let server = try LoopbackFileServer(root: site)
        var served: [String] = []
        do {
            for (label, base) in [("file", site.absoluteString), ("http", server.url("").absoluteString)] {
                let permalink = URL(string: base + roomDir + "event.html#" + eventID)!
                let direct = URL(string: base + page + "#" + eventID)!
                let top = URL(string: base + page)!
                let landed = try Self.look(permalink, shot: shots.appendingPathComponent("\(label)-permalink.png"))
                // The DOM is page three's, with the event in it, and not the permalink page any more.
                #expect(landed.dom.contains("id=\"\(eventID)\""), "\(label): the permalink did not reach \(pageName)")
                #expect(landed.dom.contains("(page 3 of "), "\(label)")
                #expect(!landed.dom.contains("id=\"mxa-permalink\""), "\(label): still on the permalink page")
                // In view: what the browser shows is what opening the page at the anchor shows, and not its top.
                let atAnchor = try Self.look(direct, shot: shots.appendingPathComponent("\(label)-direct.png"))
                let atTop = try Self.look(top, shot: shots.appendingPathComponent("\(label)-top.png"))
                #expect(landed.png == atAnchor.png, "\(label): the permalink landed elsewhere on the page")
                #expect(landed.png != atTop.png, "\(label): the page did not scroll to the event")
            }
        } catch {
            _ = server.stop()
            throw error
        }
        served = server.stop()
        // Over HTTP: the permalink page, its script, ONE lookup shard, then page three.
        #expect(served.contains("/" + roomDir + "event.html"))
        #expect(served.filter { $0.hasPrefix("/" + roomDir + "events/") }.count >= 1)
        #expect(Set(served.filter { $0.hasPrefix("/" + roomDir + "events/") }).count == 1, "\(served)")
        #expect(served.contains("/" + page))
    }

    @Test func anUnknownIDSaysItIsNotInTheExport() async throws {
        let (site, roomDir, _, _) = try await Self.exportWithPageThree()
        let server = try LoopbackFileServer(root: site)
        defer { _ = server.stop() }
        for base in [site.absoluteString, server.url("").absoluteString] {
            let dom = try Chromium.dumpDOM(URL(string: base + roomDir + "event.html#$nosuchevent:localhost")!)
            // The id (anyone's text) in a <bdi> of its own, so that its direction cannot reorder the sentence.
            #expect(dom.contains("No message with the id <bdi>$nosuchevent:localhost</bdi> is in this export."),
                    "\(base): \(dom.suffix(800))")
            // An id of any length is cut to 200 characters in what the page says.
            let long = "$" + String(repeating: "x", count: 400)
            let longDOM = try Chromium.dumpDOM(URL(string: base + roomDir + "event.html#" + long)!)
            #expect(longDOM.contains("<bdi>" + long.prefix(200) + "…</bdi> is in this export."), "\(base): \(longDOM.suffix(800))")
        }
    }
}
