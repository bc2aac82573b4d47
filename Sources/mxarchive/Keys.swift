import ArchiveService
import ArgumentParser

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import the keys that decrypt end-to-end-encrypted rooms.",
        discussion: """
            Keys come from the account's server-side key backup or from a key-export file. Secrets are
            read from files (or `-` for standard input), never from the command line:
              mxarchive keys backup --recovery-key-file recovery.txt
              mxarchive keys backup --passphrase-file passphrase.txt
              mxarchive keys import element-keys.txt --passphrase-file export-passphrase.txt
            After an import, every archived event waiting for keys is decrypted. The backup key is kept in
            the store, in its own file backup-key (0600; never in archive.sqlite, so a copy of the database
            does not open the backup), so that each later `sync` fetches new sessions from the backup by
            itself; `mxarchive keys forget` removes it.
            """,
        subcommands: [KeysBackup.self, KeysImport.self, KeysForget.self])
}

struct KeysBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Import every session of the account's key backup (recovery key or passphrase).",
        discussion: """
            The recovery key is the one your client showed when you set up secure backup (48 characters in
            groups of four). It either unlocks secret storage, which holds the backup key (current
            clients), or is the backup key itself (older clients); both work. A passphrase is stretched
            with the salt and rounds the account stored. The key must match the backup's public key, else
            nothing is imported or kept. Sessions that fail their MAC are reported and skipped.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("A file holding the recovery key (`-` reads standard input).", valueName: "file"))
    var recoveryKeyFile: String?

    @Option(help: ArgumentHelp("A file holding the secret-storage or backup passphrase (`-` reads standard input).",
                               valueName: "file"))
    var passphraseFile: String?

    @Flag(help: "Print the import report as one JSON object.")
    var json = false

    func validate() throws {
        if (recoveryKeyFile == nil) == (passphraseFile == nil) {
            throw ValidationError("give exactly one of --recovery-key-file and --passphrase-file")
        }
    }

    func run() async throws {
        let secret: BackupSecretFile = if let recoveryKeyFile { .recoveryKey(path: recoveryKeyFile) }
            else { .passphrase(path: passphraseFile ?? "-") }
        Console.printOutcome(try await global.open(.update).importKeyBackup(secret), json: json)
    }
}

struct KeysImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import the sessions of a key-export file (Element: Settings › Security › Export keys).",
        discussion: """
            The file's HMAC is checked before anything is decrypted: a wrong passphrase is an error and
            imports nothing. A session already known is replaced only by one reaching further back.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The key-export file (`-----BEGIN MEGOLM SESSION DATA-----`).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("A file holding the export's passphrase (`-` reads standard input).", valueName: "file"))
    var passphraseFile: String

    @Flag(help: "Print the import report as one JSON object.")
    var json = false

    func run() throws {
        let input = try KeyExportInput(path: file, passphraseFile: passphraseFile)
        Console.printOutcome(try global.open(.update).importKeyFile(input), json: json)
    }
}

struct KeysForget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove the stored key-backup key (imported sessions stay, so archived events stay readable).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        Console.outcome(try global.open(.maintain).forgetBackupKey() ? "the key-backup key is removed from the store"
                                                                  : "no key-backup key was stored")
    }
}
