import ArchiveStore
import ArgumentParser
import Foundation
import ArchiveService
import MatrixAPI



/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The archive folder (created 0700).",
        discussion: "Default: $MXARCHIVE_STORE, else $XDG_DATA_HOME/mxarchive, else ~/.local/share/mxarchive.",
        valueName: "dir"))
    var store: String?

    var storeURL: URL {
        let environment = ProcessInfo.processInfo.environment
        if let store { return URL(fileURLWithPath: store) }
        if let fromEnv = environment["MXARCHIVE_STORE"], !fromEnv.isEmpty { return URL(fileURLWithPath: fromEnv) }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("mxarchive")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/mxarchive")
    }

    /// `mxarchive --store DIR sync …` is how people write global options; ArgumentParser only accepts a
    /// subcommand's options after its name, so leading `--store` arguments are moved behind it.
    static let groupCommands: Set<String> = ["keys"]

    static func movingLeadingGlobals(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--store", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--store=") {
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

    func openStore(memoryMappedReads: Bool = false) throws -> ArchiveStore {
        try ArchiveStore(directory: storeURL, memoryMappedReads: memoryMappedReads)
    }

    /// A client with the stored (or environment) credentials; refreshed tokens are written back atomically.
    func makeClient() throws -> MatrixClient {
        let credentialStore = CredentialStore(storeDirectory: storeURL)
        let credentials = try credentialStore.load()
        return MatrixClient(credentials: credentials, persistCredentials: { updated in
            try credentialStore.save(updated)
        })
    }
}

/// Writes one line to standard output.
func emit(_ line: String) {
    print(line)
}

func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

/// Flushes buffered standard output (before exiting, and between progress lines and summaries).
func flushStandardOutput() { fflush(nil) }
