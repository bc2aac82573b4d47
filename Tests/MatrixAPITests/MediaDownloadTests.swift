import ArchiveCore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Testing

@Suite struct MediaDownloadTests {
    let credentials = Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                  accessToken: "tok", refreshToken: nil)

    func client(_ transport: ScriptedTransport) -> MatrixClient {
        MatrixClient(credentials: credentials, transport: transport, retryPolicy: RetryPolicy(maxAttempts: 2),
                     sleeper: { _ in })
    }

    @Test func usesTheAuthenticatedEndpointWithTheToken() async throws {
        let transport = ScriptedTransport([.reply(200, "file bytes")])
        let result = try await client(transport).download(MXCURI("mxc://hs.test/abc")!, maxBytes: 100)
        guard case .bytes(let data, _) = result else { Issue.record("expected bytes"); return }
        #expect(data == Data("file bytes".utf8))
        let request = try #require(transport.requests.first)
        #expect(request.url == "http://hs.test/_matrix/client/v1/media/download/hs.test/abc")
        #expect(request.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer tok" })
        #expect(request.maxResponseBytes == 100)
    }

    @Test func fallsBackToTheLegacyEndpointWhenTheServerLacksIt() async throws {
        for unknown in [(404, #"{"errcode":"M_UNRECOGNIZED"}"#), (405, ""), (400, "{}")] {
            let transport = ScriptedTransport([.reply(unknown.0, unknown.1), .reply(200, "old")])
            _ = try await client(transport).download(MXCURI("mxc://other.test:8448/x_y")!, maxBytes: 100)
            #expect(transport.requests.map(\.url) == [
                "http://hs.test/_matrix/client/v1/media/download/other.test%3A8448/x_y",
                "http://hs.test/_matrix/media/v3/download/other.test%3A8448/x_y",
            ])
        }
    }

    @Test func missingMediaIsNotAnUnknownEndpoint() async throws {
        let transport = ScriptedTransport([.reply(404, #"{"errcode":"M_NOT_FOUND","error":"gone"}"#)])
        await #expect(throws: MatrixError.self) {
            try await client(transport).download(MXCURI("mxc://hs.test/abc")!, maxBytes: 100)
        }
        #expect(transport.requests.count == 1)
    }
}
