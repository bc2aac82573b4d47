/// An error from the archive store. The message names the step that failed; it never holds event
/// content or credentials.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case sqlite
        case corrupt
        case locked
        case filesystem
        case unknownRoom
    }

    private let code: Code
    public let description: String

    static func sqlite(step: String, message: String) -> StoreError {
        StoreError(code: .sqlite, description: "archive database error during \(step): \(message)")
    }

    static func corrupt(_ what: String) -> StoreError {
        StoreError(code: .corrupt, description: "archive data is inconsistent: \(what)")
    }

    public static func locked(_ what: String) -> StoreError {
        StoreError(code: .locked, description: what)
    }

    static func filesystem(_ what: String) -> StoreError {
        StoreError(code: .filesystem, description: what)
    }

    public static func unknownRoom(_ room: String) -> StoreError {
        StoreError(code: .unknownRoom, description: "room \(room) is not in the archive (run `mxarchive sync --room \(room)` first)")
    }
}
