import Foundation
import MatrixAPI
import Synchronization

/// A transport that answers from a script of responses and records the requests, so the retry and
/// refresh rules, and the pipelines above the client, are tested without a network.
public final class ScriptedTransport: HTTPTransport {
    public enum Step: Sendable {
        case reply(Int, String)
        /// A reply carrying a `Retry-After` header.
        case replyRetryAfter(Int, String, retryAfter: String)
        /// A reply larger than the transport reads (what `AsyncHTTPTransport` says past its cap).
        case tooLarge
        case drop
    }

    private let state: Mutex<(steps: [Step], requests: [HTTPRequestSpec])>

    public init(_ steps: [Step]) { state = Mutex((steps, [])) }

    public var requests: [HTTPRequestSpec] { state.withLock { $0.requests } }

    public func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData {
        let step = state.withLock { state -> Step in
            state.requests.append(request)
            return state.steps.isEmpty ? .reply(500, "{}") : state.steps.removeFirst()
        }
        switch step {
        case .reply(let status, let body): return HTTPResponseData(status: status, body: Data(body.utf8))
        case .replyRetryAfter(let status, let body, let retryAfter):
            return HTTPResponseData(status: status, body: Data(body.utf8), retryAfter: retryAfter)
        case .tooLarge: return HTTPResponseData(status: 200, body: Data(), exceededLimit: true)
        case .drop: throw TransportFailure("connection reset by peer")
        }
    }
}
