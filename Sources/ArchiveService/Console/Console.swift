import ArchiveCore
import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Where the CLI's words go: results on standard output, errors, warnings and notes on standard error
/// (one line each, `error: ` or `warning: ` first, as the exit-code contract describes), live progress
/// redrawn in place on a terminal's standard error. With `--log-format json` every standard-error line is
/// instead one JSON record (`ConsoleLog`); with `--quiet` only warnings and errors are said.
public enum Console {
    /// How standard error is written and how much is said (`--quiet`, `--log-format`), set once by the CLI
    /// before anything is printed.
    public static func configure(_ options: OutputOptions) { ConsoleLog.shared.configure(options) }

    /// `--quiet`: informational lines (per-room summaries, notes) are left out; results asked for are not.
    public static var isQuiet: Bool { ConsoleLog.shared.options.quiet }

    /// `--log-format json`: standard error carries records, so callers say their numbers as fields.
    public static var logsJSON: Bool { ConsoleLog.shared.options.logFormat == .json }

    /// Progress is redrawn in place only for a person: a terminal's standard error, text records, not quiet.
    public static var redrawsProgress: Bool {
        let options = ConsoleLog.shared.options
        return isTerminal(2) && options.logFormat == .text && !options.quiet
    }

    /// An informational line on standard output (a room's summary), left out under `--quiet`, and a record
    /// with its fields under `--log-format json` (standard output then keeps only what was asked for).
    public static func note(_ text: String, fields: LogFields = LogFields()) {
        switch ConsoleLog.shared.options.logFormat {
        case .json: ConsoleLog.shared.record(.info, text, fields)
        case .text: if !isQuiet { line(text) }
        }
    }

    /// A record only `--log-format json` writes (a phase that began or ended, with its counts and
    /// durations); the text format says the same in its summary lines.
    public static func record(_ message: String, fields: LogFields) {
        if ConsoleLog.shared.options.logFormat == .json { ConsoleLog.shared.record(.info, message, fields) }
    }

    /// A warning on standard error (`warning: ` first): the command goes on, and ends with exit 3 when the
    /// warning is about its work (see `DoneWithWarnings`). Said even under `--quiet`.
    public static func warning(_ message: String, fields: LogFields = LogFields()) {
        if ConsoleLog.shared.options.logFormat == .json {
            // The level says it is a warning; the message is the sentence alone.
            let sentence = message.hasPrefix("warning: ") ? String(message.dropFirst("warning: ".count)) : message
            ConsoleLog.shared.record(.warning, sentence, fields)
            return
        }
        let text = message.hasPrefix("warning: ") ? message : "warning: " + message
        FileHandle.standardError.write(Data((DisplayText.singleLine(text, breaks: .space) + "\n").utf8))
    }

    /// One line of results on standard output.
    public static func line(_ text: String) {
        Swift.print(text)
    }

    /// One line on standard error. Every message there starts with `error: ` (ArgumentParser's own start
    /// with `Error:` and are left alone), so that scripts can find them. Messages carry text others chose
    /// (a server's error text, a room id from a tombstone, a session id from a key backup): controls and
    /// line breaks are made visible here, once for every message, so none reaches the terminal.
    public static func error(_ message: String, fields: LogFields = LogFields()) {
        if ConsoleLog.shared.options.logFormat == .json {
            ConsoleLog.shared.record(.error, message, fields)
            return
        }
        let line = message.hasPrefix("Error:") ? message : "error: " + DisplayText.singleLine(message, breaks: .space)
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One line on standard error, made safe like `error`: results when standard output carries data (a tar).
    public static func lineOnStandardError(_ text: String) {
        if ConsoleLog.shared.options.logFormat == .json {
            ConsoleLog.shared.record(.info, text, LogFields())
            return
        }
        FileHandle.standardError.write(Data((DisplayText.singleLine(text, breaks: .space) + "\n").utf8))
    }

    /// Redraws the live progress line on standard error (an empty text clears it).
    public static func progress(_ text: String) {
        // Callers redraw only when `redrawsProgress`; a JSON log never gets terminal controls.
        guard ConsoleLog.shared.options.logFormat == .text else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(fitted(text, width: terminalWidth()))".utf8))
    }

    /// The text cut to one column less than the terminal: a line that wraps is not redrawn by `\r`, and
    /// every redraw would leave a line behind.
    static func fitted(_ text: String, width: Int) -> String {
        guard width > 1, text.count >= width else { return text }
        return String(text.prefix(width - 1))
    }

    /// Standard error's terminal width (TIOCGWINSZ), else `COLUMNS`, else 80.
    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    /// A report as the user asked for it: its JSON object on one line, or its human lines. Its warnings go
    /// to standard error either way.
    public static func print(_ report: some CommandReport, json: Bool) {
        if json {
            report.warnings.forEach { warning($0) }
            line(report.jsonText)
        } else {
            print(report)
        }
    }

    /// A command's report of what it did (`verify`, `reindex`, `keys …`, `login`): under `--quiet`, a
    /// success says nothing (cron mails only what needs a look); its warnings, its problems, a failed
    /// report's lines and `--json` output are printed as always.
    public static func printOutcome(_ report: some HumanReport, json: Bool = false, succeeded: Bool = true) {
        if isQuiet && succeeded && !json {
            report.warnings.forEach { warning($0) }
            for case .problem(let text) in report.humanOutput(terminal: false) { error(text) }
            return
        }
        if json, let report = report as? any CommandReport {
            print(report, json: true)
        } else {
            print(report)
        }
    }

    /// One line saying what a command did, left out under `--quiet`.
    public static func outcome(_ text: String) {
        if !isQuiet { line(text) }
    }

    /// A report's warnings, then its human lines: results on standard output, problems on standard error.
    public static func print(_ report: some HumanReport, results: (String) -> Void = line) {
        report.warnings.forEach { warning($0) }
        for output in report.humanOutput(terminal: isTerminal(1)) {
            switch output {
            case .result(let text): results(text)
            case .problem(let text): error(text)
            }
        }
    }

    /// Ends the process with `code` after flushing standard output.
    public static func exit(_ code: Int32) -> Never {
        flush()
        Foundation.exit(code)
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Flushes buffered standard output (before exiting, and between progress lines and summaries).
    public static func flush() { fflush(nil) }
}

/// One line of a report's human output: a result (standard output) or a problem (standard error).
public enum OutputLine: Sendable, Hashable {
    case result(String)
    case problem(String)
}

/// The value a command's service call returns, rendering its own human lines in one place.
public protocol HumanReport {
    /// - Parameter terminal: standard output is a terminal (search results may then use bold).
    func humanOutput(terminal: Bool) -> [OutputLine]
    /// Said on standard error in every output format: the command did its work, but something needs a look.
    var warnings: [String] { get }
}

extension HumanReport {
    public var warnings: [String] { [] }
}

/// A report of a command with `--json`: it also renders its own JSON object, the shape its schema under
/// `schemas/` describes.
public protocol CommandReport: HumanReport {
    var jsonValue: JSONValue { get }
}

extension CommandReport {
    public var jsonText: String { JSONCoding.encode(jsonValue) }
}
