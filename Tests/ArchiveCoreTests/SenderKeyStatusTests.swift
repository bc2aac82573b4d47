import ArchiveCore
import Testing

/// The sender-key rule of issue 9.8 as values: which status a decrypted event gets from what /keys/query said.
@Suite struct SenderKeyStatusTests {
    let known = KnownDeviceKeys(curve25519ByUser: [
        "@alice:hs": ["alice-laptop", "alice-phone"],
        "@bob:hs": ["bob-laptop"],
        "@carol:hs": [],
    ])

    @Test func theSendersOwnDeviceIsVerified() {
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: "alice-phone") == .verified)
    }

    @Test func anotherUsersDeviceIsAMismatchWhenTheyAloneClaimIt() {
        #expect(known.status(sender: "@bob:hs", sessionSenderKey: "alice-laptop") == .mismatch)
        #expect(known.status(sender: "@carol:hs", sessionSenderKey: "bob-laptop") == .mismatch)
    }

    @Test func aKeySeveralUsersClaimIsUnknown() {
        // A self-signature does not prove the device holds the curve25519 key: Mallory can list Alice's key
        // on a device of her own. With two claimants, neither is believed.
        let contested = KnownDeviceKeys(curve25519ByUser: [
            "@alice:hs": [], "@bob:hs": ["alice-old"], "@mallory:hs": ["alice-old"],
        ])
        #expect(contested.status(sender: "@alice:hs", sessionSenderKey: "alice-old") == .unknown)
        // The sender's own device still wins over any other claim.
        let copied = KnownDeviceKeys(curve25519ByUser: ["@alice:hs": ["alice-phone"], "@mallory:hs": ["alice-phone"]])
        #expect(copied.status(sender: "@alice:hs", sessionSenderKey: "alice-phone") == .verified)
    }

    @Test func aSenderTheServerDidNotAnswerForIsNeverAMismatch() {
        // Only Bob was answered for (Alice's server failed): Bob's claim on the key is not evidence against her.
        let partial = KnownDeviceKeys(curve25519ByUser: ["@bob:hs": ["alice-phone"]])
        #expect(partial.status(sender: "@alice:hs", sessionSenderKey: "alice-phone") == .unknown)
    }

    @Test func aKeyNoDeviceHasIsUnknown() {
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: "deleted-device") == .unknown)
        #expect(known.status(sender: "@carol:hs", sessionSenderKey: "never-uploaded") == .unknown)
        // The sender was not answered for (a failed or malformed reply: nothing known at all).
        #expect(KnownDeviceKeys().status(sender: "@alice:hs", sessionSenderKey: "alice-laptop") == .unknown)
        // A session that came without its sender key: the event's clear `sender_key` is never taken instead.
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: nil) == .unknown)
    }

    @Test func canonicalJSONSortsByCodePointAndEscapesAsTheSpecSays() {
        let value: JSONValue = ["b": 1, "a": ["é": "x\u{8}\u{C}\n\u{1}\"", "Z": .double(2), "z": true], "A": .null]
        let text = CanonicalJSON.encode(value).map { String(decoding: $0, as: UTF8.self) }
        #expect(text == #"{"A":null,"a":{"Z":2,"z":true,"é":"x\b\f\n\u0001\""},"b":1}"#)
        #expect(CanonicalJSON.encode(["n": .double(1.5)]) == nil)
    }
}
