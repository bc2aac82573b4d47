import ArchiveCore
import ArchiveStore
import Foundation
import MatrixAPI
import MatrixCrypto

/// What the user holds to open the key backup.
public enum BackupSecret: Sendable {
    case recoveryKey(String)
    case passphrase(String)
}

/// One import of keys: what was stored, what was refused (without key material), and what then decrypted.
public struct KeyImportReport: Sendable {
    public var source: String
    public var sessionsSeen = 0
    public var outcome = KeyImportOutcome()
    public var rejected: [(roomID: String?, sessionID: String?, reason: String)] = []
    public var retry = DecryptionRetryOutcome()

    public init(source: String) { self.source = source }

    public var jsonValue: JSONValue {
        [
            "source": .string(source),
            "sessions_seen": .int(Int64(sessionsSeen)),
            "sessions_added": .int(Int64(outcome.added)),
            "sessions_improved": .int(Int64(outcome.improved)),
            "sessions_unchanged": .int(Int64(outcome.unchanged)),
            "rejected": .array(rejected.map { entry in
                ["room_id": entry.roomID.map(JSONValue.string) ?? .null,
                 "session_id": entry.sessionID.map(JSONValue.string) ?? .null,
                 "reason": .string(entry.reason)]
            }),
            "events_retried": .int(Int64(retry.attempted)),
            "events_decrypted": .int(Int64(retry.decrypted)),
            "events_still_waiting": .int(Int64(retry.stillWaiting)),
        ]
    }
}

/// Where keys come from: the server-side key backup (opened by a recovery key or passphrase, directly or
/// through secret storage) and key-export files. After every import, events waiting for keys are retried.
public struct KeyImport {
    let store: ArchiveStore

    public init(store: ArchiveStore) { self.store = store }

    // MARK: Key backup

    /// Opens the account's current key backup with `secret`, keeps its private key in the store for later
    /// syncs, imports every session and retries waiting events. Nothing is stored unless the key matches
    /// the backup's `auth_data.public_key`.
    public func importBackup(client: MatrixClient, secret: BackupSecret) async throws -> KeyImportReport {
        guard let versionInfo = try await client.keyBackupVersion() else {
            throw ArchiveError.keys("this account has no key backup (GET /room_keys/version found none)")
        }
        let privateKey = try await backupPrivateKey(client: client, secret: secret, versionInfo: versionInfo)
        let backup = try KeyBackupDecryptor(privateKey: privateKey, versionInfo: versionInfo)
        try store.saveBackupKey(version: backup.version, privateKey: Base64Unpadded.encode(privateKey))
        return try await importSessions(from: backup, client: client)
    }

    /// During `sync`: with a stored backup key, fetch the backup's sessions (new ones are stored, known ones
    /// only when they reach further back). Nil when no key is stored. A backup replaced by a new version
    /// (whose key the stored one no longer matches) is reported, not trusted.
    public func refreshFromStoredBackup(client: MatrixClient) async throws -> KeyImportReport? {
        guard let (_, encodedKey) = try store.backupKey(), let privateKey = Base64Unpadded.decode(encodedKey) else {
            return nil
        }
        guard let versionInfo = try await client.keyBackupVersion() else { return nil }
        let backup = try KeyBackupDecryptor(privateKey: privateKey, versionInfo: versionInfo)
        return try await importSessions(from: backup, client: client)
    }

    private func importSessions(from backup: KeyBackupDecryptor, client: MatrixClient) async throws -> KeyImportReport {
        let listing = try await client.keyBackupSessions(version: backup.version)
        var report = KeyImportReport(source: "key backup version \(backup.version)")
        var keys: [MegolmSessionKey] = []
        for (roomID, room) in listing["rooms"]?.objectValue ?? [:] {
            for (sessionID, keyData) in room["sessions"]?.objectValue ?? [:] {
                report.sessionsSeen += 1
                do {
                    keys.append(try backup.decryptSession(roomID: roomID, sessionID: sessionID, keyData: keyData))
                } catch {
                    report.rejected.append((roomID, sessionID, "\(error)"))
                }
            }
        }
        report.outcome = try store.importMegolmSessions(try vetted(keys, report: &report), source: "backup:\(backup.version)")
        report.retry = try retryWaitingEvents()
        return report
    }

    private func backupPrivateKey(client: MatrixClient, secret: BackupSecret, versionInfo: JSONValue) async throws -> [UInt8] {
        let version = versionInfo["version"]?.stringValue ?? "?"
        let secretStorage = try await secretStorageKeyDescription(client: client)
        switch secret {
        case .recoveryKey(let text):
            let key: [UInt8]
            do {
                key = try RecoveryKey(parsing: text).key
            } catch {
                throw KeyMaterialError.invalidRecoveryKey(error)
            }
            // Current clients: the recovery key opens secret storage, which holds the backup key.
            if let description = secretStorage, let opened = try? SecretStorageKey(key: key, description: description) {
                return try await backupKeyFromSecretStorage(client: client, key: opened)
            }
            // Older clients: the recovery key is the backup key itself (checked against auth_data next).
            if (try? KeyBackupDecryptor(privateKey: key, versionInfo: versionInfo)) != nil { return key }
            throw ArchiveError.keys(secretStorage == nil
                ? "the recovery key is not the key of key backup version \(version)"
                : "the recovery key neither unlocks secret storage nor is the key of key backup version \(version)")
        case .passphrase(let passphrase):
            if let description = secretStorage, let info = description.passphrase {
                let derived = try info.deriveKey(from: passphrase)
                if let opened = try? SecretStorageKey(key: derived, description: description) {
                    return try await backupKeyFromSecretStorage(client: client, key: opened)
                }
            }
            if let info = PassphraseInfo(backupAuthData: versionInfo["auth_data"] ?? .null) {
                let derived = try info.deriveKey(from: passphrase)
                if (try? KeyBackupDecryptor(privateKey: derived, versionInfo: versionInfo)) != nil { return derived }
            } else if secretStorage?.passphrase == nil {
                throw KeyMaterialError.noPassphraseInfo
            }
            throw ArchiveError.keys("wrong passphrase: it unlocks neither secret storage nor key backup version \(version)")
        }
    }

    private func secretStorageKeyDescription(client: MatrixClient) async throws -> SecretStorageKey.Description? {
        guard let keyID = try await client.accountData(type: "m.secret_storage.default_key")?["key"]?.stringValue,
              let json = try await client.accountData(type: "m.secret_storage.key.\(keyID)") else { return nil }
        // A description this version cannot use (another algorithm, no iv/mac) is treated as no secret
        // storage: a recovery key that is the backup key itself still works.
        return try? SecretStorageKey.Description(keyID: keyID, json: json)
    }

    private func backupKeyFromSecretStorage(client: MatrixClient, key: SecretStorageKey) async throws -> [UInt8] {
        guard let secret = try await client.accountData(type: "m.megolm_backup.v1") else {
            throw ArchiveError.keys("secret storage holds no key backup key (no m.megolm_backup.v1 secret)")
        }
        let text = try key.decryptSecret(named: "m.megolm_backup.v1", accountData: secret)
        guard let bytes = Base64Unpadded.decode(text), bytes.count == 32 else {
            throw KeyMaterialError.malformed("m.megolm_backup.v1 secret (not a base64 32-byte key)")
        }
        return bytes
    }

    // MARK: Key-export files

    public func importFile(contents: String, passphrase: String, fileName: String) throws -> KeyImportReport {
        let file = try KeyExportFile.decrypt(contents, passphrase: passphrase)
        var report = KeyImportReport(source: "key-export file \(fileName)")
        report.sessionsSeen = file.sessions.count + file.rejected.count
        report.rejected = file.rejected.map { (nil, $0.sessionID, $0.reason) }
        report.outcome = try store.importMegolmSessions(try vetted(file.sessions, report: &report), source: "file")
        report.retry = try retryWaitingEvents()
        return report
    }

    /// Keys are unsigned: each must agree with the stored key of its session and decrypt the session's
    /// archived messages it reaches (`SessionKeyVetting`); refused keys are reported and never stored.
    private func vetted(_ keys: [MegolmSessionKey], report: inout KeyImportReport) throws -> [MegolmSessionKey] {
        var accepted: [MegolmSessionKey] = []
        for key in keys {
            let stored = try store.megolmSessionKey(roomID: key.roomID, sessionID: key.sessionID)
            if stored == key.sessionKey {
                accepted.append(key)
                continue
            }
            let samples = try store.sessionSamples(roomID: key.roomID, sessionID: key.sessionID, limit: 8)
            switch SessionKeyVetting.vet(key, storedKey: stored, samples: samples) {
            case .accept: accepted.append(key)
            case .reject(let why): report.rejected.append((key.roomID, key.sessionID, why))
            }
        }
        return accepted
    }

    // MARK: Retrying

    /// Retries every event waiting for keys with the sessions now stored.
    public func retryWaitingEvents(roomID: String? = nil) throws -> DecryptionRetryOutcome {
        let decryptor = MegolmDecryptor.forStore(store)
        return try store.retryDecryption(roomID: roomID, decrypt: decryptor.decrypt)
    }
}

extension MegolmDecryptor {
    /// A decryptor reading session keys from the store.
    public static func forStore(_ store: ArchiveStore) -> MegolmDecryptor {
        MegolmDecryptor { roomID, sessionID in try store.megolmSessionKey(roomID: roomID, sessionID: sessionID) }
    }
}
