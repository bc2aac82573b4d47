/// How a long command ended, for the exit-code contract: done (0), done with warnings (3), failed (1).
/// A warning is something the operator should look at although the run did its work: a room that failed
/// beside rooms that were archived, events still waiting for keys, attachments that failed.
public enum RunOutcome: Sendable, Equatable {
    case done
    case doneWithWarnings([String])
    case failed(ArchiveError)

    /// Throws what the CLI turns into the exit code: nothing for `done`.
    public func check() throws {
        switch self {
        case .done: return
        case .doneWithWarnings(let warnings): throw DoneWithWarnings(warnings: warnings)
        case .failed(let error): throw error
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .done: 0
        case .doneWithWarnings: DoneWithWarnings.exitCode
        case .failed(let error): error.exitCode
        }
    }
}

/// Thrown by a command that finished its work with warnings, so that it ends with exit 3 after printing
/// its results; each warning is one `warning: ` line on standard error (also under `--quiet`).
public struct DoneWithWarnings: Error, Sendable, Equatable {
    public static let exitCode: Int32 = 3
    public let warnings: [String]
}

extension ArchiveError: Equatable {
    public static func == (lhs: ArchiveError, rhs: ArchiveError) -> Bool {
        lhs.category == rhs.category && lhs.description == rhs.description
    }
}
