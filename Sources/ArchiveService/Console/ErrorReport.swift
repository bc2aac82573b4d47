import ArchiveCore
import Foundation

/// How any error of the lower layers reaches the user: every one of them is a `ReportableError`, so this
/// needs no list of types. Errors that are not ours (ArgumentParser's parse errors, `--help`) are left to
/// the CLI, which asks ArgumentParser.
public enum ErrorReport {
    /// The exit code for one of our errors, or nil when the error is not one of ours.
    public static func exitCode(for error: any Error) -> Int32? {
        if error is DoneWithWarnings { return DoneWithWarnings.exitCode }
        return (error as? any ReportableError)?.exitCode
    }

    /// The warnings of a command that did its work with warnings (exit 3), or nil for any other error.
    public static func warnings(for error: any Error) -> [String]? {
        (error as? DoneWithWarnings)?.warnings
    }

    /// The one-line message for one of our errors, or nil when the error is not one of ours.
    public static func message(for error: any Error) -> String? {
        if let warnings = warnings(for: error) { return warnings.joined(separator: "; ") }
        return (error as? any ReportableError)?.description
    }

    /// Any other error as one line: a cancelled run says so, and a multi-line description is folded.
    public static func oneLine(_ error: any Error) -> String {
        if error is CancellationError { return "interrupted" }
        let text = (error as NSError).localizedDescription
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}
