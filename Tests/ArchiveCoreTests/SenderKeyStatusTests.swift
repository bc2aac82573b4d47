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
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: "alice-phone", clearSenderKey: nil) == .verified)
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: "alice-phone", clearSenderKey: "alice-phone") == .verified)
        // A session whose key came without a sender key: the event's clear claim is what there is.
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: nil, clearSenderKey: "alice-laptop") == .verified)
    }

    @Test func anotherUsersDeviceIsAMismatch() {
        #expect(known.status(sender: "@bob:hs", sessionSenderKey: "alice-laptop", clearSenderKey: nil) == .mismatch)
        #expect(known.status(sender: "@carol:hs", sessionSenderKey: "bob-laptop", clearSenderKey: "bob-laptop") == .mismatch)
    }

    @Test func aClearSenderKeyThatIsNotTheSessionsIsAMismatch() {
        // Even when the session is the sender's own: the event claims another device.
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: "alice-laptop", clearSenderKey: "alice-phone") == .mismatch)
    }

    @Test func aKeyNoDeviceHasIsUnknown() {
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: "deleted-device", clearSenderKey: nil) == .unknown)
        #expect(known.status(sender: "@carol:hs", sessionSenderKey: "never-uploaded", clearSenderKey: nil) == .unknown)
        // The sender was not answered for (a failed or malformed reply: nothing known at all).
        #expect(KnownDeviceKeys().status(sender: "@alice:hs", sessionSenderKey: "alice-laptop", clearSenderKey: nil) == .unknown)
        #expect(known.status(sender: "@alice:hs", sessionSenderKey: nil, clearSenderKey: nil) == .unknown)
    }

    @Test func canonicalJSONSortsByCodePointAndEscapesAsTheSpecSays() {
        let value: JSONValue = ["b": 1, "a": ["é": "x\u{8}\u{C}\n\u{1}\"", "Z": .double(2), "z": true], "A": .null]
        let text = CanonicalJSON.encode(value).map { String(decoding: $0, as: UTF8.self) }
        #expect(text == #"{"A":null,"a":{"Z":2,"z":true,"é":"x\b\f\n\u0001\""},"b":1}"#)
        #expect(CanonicalJSON.encode(["n": .double(1.5)]) == nil)
    }
}
