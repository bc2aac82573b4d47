import ArchiveCore

/// An exported megolm key is not signed: its session id is only its public key, which anyone can copy, so
/// "belongs to session X" proves little. A forged key imports under the right id and then fails every
/// message's MAC. Before a key is stored it must agree with what is already known of its session.
public enum SessionKeyVetting {
    public enum Verdict: Sendable, Hashable {
        case accept
        /// Why the key is refused (never key material).
        case reject(String)
    }

    /// Two keys of one session must describe the same ratchet: the one reaching further back, advanced to
    /// the other's first index, must equal it.
    public static func consistent(_ a: String, _ b: String) -> Bool {
        guard let first = try? InboundGroupSession(sessionKey: a), let second = try? InboundGroupSession(sessionKey: b)
        else { return false }
        let (earlier, later) = first.firstKnownIndex <= second.firstKnownIndex ? (first, second) : (second, first)
        let index = later.firstKnownIndex
        guard let advanced = try? earlier.export(at: index), let own = try? later.export(at: index) else { return false }
        return advanced == own
    }

    /// Checks a key against a stored key of its session (must be consistent) and against archived
    /// ciphertexts of the session: refused when some of them reach its index and every one of those fails
    /// its MAC (a forged or corrupt key), accepted when one decrypts or none can tell.
    public static func vet(_ key: MegolmSessionKey, storedKey: String?, samples: [EncryptedPayload]) -> Verdict {
        if let storedKey, !consistent(storedKey, key.sessionKey) {
            return .reject("its key contradicts the key already stored for this session (forged or corrupt)")
        }
        guard let session = try? InboundGroupSession(sessionKey: key.sessionKey) else {
            return .reject("its key does not import")
        }
        var macFailures = 0
        for sample in samples {
            do {
                _ = try session.decrypt(sample.ciphertext)
                return .accept
            } catch OlmError.badMessageMAC {
                macFailures += 1
            } catch {
                continue  // unknown index or a damaged message: tells nothing about the key
            }
        }
        return macFailures > 0
            ? .reject("it fails the MAC of all \(macFailures) archived messages of this session it reaches (forged or corrupt)")
            : .accept
    }
}
