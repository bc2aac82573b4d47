import ArchiveCore

/// Errors of the pipelines, one readable line each; none holds a secret.
public struct ArchiveError: ReportableError {
    public let category: ErrorCategory
    public let description: String

    /// The command line asks for something impossible (exit 2).
    public static func usage(_ message: String) -> ArchiveError { ArchiveError(category: .usage, description: message) }
    /// Something the user gave is wrong or missing: a file, a key, a room (exit 1).
    public static func input(_ message: String) -> ArchiveError { ArchiveError(category: .input, description: message) }
    /// The work itself failed (exit 1).
    public static func failure(_ message: String) -> ArchiveError { ArchiveError(category: .failure, description: message) }

    /// Key material that does not open what it should (wrong key, wrong passphrase, no backup).
    static func keys(_ message: String) -> ArchiveError { .input(message) }

    static func notLoggedIn(store: String) -> ArchiveError {
        .input("no credentials in \(store): run `mxarchive login --homeserver URL --user MXID --password-file FILE`, "
               + "or set MXARCHIVE_HOMESERVER and MXARCHIVE_ACCESS_TOKEN")
    }

    static func badCredentialsFile(_ path: String) -> ArchiveError {
        .input("\(path) is not a valid credentials file; log in again with `mxarchive login`")
    }
}
