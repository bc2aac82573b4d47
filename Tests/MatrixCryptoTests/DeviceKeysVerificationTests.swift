import ArchiveCore
import Foundation
import MatrixCrypto
import Testing

/// The self-signature check of `/keys/query` device keys against keys signed by vodozemac
/// (Fixtures/make_device_keys_fixture.py), never by this code.
@Suite struct DeviceKeysVerificationTests {
    let alice: JSONValue
    let bob: JSONValue

    init() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/device-keys-fixture.json")
        let fixture = try JSONCoding.decode(try Data(contentsOf: url))
        alice = fixture["alice"] ?? .null
        bob = fixture["bob"] ?? .null
    }

    var aliceCurve: String { alice.value(at: "keys", "curve25519:ALICEDEV")?.stringValue ?? "" }

    /// Replaces one top-level field of a device keys object.
    func with(_ keys: JSONValue, _ field: String, _ value: JSONValue?) -> JSONValue {
        var object = keys.objectValue ?? [:]
        object[field] = value
        return .object(object)
    }

    @Test func aValidSelfSignatureOverTheCanonicalFormGivesTheCurveKey() {
        // The fixture's extra fields (upper-case key, non-ASCII key, escapes) only verify when the canonical
        // form matches the signer's byte for byte; `unsigned` is outside the signature.
        #expect(!aliceCurve.isEmpty)
        #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@alice:example.org", deviceID: "ALICEDEV",
                                                             deviceKeys: alice) == aliceCurve)
        #expect(DeviceKeysVerification.verifiedCurve25519Key(
            userID: "@alice:example.org", deviceID: "ALICEDEV",
            deviceKeys: with(alice, "unsigned", ["device_display_name": "renamed by the server"])) == aliceCurve)
    }

    @Test func aClaimedKeyTheDeviceDidNotSignIsRefused() {
        var keys = alice.value(at: "keys")?.objectValue ?? [:]
        keys["curve25519:ALICEDEV"] = bob.value(at: "keys", "curve25519:BOBDEV")
        let swapped = with(alice, "keys", .object(keys))
        #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@alice:example.org", deviceID: "ALICEDEV",
                                                             deviceKeys: swapped) == nil)
        // Any signed field changed breaks it, even one this code never reads.
        #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@alice:example.org", deviceID: "ALICEDEV",
                                                             deviceKeys: with(alice, "Zeta", 2)) == nil)
    }

    @Test func aDeviceListedUnderAnotherUserOrDeviceIdIsRefused() {
        // The server moves alice's genuine device into bob's list, or under another device id.
        #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@bob:example.org", deviceID: "ALICEDEV",
                                                             deviceKeys: alice) == nil)
        #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@alice:example.org", deviceID: "OTHER",
                                                             deviceKeys: alice) == nil)
    }

    @Test(arguments: ["signatures", "keys", "user_id"])
    func malformedDeviceKeysAreRefusedNotFatal(_ field: String) {
        for value: JSONValue? in [nil, "a string", 42, ["@alice:example.org": ["ed25519:ALICEDEV": "!!not base64"]]] {
            #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@alice:example.org", deviceID: "ALICEDEV",
                                                                 deviceKeys: with(alice, field, value)) == nil)
        }
        #expect(DeviceKeysVerification.verifiedCurve25519Key(userID: "@alice:example.org", deviceID: "ALICEDEV",
                                                             deviceKeys: "not an object") == nil)
    }

    @Test func knownKeysKeepOnlySignedDevicesAndEveryUserAnsweredFor() {
        let forged = with(alice, "Zeta", 3)
        let known = DeviceKeysVerification.knownKeys([
            "@alice:example.org": ["ALICEDEV": alice, "FORGED": forged],
            "@bob:example.org": ["BOBDEV": bob],
            "@carol:example.org": [:],
        ])
        #expect(known.curve25519ByUser == [
            "@alice:example.org": [aliceCurve],
            "@bob:example.org": [bob.value(at: "keys", "curve25519:BOBDEV")?.stringValue ?? ""],
            "@carol:example.org": [],
        ])
    }
}
