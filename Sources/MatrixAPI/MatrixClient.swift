import ArchiveCore
import Foundation

/// A `/messages` reply.
public struct MessagesPage: Sendable {
    public let chunk: [JSONValue]
    public let start: String?
    public let end: String?
    /// Member events for the chunk's senders (lazy loading).
    public let state: [JSONValue]

    public init(chunk: [JSONValue], start: String?, end: String?, state: [JSONValue]) {
        self.chunk = chunk
        self.start = start
        self.end = end
        self.state = state
    }
}

/// The typed Client-Server API the archiver uses. An actor because a token refresh replaces the
/// credentials every later request uses.
public actor MatrixClient {
    public private(set) var credentials: Credentials
    private let transport: any HTTPTransport
    private let retryPolicy: RetryPolicy
    private let baseURL: String
    /// Persists refreshed credentials before they are used, so a crash right after a refresh cannot lose
    /// the only valid refresh token (refresh tokens are single-use).
    private let persistCredentials: @Sendable (Credentials) throws -> Void
    private let sleeper: @Sendable (Double) async throws -> Void
    /// "Now", for a `Retry-After` given as an HTTP date.
    private let clock: any ArchiveClock
    /// How long one API request may take before it counts as a dropped connection (and is retried).
    private let requestTimeoutSeconds: Int64
    /// The token refresh under way, if any (see `refreshOnce`).
    private var refreshing: Task<Void, any Error>?
    /// Every request sent (retries and refreshes included) and the reply bytes read: what a run cost the
    /// server, for `sync --json` and the nightly benchmark.
    public private(set) var traffic = HTTPTraffic()

    public init(credentials: Credentials, transport: any HTTPTransport = AsyncHTTPTransport(),
                retryPolicy: RetryPolicy = RetryPolicy(),
                persistCredentials: @escaping @Sendable (Credentials) throws -> Void = { _ in },
                sleeper: @escaping @Sendable (Double) async throws -> Void = { seconds in
                    try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                }, clock: any ArchiveClock = SystemClock(), requestTimeoutSeconds: Int64 = 60) {
        self.clock = clock
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.credentials = credentials
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.baseURL = Self.normalise(credentials.homeserver)
        self.persistCredentials = persistCredentials
        self.sleeper = sleeper
    }

    static func normalise(_ homeserver: String) -> String {
        var url = homeserver
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    // MARK: Login

    /// Password login asking for a refresh token. The password is read by the caller from a file and only
    /// ever travels in this request's body.
    public static func login(homeserver: String, user: String, password: String, deviceName: String,
                             transport: any HTTPTransport = AsyncHTTPTransport()) async throws -> Credentials {
        let base = normalise(homeserver)
        let body: JSONValue = [
            "type": "m.login.password",
            "identifier": ["type": "m.id.user", "user": .string(user)],
            "password": .string(password),
            "initial_device_display_name": .string(deviceName),
            "refresh_token": true,
        ]
        let client = MatrixClient(credentials: Credentials(homeserver: base, userID: user, deviceID: nil,
                                                           accessToken: "", refreshToken: nil),
                                  transport: transport)
        let reply = try await client.call("login", method: "POST", path: "/_matrix/client/v3/login", body: body,
                                          authenticated: false)
        guard let accessToken = reply["access_token"]?.stringValue, let userID = reply["user_id"]?.stringValue else {
            throw MatrixError(step: "login", status: nil, errcode: nil, serverMessage: "reply lacks access_token")
        }
        return Credentials(homeserver: base, userID: userID, deviceID: reply["device_id"]?.stringValue,
                           accessToken: accessToken, refreshToken: reply["refresh_token"]?.stringValue)
    }

    // MARK: Endpoints

    public func joinedRooms() async throws -> [String] {
        let reply = try await call("list joined rooms", path: "/_matrix/client/v3/joined_rooms")
        return reply["joined_rooms"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    public func state(roomID: String) async throws -> [JSONValue] {
        let reply = try await call("read state of \(roomID)", path: "/_matrix/client/v3/rooms/\(Self.segment(roomID))/state")
        return reply.arrayValue ?? []
    }

    /// One `/messages` page. `maxResponseBytes` raises the transport's cap for this one request (a page of a
    /// single huge event); a reply over the cap is `MatrixError.replyTooLarge`.
    public func messages(roomID: String, direction: Direction, from: String?, limit: Int,
                         maxResponseBytes: Int? = nil) async throws -> MessagesPage {
        var query = [("dir", direction.rawValue), ("limit", String(limit)),
                     ("filter", #"{"lazy_load_members":true}"#)]
        if let from { query.append(("from", from)) }
        let reply = try await call("fetch messages of \(roomID)",
                                   path: "/_matrix/client/v3/rooms/\(Self.segment(roomID))/messages", query: query,
                                   maxResponseBytes: maxResponseBytes)
        return MessagesPage(chunk: reply["chunk"]?.arrayValue ?? [], start: reply["start"]?.stringValue,
                            end: reply["end"]?.stringValue, state: reply["state"]?.arrayValue ?? [])
    }

    /// A space's rooms (the space itself first), page by page. Ends when the server gives no `next_batch`, or one it gave before (a
    /// server that repeats a token would otherwise keep the walk going forever), and after at most
    /// `maxHierarchyPages` pages; each room is listed once.
    public func hierarchy(spaceID: String) async throws -> [(roomID: String, roomType: String?)] {
        var rooms: [(String, String?)] = []
        var listed: Set<String> = []
        var tokens: Set<String> = []
        var from: String?
        var pages = 0
        repeat {
            var query = [("limit", "100")]
            if let from { query.append(("from", from)) }
            let reply = try await call("read the hierarchy of space \(spaceID)",
                                       path: "/_matrix/client/v1/rooms/\(Self.segment(spaceID))/hierarchy", query: query)
            for room in reply["rooms"]?.arrayValue ?? [] {
                if let id = room["room_id"]?.stringValue, listed.insert(id).inserted {
                    rooms.append((id, room["room_type"]?.stringValue))
                }
            }
            pages += 1
            from = reply["next_batch"]?.stringValue
            if let token = from, !tokens.insert(token).inserted { from = nil }
        } while from != nil && pages < Self.maxHierarchyPages
        return rooms
    }

    /// 100 rooms a page: a space of 100,000 rooms.
    static let maxHierarchyPages = 1_000

    /// The current key backup's version info (`version`, `algorithm`, `auth_data`), or nil when the
    /// account has no backup.
    public func keyBackupVersion() async throws -> JSONValue? {
        do {
            return try await call("read the key backup version", path: "/_matrix/client/v3/room_keys/version")
        } catch let error as MatrixError where error.errcode == "M_NOT_FOUND" {
            return nil
        }
    }

    /// Every session of a backup version: `rooms → {roomID: {sessions: {sessionID: keyData}}}`.
    public func keyBackupSessions(version: String) async throws -> JSONValue {
        try await call("read the key backup's sessions", path: "/_matrix/client/v3/room_keys/keys",
                       query: [("version", version)])
    }

    /// One account-data object of the logged-in user, or nil when it is not set.
    public func accountData(type: String) async throws -> JSONValue? {
        do {
            return try await call("read account data \(type)",
                                  path: "/_matrix/client/v3/user/\(Self.segment(credentials.userID))/account_data/\(Self.segment(type))")
        } catch let error as MatrixError where error.errcode == "M_NOT_FOUND" {
            return nil
        }
    }

    public func resolveAlias(_ alias: String) async throws -> String {
        let reply = try await call("resolve alias \(alias)", path: "/_matrix/client/v3/directory/room/\(Self.segment(alias))")
        guard let roomID = reply["room_id"]?.stringValue else {
            throw MatrixError(step: "resolve alias \(alias)", status: nil, errcode: nil, serverMessage: "no room_id in reply")
        }
        return roomID
    }

    /// The first event at or after `timestamp` (milliseconds), or nil when there is none.
    public func eventAt(roomID: String, timestamp: Int64) async throws -> String? {
        do {
            let reply = try await call("find the event at a date in \(roomID)",
                                       path: "/_matrix/client/v1/rooms/\(Self.segment(roomID))/timestamp_to_event",
                                       query: [("ts", String(timestamp)), ("dir", "f")])
            return reply["event_id"]?.stringValue
        } catch let error as MatrixError where error.errcode == "M_NOT_FOUND" {
            return nil
        }
    }

    /// Asks the server whose token this is when the credentials do not say (a token from the
    /// environment): per-user endpoints need the user id.
    public func resolveUserID() async throws {
        guard credentials.userID.isEmpty else { return }
        let reply = try await call("ask the server whose access token this is", path: "/_matrix/client/v3/account/whoami")
        guard let userID = reply["user_id"]?.stringValue, userID.hasPrefix("@") else {
            throw MatrixError(step: "ask the server whose access token this is", status: nil, errcode: nil,
                              serverMessage: "the reply has no user_id")
        }
        credentials.userID = userID
    }

    /// `POST /keys/query` for `userIDs`: each user's devices as the server relays them (user id → device id
    /// → keys object, unchecked: `DeviceKeysVerification` checks the signatures). A user missing from the
    /// reply (a failed remote server, an unknown user) was not answered for. Fields of the wrong shape are
    /// dropped rather than thrown: a half-malformed reply still tells what it can.
    public func queryDeviceKeys(userIDs: [String]) async throws -> [String: [String: JSONValue]] {
        let body: JSONValue = ["device_keys": .object(Dictionary(userIDs.map { ($0, JSONValue.array([])) },
                                                                 uniquingKeysWith: { first, _ in first }))]
        let reply = try await call("query the device keys of \(userIDs.count) users", method: "POST",
                                   path: "/_matrix/client/v3/keys/query", body: body)
        return Self.deviceKeys(fromQueryReply: reply, asked: Set(userIDs))
    }

    /// The `device_keys` map of a `/keys/query` reply: only users that were asked about (a server must not
    /// add others), and only entries of the documented shape. A user whose server is listed in `failures`
    /// is left out: what came back for them (if anything) is not an answer, and must not count as "has no
    /// such device".
    public static func deviceKeys(fromQueryReply reply: JSONValue, asked: Set<String>) -> [String: [String: JSONValue]] {
        guard let users = reply["device_keys"]?.objectValue else { return [:] }
        let failedServers = Set(reply["failures"]?.objectValue?.keys.map { $0 } ?? [])
        var result: [String: [String: JSONValue]] = [:]
        for (userID, devices) in users where asked.contains(userID) {
            if let colon = userID.firstIndex(of: ":"), failedServers.contains(String(userID[userID.index(after: colon)...])) {
                continue
            }
            guard let devices = devices.objectValue else { continue }
            result[userID] = devices.filter { $0.value.objectValue != nil }
        }
        return result
    }

    /// An event with the pagination tokens around it (`limit=0`: no neighbours).
    public func context(roomID: String, eventID: String) async throws -> (event: JSONValue?, start: String?, end: String?) {
        let reply = try await call("read the context of \(eventID)",
                                   path: "/_matrix/client/v3/rooms/\(Self.segment(roomID))/context/\(Self.segment(eventID))",
                                   query: [("limit", "0")])
        return (reply["event"], reply["start"]?.stringValue, reply["end"]?.stringValue)
    }

    // MARK: Plumbing

    /// Percent-encodes one path segment: room ids, aliases and event ids contain `!`, `#`, `$`, `:`.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(segment($0.0))=\(segment($0.1))" }.joined(separator: "&")
    }

    /// One API call with the retry rules, its reply decoded as JSON. A 2xx GET whose body does not parse
    /// is retried like a 5xx (bounded by the policy): a reply cut short in transit (a proxy, or a connection
    /// dropped right where a matching `Content-Length` ended) is a passing fault, and failing the room for it
    /// would leave the room behind until the next run. Other methods are not repeated: a POST may act twice.
    func call(_ step: String, method: String = "GET", path: String, query: [(String, String)] = [],
              body: JSONValue? = nil, authenticated: Bool = true, maxResponseBytes: Int? = nil) async throws -> JSONValue {
        let data = body.map { Data(JSONCoding.encode($0).utf8) }
        var attempt = 0
        while true {
            attempt += 1
            let response = try await exchange(step, method: method, path: path, query: query, body: data,
                                              accept: "application/json", authenticated: authenticated,
                                              maxResponseBytes: maxResponseBytes)
            // Too large to read is not a passing fault: retrying the same request gets the same reply.
            if response.exceededLimit { throw MatrixError.replyTooLarge(step: step, status: response.status) }
            do {
                return try JSONCoding.decode(response.body)
            } catch let failure as JSONParser.Failure where failure.exceedsValueLimit {
                // Too many values to hold is "too large" as well: a smaller page is the way forward.
                throw MatrixError.replyTooLarge(step: step, status: response.status)
            } catch {
                let invalid = MatrixError(step: step, status: response.status, errcode: nil,
                                          serverMessage: "the reply is not valid JSON (\(response.body.count) bytes; cut short?)")
                guard method == "GET", let delay = retryPolicy.delay(after: .transient, attempt: attempt) else {
                    throw invalid
                }
                try await sleeper(delay)
            }
        }
    }

    /// One request with the retry rules: 429 waits what the server asks (`Retry-After` or `retry_after_ms`,
    /// the longer), up to the policy's limit; 5xx, timeouts and dropped connections back off exponentially;
    /// an unknown token is refreshed once (when a refresh token is held, with or without `soft_logout`)
    /// and the request repeated. Returns
    /// the first 2xx response; anything else ends as a `MatrixError`.
    func exchange(_ step: String, method: String = "GET", path: String, query: [(String, String)] = [],
                  body: Data? = nil, accept: String, authenticated: Bool = true, timeoutSeconds: Int64? = nil,
                  maxResponseBytes: Int? = nil, retryPolicy policy: RetryPolicy? = nil,
                  extraHeaders: [(String, String)] = []) async throws -> HTTPResponseData {
        let policy = policy ?? retryPolicy
        var attempt = 0
        var refreshed = false
        while true {
            attempt += 1
            var headers = [("Accept", accept)]
            let sentToken = credentials.accessToken
            if authenticated { headers.append(("Authorization", "Bearer \(sentToken)")) }
            if body != nil { headers.append(("Content-Type", "application/json")) }
            headers += extraHeaders
            let request = HTTPRequestSpec(method: method, url: baseURL + path + Self.queryString(query),
                                          headers: headers, body: body,
                                          timeoutSeconds: timeoutSeconds ?? requestTimeoutSeconds,
                                          maxResponseBytes: maxResponseBytes)
            let failure: RetryPolicy.Failure
            let lastError: any Error
            do {
                traffic.requests += 1
                let response = try await transport.send(request)
                traffic.bytesReceived += Int64(response.body.count)
                if (200..<300).contains(response.status) { return response }
                let error = Self.matrixError(step: step, response: response)
                // The spec: a client holding a refresh token refreshes on M_UNKNOWN_TOKEN; `soft_logout`
                // only says whether the session survives a failed refresh.
                if response.status == 401, error.errcode == "M_UNKNOWN_TOKEN",
                   authenticated, !refreshed, credentials.refreshToken != nil {
                    refreshed = true
                    // Rooms synced at once (`--jobs`) meet an expired token together, and a refresh token
                    // is single-use: only a request that holds the current token refreshes (once, shared by
                    // all that ask meanwhile); the others repeat with the token it got.
                    if credentials.accessToken == sentToken { try await refreshOnce() }
                    attempt -= 1
                    continue
                }
                failure = Self.classify(response, errcode: error.errcode, now: clock.now())
                lastError = policy.waitIsTooLong(failure) ? Self.tooLongWait(step: step, failure) : error
            } catch let error as TransportFailure {
                lastError = MatrixError(step: step, status: nil, errcode: nil,
                                        serverMessage: "connection failed: \(error.description)")
                failure = .transient
            }
            guard let delay = policy.delay(after: failure, attempt: attempt) else { throw lastError }
            try await sleeper(delay)
        }
    }

    static func matrixError(step: String, response: HTTPResponseData) -> MatrixError {
        let json = try? JSONCoding.decode(response.body)
        return MatrixError(step: step, status: response.status, errcode: json?["errcode"]?.stringValue,
                           serverMessage: json?["error"]?.stringValue,
                           softLogout: json?["soft_logout"]?.boolValue ?? false)
    }

    static func classify(_ response: HTTPResponseData, errcode: String?, now: Timestamp) -> RetryPolicy.Failure {
        if response.status == 429 || errcode == "M_LIMIT_EXCEEDED" {
            let body = (try? JSONCoding.decode(response.body))?["retry_after_ms"]?.int64Value
            let header = response.retryAfter.flatMap { RetryAfter.milliseconds($0, now: now) }
            let waits = [body, header].compactMap { $0 }
            return .rateLimited(retryAfterMs: waits.max())
        }
        if response.status >= 500 || response.status == 408 { return .transient }
        return .permanent
    }

    /// The error of a rate limit longer than the run waits: it says how long, so an operator can decide.
    static func tooLongWait(step: String, _ failure: RetryPolicy.Failure) -> MatrixError {
        guard case .rateLimited(let milliseconds?) = failure else {
            return MatrixError(step: step, status: 429, errcode: "M_LIMIT_EXCEEDED", serverMessage: nil)
        }
        let seconds = milliseconds >= Int64.max / 2 ? "forever" : "\((milliseconds + 999) / 1000) s"
        return MatrixError(step: step, status: 429, errcode: "M_LIMIT_EXCEEDED",
                           serverMessage: "the server asks to wait \(seconds) before the next request, longer than "
                               + "a run waits; try again later")
    }

    /// One refresh at a time: callers arriving while one is under way wait for it instead of spending the
    /// refresh token a second time.
    private func refreshOnce() async throws {
        if let refreshing { return try await refreshing.value }
        // Cleared by the task itself as it ends (on this actor), not by this caller when it resumes: a
        // request that meets a 401 on the new token in between must start a refresh of its own, not be
        // handed this finished one.
        let task = Task {
            defer { self.refreshing = nil }
            try await self.refresh()
        }
        refreshing = task
        try await task.value
    }

    /// `POST /refresh`: exchanges the refresh token for a new pair, persisted before use.
    private func refresh() async throws {
        guard let refreshToken = credentials.refreshToken else { return }
        let reply = try await call("refresh the access token", method: "POST", path: "/_matrix/client/v3/refresh",
                                   body: ["refresh_token": .string(refreshToken)], authenticated: false)
        guard let accessToken = reply["access_token"]?.stringValue else {
            throw MatrixError(step: "refresh the access token", status: nil, errcode: nil,
                              serverMessage: "reply lacks access_token")
        }
        var updated = credentials
        updated.accessToken = accessToken
        updated.refreshToken = reply["refresh_token"]?.stringValue ?? refreshToken
        try persistCredentials(updated)
        credentials = updated
    }
}
