import ArchiveCore
import Foundation

/// One HTTP exchange, independent of the client library, so the Matrix client can run over a transport
/// that replays recorded pages in tests.
public struct HTTPRequestSpec: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Data?
    public var timeoutSeconds: Int64
    /// Media downloads: read at most this many body bytes; a longer body (by `Content-Length` or as it
    /// streams) is abandoned and answered with `exceededLimit`. Nil: the transport's own cap, and a longer
    /// reply is a failure.
    public var maxResponseBytes: Int?

    public init(method: String, url: String, headers: [(String, String)] = [], body: Data? = nil,
                timeoutSeconds: Int64 = 60, maxResponseBytes: Int? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.maxResponseBytes = maxResponseBytes
    }
}

public struct HTTPResponseData: Sendable {
    public var status: Int
    public var body: Data
    /// The `Content-Type` header, for media whose event does not say.
    public var contentType: String?
    /// The body was longer than the request's `maxResponseBytes`; `body` is then empty.
    public var exceededLimit: Bool
    /// The `Retry-After` header (seconds or an HTTP date), which current servers send with 429.
    public var retryAfter: String?

    public init(status: Int, body: Data, contentType: String? = nil, exceededLimit: Bool = false,
                retryAfter: String? = nil) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.exceededLimit = exceededLimit
        self.retryAfter = retryAfter
    }
}

/// Sends requests. Throws only for failures below HTTP (connection refused or dropped, timeout); any
/// HTTP status is a response.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData
}

/// Thrown by transports when no HTTP response arrived. Retried with backoff.
public struct TransportFailure: ReportableError {
    public var category: ErrorCategory { .failure }
    public let description: String
    public init(_ description: String) { self.description = description }
}
