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
            Nightly: `mxarchive --quiet sync` brings every archived room (or those <store>/config.toml names)
            up to date and prints only what needs a look; `mxarchive schedule --systemd` or `--cron` prints
            the timer or crontab line that runs it.

            Exit codes: 0 done; 1 failed; 2 usage error; 3 done with warnings (`sync`: some rooms
            failed while others were archived, the run stored encrypted events that wait for keys, or
            attachments failed that had not failed so before; each warning is a `warning:` line on
            stderr). --quiet prints only warnings and errors; --log-format json writes each stderr line
            as one JSON object.
            """,
        version: "0.1.0",
        subcommands: [Login.self, Rooms.self, Sync.self, Keys.self, Events.self, Search.self, Reindex.self, Status.self,
                      Verify.self, Export.self, VerifyExport.self, ConfigCommand.self, Schedule.self])

    static func main() async {
        ArchiveRuntime.start()
        let arguments = GlobalOptions.movingLeadingGlobals(Array(CommandLine.arguments.dropFirst()))
        // Before parsing, so that even a usage error is written as the options ask.
        Console.configure(OutputOptions.scan(arguments))
        do {
            var command = try parseAsRoot(arguments)
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
        } else if let warnings = ErrorReport.warnings(for: error) {
            warnings.forEach { Console.warning($0) }
        } else {
            Console.error(ErrorReporter.message(for: error))
        }
        Console.exit(code)
    }
}
