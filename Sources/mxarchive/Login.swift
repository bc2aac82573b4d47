import ArchiveService
import ArgumentParser

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in with a password and keep the session in the store.",
        discussion: """
            The password is read from a file (never from the command line, where other users can see it):
              printf '%s' 'secret' > pw.txt && chmod 600 pw.txt
              mxarchive login --homeserver https://matrix.example.org --user @me:example.org --password-file pw.txt
            The access and refresh tokens are written to credentials.json in the store (0600) and refreshed
            automatically. Alternatively set MXARCHIVE_HOMESERVER and MXARCHIVE_ACCESS_TOKEN.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The homeserver's base URL.", valueName: "url"))
    var homeserver: String

    @Option(help: ArgumentHelp("Your Matrix user id (@name:server) or local name.", valueName: "mxid"))
    var user: String

    @Option(help: ArgumentHelp("A file holding the password (trailing newline ignored).", valueName: "file"))
    var passwordFile: String

    func validate() throws {
        guard homeserver.hasPrefix("http://") || homeserver.hasPrefix("https://") else {
            throw ValidationError("--homeserver must be an http:// or https:// URL, got '\(homeserver)'")
        }
    }

    func run() async throws {
        Console.print(try await global.account.login(homeserver: homeserver, user: user, passwordFile: passwordFile))
    }
}
