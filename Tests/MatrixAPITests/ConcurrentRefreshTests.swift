import ArchiveCore
import Foundation
import MatrixAPI
import Synchronization
import Testing

/// Rooms synced at once (`sync --jobs`) meet an expired access token together. A refresh token is
/// single-use, so the client must refresh once for all of them: a second `/refresh` with the spent token
/// is refused by servers that enforce rotation and would end the run.
@Suite struct ConcurrentRefreshTests {
    @Test func requestsThatMeetAnExpiredTokenTogetherShareOneRefresh() async throws {
        let transport = ExpiringTokenTransport(concurrentRequests: 3)
        let saved = Recorder<Credentials>()
        let client = MatrixClient(
            credentials: Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                     accessToken: "old-access", refreshToken: "old-refresh"),
            transport: transport, retryPolicy: RetryPolicy(maxAttempts: 2),
            persistCredentials: { saved.append($0) }, sleeper: { _ in })
        let rooms = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<3 { group.addTask { try await client.joinedRooms() } }
            var all: [[String]] = []
            for try await rooms in group { all.append(rooms) }
            return all
        }
        #expect(rooms == Array(repeating: ["!a:hs.test"], count: 3))
        #expect(transport.refreshTokensSpent == ["old-refresh"])
        #expect(saved.all.map(\.accessToken) == ["new-access-1"])
        #expect(await client.credentials.accessToken == "new-access-1")
    }
}

/// Refuses the old access token only once `concurrentRequests` requests carry it (so that they all meet
/// the expiry before any refresh), answers `/refresh` with a new numbered pair each time, and records which
/// refresh tokens were spent.
final class ExpiringTokenTransport: HTTPTransport {
    private struct State {
        var waiting: [CheckedContinuation<Void, Never>] = []
        var refreshes: [String] = []
    }

    private let concurrentRequests: Int
    private let state = Mutex(State())

    init(concurrentRequests: Int) { self.concurrentRequests = concurrentRequests }

    var refreshTokensSpent: [String] { state.withLock { $0.refreshes } }

    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData {
        if request.url.hasSuffix("/refresh") {
            let body = request.body.flatMap { try? JSONCoding.decode($0) }
            let count = state.withLock { state in
                state.refreshes.append(body?["refresh_token"]?.stringValue ?? "")
                return state.refreshes.count
            }
            return HTTPResponseData(status: 200, body: Data(
                #"{"access_token":"new-access-\#(count)","refresh_token":"new-refresh-\#(count)"}"#.utf8))
        }
        let token = request.headers.first { $0.0 == "Authorization" }?.1
        if token == "Bearer old-access" {
            await withCheckedContinuation { continuation in
                state.withLock { state in
                    state.waiting.append(continuation)
                    if state.waiting.count == concurrentRequests {
                        state.waiting.forEach { $0.resume() }
                        state.waiting = []
                    }
                }
            }
            return HTTPResponseData(status: 401, body: Data(#"{"errcode":"M_UNKNOWN_TOKEN","soft_logout":true}"#.utf8))
        }
        return HTTPResponseData(status: 200, body: Data(#"{"joined_rooms":["!a:hs.test"]}"#.utf8))
    }
}
