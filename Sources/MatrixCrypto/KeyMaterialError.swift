import ArchiveCore
/// Why key material could not be used. Messages name the step and never contain key material.
public enum KeyMaterialError: ReportableError, Hashable {
    /// Every case is a key, passphrase or file the user gave that does not open what it should.
    public var category: ErrorCategory { .input }

    case invalidRecoveryKey(RecoveryKey.Problem)
    case malformed(String)
    case wrongSecretStorageKey
    case secretMACMismatch(String)
    case backupKeyMismatch(version: String)
    case unsupportedAlgorithm(String)
    case wrongPassphraseOrCorruptFile
    case noPassphraseInfo
    /// The passphrase's PBKDF2 round count is absurd (more than `Primitives.maxPBKDF2Rounds`).
    case tooManyRounds(Int)

    public var description: String {
        switch self {
        case .invalidRecoveryKey(let problem): "not a valid recovery key: \(problem)"
        case .malformed(let what): "malformed \(what)"
        case .wrongSecretStorageKey: "the key does not unlock secret storage (its check MAC does not match)"
        case .secretMACMismatch(let name): "the secret \(name) fails its MAC check under this key"
        case .backupKeyMismatch(let version):
            "the key is not the private key of key backup version \(version) (its public key differs from auth_data.public_key)"
        case .unsupportedAlgorithm(let name): "unsupported algorithm \(name)"
        case .wrongPassphraseOrCorruptFile: "wrong passphrase, or the key-export file is damaged (its HMAC does not match)"
        case .noPassphraseInfo: "neither secret storage nor the key backup was set up with a passphrase; use the recovery key"
        case .tooManyRounds(let rounds):
            "the passphrase is to be stretched with \(rounds) PBKDF2 rounds, more than the 10,000,000 any client "
                + "uses; refusing (the server's key description or the file is damaged or hostile)"
        }
    }
}
