import ArchiveCore
import ArchiveStore
import MatrixAPI
import MatrixCrypto

/// What one sender-key check did, for the sync's progress output.
public struct SenderKeyCheckOutcome: Sendable, Hashable {
    public var checked = 0
    public var statuses: [SenderKeyStatus: Int] = [:]
    /// Events this check found in a session of another user's device that no check had found so before.
    public var newMismatches = 0
    /// Why the devices could not be read (every checked event is then `unknown`); never a secret.
    public var error: String?
}

/// Checks, once per sync, that each newly decrypted event's session belongs to a device of its sender
/// (issue 9.8): one `/keys/query` for every sender with an unchecked (or `unknown` or `mismatch`) event, plus the other
/// senders of the same sessions, so that a session borrowed from another user's device is seen as theirs.
/// A failed or malformed reply leaves the events `unknown`, checked again next time; it never stops a sync.
struct SenderKeyCheck {
    let client: MatrixClient
    let store: ArchiveStore

    func run() async throws -> SenderKeyCheckOutcome {
        var outcome = SenderKeyCheckOutcome()
        let candidates = try store.senderKeyCandidates()
        guard !candidates.isEmpty else { return outcome }
        let users = Set(candidates.map(\.sender)).union(try store.sendersSharingSessionsWithCandidates())
        var known = KnownDeviceKeys()
        do {
            known = DeviceKeysVerification.knownKeys(try await client.queryDeviceKeys(userIDs: users.sorted()))
        } catch let error as MatrixError where error.endsRun {
            throw error
        } catch {
            outcome.error = "\(error)"
        }
        var statuses: [String: SenderKeyStatus] = [:]
        for candidate in candidates {
            let status = known.status(sender: candidate.sender, sessionSenderKey: candidate.sessionSenderKey)
            statuses[candidate.eventID] = status
            outcome.statuses[status, default: 0] += 1
        }
        outcome.newMismatches = try store.recordSenderKeyStatuses(statuses)
        outcome.checked = candidates.count
        return outcome
    }
}
