import ArchiveCore

/// One thing wrong with a config file, at the line a person would edit to fix it.
public struct ConfigProblem: Error, Sendable, Hashable {
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// `config.toml:LINE: message`, the shape compilers use, so that editors can jump to the line.
    public func rendered(file: String) -> String { "\(file):\(line): \(message)" }
}

/// A config file that cannot be used: every problem found, in line order. Exit 1 (the file is input the
/// user gave, not the command line). None of the messages quotes a value that could be a secret.
public struct ConfigError: ReportableError {
    public let file: String
    public let problems: [ConfigProblem]
    public var category: ErrorCategory { .input }

    public var description: String {
        guard let first = problems.first else { return "\(file): unusable config" }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more; see `mxarchive config check`)" : ""
        return first.rendered(file: file) + more
    }
}
