import ArchiveCore
import ArchiveService
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// config.toml: parsing through TOMLKit, every error kind at its line, flags over the file over the
/// defaults, the export jobs' paths, and no secret in or out.
@Suite struct ConfigTests {
    static let full = """
        # the organisation's archive
        homeserver = "https://matrix.example.org"
        user = "@archiver:example.org"
        password_file = "/etc/mxarchive/password"
        rooms = ["#team:example.org", "!abc:example.org"]
        retain_redacted = true
        media = true
        max_media_size = "20M"
        page_size = 200
        jobs = 4

        [export.nightly]
        format = "json"
        rooms = ["#team:example.org"]
        output = "/srv/archive/{room}-{date}.tar.zst"
        since = "2024-01-01"

        [export.site]
        format = "html"
        output = "site-{date}/"
        allow_indexing = true
        mode = "0644"
        """

    func parse(_ text: String) -> Result<ArchiveConfig, ConfigError> { ArchiveConfig.parse(text, file: "config.toml") }

    /// The problems of a text that must not parse, rendered as `config check` prints them.
    func problems(_ text: String) throws -> [String] {
        guard case .failure(let error) = parse(text) else {
            Issue.record("config was accepted: \(text)")
            return []
        }
        return error.problems.map { $0.rendered(file: "config.toml") }
    }

    @Test func everyKeyIsRead() throws {
        let config = try parse(Self.full).get()
        #expect(config.homeserver == "https://matrix.example.org")
        #expect(config.user == "@archiver:example.org")
        #expect(config.passwordFile == "/etc/mxarchive/password")
        #expect(config.rooms == ["#team:example.org", "!abc:example.org"])
        #expect(config.spaces == nil && config.allJoined == nil)
        #expect(config.retainRedacted == true && config.media == true)
        #expect(config.maxMediaSize == "20M" && config.pageSize == 200 && config.jobs == 4)
        #expect(config.exportJobs.map(\.name) == ["nightly", "site"])
        let nightly = try #require(config.exportJob(named: "nightly"))
        #expect(nightly.format == .json && nightly.rooms == ["#team:example.org"] && nightly.since == "2024-01-01")
        let site = try #require(config.exportJob(named: "site"))
        #expect(site.format == .html && site.allowIndexing && site.mode == "0644" && !site.includeMedia)
    }

    @Test func eachKindOfErrorIsReportedAtItsLine() throws {
        // TOML syntax: toml++'s own line.
        #expect(try problems("page_size = 10\n\nmedia = \n").first?.hasPrefix("config.toml:3: not valid TOML") == true)
        #expect(try problems("page_size = 1\npage_size = 2\n").first?.hasPrefix("config.toml:2: not valid TOML") == true)
        // Unknown key, wrong type, bad value, unknown export field, missing field: all of them at once.
        let found = try problems("""
            homeserver = "https://m.example.org"
            page_sise = 10
            media = "on"
            page_size = 5000
            rooms = ["team"]

            [export.weekly]
            format = "pdf"
            output = "/srv/{room}/{week}.zip"
            compress = true
            [export.empty]
            rooms = []
            """)
        #expect(found == [
            "config.toml:2: unknown key `page_sise` (known: homeserver, user, password_file, rooms, spaces, all_joined, "
                + "retain_redacted, media, max_media_size, page_size, jobs, export)",
            "config.toml:3: media must be true or false, got a string",
            "config.toml:4: page_size must be between 1 and 1000, got 5000",
            "config.toml:5: rooms: entry 1 is not a room id (!…:server) or alias (#…:server)",
            "config.toml:8: format must be json, html or txt",
            "config.toml:9: output uses {room}: the job must name its rooms (rooms = [...]) and no spaces",
            "config.toml:9: output: unknown placeholder {week} (known: {date}, {room})",
            "config.toml:10: unknown export job field `compress` in [export.weekly] (known: format, output, rooms, spaces, "
                + "since, until, senders, include_media, retain_redacted, allow_indexing, templates, mode)",
            "config.toml:11: [export.empty] needs format = \"json\", \"html\" or \"txt\"",
            "config.toml:11: [export.empty] needs output = \"PATH\" (it may hold {date} and {room})",
        ])
        #expect(try problems("jobs = 2.5") == ["config.toml:1: jobs must be an integer, got a float"])
        #expect(try problems("export = 3") == ["config.toml:1: export must be a table of jobs: [export.NAME]"])
        #expect(try problems("[export.a]\nformat = \"txt\"\noutput = \"-\"")
                == ["config.toml:3: output must be a path (a tar on standard output is for `mxarchive export --output -`)"])
        #expect(try problems("[export.a]\nformat = \"json\"\noutput = \"x\"\nuntil = \"last tuesday\"")
                == ["config.toml:4: until must be a date (YYYY-MM-DD or ISO 8601, UTC)"])
        #expect(try problems("max_media_size = \"lots\"")
                == ["config.toml:1: max_media_size must be a size between 1 byte and 2G (a number with an optional K, M or G)"])
        // Dotted and quoted keys are placed too.
        #expect(try problems("a = 1\nexport.x.\"format\" = 1\nexport.x.output = \"o\"")
                == ["config.toml:1: unknown key `a` (known: homeserver, user, password_file, rooms, spaces, all_joined, "
                    + "retain_redacted, media, max_media_size, page_size, jobs, export)",
                    "config.toml:2: export.x.format must be a string, got an integer"])
    }

    /// A problem about a list entry names it by position: the value may be something pasted by mistake
    /// (a token the secret check does not recognise), and a config's messages never repeat values.
    @Test func listProblemsNameTheEntryByPosition() throws {
        #expect(try problems("rooms = [\"#ok:x\", \"hunter2\"]\nspaces = [\"#alias:x\"]\n") == [
            "config.toml:1: rooms: entry 2 is not a room id (!…:server) or alias (#…:server)",
            "config.toml:2: spaces: entry 1 is not a room id (!…:server)",
        ])
        let senders = try problems("[export.a]\nformat = \"json\"\noutput = \"o\"\nsenders = [\"@a:x\", \"pa55word\"]\n")
        #expect(senders == ["config.toml:4: senders: entry 2 is not a user id (@name:server)"])
        #expect(!senders.joined().contains("pa55word"))
    }

    /// `https://user:password@host` puts a password in the file (and in every URL built from it).
    @Test func aHomeserverWithUserinfoIsRefused() throws {
        for url in ["https://archiver:s3cret@matrix.example.org", "https://archiver@matrix.example.org/"] {
            let found = try problems("homeserver = \"\(url)\"\n")
            #expect(found.count == 1 && found.first?.hasPrefix("config.toml:1: homeserver must not hold a user name or password") == true,
                    "\(found)")
            #expect(!found.joined().contains("s3cret"))
        }
        #expect(throws: Never.self) { try parse("homeserver = \"https://matrix.example.org:8448\"\n").get() }
    }

    /// `{room}` makes one file per room from a slug: two rooms whose slugs differ only in case (the same
    /// file on a case-insensitive disk), or only in characters the slug replaces, would overwrite each other.
    @Test func aJobWhoseRoomSlugsCollideIsRefused() throws {
        for rooms in [##"["!team:x", "#team:x"]"##, ##"["#Team:x", "#team:x"]"##, ##"["#café:x", "#cafè:x"]"##] {
            let found = try problems("[export.a]\nformat = \"json\"\nrooms = \(rooms)\noutput = \"/srv/{room}.zip\"\n")
            #expect(found.count == 1 && found.first?.hasPrefix("config.toml:3: rooms: entries 1 and 2 make the same {room}") == true,
                    "\(rooms): \(found)")
        }
        // Without {room} the rooms go into one export: nothing to collide.
        #expect(throws: Never.self) {
            try parse("[export.a]\nformat = \"json\"\nrooms = [\"!team:x\", \"#team:x\"]\noutput = \"/srv/a.zip\"\n").get()
        }
    }

    /// CRLF line endings (a file written on Windows) and a UTF-8 byte order mark still give the line a
    /// person sees in their editor.
    @Test func crlfAndAByteOrderMarkKeepTheLineNumbers() throws {
        let text = "# archive\r\nmedia = true\r\n\r\n[export.a]\r\nformat = \"pdf\"\r\noutput = \"o\"\r\nbogus = 1\r\n"
        let expected = ["config.toml:5: format must be json, html or txt",
                        "config.toml:7: unknown export job field `bogus` in [export.a] (known: format, output, rooms, spaces, "
                            + "since, until, senders, include_media, retain_redacted, allow_indexing, templates, mode)"]
        #expect(try problems(text) == expected)
        #expect(try problems("\u{FEFF}" + text) == expected)
        #expect(try problems("\u{FEFF}[export.a]\nformat = 1\noutput = \"o\"\n") == ["config.toml:2: export.a.format must be a string, got an integer"])
        #expect(try problems("\u{FEFF}bogus = 1\n").first?.hasPrefix("config.toml:1: unknown key `bogus`") == true)
    }

    /// Keys nested deeper than any setting of ours are refused before the TOML parser sees them.
    @Test func keysNestedTooDeeplyAreRefusedBeforeParsing() throws {
        #expect(try problems("media = true\n[a.b.c.d.e.f.g.h.i]\nx = 1\n")
                == ["config.toml:2: keys nest 9 deep here; a config nests at most 8"])
        #expect(try problems("media = true\n\n[a.b.c.d]\ne.f.g.h.i = 1\n")
                == ["config.toml:4: keys nest 9 deep here; a config nests at most 8"])
        let deep = (0..<10_000).map { "k\($0)" }.joined(separator: ".") + " = 1\n"
        #expect(try problems(deep) == ["config.toml:1: keys nest 10000 deep here; a config nests at most 8"])
        // Eight is still a config (whose keys are then unknown, not refused for their depth).
        #expect(try problems("[a.b.c.d.e.f.g]\nh = 1\n").first?.contains("nest") == false)
    }

    @Test func aConfigHoldingASecretIsRefusedWithoutRepeatingIt() throws {
        let token = "syt_YXJjaGl2ZXI_mQkIbtYhlvXtbQeBSLRE_1r0QbV"
        let recoveryKey = "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d"
        let cases: [(String, String)] = [
            ("page_size = 10\naccess_token = \"\(token)\"", "config.toml:2: `access_token` would put a secret in the config file"),
            ("password = \"hunter2-but-longer\"", "config.toml:1: `password` would put a secret in the config file"),
            ("[export.a]\nformat = \"json\"\noutput = \"o\"\npassphrase = \"correct horse\"",
             "config.toml:4: `passphrase` would put a secret in the config file"),
            ("user = \"\(token)\"", "config.toml:1: user holds what looks like an access token or recovery key"),
            ("rooms = [\"\(recoveryKey)\"]", "config.toml:1: rooms holds what looks like an access token or recovery key"),
        ]
        for (text, expected) in cases {
            guard case .failure(let error) = parse(text) else {
                Issue.record("a secret was accepted: \(text)")
                continue
            }
            let message = error.problems.map { $0.rendered(file: "config.toml") }.joined(separator: "\n")
            #expect(message.hasPrefix(expected), "\(message)")
            for secret in [token, recoveryKey, "hunter2-but-longer", "correct horse"] {
                #expect(!message.contains(secret) && !error.description.contains(secret))
            }
            // The secret is the one problem: not also an "unknown key".
            #expect(error.problems.count == 1, "\(message)")
        }
    }

    @Test func flagsWinOverTheConfigWhichWinsOverTheDefaults() throws {
        let config = try parse(Self.full).get()
        let fromConfig = SyncSettings(flags: SyncFlags(), config: config)
        #expect(fromConfig.request.rooms == ["#team:example.org", "!abc:example.org"])
        #expect(fromConfig.request.pageSize == 200 && fromConfig.request.media && fromConfig.request.retainRedacted)
        #expect(fromConfig.request.maxMediaSize == "20M" && fromConfig.request.jobs == 4)
        #expect(source(fromConfig, "page_size") == .config && source(fromConfig, "rooms") == .config)

        var flags = SyncFlags()
        flags.spaces = ["!space:example.org"]
        flags.pageSize = 50
        flags.media = false
        flags.retainRedacted = false
        let overridden = SyncSettings(flags: flags, config: config)
        // A selection on the command line replaces the file's whole, rather than adding to it.
        #expect(overridden.request.rooms == [] && overridden.request.spaces == ["!space:example.org"])
        #expect(overridden.request.pageSize == 50 && !overridden.request.media && !overridden.request.retainRedacted)
        #expect(overridden.request.maxMediaSize == nil)
        #expect(source(overridden, "page_size") == .flag && source(overridden, "media") == .flag
                && source(overridden, "spaces") == .flag && source(overridden, "jobs") == .config)

        let defaults = SyncSettings(flags: SyncFlags(), config: nil)
        #expect(defaults.request.pageSize == SyncRequest().pageSize && !defaults.request.media && defaults.request.rooms.isEmpty)
        #expect(defaults.entries.allSatisfy { $0.source == .default })
    }

    func source(_ settings: SyncSettings, _ key: String) -> SettingSource? {
        settings.entries.first { $0.key == key }?.source
    }

    @Test func exportJobPathsCarryTheDayAndTheRoom() throws {
        let config = try parse(Self.full).get()
        let store = URL(fileURLWithPath: "/var/lib/mxarchive")
        let day = ExportJob.day(ofSeconds: 1_733_011_200)  // 2024-12-01T00:00:00Z
        #expect(day == "2024-12-01")
        let nightly = try config.exportJob(named: "nightly")!.requests(date: day, storeDirectory: store, toolVersion: "t")
        #expect(nightly.map(\.output) == ["/srv/archive/team_example.org-2024-12-01.tar.zst"])
        #expect(nightly.map(\.rooms) == [["#team:example.org"]])
        #expect(nightly.first?.dates.since?.text == "2024-01-01")
        // A relative output is the store's, wherever the timer runs.
        let site = try config.exportJob(named: "site")!.requests(date: day, storeDirectory: store, toolVersion: "t")
        #expect(site.map(\.output) == ["/var/lib/mxarchive/site-2024-12-01/"])
        #expect(site.first?.mode == "0644" && site.first?.allowIndexing == true && site.first?.rooms == [])
    }

    @Test func configShowNamesThePasswordFileButNeverReadsItAndMatchesItsSchema() throws {
        let folder = uniqueTemporaryDirectory("mxa-config-show")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let secret = "the-password-itself-\(UUID().uuidString)"
        let passwordFile = folder.appendingPathComponent("password")
        try Data(secret.utf8).write(to: passwordFile)
        let text = Self.full.replacingOccurrences(of: "/etc/mxarchive/password", with: passwordFile.path)
        try Data(text.utf8).write(to: ArchiveConfig.url(inStore: folder))
        let config = try #require(try ArchiveConfig.load(storeDirectory: folder))
        var flags = SyncFlags()
        flags.pageSize = 10
        let report = ConfigShowReport(config: config, sync: SyncSettings(flags: flags, config: config))
        let human = report.humanOutput(terminal: false).map { line in
            switch line { case .result(let text), .problem(let text): text }
        }.joined(separator: "\n")
        for output in [human, report.jsonText] {
            #expect(!output.contains(secret))
            #expect(output.contains(passwordFile.path))
        }
        #expect(human.contains("page_size = 10    # flag"))
        #expect(human.contains("media = true    # config"))
        #expect(human.contains("output = \"/srv/archive/{room}-{date}.tar.zst\""))
        #expect(try SchemaValidator.errors([report.jsonText,
                                            ConfigShowReport(config: nil, sync: SyncSettings(flags: SyncFlags(), config: nil)).jsonText],
                                           schema: "config-show.schema.json") == [])
    }

    @Test func configCheckReadsTheFileAndSaysEveryProblem() throws {
        let folder = uniqueTemporaryDirectory("mxa-config-check")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("config.toml")
        try Data("media = true\nbogus = 1\n".utf8).write(to: file)
        let bad = try ConfigCheckReport.check(file: file.path, store: nil)
        #expect(!bad.ok)
        #expect(bad.humanOutput(terminal: false) == [.problem("\(file.path):2: unknown key `bogus` (known: homeserver, user, "
            + "password_file, rooms, spaces, all_joined, retain_redacted, media, max_media_size, page_size, jobs, export)")])
        try Data(Self.full.utf8).write(to: file)
        let good = try ConfigCheckReport.check(file: nil, store: folder.path)
        #expect(good.ok && good.humanOutput(terminal: false) == [.result("\(file.path): ok (2 export jobs)")])
        try Data([0x6D, 0xFF, 0x0A]).write(to: file)
        #expect(try ConfigCheckReport.check(file: file.path, store: nil).problems == [ConfigProblem(line: 1, message: "not UTF-8 text")])
        #expect(throws: ArchiveError.self) { try ConfigCheckReport.check(file: folder.appendingPathComponent("none.toml").path, store: nil) }
    }

    /// config.toml must be a regular file of at most 1 MiB: a FIFO would block the read for ever (a
    /// nightly sync that never ends), a device or a huge file would be read whole.
    @Test func aConfigThatIsNoRegularFileOrTooBigIsRefusedAtOnce() throws {
        let folder = uniqueTemporaryDirectory("mxa-config-kind")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = ArchiveConfig.url(inStore: folder)
        #expect(mkfifo(file.path, 0o600) == 0)
        #expect {
            try ArchiveConfig.load(storeDirectory: folder)
        } throws: { "\($0)".contains("\(file.path) is not a regular file") }
        #expect(throws: ArchiveError.self) { try ConfigCheckReport.check(file: file.path, store: nil) }
        try FileManager.default.removeItem(at: file)

        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        #expect { try ArchiveConfig.load(storeDirectory: folder) } throws: { "\($0)".contains("is not a regular file") }
        try FileManager.default.removeItem(at: file)

        let elsewhere = folder.appendingPathComponent("real.toml")
        try Data("media = true\n".utf8).write(to: elsewhere)
        try FileManager.default.createSymbolicLink(at: file, withDestinationURL: elsewhere)
        #expect { try ArchiveConfig.load(storeDirectory: folder) } throws: { "\($0)".contains("is not a regular file") }
        try FileManager.default.removeItem(at: file)

        try Data(("# " + String(repeating: "x", count: 1 << 20) + "\n").utf8).write(to: file)
        #expect { try ArchiveConfig.load(storeDirectory: folder) } throws: { "\($0)".contains("larger than 1 MiB") }
        try Data(("# " + String(repeating: "x", count: (1 << 20) - 3) + "\n").utf8).write(to: file)
        #expect(try ArchiveConfig.load(storeDirectory: folder) != nil)
    }
}
