import ArchiveService
import ArgumentParser

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The archive folder (created 0700).",
        discussion: "Default: $MXARCHIVE_STORE, else $XDG_DATA_HOME/mxarchive, else ~/.local/share/mxarchive.",
        valueName: "dir"))
    var store: String?

    @Flag(help: "Print only warnings and errors (stderr), nothing on success; --json output is unaffected.")
    var quiet = false

    /// Declared here for `--help` and validation; `OutputOptions.scan` has already applied both options
    /// (before parsing, so that a usage error is written in the format asked for).
    @Option(help: ArgumentHelp("stderr as lines for people (text) or one JSON object per line (json).",
                               valueName: "text|json"))
    var logFormat: LogFormatOption = .text

    enum LogFormatOption: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    /// `mxarchive --store DIR sync …` is how people write global options; ArgumentParser only accepts a
    /// subcommand's options after its name, so leading `--store` arguments are moved behind it.
    static let groupCommands: Set<String> = ["keys", "config"]

    static func movingLeadingGlobals(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if (first == "--store" || first == "--log-format"), rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--store=") || first.hasPrefix("--log-format=") || first == "--quiet" {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !leading.isEmpty, let subcommand = rest.first else { return arguments }
        // `keys` has subcommands of its own: the options belong behind `keys backup`, not `keys`.
        if groupCommands.contains(subcommand), rest.count >= 2, !rest[rest.startIndex + 1].hasPrefix("-") {
            return Array(rest.prefix(2)) + leading + rest.dropFirst(2)
        }
        return [subcommand] + leading + rest.dropFirst()
    }

    func open(_ access: Archive.Access) throws -> Archive {
        try Archive(at: StoreLocation.resolve(store), access: access)
    }

    var account: Account { Account(storeDirectory: StoreLocation.resolve(store)) }

    /// The store's config.toml, checked; nil when the store has none.
    func config() throws -> ArchiveConfig? { try ArchiveConfig.load(storeDirectory: StoreLocation.resolve(store)) }
}

extension ValidationError {
    /// A date option's problem, if it has one, as a usage error.
    static func checkDate(_ option: String, _ value: String?) throws {
        if let problem = DateRange.problem(option: option, value: value) { throw ValidationError(problem) }
    }
}
