import ArchiveCore
import COlm
import Foundation

/// The only file that talks to libolm. Each libolm object lives in memory this file allocates, owned by
/// a class that clears and frees it in `deinit`; every `olm_error()` return becomes an `OlmError`.
/// libolm overwrites some inputs in place (base64 decoding), so inputs are always copied first.

public enum OlmError: ReportableError, Hashable {
    public var category: ErrorCategory { .failure }

    /// The session was imported at a later message index than the message's.
    case unknownMessageIndex
    /// The message's MAC or signature did not verify.
    case badMessageMAC
    /// Any other libolm error, by its name (`BAD_MESSAGE_FORMAT`, `INVALID_BASE64`, ...). Never key material.
    case library(String)

    public var description: String {
        switch self {
        case .unknownMessageIndex: "the session does not reach back to this message index"
        case .badMessageMAC: "the message's MAC or signature does not verify"
        case .library(let name): "libolm: \(name)"
        }
    }
}

private let olmErrorValue = olm_error()

/// Curve25519 private key able to decrypt key-backup `session_data` (libolm's PK decryption).
public final class PkDecryptor {
    private let memory: UnsafeMutableRawPointer
    private let object: OpaquePointer
    /// The public half (unpadded base64), to compare with the backup's `auth_data.public_key`.
    public let publicKey: String

    public init(privateKey: [UInt8]) throws {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: olm_pk_decryption_size(), alignment: 16)
        let object = olm_pk_decryption(memory)!
        self.memory = memory
        self.object = object
        var publicKeyBuffer = [UInt8](repeating: 0, count: olm_pk_key_length())
        let result = privateKey.withUnsafeBytes { key in
            publicKeyBuffer.withUnsafeMutableBytes { out in
                olm_pk_key_from_private(object, out.baseAddress, out.count, key.baseAddress, key.count)
            }
        }
        if result == olmErrorValue {
            let error = OlmError.library(String(cString: olm_pk_decryption_last_error(object)))
            olm_clear_pk_decryption(object)
            memory.deallocate()
            throw error
        }
        publicKey = String(decoding: publicKeyBuffer, as: UTF8.self)
    }

    deinit {
        olm_clear_pk_decryption(object)
        memory.deallocate()
    }

    /// Decrypts one `session_data` (`ephemeral`, `mac`, `ciphertext`, all unpadded base64 as received).
    public func decrypt(ephemeral: String, mac: String, ciphertext: String) throws -> [UInt8] {
        var ephemeralBytes = Array(ephemeral.utf8)
        var macBytes = Array(mac.utf8)
        var ciphertextBytes = Array(ciphertext.utf8)
        let maxLength = olm_pk_max_plaintext_length(object, ciphertextBytes.count)
        guard maxLength != olmErrorValue else { throw OlmError.library("BAD_MESSAGE_FORMAT") }
        var plaintext = [UInt8](repeating: 0, count: maxLength)
        let length = ephemeralBytes.withUnsafeMutableBytes { eph in
            macBytes.withUnsafeMutableBytes { macPointer in
                ciphertextBytes.withUnsafeMutableBytes { ct in
                    plaintext.withUnsafeMutableBytes { out in
                        olm_pk_decrypt(object, eph.baseAddress, eph.count, macPointer.baseAddress, macPointer.count,
                                       ct.baseAddress, ct.count, out.baseAddress, out.count)
                    }
                }
            }
        }
        if length == olmErrorValue {
            let name = String(cString: olm_pk_decryption_last_error(object))
            throw name == "BAD_MESSAGE_MAC" ? OlmError.badMessageMAC : OlmError.library(name)
        }
        return Array(plaintext.prefix(length))
    }
}

/// A megolm inbound group session: decrypts one sender's room messages from its first known index on.
public final class InboundGroupSession {
    private let memory: UnsafeMutableRawPointer
    private let object: OpaquePointer

    private init() {
        memory = UnsafeMutableRawPointer.allocate(byteCount: olm_inbound_group_session_size(), alignment: 16)
        object = olm_inbound_group_session(memory)!
    }

    /// From an exported session key (`session_key` of a key backup or key-export file: libolm's export
    /// format, version byte 1). The archive never receives `m.room_key` to-device messages, so the signed
    /// format (`olm_init_inbound_group_session`) has no caller.
    public convenience init(sessionKey: String) throws {
        self.init()
        var keyBytes = Array(sessionKey.utf8)
        let result = keyBytes.withUnsafeMutableBufferPointer { key in
            olm_import_inbound_group_session(object, key.baseAddress, key.count)
        }
        if result == olmErrorValue { throw lastError() }
    }

    deinit {
        olm_clear_inbound_group_session(object)
        memory.deallocate()
    }

    private func lastError() -> OlmError {
        let name = String(cString: olm_inbound_group_session_last_error(object))
        switch name {
        case "OLM_UNKNOWN_MESSAGE_INDEX", "UNKNOWN_MESSAGE_INDEX": return .unknownMessageIndex
        case "BAD_MESSAGE_MAC", "BAD_SIGNATURE": return .badMessageMAC
        default: return .library(name)
        }
    }

    public var sessionID: String {
        var buffer = [UInt8](repeating: 0, count: olm_inbound_group_session_id_length(object))
        let length = buffer.withUnsafeMutableBufferPointer { olm_inbound_group_session_id(object, $0.baseAddress, $0.count) }
        return length == olmErrorValue ? "" : String(decoding: buffer.prefix(length), as: UTF8.self)
    }

    public var firstKnownIndex: UInt32 { olm_inbound_group_session_first_known_index(object) }

    /// The session exported at `index` (libolm's export format), for storing and re-importing later.
    public func export(at index: UInt32) throws -> String {
        var buffer = [UInt8](repeating: 0, count: olm_export_inbound_group_session_length(object))
        let length = buffer.withUnsafeMutableBufferPointer {
            olm_export_inbound_group_session(object, $0.baseAddress, $0.count, index)
        }
        if length == olmErrorValue { throw lastError() }
        return String(decoding: buffer.prefix(length), as: UTF8.self)
    }

    /// Decrypts a megolm `ciphertext` (base64 as in the event). Returns the plaintext and its message index.
    public func decrypt(_ ciphertext: String) throws -> (plaintext: [UInt8], messageIndex: UInt32) {
        var message = Array(ciphertext.utf8)
        // Measuring the length decodes the base64 in place, so it works on a second copy.
        var probe = message
        let maxLength = probe.withUnsafeMutableBufferPointer {
            olm_group_decrypt_max_plaintext_length(object, $0.baseAddress, $0.count)
        }
        if maxLength == olmErrorValue { throw lastError() }
        var plaintext = [UInt8](repeating: 0, count: maxLength)
        var index: UInt32 = 0
        let length = message.withUnsafeMutableBufferPointer { input in
            plaintext.withUnsafeMutableBufferPointer { output in
                olm_group_decrypt(object, input.baseAddress, input.count, output.baseAddress, output.count, &index)
            }
        }
        if length == olmErrorValue { throw lastError() }
        return (Array(plaintext.prefix(length)), index)
    }
}
