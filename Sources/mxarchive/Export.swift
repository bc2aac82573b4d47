import ArchiveCore
import ArchiveStore
import ArgumentParser
import Exporters
import Foundation
import ArchiveService

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export rooms from the archive as JSON, a static HTML site, or text (offline).",
        discussion: """
            PATH ending .tar.gz/.tgz, .tar.zst, .tar.xz or .zip is written as that archive (streamed, no
            staging folder); - writes a tar to standard output; anything else is a new (or empty) folder.
            Every export has a manifest.json listing each file with its size and SHA-256; check it later
            with `mxarchive verify-export PATH`. With SOURCE_DATE_EPOCH set, two exports of the same data
            with the same options are byte-identical.
              mxarchive export --format json --room '#team:example.org' --since 2024-01-01 --output team.tar.zst
              mxarchive export --format html --space '!space:example.org' --output site/
              mxarchive export --format txt --sender @alice:example.org --output alice.zip
            With no --room or --space, every archived room is exported. HTML pages carry
            <meta name="robots" content="noindex"> unless --allow-indexing is given.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("json (schemas/event.schema.json lines), html (a static site) or txt.", valueName: "format"))
    var format: String

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

    @Flag(help: "Include the stored media files (from sync --media) of the exported messages as media/<sha256>.")
    var includeMedia = false

    @Flag(help: "Keep the content of redacted events where the archive retained it (legal hold).")
    var retainRedacted = false

    @Flag(help: "HTML: let search engines index the pages (default: noindex).")
    var allowIndexing = false

    @Option(help: ArgumentHelp("HTML: the template folder to use instead of exports/html.", valueName: "dir"))
    var templates: String?

    @Option(help: ArgumentHelp("The output: a folder, an archive (.tar.gz .tgz .tar.zst .tar.xz .zip), or - for a tar on stdout.", valueName: "path"))
    var output: String

    func validate() throws {
        guard ExportOptions.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be json, html or txt, got '\(format)'")
        }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, DateArgument.parse(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a date (use YYYY-MM-DD or 2024-03-01T12:00:00Z)")
            }
        }
        for sender in senders where !sender.hasPrefix("@") || !sender.contains(":") {
            throw ValidationError("--sender '\(sender)' is not a user id (@name:server)")
        }
        if templates != nil && format != "html" { throw ValidationError("--templates only applies to --format html") }
        if output.isEmpty { throw ValidationError("--output must not be empty") }
        if output == "-" && isTerminal(1) {
            throw ValidationError("refusing to write a tar to a terminal; redirect standard output or name a file")
        }
    }

    /// `SOURCE_DATE_EPOCH` (seconds) when set: the reproducible-builds convention for "the time of this
    /// build"; otherwise now.
    static func exportTime() throws -> Int64 {
        if let value = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !value.isEmpty {
            guard let seconds = Int64(value), seconds >= 0 else {
                throw ArchiveError.usage("SOURCE_DATE_EPOCH must be a number of seconds, got '\(value)'")
            }
            return seconds
        }
        return Int64(Date().timeIntervalSince1970)
    }

    func run() throws {
        let store = try global.openStore()
        let roomIDs = try rooms.map { try store.resolveRoom($0) }
        let spaceIDs = try spaces.map { try store.resolveRoom($0) }
        let sinceMillis = since.flatMap(DateArgument.parse)
        var untilMillis = until.flatMap(DateArgument.parse)
        if let until, DateArgument.isDay(until), let day = untilMillis { untilMillis = day + DateArgument.dayMillis }
        let homeserver = try? CredentialStore(storeDirectory: global.storeURL).load().homeserver
        let options = ExportOptions(
            format: ExportOptions.Format(rawValue: format)!, roomIDs: roomIDs, spaceIDs: spaceIDs,
            since: sinceMillis, until: untilMillis, sinceText: since, untilText: until, senders: senders,
            includeMedia: includeMedia, retainRedacted: retainRedacted, allowIndexing: allowIndexing,
            exportTime: try Self.exportTime(), toolVersion: MXArchiveCommand.configuration.version,
            homeserver: homeserver, templates: templates.map { URL(fileURLWithPath: $0) })
        let destination = ExportDestination.forOutput(output)
        // With a tar on standard output, the summary goes to standard error.
        let toStderr = destination == .standardOutput
        let progress = ExportProgress(live: isTerminal(2))
        let summary = try Exporter(store: store, options: options, observer: progress).run(to: destination)
        progress.finish()
        func say(_ line: String) {
            if toStderr { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { emit(line) }
        }
        for room in summary.rooms {
            var line = "\(room.roomID)"
            if let name = room.name { line += " (\(name))" }
            line += ": \(room.events) events, \(room.messages) messages, \(room.redacted) redacted, "
                + "\(room.undecryptable) undecryptable"
            if room.badEvents > 0 { line += ", \(room.badEvents) could not be rendered (shown as notices)" }
            say(line)
        }
        for missing in summary.missingRooms { say("\(missing): in the space but not in the archive (sync it first)") }
        if includeMedia {
            say("media: \(summary.mediaFiles) stored files included under media/<sha256>"
                + (summary.mediaFiles == 0 ? " (download them with `mxarchive sync --media`)" : ""))
        }
        say("exported \(summary.rooms.count) rooms, \(summary.fileCount) files, \(summary.bytes) bytes to \(output)")
    }
}

/// A live line on a terminal (stderr) while an export runs.
final class ExportProgress: ExportObserver {
    private let live: Bool
    private var name = ""
    private var lastDraw = Date.distantPast

    init(live: Bool) { self.live = live }

    func roomStarted(roomID: String, name: String?) {
        self.name = name.map { "\($0) (\(roomID))" } ?? roomID
        if live { draw("\(self.name): exporting…") }
    }

    func progress(events: Int, bytes: Int64) {
        guard live, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        draw("\(name): \(events) events, \(bytes / 1_000_000) MB written")
    }

    func roomFinished(_ result: RoomExportResult) { if live { draw("") } }

    func finish() { if live { draw("") } }

    private func draw(_ text: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
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

    /// Accepted (and unused: an export stands alone) so that `mxarchive --store DIR verify-export PATH` works
    /// like every other command.
    @OptionGroup(visibility: .hidden) var global: GlobalOptions

    @Argument(help: ArgumentHelp("The export: a folder or an archive file.", valueName: "path"))
    var path: String

    @Flag(help: "Print {\"ok\": bool, \"files_checked\": n, \"problems\": [{\"kind\", \"path\"}]} as JSON.")
    var json = false

    func run() throws {
        let report = try ExportVerifier.verify(path: path)
        if json {
            emit(JSONCoding.encode([
                "ok": .bool(report.ok), "files_checked": .int(Int64(report.filesChecked)),
                "problems": .array(report.problems.map { ["kind": .string($0.kind.rawValue), "path": .string($0.path)] }),
            ]))
        } else if report.ok {
            emit("export OK: \(report.filesChecked) files match the manifest")
        } else {
            report.problems.forEach { emit($0.description) }
        }
        if !report.ok { throw ExitCode(1) }
    }
}
