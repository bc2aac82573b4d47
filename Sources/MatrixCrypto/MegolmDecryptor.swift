import ArchiveCore
import Foundation

/// Decrypts megolm events with stored sessions. Sessions are loaded once per decryptor and kept while it
/// lives, so a pass over thousands of events imports each session once. Not thread-safe: one per pass.
public final class MegolmDecryptor {
    private let loadSessionKey: (_ roomID: String, _ sessionID: String) throws -> String?
    private var sessions: [String: InboundGroupSession?] = [:]

    /// `loadSessionKey` returns the stored exported key of a room's session, or nil.
    public init(loadSessionKey: @escaping (_ roomID: String, _ sessionID: String) throws -> String?) {
        self.loadSessionKey = loadSessionKey
    }

    public func decrypt(_ payload: EncryptedPayload) -> DecryptionResult {
        let cacheKey = payload.roomID + "\u{0}" + payload.sessionID
        let session: InboundGroupSession?
        if let cached = sessions[cacheKey] {
            session = cached
        } else {
            // A stored key that no longer imports is treated as missing rather than failing every event.
            session = (try? loadSessionKey(payload.roomID, payload.sessionID)).flatMap { $0 }
                .flatMap { try? InboundGroupSession(sessionKey: $0) }
            sessions[cacheKey] = .some(session)
        }
        guard let session else { return .missingKey }
        let plaintext: [UInt8]
        let index: UInt32
        do {
            (plaintext, index) = try session.decrypt(payload.ciphertext)
        } catch OlmError.unknownMessageIndex {
            return .unknownIndex
        } catch {
            return .failed(reason: "\(error)")
        }
        guard let json = try? JSONCoding.decode(Data(plaintext)), let type = json["type"]?.stringValue,
              let content = json["content"], content.objectValue != nil else {
            return .failed(reason: "the plaintext is not an event (type and content object)")
        }
        guard json["room_id"]?.stringValue == payload.roomID else { return .roomMismatch }
        return .decrypted(type: type, content: content, messageIndex: index)
    }
}
