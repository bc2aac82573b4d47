import ArchiveCore
@testable import ArchiveStore
import Foundation
import ArchiveService
import SearchIndex
import Testing
import TestSupport

/// Search over a real store and a real Xapian index: what sync and reindex maintain, and what search finds.
@Suite struct SearchIndexTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()
    let version = RoomVersion("12")

    init() throws {
        directory = uniqueTemporaryDirectory("mxa-search")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
    }

    func ingest(_ events: [RawEvent], retain: Bool = false) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events, placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "f"), retainRedacted: retain))
    }

    @discardableResult
    func index(rebuild: Bool = false, shards: Int? = nil) throws -> IndexRunResult {
        let indexer = try SearchIndexer(storeDirectory: directory)
        defer { indexer.close() }
        return try indexer.catchUp(rebuild: rebuild, shards: shards)
    }

    func search(_ query: String, _ configure: (inout SearchOptions) -> Void = { _ in }) throws -> [String] {
        var options = SearchOptions()
        options.limit = 100
        configure(&options)
        return try SearchService(store: store).search(query, options: options).results.map(\.message.eventID)
    }

    @Test mutating func anEditReplacesTheDocument() throws {
        let original = factory.message("the original wording mentions alpaca")
        try ingest([original])
        try index()
        #expect(try search("alpaca") == [original.eventID])
        let edit = factory.edit(of: original.eventID, to: "the corrected wording mentions ocelot")
        try ingest([edit])
        try index()
        #expect(try search("ocelot") == [original.eventID])
        #expect(try search("alpaca").isEmpty)
        // Redacting the edit brings the original words back.
        try ingest([factory.redaction(of: edit.eventID)])
        try index()
        #expect(try search("alpaca") == [original.eventID])
        #expect(try search("ocelot").isEmpty)
        #expect(try SearchIndexCheck.check(store: store).problems.isEmpty)
    }

    /// Issue 12.6: index terms reach Xapian separated by NUL. A msgtype of `m.text\u{0}Q<victim id>` once gave
    /// the attacker's document the victim's id term, so redacting the victim deleted both, and the victim's
    /// later edits replaced the attacker's document.
    @Test mutating func aNULInAFieldCannotInjectAnotherEventsIdTerm() throws {
        let victim = factory.message("the victim says alpha")
        let attacker = factory.event(content: ["msgtype": .string("m.text\u{0}Q\(victim.eventID)"),
                                               "body": "the attacker says beta"])
        try ingest([victim, attacker])
        // One shard, so that both documents are in the database the victim's delete goes to.
        try index(rebuild: true, shards: 1)
        #expect(try search("beta") == [attacker.eventID])
        try ingest([factory.redaction(of: victim.eventID)])
        try index()
        #expect(try search("alpha").isEmpty)
        #expect(try search("beta") == [attacker.eventID], "redacting the victim deleted the attacker's document too")
        #expect(try SearchIndexCheck.check(store: store).problems.isEmpty)
    }

    @Test mutating func redactedTextIsNeverFoundUnlessHeld() throws {
        let secret = factory.message("the launch code is zebrafish")
        let held = factory.message("evidence about the narwhal")
        try ingest([secret, held])
        try index()
        #expect(try search("zebrafish") == [secret.eventID])
        try ingest([factory.redaction(of: secret.eventID)])
        try ingest([factory.redaction(of: held.eventID)], retain: true)
        try index()
        #expect(try search("zebrafish").isEmpty)
        #expect(try search("narwhal") == [held.eventID])
        // A rebuild agrees.
        try index(rebuild: true)
        #expect(try search("zebrafish").isEmpty)
        #expect(try search("narwhal") == [held.eventID])
        #expect(try SearchIndexCheck.check(store: store) == ([], []))
    }

    /// Issue 9.11: the text of an edit lives in the index only as its original's current text, so
    /// redacting the original removes it, also when an edit arrives after the redaction.
    @Test mutating func redactingAnOriginalRemovesItsEditsFromSearch() throws {
        let original = factory.message("the original wording mentions alpaca")
        let edit = factory.edit(of: original.eventID, to: "the corrected wording mentions ocelot")
        try ingest([original, edit])
        try index()
        #expect(try search("ocelot") == [original.eventID])
        try ingest([factory.redaction(of: original.eventID)])
        try ingest([factory.edit(of: original.eventID, to: "a late wording mentions narwhal")])
        try index()
        for word in ["alpaca", "ocelot", "narwhal"] { #expect(try search(word).isEmpty, "\(word)") }
        try index(rebuild: true)
        for word in ["alpaca", "ocelot", "narwhal"] { #expect(try search(word).isEmpty, "\(word)") }
        #expect(try SearchIndexCheck.check(store: store) == ([], []))
    }

    @Test mutating func encryptedMessagesAreFoundOnceDecrypted() throws {
        let encrypted = factory.event(type: "m.room.encrypted", content: [
            "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnB0aGVy", "session_id": "s1",
        ])
        try ingest([encrypted])
        try index()
        #expect(try search("quokka").isEmpty)
        // The decryption issue stores the plaintext in the row; that change alone must reach the index.
        try store.db.statement("UPDATE events SET decrypted_json = ?, decryption = 'decrypted' WHERE event_id = ?")
            .run(.text(#"{"type":"m.room.message","content":{"msgtype":"m.text","body":"a quokka smiled"},"room_id":"!room:example.org"}"#),
                 .text(encrypted.eventID))
        try index()
        #expect(try search("quokka") == [encrypted.eventID])
    }

    @Test mutating func stemmingPrefixesPhrasesAndBooleans() throws {
        let runs = factory.message("she runs to the migration meeting")
        let deploy = factory.message("the deploy failed again")
        let release = factory.message("the release failed, deploy tomorrow")
        try ingest([runs, deploy, release])
        try index()
        #expect(try search("running") == [runs.eventID])
        #expect(try search("migr") == [runs.eventID])
        #expect(try search("migra*") == [runs.eventID])
        #expect(try Set(search("deploy failed")) == [deploy.eventID, release.eventID])
        #expect(try search("\"deploy failed\"") == [deploy.eventID])
        #expect(try search("failed -release") == [deploy.eventID])
        #expect(try search("failed NOT deploy").isEmpty)
        #expect(try Set(search("meeting OR tomorrow")) == [runs.eventID, release.eventID])
        #expect(try search("(meeting OR tomorrow) release") == [release.eventID])
    }

    @Test mutating func chineseAndJapaneseByTwoCharacters() throws {
        let chinese = factory.message("我们明天讨论数据库迁移")
        let japanese = factory.message("明日は会議があります")
        try ingest([chinese, japanese])
        try index()
        #expect(try search("迁移") == [chinese.eventID])
        #expect(try search("会議") == [japanese.eventID])
        #expect(try search("明") .count == 2)
    }

    @Test mutating func fieldFilters() throws {
        var other = EventFactory(roomID: "!other:example.org")
        try store.updateRoom(RoomMetadata(roomID: other.roomID, roomVersion: version, canonicalAlias: "#other:example.org"), state: [])
        let fromAlice = factory.message("filter test one")
        let fromBob = factory.message("filter test two https://example.org/x", sender: "@bob:example.org")
        let image = factory.event(content: ["msgtype": "m.image", "body": "filter.png", "url": "mxc://x/1"])
        let file = factory.event(content: ["msgtype": "m.file", "body": "filter report", "filename": "report.pdf", "url": "mxc://x/2"])
        let root = factory.message("filter thread root")
        let reply = factory.event(content: ["msgtype": "m.text", "body": "filter in thread",
                                            "m.relates_to": ["rel_type": "m.thread", "event_id": .string(root.eventID)]])
        try ingest([fromAlice, fromBob, image, file, root, reply])
        let elsewhere = other.message("filter elsewhere", id: "$elsewhere")
        _ = try store.ingest(PageIngest(roomID: other.roomID, roomVersion: version, events: [elsewhere], placement: .after,
                                        cursors: RoomCursors(backward: .complete, forward: "f")))
        try index()
        #expect(try search("filter from:@bob:example.org") == [fromBob.eventID])
        #expect(try search("filter") { $0.sender = "@bob:example.org" } == [fromBob.eventID])
        #expect(try search("filter in:#other:example.org") == [elsewhere.eventID])
        #expect(try search("filter in:!other:example.org") == [elsewhere.eventID])
        #expect(try search("filter") { $0.rooms = ["#other:example.org"] } == [elsewhere.eventID])
        #expect(try search("has:image") == [image.eventID])
        #expect(try Set(search("has:file")) == [image.eventID, file.eventID])
        #expect(try search("has:link") == [fromBob.eventID])
        #expect(try search("report.pdf") == [file.eventID])
        #expect(try Set(search("filter thread:\(root.eventID)")) == [root.eventID, reply.eventID])
        #expect(try Set(search("filter") { $0.thread = root.eventID }) == [root.eventID, reply.eventID])
        #expect(throws: ArchiveError.self) { try search("filter in:#nowhere:example.org") }
    }

    @Test mutating func dateRangesAtUTCDayBoundaries() throws {
        let march1: Int64 = 1_709_251_200_000
        let april1: Int64 = march1 + 31 * Timestamp.dayMilliseconds
        let lastOfFeb = factory.message("boundary a", ts: march1 - 1)
        let firstOfMarch = factory.message("boundary b", ts: march1)
        let lastOfMarch = factory.message("boundary c", ts: april1 - 1)
        let firstOfApril = factory.message("boundary d", ts: april1)
        try ingest([lastOfFeb, firstOfMarch, lastOfMarch, firstOfApril])
        try index()
        #expect(try search("boundary before:2024-03-01") == [lastOfFeb.eventID])
        #expect(try Set(search("boundary after:2024-02-29")) == [firstOfMarch.eventID, lastOfMarch.eventID, firstOfApril.eventID])
        #expect(try search("boundary after:2024-03-31") == [firstOfApril.eventID])
        #expect(try Set(search("boundary date:2024-03-01..2024-03-31")) == [firstOfMarch.eventID, lastOfMarch.eventID])
        #expect(try search("boundary date:2024-03-01") == [firstOfMarch.eventID])
        #expect(try Set(search("boundary") { $0.since = march1; $0.until = april1 }) == [firstOfMarch.eventID, lastOfMarch.eventID])
        // Sorted by date: newest first.
        #expect(try search("boundary") { $0.sortByDate = true }
                == [firstOfApril, lastOfMarch, firstOfMarch, lastOfFeb].map(\.eventID))
    }

    @Test mutating func pagingHasNoOverlapsAndContextSurroundsTheHit() throws {
        let messages = (0..<25).map { factory.message("page item \($0)") }
        try ingest(messages)
        try index()
        var seen: [String] = []
        for offset in stride(from: 0, to: 30, by: 10) {
            seen += try search("item") { $0.limit = 10; $0.offset = offset }
        }
        #expect(seen.count == 25)
        #expect(Set(seen) == Set(messages.map(\.eventID)))

        var options = SearchOptions()
        options.context = 2
        let found = try SearchService(store: store).search("\"item 12\"", options: options)
        let hit = try #require(found.results.first)
        #expect(hit.message.eventID == messages[12].eventID)
        #expect(hit.contextBefore.map(\.eventID) == [messages[10].eventID, messages[11].eventID])
        #expect(hit.contextAfter.map(\.eventID) == [messages[13].eventID, messages[14].eventID])
        #expect(hit.snippet.hasHits)
        #expect(hit.snippet.plain == "page item 12")
    }

    @Test mutating func malformedQueriesAreUsageErrors() throws {
        try ingest([factory.message("anything")])
        try index()
        for query in ["\"open", "(a", "has:nothing", "???"] {
            do {
                _ = try search(query)
                Issue.record("\(query) was accepted")
            } catch let error as ArchiveError {
                #expect(error.category == .usage, "\(query): \(error)")
            }
        }
    }

    @Test mutating func aCrashBetweenStoreAndIndexIsRepairedAndVerifySeesDisagreement() throws {
        let first = factory.message("stored and indexed")
        try ingest([first])
        try index(shards: 2)
        // Stored but never indexed (a crash, or sync --no-index): verify says so, the next run repairs it.
        let second = factory.message("stored while the indexer was down")
        try ingest([second])
        let behind = try SearchIndexCheck.check(store: store)
        #expect(behind.problems.isEmpty)
        #expect(behind.notes.count == 1 && behind.notes[0].contains("behind"))
        let result = try index()
        #expect(result.documentsWritten == 1 && !result.rebuilt)
        #expect(try SearchIndexCheck.check(store: store) == ([], []))
        #expect(try search("down") == [second.eventID])
        // An index that lost a document disagrees with the store.
        let state = try #require(try store.searchIndexState())
        let writer = try SearchIndexWriter(layout: SearchIndexLayout(directory: SearchIndexer.indexDirectory(store: directory),
                                                                     shards: state.shards, language: state.language),
                                           fresh: false)
        try writer.submit([.delete(eventID: first.eventID)])
        try writer.commit()
        writer.close()
        let problems = try SearchIndexCheck.check(store: store).problems
        #expect(problems.count == 1 && problems[0].contains("not indexed") && problems[0].contains(first.eventID))
        try index(rebuild: true)
        #expect(try SearchIndexCheck.check(store: store) == ([], []))
    }

    @Test mutating func oneShardOrTwoFindTheSame() throws {
        let messages = (0..<40).map { factory.message("shard word\($0 % 7) common") }
        try ingest(messages)
        try index(shards: 1)
        let one = try Set(search("common word3"))
        try index(rebuild: true, shards: 2)
        #expect(try store.searchIndexState()?.shards == 2)
        #expect(try Set(search("common word3")) == one)
        #expect(one.count == 6)
    }

    @Test mutating func indexFilesArePrivate() throws {
        try ingest([factory.message("private words")])
        try index()
        let indexDirectory = SearchIndexer.indexDirectory(store: directory)
        let attributes = try FileManager.default.attributesOfItem(atPath: indexDirectory.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let enumerator = FileManager.default.enumerator(atPath: indexDirectory.path)
        while let file = enumerator?.nextObject() as? String {
            let path = indexDirectory.appendingPathComponent(file).path
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
            #expect(mode & 0o077 == 0, "\(file) is \(String(mode, radix: 8))")
        }
    }

    @Test func aStoreWrittenBySchemaOneIsMigratedAndIndexed() throws {
        let old = uniqueTemporaryDirectory("mxa-v1")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        do {
            let db = try SQLiteDatabase(path: old.appendingPathComponent(ArchiveStore.databaseFileName).path)
            try db.execute(Migrations.all[0])
            try db.execute("PRAGMA user_version = 1")
            try db.execute("""
                INSERT INTO rooms (room_id, room_version) VALUES ('!old:x', '10');
                INSERT INTO events (event_id, room_id, position, sender, type, origin_server_ts, raw_json, is_timeline_item)
                VALUES ('$old1', '!old:x', 1, '@a:x', 'm.room.message', 1000,
                        '{"content":{"msgtype":"m.text","body":"written before search existed"},"event_id":"$old1","origin_server_ts":1000,"room_id":"!old:x","sender":"@a:x","type":"m.room.message"}', 1);
                """)
        }
        let migrated = try ArchiveStore(directory: old)
        #expect(migrated.schemaVersion == Migrations.all.count)
        let indexer = try SearchIndexer(storeDirectory: old)
        try indexer.catchUp()
        indexer.close()
        let found = try SearchService(store: migrated).search("existed", options: SearchOptions())
        #expect(found.results.map(\.message.eventID) == ["$old1"])
    }
}
