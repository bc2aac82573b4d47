import ArchiveCore
import Foundation

/// `mxarchive keys backup` and `keys import`: what an import stored, refused and then decrypted
/// (schemas/keys-report.schema.json), and what the search index caught up with afterwards.
public struct KeysReport: CommandReport {
    public let report: KeyImportReport
    let indexed: IndexRunResult?
    /// The keys are stored whatever the index does; an index that could not catch up is a warning.
    public let warnings: [String]

    /// The report of a finished import, with the search index brought up to date.
    init(report: KeyImportReport, catchingUp archive: Archive) throws {
        self.report = report
        do {
            indexed = try archive.catchUpSearchIndex()
            warnings = []
        } catch {
            indexed = nil
            warnings = ["the keys are imported, but the search index could not catch up: \(error); "
                        + "run `mxarchive reindex`"]
        }
    }

    public var jsonValue: JSONValue { report.jsonValue }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        var lines: [OutputLine] = [.result(
            "\(report.source): \(report.sessionsSeen) sessions; \(report.outcome.added) new, "
            + "\(report.outcome.improved) reaching further back, \(report.outcome.unchanged) already known, "
            + "\(report.rejected.count) rejected")]
        for entry in report.rejected {
            lines.append(.problem("skipped session \(entry.sessionID ?? "?")"
                                  + (entry.roomID.map { " of \($0)" } ?? "") + ": \(entry.reason)"))
        }
        lines.append(.result("decrypted \(report.retry.decrypted) of \(report.retry.attempted) waiting events; "
                             + "\(report.retry.stillWaiting) still wait for keys"))
        if let indexed, indexed.documentsWritten + indexed.documentsRemoved > 0 {
            lines.append(.result("search index: \(indexed.documentsWritten) messages indexed, "
                                 + "\(indexed.documentsRemoved) removed"))
        }
        return lines
    }
}

/// Where `keys backup` gets the secret that opens the backup: a file holding the recovery key or the
/// passphrase (`-`: standard input).
public enum BackupSecretFile: Sendable {
    case recoveryKey(path: String)
    case passphrase(path: String)
}

extension Archive {
    /// Opens the account's key backup, imports every session, retries waiting events, and brings an
    /// existing search index up to date with what they now say.
    public func importKeyBackup(_ secretFile: BackupSecretFile) async throws -> KeysReport {
        let secret: BackupSecret = switch secretFile {
        case .recoveryKey(let path): .recoveryKey(try SecretFile.read(path, what: "recovery key"))
        case .passphrase(let path): .passphrase(try SecretFile.read(path, what: "passphrase"))
        }
        let report = try await KeyImport(store: store).importBackup(client: try await client(), secret: secret)
        return try KeysReport(report: report, catchingUp: self)
    }

    /// Imports a key-export file (its HMAC checked first) and retries waiting events.
    public func importKeyFile(_ file: KeyExportInput) throws -> KeysReport {
        let report = try KeyImport(store: store).importFile(contents: file.contents, passphrase: file.passphrase,
                                                            fileName: file.fileName)
        return try KeysReport(report: report, catchingUp: self)
    }

    /// Removes the stored backup key; false when none was stored.
    public func forgetBackupKey() throws -> Bool { try store.forgetBackupKey() }

    /// Events decrypted by an import change their searchable text: an existing search index catches up
    /// now, as `sync` would, so that `search` finds them at once. Nil when there is no index.
    fileprivate func catchUpSearchIndex() throws -> IndexRunResult? {
        guard try store.searchIndexState() != nil else { return nil }
        let indexer = try SearchIndexer(storeDirectory: directory)
        defer { indexer.close() }
        return try indexer.catchUp()
    }
}

/// A key-export file and its passphrase, read before the archive is opened: a mistyped path is then a
/// usage error that leaves no archive behind and does not wait for the store's lock.
public struct KeyExportInput: Sendable {
    let contents: String
    let passphrase: String
    let fileName: String

    public init(path: String, passphraseFile: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArchiveError.usage("cannot read the key-export file \(path)")
        }
        contents = String(decoding: data, as: UTF8.self)
        passphrase = try SecretFile.read(passphraseFile, what: "passphrase")
        fileName = URL(fileURLWithPath: path).lastPathComponent
    }
}
