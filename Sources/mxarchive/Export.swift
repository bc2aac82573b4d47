import ArchiveService
import ArgumentParser

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export rooms from the archive as JSON, a static HTML site, or text (offline).",
        // Spelled out: past a length, the generated line shrinks to "[<options>]".
        usage: """
            mxarchive export [--store <dir>] (--format <format> --output <path> | --job <name>) [--room <id-or-alias> ...] \
            [--space <id> ...] [--since <date>] [--until <date>] [--sender <mxid> ...] [--include-media] [--retain-redacted] \
            [--allow-indexing] [--templates <dir>] [--page-messages <n>] [--mode <octal>]
            """,
        discussion: """
            PATH ending .tar.gz/.tgz, .tar.zst, .tar.xz or .zip is written as that archive (streamed, no
            staging folder); - writes a tar to standard output; anything else is a new (or empty) folder.
            Every export has a manifest.json listing each file with its size and SHA-256; check it later
            with `mxarchive verify-export PATH`. With SOURCE_DATE_EPOCH set, two exports of the same data
            with the same options are byte-identical.
              mxarchive export --format json --room '#team:example.org' --since 2024-01-01 --output team.tar.zst
              mxarchive export --format html --space '!space:example.org' --output site/
              mxarchive export --format txt --sender @alice:example.org --output alice.zip
            With no --room or --space, every archived room is exported. --job NAME runs the export job
            [export.NAME] of <store>/config.toml (its output path may hold {date} and {room}); flags given
            with it win over the job's settings. HTML pages carry
            <meta name="robots" content="noindex"> unless --allow-indexing is given. A month (or thread)
            of more than --page-messages messages is split into pages (2024-01.html, 2024-01-p2.html, ...);
            rooms/<id>/event.html#<event id> finds any message's page.
            An export holds decrypted history: its files are created 0600 and its folders 0700 (also the
            entries of an archive), whatever the umask. To publish a site that a web server reads as
            another user, give --mode 0644 (folders then get 0755). Media files are named by their
            SHA-256 and the type their bytes show (.png, .pdf, ...; anything else .bin), and the export
            carries web-server rules (.htaccess, server-rules/nginx.conf, server-rules/Caddyfile) that
            serve media/ as downloads with nosniff and a sandbox.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Run the export job [export.NAME] of config.toml.", valueName: "name"))
    var job: String?

    @Option(help: ArgumentHelp("json (schemas/event.schema.json lines), html (a static site) or txt.", valueName: "format"))
    var format: String?

    @Option(name: .customLong("room"), help: ArgumentHelp("A room id (!…) or alias (#…) in the archive; repeatable.", valueName: "id-or-alias"))
    var rooms: [String] = []

    @Option(name: .customLong("space"), help: ArgumentHelp("A space: it and every archived room of its hierarchy; repeatable.", valueName: "id"))
    var spaces: [String] = []

    @Option(help: ArgumentHelp("Only events at or after this date (YYYY-MM-DD or ISO 8601, UTC).", valueName: "date"))
    var since: String?

    @Option(help: ArgumentHelp("Only events before this time; a bare day includes that day.", valueName: "date"))
    var until: String?

    @Option(name: .customLong("sender"), help: ArgumentHelp("Only events from this user; repeatable.", valueName: "mxid"))
    var senders: [String] = []

    @Flag(help: "Include the stored media files (from sync --media) of the exported messages as media/<sha256>.<type>.")
    var includeMedia = false

    @Flag(help: "Keep the content of redacted events where the archive retained it (legal hold).")
    var retainRedacted = false

    @Flag(help: "HTML: let search engines index the pages (default: noindex).")
    var allowIndexing = false

    @Option(help: ArgumentHelp("HTML: the template folder to use instead of exports/html.", valueName: "dir"))
    var templates: String?

    @Option(name: .customLong("page-messages"),
            help: ArgumentHelp("HTML: at most this many messages on a month or thread page (1-\(ExportRequest.pageMessagesRange.upperBound); default \(ExportRequest.defaultPageMessages)).", valueName: "n"))
    var pageMessages: Int?

    @Option(help: ArgumentHelp("Permissions of the exported files (folders add search where readable): 0600 (default) or e.g. 0640, 0644.", valueName: "octal"))
    var mode: String?

    @Option(help: ArgumentHelp("The output: a folder, an archive (.tar.gz .tgz .tar.zst .tar.xz .zip), or - for a tar on stdout.", valueName: "path"))
    var output: String?

    func validate() throws {
        if job == nil {
            guard format != nil else { throw ValidationError("--format is required (or --job NAME)") }
            guard output != nil else { throw ValidationError("--output is required (or --job NAME)") }
        }
        if let format, ExportRequest.Format(rawValue: format) == nil {
            throw ValidationError("--format must be json, html or txt, got '\(format)'")
        }
        try ValidationError.checkDate("--since", since)
        try ValidationError.checkDate("--until", until)
        for sender in senders where !sender.hasPrefix("@") || !sender.contains(":") {
            throw ValidationError("--sender '\(sender)' is not a user id (@name:server)")
        }
        if templates != nil && format.map({ $0 != "html" }) ?? (job == nil) {
            throw ValidationError("--templates only applies to --format html")
        }
        if output?.isEmpty == true { throw ValidationError("--output must not be empty") }
        if let pageMessages {
            if format.map({ $0 != "html" }) ?? (job == nil) { throw ValidationError("--page-messages only applies to --format html") }
            guard ExportRequest.pageMessagesRange.contains(pageMessages) else {
                throw ValidationError("--page-messages must be between 1 and \(ExportRequest.pageMessagesRange.upperBound), got \(pageMessages)")
            }
        }
        if let mode {
            do { try ExportRequest.checkMode(mode) } catch { throw ValidationError("\(error)") }
        }
        if output == "-" && Console.isTerminal(1) {
            throw ValidationError("refusing to write a tar to a terminal; redirect standard output or name a file")
        }
    }

    func run() throws {
        if let job { return try runJob(job) }
        var request = ExportRequest(format: ExportRequest.Format(rawValue: format!)!, output: output!,
                                    toolVersion: MXArchiveCommand.configuration.version)
        try applyFlags(to: &request)
        let archive = try global.open(.read)
        let report = try archive.export(request, progress: ExportProgressDisplay(live: Console.redrawsProgress))
        // With a tar on standard output, the summary goes to standard error; --quiet leaves it out (its
        // problems, on standard error, are still said).
        let toStandardError = request.writesToStandardOutput
        let quiet = global.quiet
        Console.print(report, results: { line in
            if quiet { return }
            if toStandardError { Console.lineOnStandardError(line) } else { Console.line(line) }
        })
    }

    /// The flags given, over what the request (a job's, or a fresh one) already says.
    func applyFlags(to request: inout ExportRequest) throws {
        if let format { request.format = ExportRequest.Format(rawValue: format)! }
        if let output { request.output = output }
        if !rooms.isEmpty || !spaces.isEmpty {
            request.rooms = rooms
            request.spaces = spaces
        }
        if since != nil || until != nil {
            request.dates = try DateRange(since: since ?? request.dates.since?.text, until: until ?? request.dates.until?.text)
        }
        if !senders.isEmpty { request.senders = senders }
        if includeMedia { request.includeMedia = true }
        if retainRedacted { request.retainRedacted = true }
        if allowIndexing { request.allowIndexing = true }
        if let templates { request.templates = templates }
        if let pageMessages { request.pageMessages = pageMessages }
        if let mode { request.mode = mode }
        if let pageMessages { request.pageMessages = pageMessages }
    }

    /// `--job NAME`: the job's requests (one per room with {room}), the flags over each.
    func runJob(_ name: String) throws {
        guard let config = try global.config() else {
            throw ValidationError("--job needs a config.toml in the store, and it has none")
        }
        let job = try config.requireExportJob(name)
        let archive = try global.open(.read)
        var requests = try archive.exportRequests(for: job, toolVersion: MXArchiveCommand.configuration.version)
        if requests.count > 1 && (output != nil || !rooms.isEmpty || !spaces.isEmpty) {
            throw ValidationError("export job '\(name)' makes one export per room ({room}); --output, --room and --space cannot replace that")
        }
        for index in requests.indices { try applyFlags(to: &requests[index]) }
        if requests.contains(where: \.writesToStandardOutput) && Console.isTerminal(1) {
            throw ValidationError("refusing to write a tar to a terminal; redirect standard output or name a file")
        }
        let toStandardOutput = requests.contains(where: \.writesToStandardOutput)
        // --quiet: the summaries are left out, as for a plain export; problems are still said.
        let quiet = Console.isQuiet
        let results: (String) -> Void = { line in
            if quiet { return }
            if toStandardOutput { Console.lineOnStandardError(line) } else { Console.line(line) }
        }
        try ExportJobs.run(requests, on: archive, results: results)
    }
}

struct VerifyExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-export",
        abstract: "Check an export (folder or archive) against its manifest; exit 1 listing what differs.",
        discussion: """
            Every file is re-read and its size and SHA-256 compared with manifest.json. Reports files that
            are missing, extra (not in the manifest) or altered:
              mxarchive verify-export team.tar.zst
            """)

    /// Accepted so that `mxarchive --store DIR verify-export PATH` works like every other command. An
    /// export stands alone, so the archive is not read; a `--store` that names no archive is still an
    /// error, as for every command that reads, rather than silently ignored.
    @OptionGroup(visibility: .hidden) var global: GlobalOptions

    @Argument(help: ArgumentHelp("The export: a folder or an archive file.", valueName: "path"))
    var path: String

    @Flag(help: "Print {\"ok\": bool, \"files_checked\": n, \"problems\": [{\"kind\", \"path\"}]} as JSON.")
    var json = false

    func run() throws {
        if global.store != nil { _ = try global.open(.read) }
        let report = try ExportCheckReport.check(path: path)
        Console.printOutcome(report, json: json, succeeded: report.ok)
        if !report.ok { throw ExitCode(1) }
    }
}
