import ArchiveService
import ArgumentParser

/// The root command. `main` is ours (not ArgumentParser's) so that exit codes follow the contract:
/// 0 success, 1 failure, 2 usage error, and every error is one readable line.
@main
struct MXArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mxarchive",
        abstract: "Archive Matrix rooms into a local, searchable, verifiable store.",
        discussion: """
            A typical first run:
              mxarchive login --homeserver https://matrix.example.org --user @me:example.org --password-file pw.txt
              mxarchive sync --room '#team:example.org'
              mxarchive events --room '#team:example.org' --jsonl > team.jsonl
              mxarchive search 'migration from:@alice:example.org after:2024-03-01'
            Nightly: `mxarchive sync` brings every archived room (or those <store>/config.toml names) up to
            date; `mxarchive schedule --systemd` or `--cron` prints the timer or crontab line that runs it.

            Exit codes: 0 success, 1 failure, 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [Login.self, Rooms.self, Sync.self, Keys.self, Events.self, Search.self, Reindex.self, Status.self,
                      Verify.self, Export.self, VerifyExport.self, ConfigCommand.self, Schedule.self])

    static func main() async {
        ArchiveRuntime.start()
        do {
            var command = try parseAsRoot(GlobalOptions.movingLeadingGlobals(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Console.flush()
        } catch {
            Console.flush()
            exit(withError: error)
        }
    }

    static func exit(withError error: any Error) -> Never {
        let code = ErrorReporter.exitCode(for: error)
        if code == 0 {
            // --help and --version arrive as "errors" carrying the text to print.
            print(fullMessage(for: error))
            Console.flush()
        } else {
            Console.error(ErrorReporter.message(for: error))
        }
        Console.exit(code)
    }
}
