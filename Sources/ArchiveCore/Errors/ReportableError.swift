/// Who can fix an error, which decides the exit code and how the CLI words it.
public enum ErrorCategory: Sendable, Hashable {
    /// The command line itself is wrong (an unknown option value, a missing argument): exit 2.
    case usage
    /// The user's input is wrong or missing (a wrong passphrase, a room that is not archived, no
    /// credentials): exit 1, and the message says what to change.
    case input
    /// Something outside the user's control failed (the server, the disk, the database): exit 1.
    case failure
}

/// The one shape every error of mxarchive has: a one-line message (never a secret, a message's text or a
/// bound SQL value) and a category. The CLI needs nothing else to report any error.
public protocol ReportableError: Error, CustomStringConvertible, Sendable {
    var category: ErrorCategory { get }
}

extension ReportableError {
    /// The exit-code contract: 2 for usage errors, 1 for every other failure.
    public var exitCode: Int32 { category == .usage ? 2 : 1 }
    /// True when the person who ran the command can fix it by changing what they typed or gave.
    public var isUserMistake: Bool { category != .failure }
}
