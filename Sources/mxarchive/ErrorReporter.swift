import ArchiveStore
import ArgumentParser
import Exporters
import Foundation
import ArchiveService
import MatrixAPI
import MatrixCrypto



/// Maps errors to the exit-code contract and one-line messages.
enum ErrorReporter {
    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case let error as ArchiveError: return error.kind == .usage ? 2 : 1
        case let error as ExportError: return error.kind == .usage ? 2 : 1
        case is ValidationError: return 2
        case let error as ExitCode: return error.rawValue
        case is MatrixError, is StoreError, is KeyMaterialError, is OlmError: return 1
        default:
            let code = MXArchiveCommand.exitCode(for: error).rawValue
            // ArgumentParser reports parse errors as EX_USAGE (64); the contract says 2.
            return code == 64 ? 2 : (code == 0 ? 0 : code)
        }
    }

    static func message(for error: any Error) -> String {
        switch error {
        case let error as ArchiveError: return error.description
        case let error as ExportError: return error.description
        case let error as MatrixError: return error.description
        case let error as StoreError: return error.description
        case let error as KeyMaterialError: return error.description
        case let error as OlmError: return error.description
        case let error as ExitCode where error.rawValue == 1: return "failed"
        default:
            let text = MXArchiveCommand.fullMessage(for: error)
            return text.isEmpty ? "\(error)" : text
        }
    }

    static func printError(_ message: String) {
        let line = message.hasPrefix("Error:") ? message : "error: \(message)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
