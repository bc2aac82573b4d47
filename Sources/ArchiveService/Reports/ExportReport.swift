import ArchiveCore
import Exporters
import SearchIndex
import Foundation

/// What `mxarchive export` asks for, as typed: room and space names are resolved against the archive,
/// dates parsed, by `Archive.export`.
public struct ExportRequest: Sendable {
    public enum Format: String, Sendable, CaseIterable { case json, html, txt }

    public var format: Format
    public var rooms: [String] = []
    public var spaces: [String] = []
    public var dates = DateRange.all
    public var senders: [String] = []
    public var includeMedia = false
    public var retainRedacted = false
    public var allowIndexing = false
    public var templates: String?
    /// `--page-messages`: HTML pages hold at most this many messages (the exporter's default when nil).
    public var pageMessages: Int?
    /// `--mode`: the permission bits of the export's files (folders follow); private when nil.
    public var mode: String?
    public var output: String
    public var toolVersion: String

    public init(format: Format, output: String, toolVersion: String) {
        self.format = format
        self.output = output
        self.toolVersion = toolVersion
    }

    /// `--mode` checked: a clear usage error for anything but a file mode the owner can read and write
    /// and nobody else can change.
    public static func checkMode(_ text: String) throws { _ = try ExportFileMode.parse(text) }

    /// What `--page-messages` accepts, and what it is without it.
    public static let pageMessagesRange = 1...ExportOptions.maxPageMessages
    public static let defaultPageMessages = ExportOptions.defaultPageMessages

    /// With a tar on standard output, the summary goes to standard error.
    public var writesToStandardOutput: Bool { output == "-" }

    /// `SOURCE_DATE_EPOCH` (seconds) when set: the reproducible-builds convention for "the time of this
    /// build"; otherwise now.
    static func exportTime(environment: [String: String], clock: any ArchiveClock) throws -> Int64 {
        if let value = environment["SOURCE_DATE_EPOCH"], !value.isEmpty {
            guard let seconds = Int64(value), seconds >= 0 else {
                throw ArchiveError.usage("SOURCE_DATE_EPOCH must be a number of seconds, got '\(value)'")
            }
            return seconds
        }
        return clock.now().milliseconds / 1000
    }
}

/// `mxarchive export`: what was written, one line per room and a total.
public struct ExportReport: HumanReport {
    let summary: ExportSummary
    let includeMedia: Bool
    let output: String

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        var lines: [String] = []
        for room in summary.rooms {
            var line = "\(room.roomID)"
            if let name = room.name { line += " (\(DisplayText.singleLine(name)))" }
            line += ": \(room.events) events, \(room.messages) messages, \(room.redacted) redacted, "
                + "\(room.undecryptable) undecryptable"
            if room.badEvents > 0 { line += ", \(room.badEvents) could not be rendered (shown as notices)" }
            lines.append(line)
        }
        for missing in summary.missingRooms { lines.append("\(missing): in the space but not in the archive (sync it first)") }
        if includeMedia {
            lines.append("media: \(summary.mediaFiles) stored files included under media/<sha256>.<type>"
                         + (summary.mediaFiles == 0 ? " (download them with `mxarchive sync --media`)" : ""))
        }
        if !summary.skippedFiles.isEmpty {
            lines.append("\(summary.skippedFiles.count) files not written: their name was already taken in this export "
                         + "(first: \(summary.skippedFiles[0]))")
        }
        lines.append("exported \(summary.rooms.count) rooms, \(summary.fileCount) files, \(summary.bytes) bytes to \(output)")
        return lines.map(OutputLine.result)
    }
}

extension Archive {
    public func export(_ request: ExportRequest, progress: ExportProgressDisplay? = nil,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ExportReport {
        var options = ExportOptions(
            format: ExportOptions.Format(rawValue: request.format.rawValue)!,
            roomIDs: try request.rooms.map(resolve), spaceIDs: try request.spaces.map(resolve),
            since: request.dates.sinceMillis, until: request.dates.untilMillis,
            sinceText: request.dates.since?.text, untilText: request.dates.until?.text, senders: request.senders,
            includeMedia: request.includeMedia, retainRedacted: request.retainRedacted,
            allowIndexing: request.allowIndexing,
            exportTime: try ExportRequest.exportTime(environment: environment, clock: store.clock),
            toolVersion: request.toolVersion,
            homeserver: try? CredentialStore(storeDirectory: directory).load().homeserver,
            templates: request.templates.map { URL(fileURLWithPath: $0) })
        if let mode = request.mode { options.fileMode = try ExportFileMode.parse(mode) }
        if let pageMessages = request.pageMessages {
            guard ExportRequest.pageMessagesRange.contains(pageMessages) else {
                throw ArchiveError.usage("--page-messages must be between 1 and \(ExportOptions.maxPageMessages), got \(pageMessages)")
            }
            options.pageMessages = pageMessages
        }
        options.searchTokenizer = XapianTokenizer()
        let summary = try Exporter(store: store, options: options, observer: progress)
            .run(to: ExportDestination.forOutput(request.output))
        progress?.finish()
        return ExportReport(summary: summary, includeMedia: request.includeMedia, output: request.output)
    }
}

/// `mxarchive verify-export`: an export checked against its manifest.
public struct ExportCheckReport: CommandReport {
    let report: ExportVerifier.Report

    public var ok: Bool { report.ok }

    public var jsonValue: JSONValue {
        ["ok": .bool(report.ok), "files_checked": .int(Int64(report.filesChecked)),
         "problems": .array(report.problems.map { ["kind": .string($0.kind.rawValue), "path": .string($0.path)] })]
    }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        report.ok ? [.result("export OK: \(report.filesChecked) files match the manifest")]
                  : report.problems.map { .result($0.description) }
    }

    public static func check(path: String) throws -> ExportCheckReport {
        ExportCheckReport(report: try ExportVerifier.verify(path: path))
    }
}

/// A live line on a terminal (standard error) while an export runs.
public final class ExportProgressDisplay: ExportObserver {
    private let live: Bool
    private var name = ""
    private var lastDraw = Date.distantPast

    public init(live: Bool) { self.live = live }

    public func roomStarted(roomID: String, name: String?) {
        self.name = DisplayText.singleLine(name.map { "\($0) (\(roomID))" } ?? roomID)
        if live { Console.progress("\(self.name): exporting…") }
    }

    public func progress(events: Int, bytes: Int64) {
        guard live, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        Console.progress("\(name): \(events) events, \(bytes / 1_000_000) MB written")
    }

    public func roomFinished(_ result: RoomExportResult) { if live { Console.progress("") } }

    func finish() { if live { Console.progress("") } }
}

/// Process-wide set-up the parts need before any command runs.
public enum ArchiveRuntime {
    public static func start() {
        // libarchive converts entry names through the C locale and crashes on non-ASCII under "C".
        LibArchive.useUTF8Locale()
    }
}
