/// How much the CLI says and in which form: `--quiet` and `--log-format`, global options of every command.
public struct OutputOptions: Sendable, Equatable {
    public var quiet = false
    public var logFormat: LogFormat = .text

    public init(quiet: Bool = false, logFormat: LogFormat = .text) {
        self.quiet = quiet
        self.logFormat = logFormat
    }

    /// The options as typed, read from the raw arguments before ArgumentParser runs: a usage error is then
    /// already written in the format asked for. ArgumentParser still parses (and validates) them for
    /// `--help`; anything after `--` is an argument, not an option.
    public static func scan(_ arguments: [String]) -> OutputOptions {
        var options = OutputOptions()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--quiet" {
                options.quiet = true
            } else if argument == "--log-format", index + 1 < arguments.endIndex {
                options.logFormat = LogFormat(rawValue: arguments[index + 1]) ?? options.logFormat
                index += 1
            } else if argument.hasPrefix("--log-format=") {
                options.logFormat = LogFormat(rawValue: String(argument.dropFirst("--log-format=".count)))
                    ?? options.logFormat
            }
            index += 1
        }
        return options
    }
}

/// `--log-format`: lines for people, or one JSON object per line for a log collector (journald, Loki).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}
