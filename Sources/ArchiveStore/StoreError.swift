import ArchiveCore

/// An error from the archive store. The message names the step that failed; it never holds event
/// content, credentials or bound SQL values.
public struct StoreError: ReportableError {
    /// What went wrong, for callers that branch on it (`error.code == .locked`).
    public struct Code: Sendable, Hashable {
        private let name: String
        private init(_ name: String) { self.name = name }

        public static let sqlite = Code("sqlite")
        /// SQLite could not get its lock in time (another process writes).
        public static let busy = Code("busy")
        public static let corrupt = Code("corrupt")
        /// Another mxarchive process holds the store's lock.
        public static let locked = Code("locked")
        public static let filesystem = Code("filesystem")
        public static let unknownRoom = Code("unknown_room")
        /// The folder holds no archive (a read-only command never creates one).
        public static let noArchive = Code("no_archive")
        /// A checkpoint could not fold the write-ahead log into the database (a reader holds it).
        public static let checkpointBusy = Code("checkpoint_busy")
        /// The disk holding the archive is full (SQLITE_FULL); the transaction in flight was rolled back.
        public static let noSpace = Code("no_space")
    }

    public let code: Code
    public let description: String

    public var category: ErrorCategory {
        code == .unknownRoom || code == .noArchive ? .input : .failure
    }

    /// `full`: SQLite answered SQLITE_FULL, which is told apart from other failures.
    static func sqlite(step: String, message: String, busy: Bool = false, full: Bool = false) -> StoreError {
        if full {
            // SQLite's own "database or disk is full" does not say which: a full disk is the cause an
            // operator can act on, and the message says it in the system's words.
            return StoreError(code: .noSpace, description: "no space left on device for the archive database (during \(step))")
        }
        return StoreError(code: busy ? .busy : .sqlite, description: "archive database error during \(step): \(message)")
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

    static func checkpointBusy(_ what: String) -> StoreError {
        StoreError(code: .checkpointBusy, description: what)
    }

    public static func noArchive(_ directory: String) -> StoreError {
        StoreError(code: .noArchive, description: "no archive at \(directory) (give the right --store, or create one with `mxarchive sync`)")
    }
}
