import ArchiveCore
/// Errors of an export or of its verification: one readable line naming the step, the room or the file;
/// never a secret or a message's text.
public struct ExportError: ReportableError {
    public enum Kind: Sendable { case usage, failure }
    public let kind: Kind
    public let description: String
    public var category: ErrorCategory { kind == .usage ? .usage : .failure }

    public static func usage(_ message: String) -> ExportError { ExportError(kind: .usage, description: message) }
    public static func failure(_ message: String) -> ExportError { ExportError(kind: .failure, description: message) }

    static func archive(step: String, message: String) -> ExportError {
        .failure("libarchive: \(step): \(message)")
    }

    static func io(_ step: String, path: String, errno code: Int32) -> ExportError {
        .failure("\(step) \(path): \(String(cString: strerror(code)))")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
