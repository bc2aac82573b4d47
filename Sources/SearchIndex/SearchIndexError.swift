import ArchiveCore

/// An error of the search index. The message names the step; it never holds message text.
public struct SearchIndexError: ReportableError {
    private enum Code: Sendable { case xapian, locked, missing }
    private let code: Code
    /// Xapian's own text, for callers that word the error themselves (a query that does not parse).
    let message: String
    public let description: String

    public var category: ErrorCategory { code == .missing ? .input : .failure }

    /// Xapian refused its write lock: another writer holds it (or held it a moment ago, see `XapianWriter`).
    var isLocked: Bool { code == .locked }

    static func xapian(step: String, message: String) -> SearchIndexError {
        // Only "already locked" says another writer has it; Xapian raises the same exception class when the
        // file system cannot lock or no descriptor is left, and those keep their own words.
        if message.contains("DatabaseLockError"), message.contains("already locked") {
            return SearchIndexError(code: .locked, message: message,
                                    description: "the search index is being written by another mxarchive process")
        }
        return SearchIndexError(code: .xapian, message: message, description: "search index error during \(step): \(message)")
    }

    static func missing(_ path: String) -> SearchIndexError {
        SearchIndexError(code: .missing, message: path,
                         description: "there is no search index in \(path) yet: run `mxarchive reindex` (or `mxarchive sync`)")
    }
}
