import ArchiveCore
import Foundation
import MatrixAPI
import MatrixAPITestSupport
import Synchronization
import Testing

final class Recorder<T: Sendable>: Sendable {
    private let values = Mutex<[T]>([])
    func append(_ value: T) { values.withLock { $0.append(value) } }
    var all: [T] { values.withLock { $0 } }
}

@Suite struct MatrixClientTests {
    let credentials = Credentials(homeserver: "http://hs.test/", userID: "@me:hs.test", deviceID: "D",
                                  accessToken: "old-access", refreshToken: "old-refresh")

    func client(_ transport: ScriptedTransport, sleeps: Recorder<Double>,
                saved: Recorder<Credentials> = Recorder()) -> MatrixClient {
        MatrixClient(credentials: credentials, transport: transport, retryPolicy: RetryPolicy(maxAttempts: 4),
                     persistCredentials: { saved.append($0) }, sleeper: { sleeps.append($0) })
    }

    @Test func rateLimitWaitsRetryAfterThenSucceeds() async throws {
        let transport = ScriptedTransport([
            .reply(429, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1234}"#),
            .reply(200, #"{"joined_rooms":["!a:hs.test"]}"#),
        ])
        let sleeps = Recorder<Double>()
        let rooms = try await client(transport, sleeps: sleeps).joinedRooms()
        #expect(rooms == ["!a:hs.test"])
        #expect(sleeps.all == [1.234])
    }

    /// Current servers send a `Retry-After` header (seconds or an HTTP date) beside, or instead of, the
    /// older `retry_after_ms`: the longer of the two is waited.
    @Test func rateLimitHonoursTheRetryAfterHeader() async throws {
        let limited = #"{"errcode":"M_LIMIT_EXCEEDED"}"#
        let transport = ScriptedTransport([
            .replyRetryAfter(429, limited, retryAfter: "2"),
            .replyRetryAfter(429, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}"#, retryAfter: "3"),
            .replyRetryAfter(429, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":4500}"#, retryAfter: "1"),
            .replyRetryAfter(429, limited, retryAfter: "Tue, 01 Dec 2026 08:00:07 GMT"),
            .reply(200, #"{"joined_rooms":[]}"#),
        ])
        let sleeps = Recorder<Double>()
        let now = try #require(DateArgument("2026-12-01T08:00:00Z")).start
        let client = MatrixClient(credentials: credentials, transport: transport, retryPolicy: RetryPolicy(maxAttempts: 6),
                                  sleeper: { sleeps.append($0) }, clock: FixedClock(now))
        _ = try await client.joinedRooms()
        #expect(sleeps.all == [2, 3, 4.5, 7])
    }

    /// A wait longer than a run accepts ends the request at once, saying how long the server asked for,
    /// instead of being cut short silently.
    @Test func aRateLimitLongerThanTheRunWaitsEndsWithAClearMessage() async throws {
        let transport = ScriptedTransport([.replyRetryAfter(429, #"{"errcode":"M_LIMIT_EXCEEDED"}"#, retryAfter: "3601")])
        let sleeps = Recorder<Double>()
        await #expect {
            _ = try await client(transport, sleeps: sleeps).joinedRooms()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("3601 s") && text.contains("M_LIMIT_EXCEEDED") && !text.contains("\n")
        }
        #expect(sleeps.all.isEmpty)
        #expect(transport.requests.count == 1)
    }

    @Test func retryAfterHeaderForms() throws {
        let now = try #require(DateArgument("1994-11-06T08:49:30Z")).start
        #expect(RetryAfter.milliseconds("120", now: now) == 120_000)
        #expect(RetryAfter.milliseconds(" 5 ", now: now) == 5_000)
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == 7_000)
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:00 GMT", now: now) == 0)
        #expect(RetryAfter.milliseconds("99999999999999999999", now: now) == Int64.max)
        for garbage in ["", "-3", "1.5", "soon", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC"] {
            #expect(RetryAfter.milliseconds(garbage, now: now) == nil, "\(garbage)")
        }
    }

    /// The spec: a client holding a refresh token refreshes on any M_UNKNOWN_TOKEN, `soft_logout` or not.
    @Test func anUnknownTokenWithoutSoftLogoutIsRefreshedToo() async throws {
        let transport = ScriptedTransport([
            .reply(401, #"{"errcode":"M_UNKNOWN_TOKEN"}"#),
            .reply(200, #"{"access_token":"new-access","refresh_token":"new-refresh","expires_in_ms":60000}"#),
            .reply(200, #"{"joined_rooms":["!a:hs.test"]}"#),
        ])
        let saved = Recorder<Credentials>()
        let rooms = try await client(transport, sleeps: Recorder(), saved: saved).joinedRooms()
        #expect(rooms == ["!a:hs.test"])
        #expect(saved.all.map(\.accessToken) == ["new-access"])
        #expect(transport.requests.last?.headers.contains { $0 == ("Authorization", "Bearer new-access") } == true)
    }

    @Test func serverErrorsAndDroppedConnectionsBackOff() async throws {
        let transport = ScriptedTransport([.reply(502, "bad gateway"), .drop, .reply(200, #"{"joined_rooms":[]}"#)])
        let sleeps = Recorder<Double>()
        _ = try await client(transport, sleeps: sleeps).joinedRooms()
        #expect(sleeps.all == [0.5, 1.0])
        #expect(transport.requests.count == 3)
    }

    /// A 200 whose body was cut short in transit (the fault proxy's `truncated_json`) is a passing fault:
    /// retried with back-off, not a failure of the room.
    @Test func aReplyCutShortIsRetriedLikeAServerError() async throws {
        let transport = ScriptedTransport([
            .reply(200, #"{"chunk":[{"event_id":"$a","type":"m.room.mes"#),
            .reply(200, #"{"chunk":[{"event_id":"$a","type":"m.room.message"}],"end":"t2"}"#),
        ])
        let sleeps = Recorder<Double>()
        let page = try await client(transport, sleeps: sleeps).messages(roomID: "!x:hs.test", direction: .forward,
                                                                       from: nil, limit: 10)
        #expect(page.chunk.count == 1)
        #expect(page.end == "t2")
        #expect(sleeps.all == [0.5])
        #expect(transport.requests.count == 2)
    }

    /// A reply that is cut short every time ends after the policy's attempts, saying what was wrong.
    @Test func aReplyAlwaysCutShortEndsAfterBoundedRetries() async throws {
        let cut = ScriptedTransport.Step.reply(200, #"{"joined_rooms":["!a:hs"#)
        let transport = ScriptedTransport([cut, cut, cut, cut, cut, cut])
        let sleeps = Recorder<Double>()
        await #expect {
            _ = try await client(transport, sleeps: sleeps).joinedRooms()
        } throws: { error in
            String(describing: error).contains("not valid JSON")
        }
        #expect(transport.requests.count == 4)
        #expect(sleeps.all == [0.5, 1.0, 2.0])
    }

    @Test func forbiddenIsNotRetriedAndSaysWhichStep() async throws {
        let transport = ScriptedTransport([.reply(403, #"{"errcode":"M_FORBIDDEN","error":"You are not in the room"}"#)])
        let sleeps = Recorder<Double>()
        await #expect {
            _ = try await client(transport, sleeps: sleeps).messages(roomID: "!x:hs.test", direction: .forward,
                                                                    from: nil, limit: 10)
        } throws: { error in
            let description = String(describing: error)
            return description.contains("!x:hs.test") && description.contains("M_FORBIDDEN")
                && !description.contains("old-access")
        }
        #expect(transport.requests.count == 1)
        #expect(sleeps.all.isEmpty)
    }

    @Test func softLogoutRefreshesPersistsAndRepeatsTheCall() async throws {
        let transport = ScriptedTransport([
            .reply(401, #"{"errcode":"M_UNKNOWN_TOKEN","soft_logout":true}"#),
            .reply(200, #"{"access_token":"new-access","refresh_token":"new-refresh","expires_in_ms":60000}"#),
            .reply(200, #"{"joined_rooms":[]}"#),
        ])
        let saved = Recorder<Credentials>()
        let matrix = client(transport, sleeps: Recorder(), saved: saved)
        _ = try await matrix.joinedRooms()
        #expect(saved.all.map(\.accessToken) == ["new-access"])
        #expect(saved.all.map(\.refreshToken) == ["new-refresh"])
        let headers = transport.requests.map { request in request.headers.first { $0.0 == "Authorization" }?.1 }
        #expect(headers == ["Bearer old-access", nil, "Bearer new-access"])
        #expect(transport.requests[1].url == "http://hs.test/_matrix/client/v3/refresh")
    }

    /// A hard logout: the refresh is tried (any M_UNKNOWN_TOKEN is), the server refuses the refresh token
    /// too, and the run ends with the hint to log in again.
    @Test func aHardLogoutEndsTheRun() async throws {
        let transport = ScriptedTransport([
            .reply(401, #"{"errcode":"M_UNKNOWN_TOKEN","soft_logout":false}"#),
            .reply(401, #"{"errcode":"M_UNKNOWN_TOKEN","soft_logout":false}"#),
        ])
        do {
            _ = try await client(transport, sleeps: Recorder()).joinedRooms()
            Issue.record("expected an error")
        } catch let error as MatrixError {
            #expect(error.endsRun)
            #expect(error.description.contains("mxarchive login"))
        }
        #expect(transport.requests.map(\.url).last == "http://hs.test/_matrix/client/v3/refresh")
        #expect(transport.requests.count == 2)
    }

    @Test func identifiersAreEscapedInPaths() async throws {
        let transport = ScriptedTransport([.reply(200, #"{"chunk":[],"start":"s"}"#)])
        _ = try await client(transport, sleeps: Recorder()).messages(roomID: "!AbC/def+", direction: .backward,
                                                                     from: "t1-2_3", limit: 5)
        let url = try #require(transport.requests.first?.url)
        #expect(url.hasPrefix("http://hs.test/_matrix/client/v3/rooms/%21AbC%2Fdef%2B/messages?"))
        #expect(url.contains("dir=b") && url.contains("from=t1-2_3") && url.contains("limit=5"))
        #expect(url.contains("lazy_load_members"))
    }
}

/// Issue 12.6: a hostile server that repeats its `next_batch` must not keep a space walk going forever.
@Suite struct HierarchyTests {
    @Test func aRepeatedNextBatchEndsTheWalk() async throws {
        let page = #"{"rooms":[{"room_id":"!a:hs.test"},{"room_id":"!b:hs.test"}],"next_batch":"same"}"#
        let transport = ScriptedTransport(Array(repeating: .reply(200, page), count: 5))
        let client = MatrixClient(credentials: Credentials(homeserver: "http://hs.test", userID: "@me:hs.test",
                                                           deviceID: nil, accessToken: "t", refreshToken: nil),
                                  transport: transport, sleeper: { _ in })
        let rooms = try await client.hierarchy(spaceID: "!space:hs.test")
        #expect(rooms.map(\.roomID) == ["!a:hs.test", "!b:hs.test"])
        #expect(transport.requests.count == 2)
    }
}

/// Issue 9.6: a token from the environment (`MXARCHIVE_ACCESS_TOKEN`, no login) comes without a user id;
/// it is asked of the server, so per-user requests name the account instead of `/user//…`.
@Suite struct WhoAmITests {
    @Test func anEmptyUserIDIsAskedOfTheServer() async throws {
        let transport = ScriptedTransport([
            .reply(200, #"{"user_id":"@me:hs.test","device_id":"D"}"#),
            .reply(200, #"{"default":{}}"#),
        ])
        let client = MatrixClient(credentials: Credentials(homeserver: "http://hs.test", userID: "", deviceID: nil,
                                                           accessToken: "t", refreshToken: nil),
                                  transport: transport, sleeper: { _ in })
        try await client.resolveUserID()
        _ = try await client.accountData(type: "m.secret_storage.default_key")
        #expect(transport.requests.map(\.url) == [
            "http://hs.test/_matrix/client/v3/account/whoami",
            "http://hs.test/_matrix/client/v3/user/%40me%3Ahs.test/account_data/m.secret_storage.default_key",
        ])
        // A known user id is not asked again.
        try await client.resolveUserID()
        #expect(transport.requests.count == 2)
    }
}
