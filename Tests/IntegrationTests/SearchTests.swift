import ArchiveCore
import Foundation
import Testing
import TestSupport

extension TestSender {
    func send(roomID: String, content: JSONValue) async throws -> String {
        let room = roomID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? roomID
        let reply = try await Self.request("PUT", homeserver + "/_matrix/client/v3/rooms/\(room)/send/m.room.message/\(UUID().uuidString)",
                                           body: content, token: token)
        return reply["event_id"]?.stringValue ?? ""
    }
}

extension Archive {
    /// `search --json` → the parsed object; the exit status must be 0.
    func search(_ arguments: [String]) throws -> JSONValue {
        let result = try run(["search", "--json"] + arguments)
        #expect(result.status == 0, "search \(arguments) failed: \(result.stderr)")
        return try JSONCoding.decode(result.stdout)
    }

    func searchIDs(_ arguments: [String]) throws -> [String] {
        try search(arguments)["results"]?.arrayValue?.compactMap { $0["event_id"]?.stringValue } ?? []
    }
}

/// A word no other message has: searching for it finds exactly what a test sent.
func uniqueWord() -> String { "w" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16) }

/// `mxarchive search` over the big room, which `sync` indexed as it stored it.
@Suite(.serialized) struct SearchBigRoomTests {
    @Test func syncIndexesAndVerifyAgrees() async throws {
        let (archive, _) = try await Reference.shared.bigRoom()
        let verify = try archive.run(["verify", "--json"])
        #expect(verify.status == 0, "\(verify.stdout)")
        let found = try archive.search(["\"last message of the big room\""])
        let results = found["results"]?.arrayValue ?? []
        #expect(results.count == 1)
        #expect(results.first?["room_name"] == "Big room")
        #expect(results.first?["sender_display_name"] == "Alice")
        #expect(results.first?["snippet"]?.stringValue?.contains("last message of the big room") == true)
    }

    @Test func threadsSendersSortingAndPaging() async throws {
        let (archive, _) = try await Reference.shared.bigRoom()
        let seed = archive.seed
        let threads = try seed.room("big")["threads"]?.objectValue ?? [:]
        for (root, summary) in threads {
            let ids = try archive.searchIDs(["reply", "--thread", root, "--limit", "100"])
            #expect(ids.count == Int(summary["reply_count"]?.int64Value ?? -1), "thread \(root)")
            let withRoot = try archive.searchIDs(["thread:\(root)", "--limit", "100"])
            #expect(withRoot.count == ids.count + 1 && withRoot.contains(root))
        }

        let bob = seed.userID("bob")
        let fromBob = try archive.search(["message", "from:\(bob)", "--limit", "200"])["results"]?.arrayValue ?? []
        #expect(fromBob.count == 200)
        #expect(fromBob.allSatisfy { $0["sender"] == .string(bob) })
        #expect(try archive.searchIDs(["message", "--sender", bob, "--limit", "200"]).count == 200)

        let byDate = try archive.search(["deploy", "--sort", "date", "--limit", "100"])["results"]?.arrayValue ?? []
        let times = byDate.compactMap { $0["origin_server_ts"]?.int64Value }
        #expect(times.count == byDate.count && times.count > 10)
        #expect(times == times.sorted(by: >))

        var pages: [[String]] = []
        for offset in [0, 50, 100] {
            pages.append(try archive.searchIDs(["message", "--limit", "50", "--offset", String(offset)]))
        }
        let all = pages.flatMap { $0 }
        #expect(all.count == 150)
        #expect(Set(all).count == 150)
        #expect(try archive.searchIDs(["message", "--limit", "150"]) == all)
    }

    @Test func stemmingPrefixesContextAndDates() async throws {
        let (archive, _) = try await Reference.shared.bigRoom()
        // The seeder says "was migrated to the new cluster": stemming and the prefix rule find it.
        let migrating = try archive.search(["migrating", "--limit", "5"])["results"]?.arrayValue ?? []
        #expect(!migrating.isEmpty)
        #expect(migrating.allSatisfy { ($0["body"]?.stringValue ?? "").lowercased().contains("migrat") })
        #expect(try !archive.searchIDs(["migr"]).isEmpty)

        let last = try #require(try archive.search(["\"last message of the big room\"", "--context", "2"])["results"]?.arrayValue?.first)
        #expect(last["context_before"]?.arrayValue?.count == 2)
        #expect(last["context_after"]?.arrayValue?.isEmpty == true)
        let id = try #require(last["event_id"]?.stringValue)

        let day = String(DateArgumentForTests.format(try #require(last["origin_server_ts"]?.int64Value)).prefix(10))
        #expect(try archive.searchIDs(["\"last message of the big room\" date:\(day)"]) == [id])
        #expect(try archive.searchIDs(["\"last message of the big room\" date:\(day)..\(day)"]) == [id])
        #expect(try archive.searchIDs(["\"last message of the big room\" before:\(day)"]).isEmpty)
        #expect(try archive.searchIDs(["\"last message of the big room\" after:\(day)"]).isEmpty)
        #expect(try archive.searchIDs(["\"last message of the big room\"", "--since", day, "--until", day]) == [id])
        #expect(try archive.searchIDs(["\"last message of the big room\"", "--until", day, "--since", "1970-01-01",
                                        "--room", "#big:localhost"]) == [id])
    }

    @Test func outputsFollowTheSchemaAndHumansGetPermalinks() async throws {
        let (archive, _) = try await Reference.shared.bigRoom()
        var documents: [String] = []
        for arguments in [["deploy"], ["thread root", "--context", "3"], ["has:link"], ["message", "--sort", "date", "--limit", "3"],
                          ["nothing-matches-this-\(uniqueWord())"]] {
            let result = try archive.run(["search", "--json"] + arguments)
            #expect(result.status == 0)
            documents.append(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(try SchemaValidator.errors(documents, schema: "search-result.schema.json") == [])
        let sync = try archive.run(["sync", "--json", "--room", "#big:localhost"])
        #expect(try SchemaValidator.errors([sync.stdout.trimmingCharacters(in: .whitespacesAndNewlines)],
                                           schema: "sync-result.schema.json") == [])

        let human = try archive.run(["search", "thread root one", "--context", "1"])
        #expect(human.status == 0)
        #expect(human.stdout.contains("Big room · Alice (@alice:localhost) · "))
        #expect(human.stdout.contains("https://matrix.to/#/\(try archive.seed.roomID("big"))/$"))
        #expect(human.stdout.contains("» thread root one"))
        #expect(!human.stdout.contains("\u{1B}["))  // not a terminal: no bold
    }

    @Test func aMalformedQueryIsAUsageError() async throws {
        let (archive, _) = try await Reference.shared.bigRoom()
        for query in ["\"unclosed phrase", "(deploy OR", "has:banana", "before:someday", "deploy OR"] {
            let result = try archive.run(["search", query])
            #expect(result.status == 2, "\(query): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(query): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let bad = try archive.run(["search", "has:banana"])
        #expect(bad.stderr.contains("has:banana"))
    }
}

/// Edits, redactions, languages and attachments sent while the tests run. They share the live room with
/// `LiveRoomTests` and take turns with them (an edit sent while another test compares two syncs would change
/// what that test archived in between).
extension LiveRoomTests {
    @Test func editsAndRedactionsReachTheIndexWithTheNextSync() async throws {
        let plain = try Archive.loggedIn()
        let hold = try Archive.loggedIn()
        let liveID = try plain.seed.roomID("live")
        let sender = try await TestSender.login(seed: plain.seed, user: "bob")
        let (before, after, secret) = (uniqueWord(), uniqueWord(), uniqueWord())
        let edited = try await sender.send(roomID: liveID, body: "first draft says \(before)")
        let redacted = try await sender.send(roomID: liveID, body: "a secret: \(secret)")
        try plain.sync(["--room", "#live:localhost"])
        try hold.sync(["--room", "#live:localhost"])
        #expect(try plain.searchIDs([before]) == [edited])
        #expect(try plain.searchIDs([secret]) == [redacted])

        _ = try await sender.send(roomID: liveID, content: [
            "msgtype": "m.text", "body": .string("* second draft says \(after)"),
            "m.new_content": ["msgtype": "m.text", "body": .string("second draft says \(after)")],
            "m.relates_to": ["rel_type": "m.replace", "event_id": .string(edited)],
        ])
        try await sender.redact(roomID: liveID, eventID: redacted)
        try plain.sync([])
        try hold.sync(["--retain-redacted"])

        #expect(try plain.searchIDs([after]) == [edited])
        #expect(try plain.searchIDs([before]).isEmpty)
        #expect(try plain.searchIDs([secret]).isEmpty)
        #expect(try hold.searchIDs([secret]) == [redacted])
        #expect(try plain.run(["verify"]).status == 0)
        #expect(try hold.run(["verify"]).status == 0)
    }

    @Test func chineseJapaneseAttachmentsAndLinks() async throws {
        let archive = try Archive.loggedIn()
        let liveID = try archive.seed.roomID("live")
        let sender = try await TestSender.login(seed: archive.seed, user: "alice")
        let marker = uniqueWord()
        let chinese = try await sender.send(roomID: liveID, body: "我们明天讨论数据库迁移 \(marker)")
        let japanese = try await sender.send(roomID: liveID, body: "明日は会議があります \(marker)")
        let image = try await sender.send(roomID: liveID, content: [
            "msgtype": "m.image", "body": .string("sunset over the lake \(marker)"), "filename": .string("lakeview-\(marker).jpg"),
            "url": "mxc://localhost/notarealmedia", "info": ["mimetype": "image/jpeg"],
        ])
        let link = try await sender.send(roomID: liveID, body: "notes at https://example.org/\(marker) \(marker)")
        try archive.sync(["--room", "#live:localhost"])

        #expect(try archive.searchIDs(["迁移", marker]) == [chinese])
        #expect(try archive.searchIDs(["会議", marker]) == [japanese])
        #expect(try archive.searchIDs(["has:image", marker]) == [image])
        #expect(try archive.searchIDs(["has:file", marker]) == [image])
        #expect(try archive.searchIDs(["lakeview-\(marker).jpg"]) == [image])
        #expect(try archive.searchIDs(["has:link", marker]) == [link])
        #expect(try Set(archive.searchIDs(["\(marker) -has:image", "--limit", "10"])) == [chinese, japanese, link])
        #expect(try Set(archive.searchIDs([marker, "in:#live:localhost", "from:\(archive.seed.userID("alice"))"]))
                == [chinese, japanese, image, link])
    }

    @Test func noIndexLeavesTheIndexToReindex() async throws {
        let archive = try Archive.loggedIn()
        let liveID = try archive.seed.roomID("live")
        let sender = try await TestSender.login(seed: archive.seed, user: "bob")
        let word = uniqueWord()
        let eventID = try await sender.send(roomID: liveID, body: "later \(word)")
        try archive.sync(["--room", "#live:localhost", "--no-index"])
        let missing = try archive.run(["search", word])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("mxarchive reindex"))

        let reindex = try archive.run(["reindex", "--language", "english"])
        #expect(reindex.status == 0, "\(reindex.stderr)")
        #expect(reindex.stdout.contains("indexed"))
        #expect(try archive.searchIDs([word]) == [eventID])

        // Behind after another --no-index sync: verify says so; the next sync catches up.
        let next = uniqueWord()
        let nextID = try await sender.send(roomID: liveID, body: "even later \(next)")
        try archive.sync(["--no-index"])
        // Behind is not a disagreement: verify passes and says so.
        let verify = try archive.run(["verify"])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("note: search index") && verify.stdout.contains("behind"))
        let lagging = try archive.run(["search", next])
        #expect(lagging.stderr.contains("behind"))
        try archive.sync([])
        #expect(try archive.searchIDs([next]) == [nextID])
        #expect(try archive.run(["verify"]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: archive.store.appendingPathComponent("index").path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }
}

enum DateArgumentForTests {
    static func format(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
