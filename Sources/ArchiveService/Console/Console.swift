import ArchiveCore
import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Where the CLI's words go: results on standard output, errors, warnings and notes on standard error
/// (one line each, `error: ` first, as the exit-code contract describes), live progress redrawn in place
/// on a terminal's standard error.
public enum Console {
    /// One line of results on standard output.
    public static func line(_ text: String) {
        Swift.print(text)
    }

    /// One line on standard error. Every message there starts with `error: ` (ArgumentParser's own start
    /// with `Error:` and are left alone), so that scripts can find them. Messages carry text others chose
    /// (a server's error text, a room id from a tombstone, a session id from a key backup): controls and
    /// line breaks are made visible here, once for every message, so none reaches the terminal.
    public static func error(_ message: String) {
        let line = message.hasPrefix("Error:") ? message : "error: " + DisplayText.singleLine(message, breaks: .space)
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One line on standard error, made safe like `error`: results when standard output carries data (a tar).
    public static func lineOnStandardError(_ text: String) {
        FileHandle.standardError.write(Data((DisplayText.singleLine(text, breaks: .space) + "\n").utf8))
    }

    /// Redraws the live progress line on standard error (an empty text clears it).
    public static func progress(_ text: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    /// A report as the user asked for it: its JSON object on one line, or its human lines. Its warnings go
    /// to standard error either way.
    public static func print(_ report: some CommandReport, json: Bool) {
        if json {
            report.warnings.forEach(error)
            line(report.jsonText)
        } else {
            print(report)
        }
    }

    /// A report's warnings, then its human lines: results on standard output, problems on standard error.
    public static func print(_ report: some HumanReport, results: (String) -> Void = line) {
        report.warnings.forEach(error)
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
