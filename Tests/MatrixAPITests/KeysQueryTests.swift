import ArchiveCore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Testing

/// `POST /keys/query` (issue 9.8): one request for every user asked about, and a reply read defensively —
/// a malformed part of it means "not answered", never a crash or another user's devices.
@Suite struct KeysQueryTests {
    let credentials = Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                  accessToken: "token", refreshToken: nil)

    @Test func oneRequestAsksForEveryUsersDevices() async throws {
        let transport = ScriptedTransport([.reply(200, #"""
            {"device_keys": {"@a:hs.test": {"DEV": {"user_id": "@a:hs.test"}}, "@b:hs.test": {}},
             "failures": {"other.test": {"errcode": "M_UNKNOWN"}}}
            """#)])
        let client = MatrixClient(credentials: credentials, transport: transport, retryPolicy: RetryPolicy(maxAttempts: 1))
        let devices = try await client.queryDeviceKeys(userIDs: ["@a:hs.test", "@b:hs.test", "@c:other.test"])
        #expect(devices == ["@a:hs.test": ["DEV": ["user_id": "@a:hs.test"]], "@b:hs.test": [:]])
        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.url == "http://hs.test/_matrix/client/v3/keys/query")
        let body = try JSONCoding.decode(request.body ?? Data())
        #expect(body == ["device_keys": ["@a:hs.test": [], "@b:hs.test": [], "@c:other.test": []]])
    }

    @Test func malformedRepliesAnswerForNobody() {
        let asked: Set<String> = ["@a:hs.test", "@b:hs.test"]
        for reply: JSONValue in [[:], "a string", ["device_keys": "nope"], ["device_keys": ["@a:hs.test", "@b:hs.test"]]] {
            #expect(MatrixClient.deviceKeys(fromQueryReply: reply, asked: asked).isEmpty, "\(reply)")
        }
        // Per user and per device: entries of the wrong shape are dropped, the rest kept.
        let mixed: JSONValue = ["device_keys": [
            "@a:hs.test": ["GOOD": ["device_id": "GOOD"], "BAD": 7],
            "@b:hs.test": ["not", "an", "object"],
            // A user nobody asked about cannot lend anyone a device.
            "@intruder:hs.test": ["X": ["device_id": "X"]],
        ]]
        #expect(MatrixClient.deviceKeys(fromQueryReply: mixed, asked: asked) == ["@a:hs.test": ["GOOD": ["device_id": "GOOD"]]])
        // A user of a server listed in `failures` was not answered for, whatever `device_keys` holds for them.
        let failed: JSONValue = ["device_keys": ["@a:hs.test": [:], "@b:other.test": [:]],
                                 "failures": ["other.test": ["errcode": "M_UNKNOWN"]]]
        #expect(MatrixClient.deviceKeys(fromQueryReply: failed, asked: ["@a:hs.test", "@b:other.test"]) == ["@a:hs.test": [:]])
    }

    @Test func aReplyThatIsNotJSONIsAnErrorTheCallerCanCatch() async {
        let transport = ScriptedTransport([.reply(200, "<html>proxy error</html>")])
        let client = MatrixClient(credentials: credentials, transport: transport, retryPolicy: RetryPolicy(maxAttempts: 1))
        await #expect(throws: MatrixError.self) { try await client.queryDeviceKeys(userIDs: ["@a:hs.test"]) }
    }
}
