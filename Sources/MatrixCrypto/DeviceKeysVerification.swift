import ArchiveCore
import Crypto
import Foundation

/// Reads the device keys a `/keys/query` returned and keeps only those a device signed itself. The server
/// relays these objects; without the self-signature a hostile server could put any curve25519 key in any
/// user's device list and so "verify" any session for any sender. The check binds the curve25519 key to the
/// device's ed25519 key, `user_id` and `device_id` (the signed object names both, so a device copied into
/// another user's list fails). It cannot tell a device the server made up with a fresh ed25519 key: that
/// needs cross-signing, which an archive that never verifies users does not have.
public enum DeviceKeysVerification {
    /// `deviceKeys`: user id → device id → the device's keys object, as the reply holds them. Users listed
    /// with no (valid) device are kept with an empty set: the server answered for them.
    public static func knownKeys(_ deviceKeys: [String: [String: JSONValue]]) -> KnownDeviceKeys {
        var known: [String: Set<String>] = [:]
        for (userID, devices) in deviceKeys {
            var keys = Set<String>()
            for (deviceID, object) in devices {
                if let key = verifiedCurve25519Key(userID: userID, deviceID: deviceID, deviceKeys: object) {
                    keys.insert(key)
                }
            }
            known[userID] = keys
        }
        return KnownDeviceKeys(curve25519ByUser: known)
    }

    /// The device's curve25519 key when its keys object is well formed, names this user and device, and
    /// carries a valid ed25519 signature by the device's own ed25519 key over its canonical JSON (without
    /// `signatures` and `unsigned`, as the spec's "Signing JSON" says); nil otherwise.
    public static func verifiedCurve25519Key(userID: String, deviceID: String, deviceKeys: JSONValue) -> String? {
        guard var object = deviceKeys.objectValue,
              object["user_id"]?.stringValue == userID, object["device_id"]?.stringValue == deviceID,
              let curve25519 = object["keys"]?["curve25519:\(deviceID)"]?.stringValue,
              let ed25519Text = object["keys"]?["ed25519:\(deviceID)"]?.stringValue,
              let ed25519 = Base64Unpadded.decode(ed25519Text), ed25519.count == 32,
              let signatureText = object["signatures"]?[userID]?["ed25519:\(deviceID)"]?.stringValue,
              let signature = Base64Unpadded.decode(signatureText), signature.count == 64,
              let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: ed25519)
        else { return nil }
        object["signatures"] = nil
        object["unsigned"] = nil
        guard let signed = CanonicalJSON.encode(.object(object)),
              publicKey.isValidSignature(Data(signature), for: Data(signed)) else { return nil }
        return curve25519
    }
}
