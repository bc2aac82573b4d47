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
            homeserver, user and password_file in <store>/config.toml are the defaults of the three options.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The homeserver's base URL (default: homeserver in config.toml).", valueName: "url"))
    var homeserver: String?

    @Option(help: ArgumentHelp("Your Matrix user id (@name:server) or local name (default: user in config.toml).", valueName: "mxid"))
    var user: String?

    @Option(help: ArgumentHelp("A file holding the password (trailing newline ignored; default: password_file in config.toml).",
                               valueName: "file"))
    var passwordFile: String?

    func validate() throws {
        if let homeserver, !(homeserver.hasPrefix("http://") || homeserver.hasPrefix("https://")) {
            throw ValidationError("--homeserver must be an http:// or https:// URL, got '\(homeserver)'")
        }
    }

    func run() async throws {
        // The flags win; config.toml fills in what they leave out.
        let config = homeserver != nil && user != nil && passwordFile != nil ? nil : try global.config()
        guard let server = homeserver ?? config?.homeserver else { throw ValidationError("--homeserver is required") }
        guard let userID = user ?? config?.user else { throw ValidationError("--user is required") }
        guard let file = passwordFile ?? config?.passwordFile else { throw ValidationError("--password-file is required") }
        Console.printOutcome(try await global.account.login(homeserver: server, user: userID, passwordFile: file))
    }
}
