/// Errors of the pipelines, one readable line each; none holds a secret.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case usage, failure }
    public let kind: Kind
    public let description: String

    public static func usage(_ message: String) -> ArchiveError { ArchiveError(kind: .usage, description: message) }
    public static func failure(_ message: String) -> ArchiveError { ArchiveError(kind: .failure, description: message) }

    /// Key material that does not open what it should (wrong key, wrong passphrase, no backup).
    static func keys(_ message: String) -> ArchiveError { .failure(message) }

    static func notLoggedIn(store: String) -> ArchiveError {
        .failure("no credentials in \(store): run `mxarchive login --homeserver URL --user MXID --password-file FILE`, "
                 + "or set MXARCHIVE_HOMESERVER and MXARCHIVE_ACCESS_TOKEN")
    }

    static func badCredentialsFile(_ path: String) -> ArchiveError {
        .failure("\(path) is not a valid credentials file; log in again with `mxarchive login`")
    }
}
