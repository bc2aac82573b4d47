import ArchiveService
import ArgumentParser

/// Maps errors to the exit-code contract and one-line messages: our own errors say both themselves
/// (`ErrorReport`); ArgumentParser's are asked of ArgumentParser.
enum ErrorReporter {
    static func exitCode(for error: any Error) -> Int32 {
        if let code = ErrorReport.exitCode(for: error) { return code }
        switch error {
        case is ValidationError: return 2
        case let error as ExitCode: return error.rawValue
        default:
            let code = MXArchiveCommand.exitCode(for: error).rawValue
            // ArgumentParser reports parse errors as EX_USAGE (64); the contract says 2.
            return code == 64 ? 2 : code
        }
    }

    static func message(for error: any Error) -> String {
        if let message = ErrorReport.message(for: error) { return message }
        if let error = error as? ExitCode, error.rawValue == 1 { return "failed" }
        if exitCode(for: error) == 2 {
            // ArgumentParser's own usage text spans lines on purpose (the usage line, a hint).
            let text = MXArchiveCommand.fullMessage(for: error)
            return text.isEmpty ? "\(error)" : text
        }
        // An error none of our layers wrapped (Foundation's, a cancellation): still one line.
        return ErrorReport.oneLine(error)
    }
}
