import ArchiveCore
import Foundation
import Testing

/// The page's query side against the CLI's (issue 11, second review M1, M2, L1): a room of the test's own
/// on the real Synapse, messages written for the cases where "every multi-word token is a phrase" and
/// "CJK AND-ed apart from the phrase" differ from Xapian's QueryParser, which `mxarchive search` uses. For
/// each query the page (headless Chromium over file://) lists exactly the messages the CLI finds.
@Suite struct ExportStaticSearchQueryParserTests {
    @Test func pageFindsWhatTheCLIFinds() async throws {
        let seed = try Seed.load()
        let alice = try await TestAccount.register(seed: seed, prefix: "qpalice")
        let bob = try await TestAccount.register(seed: seed, prefix: "qpbob")
        let roomID = try await alice.createRoom(with: [bob])
        var bodies: [String: String] = [:]  // event id -> body
        for body in ["value is the key", "Mac版Office", "hello 世界 world", "世界 hello", "東京 タワー", "タワー 東京",
                     "fish and chips", "foo bar baz", "bar foo", "e-mail me", "mail e"] {
            bodies[try await alice.sender.send(roomID: roomID, body: body)] = body
        }
        bodies[try await bob.sender.send(roomID: roomID, body: "hello from bob")] = "hello from bob"

        let archive = try Archive.loggedIn(seed: seed, userID: alice.userID, password: alice.password)
        try archive.sync(["--room", roomID])
        let out = try scratch("static-search-qp").appendingPathComponent("site")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        try archive.export(["--format", "html", "--room", roomID, "--output", out.path])
        let page = out.appendingPathComponent("index.html").absoluteString

        // The query and the bodies it must find (what Xapian's QueryParser makes of it, checked below on the CLI).
        let cases: [(query: String, finds: Set<String>)] = [
            ("key=value", ["value is the key"]),  // = ANDs: not the phrase "key value"
            ("fish+chips", ["fish and chips"]),
            ("foo,bar", ["foo bar baz", "bar foo"]),
            ("bar|foo", ["foo bar baz", "bar foo"]),
            ("foo\u{2014}bar", ["foo bar baz", "bar foo"]),
            ("foo-bar", ["foo bar baz"]),  // - makes a phrase
            ("e-mail", ["e-mail me"]),
            ("Mac版Office", ["Mac版Office"]),  // mac AND 版 AND office: the CJK character ends the group
            ("\"hello 世界 world\"", ["hello 世界 world"]),  // PHRASE hello 世 界 world
            ("\"hello 世界\"", ["hello 世界 world"]),  // not "世界 hello"
            ("\"東京 タワー\"", ["東京 タワー"]),
            ("from:\(alice.userID) hello", ["hello 世界 world", "世界 hello"]),
            ("from:\(bob.userID) hello", ["hello from bob"]),
            ("from:\(alice.userID) from:\(bob.userID)", []),  // a message has one sender: AND finds none
        ]
        for (query, finds) in cases {
            let cli = try archive.run(["search", query, "--room", roomID, "--limit", "1000", "--json"])
            #expect(cli.status == 0, "\(query): \(cli.stderr)")
            let cliIDs = Set(try JSONCoding.decode(cli.stdout)["results"]?.arrayValue?.compactMap { $0["event_id"]?.stringValue } ?? [])
            #expect(Set(cliIDs.compactMap { bodies[$0] }) == finds, "\(query): the CLI finds \(cliIDs.compactMap { bodies[$0] })")
            let (ids, status) = ExportStaticSearchTests.results(try Chromium.dumpDOM(ExportStaticSearchTests.url(page, query: query, pageSize: 100)))
            #expect(Set(ids) == cliIDs && ids.count == cliIDs.count,
                    "\(query): the page finds \(ids.compactMap { bodies[$0] }) (\(status)), the CLI \(cliIDs.compactMap { bodies[$0] })")
        }

        // What the CLI refuses or reads as a group is refused on the page, never searched as words.
        let cliRefusal = try archive.run(["search", "from:hello", "--room", roomID, "--json"])
        #expect(cliRefusal.status == 2, "from:hello: exit \(cliRefusal.status)")
        for (query, message) in [("from:hello", "from: takes a user id"), ("(from:\(alice.userID))", "Parentheses work only"),
                                 ("(in:!x)", "Parentheses work only")] {
            let (ids, status) = ExportStaticSearchTests.results(try Chromium.dumpDOM(ExportStaticSearchTests.url(page, query: query, pageSize: 100)))
            #expect(ids.isEmpty && status.contains(message), "\(query): \(ids.count) results, \(status)")
        }
    }
}
