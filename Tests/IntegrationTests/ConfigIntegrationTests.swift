import ArchiveCore
import Foundation
import Testing

/// config.toml driving the real binary against the seeded Synapse: `config check`'s exit codes, a plain
/// `mxarchive sync` following the rooms the file names, `export --job` writing the dated path, and
/// `sync --then-export`.
@Suite struct ConfigIntegrationTests {
    static let exportRoom = "#export:localhost"
    /// 2024-12-01T00:00:00Z: `{date}` is the day of SOURCE_DATE_EPOCH when it is set.
    static let epoch = ["SOURCE_DATE_EPOCH": "1733011200"]

    func writeConfig(_ text: String, to archive: Archive) throws {
        try Data(text.utf8).write(to: archive.store.appendingPathComponent("config.toml"))
    }

    func syncedRoomIDs(_ result: RunResult) throws -> [String] {
        let json = try JSONCoding.decode(result.stdout)
        return (json["rooms"]?.arrayValue ?? []).compactMap { $0["room_id"]?.stringValue }
    }

    @Test func configCheckExitCodes() throws {
        let archive = try Archive.loggedIn()
        try writeConfig("rooms = [\"\(Self.exportRoom)\"]\npage_size = 100\n[export.a]\nformat = \"json\"\noutput = \"a-{date}\"\n",
                        to: archive)
        let good = try archive.run(["config", "check"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("config.toml: ok (1 export job)"))

        try writeConfig("rooms = [\"\(Self.exportRoom)\"]\npage_size = \"big\"\ncolour = \"blue\"\n", to: archive)
        let bad = try archive.run(["config", "check"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("config.toml:2: page_size must be an integer, got a string"), "\(bad.stderr)")
        #expect(bad.stderr.contains("config.toml:3: unknown key `colour`"), "\(bad.stderr)")
        #expect(try archive.run(["config", "check", "--frobnicate"]).status == 2)

        // A command that would use the broken config refuses to run and archives nothing.
        let sync = try archive.run(["sync", "--json"])
        #expect(sync.status == 1 && sync.stderr.contains("config.toml:2:"), "\(sync.stderr)")
        // (login keeps credentials only: the refused sync created no archive at all, so status says so.)
        let status = try archive.run(["status", "--json"])
        #expect(status.status == 1 && status.stderr.contains("no archive at"), "\(status.status): \(status.stderr)")
        #expect(!status.stdout.contains(try archive.seed.roomID("export")))

        // A token pasted into the config is refused, and not repeated in the message.
        let credentials = try JSONCoding.decode(Data(contentsOf: archive.store.appendingPathComponent("credentials.json")))
        let token = try #require(credentials["access_token"]?.stringValue)
        try writeConfig("access_token = \"\(token)\"\n", to: archive)
        let secret = try archive.run(["config", "check"])
        #expect(secret.status == 1 && secret.stderr.contains("config.toml:1: `access_token` would put a secret"))
        #expect(!secret.stderr.contains(token) && !secret.stdout.contains(token))
    }

    @Test func aPlainSyncFollowsTheRoomsTheConfigNamesAndFlagsWin() throws {
        let archive = try Archive.loggedIn()
        let exportRoomID = try archive.seed.roomID("export")
        try writeConfig("rooms = [\"\(Self.exportRoom)\"]\npage_size = 7\n", to: archive)
        let show = try archive.run(["config", "show", "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let settings = try JSONCoding.decode(show.stdout)["settings"]?.arrayValue ?? []
        let pageSize = settings.first { $0["key"]?.stringValue == "page_size" }
        #expect(pageSize?["value"]?.int64Value == 7 && pageSize?["source"]?.stringValue == "config")

        let sync = try archive.sync([])
        #expect(try syncedRoomIDs(sync) == [exportRoomID])

        // A room on the command line replaces the config's selection for that run.
        let bigRoomID = try archive.seed.roomID("big")
        #expect(try syncedRoomIDs(archive.sync(["--room", "#big:localhost"])) == [bigRoomID])
    }

    @Test func exportJobWritesTheDatedPath() throws {
        let archive = try Archive.loggedIn()
        let out = try scratch("job")
        try writeConfig("""
            rooms = ["\(Self.exportRoom)"]
            [export.daily]
            format = "json"
            rooms = ["\(Self.exportRoom)"]
            output = "\(out.path)/{room}-{date}.tar.zst"
            """, to: archive)
        try archive.sync([])
        let export = try archive.run(["export", "--job", "daily"], environment: Self.epoch)
        #expect(export.status == 0, "\(export.stderr)")
        let written = out.appendingPathComponent("export_localhost-2024-12-01.tar.zst")
        #expect(FileManager.default.fileExists(atPath: written.path), "\(export.stdout)")
        #expect(try archive.run(["verify-export", written.path]).status == 0)
        // An unknown job is a usage error naming the jobs there are.
        let unknown = try archive.run(["export", "--job", "weekly"])
        #expect(unknown.status == 2 && unknown.stderr.contains("(it has: daily)"), "\(unknown.stderr)")
    }

    @Test func syncThenExportRunsEveryJobAfterTheSync() throws {
        let archive = try Archive.loggedIn()
        let out = try scratch("then-export")
        try writeConfig("""
            rooms = ["\(Self.exportRoom)"]
            [export.site]
            format = "html"
            output = "\(out.path)/site-{date}"
            [export.text]
            format = "txt"
            output = "\(out.path)/text-{date}.zip"
            """, to: archive)
        let sync = try archive.run(["sync", "--then-export", "--json"], environment: Self.epoch)
        #expect(sync.status == 0, "\(sync.stderr)")
        // Standard output stays the sync's one JSON object; the exports' summaries go to standard error.
        #expect(sync.lines.count == 1)
        #expect(try syncedRoomIDs(sync) == [try archive.seed.roomID("export")])
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("site-2024-12-01/index.html").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("text-2024-12-01.zip").path))
        #expect(sync.stderr.contains("text-2024-12-01.zip"))
        // Without export jobs --then-export is a usage error, before anything is fetched.
        try writeConfig("rooms = [\"\(Self.exportRoom)\"]\n", to: archive)
        #expect(try archive.run(["sync", "--then-export"]).status == 2)
    }
}
