import ArchiveCore
import ArchiveStore
import Foundation
import MatrixCrypto

/// Decrypts a page's megolm events on every core before the page is stored. libolm's signature check
/// dominates decryption (≈ 150 µs an event here), so one thread caps a sync of an encrypted room well below
/// what the store can take. Each worker imports its own sessions from keys read up front: no libolm object
/// and no SQLite connection is shared between threads.
enum PageDecryption {
    static func decrypt(_ payloads: [EncryptedPayload], store: ArchiveStore,
                        workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [String: DecryptionResult] {
        guard !payloads.isEmpty else { return [:] }
        var keys: [String: String] = [:]
        for payload in payloads where keys[payload.sessionKeyID] == nil {
            keys[payload.sessionKeyID] = try store.megolmSessionKey(roomID: payload.roomID, sessionID: payload.sessionID) ?? ""
        }
        let sessionKeys = keys
        let results = ResultSlots(count: payloads.count)
        // Small pages are not worth a second thread.
        let threads = max(1, min(workers, payloads.count / 64))
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let decryptor = MegolmDecryptor { roomID, sessionID in
                sessionKeys[roomID + "\u{0}" + sessionID].flatMap { $0.isEmpty ? nil : $0 }
            }
            for index in stride(from: worker, to: payloads.count, by: threads) {
                results.set(index, decryptor.decrypt(payloads[index]))
            }
        }
        var byEvent: [String: DecryptionResult] = [:]
        for (index, payload) in payloads.enumerated() { byEvent[payload.eventID] = results.get(index) }
        return byEvent
    }
}

extension EncryptedPayload {
    fileprivate var sessionKeyID: String { roomID + "\u{0}" + sessionID }
}

/// One slot per payload, each written by exactly one worker and read after all have finished.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [DecryptionResult?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: DecryptionResult) { lock.withLock { slots[index] = result } }
    func get(_ index: Int) -> DecryptionResult { lock.withLock { slots[index] } ?? .missingKey }
}
