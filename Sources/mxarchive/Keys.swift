import ArchiveCore
import ArchiveStore
import ArgumentParser
import Foundation
import ArchiveService

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
            the store (0600) so that each later `sync` fetches new sessions from the backup by itself;
            `mxarchive keys forget` removes it.
            """,
        subcommands: [KeysBackup.self, KeysImport.self, KeysForget.self])
}

/// Reads a secret from a file or standard input, dropping surrounding whitespace. The text is never
/// echoed; errors name only the file.
func readSecret(from path: String, what: String) throws -> String {
    let data: Data?
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        data = FileManager.default.contents(atPath: path)
    }
    guard let data else { throw ArchiveError.usage("cannot read the \(what) file \(path)") }
    if path != "-", let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
       mode & 0o077 != 0 {
        ErrorReporter.printError("warning: \(path) can be read by other users; `chmod 600 \(path)`")
    }
    // Only the line break an editor adds is dropped: a passphrase may begin or end with a space.
    var text = String(decoding: data, as: UTF8.self)
    // ("\r\n" is one Character in Swift, so it goes with one removeLast.)
    if text.hasSuffix("\r\n") || text.hasSuffix("\n") { text.removeLast() }
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
        throw ArchiveError.usage("the \(what) file \(path) is empty")
    }
    return text
}

/// Prints an import report: one readable block, or its JSON.
func printKeyReport(_ report: KeyImportReport, json: Bool) {
    if json {
        emit(JSONCoding.encode(report.jsonValue))
        return
    }
    emit("\(report.source): \(report.sessionsSeen) sessions; \(report.outcome.added) new, "
         + "\(report.outcome.improved) reaching further back, \(report.outcome.unchanged) already known, "
         + "\(report.rejected.count) rejected")
    for entry in report.rejected {
        ErrorReporter.printError("skipped session \(entry.sessionID ?? "?")"
                                 + (entry.roomID.map { " of \($0)" } ?? "") + ": \(entry.reason)")
    }
    emit("decrypted \(report.retry.decrypted) of \(report.retry.attempted) waiting events; "
         + "\(report.retry.stillWaiting) still wait for keys")
}

/// Events decrypted by an import change their searchable text: an existing search index catches up
/// now, as `sync` would, so that `search` finds them at once.
func catchUpSearchIndex(_ global: GlobalOptions, store: ArchiveStore, quiet: Bool) throws {
    guard try store.searchIndexState() != nil else { return }
    let indexer = try SearchIndexer(storeDirectory: global.storeURL)
    defer { indexer.close() }
    let result = try indexer.catchUp()
    if !quiet, result.documentsWritten + result.documentsRemoved > 0 {
        emit("search index: \(result.documentsWritten) messages indexed, \(result.documentsRemoved) removed")
    }
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
        let store = try global.openStore()
        let lock = try StoreLock(directory: global.storeURL)
        defer { withExtendedLifetime(lock) {} }
        let secret: BackupSecret = if let recoveryKeyFile {
            .recoveryKey(try readSecret(from: recoveryKeyFile, what: "recovery key"))
        } else {
            .passphrase(try readSecret(from: passphraseFile ?? "-", what: "passphrase"))
        }
        let client = try global.makeClient()
        let report = try await KeyImport(store: store).importBackup(client: client, secret: secret)
        printKeyReport(report, json: json)
        try catchUpSearchIndex(global, store: store, quiet: json)
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
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ArchiveError.usage("cannot read the key-export file \(file)")
        }
        let passphrase = try readSecret(from: passphraseFile, what: "passphrase")
        let store = try global.openStore()
        let lock = try StoreLock(directory: global.storeURL)
        defer { withExtendedLifetime(lock) {} }
        let report = try KeyImport(store: store).importFile(contents: String(decoding: data, as: UTF8.self),
                                                            passphrase: passphrase,
                                                            fileName: URL(fileURLWithPath: file).lastPathComponent)
        printKeyReport(report, json: json)
        try catchUpSearchIndex(global, store: store, quiet: json)
    }
}

struct KeysForget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove the stored key-backup key (imported sessions stay, so archived events stay readable).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let store = try global.openStore()
        let lock = try StoreLock(directory: global.storeURL)
        defer { withExtendedLifetime(lock) {} }
        emit(try store.forgetBackupKey() ? "the key-backup key is removed from the store"
                                         : "no key-backup key was stored")
    }
}
