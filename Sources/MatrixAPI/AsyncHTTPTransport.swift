import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The production transport: async-http-client's shared client (connection pooling, keep-alive).
public struct AsyncHTTPTransport: HTTPTransport {
    /// Replies larger than this are refused: a `/messages` page of 1,000 events is a few MB at most.
    public var maxResponseBytes = 64 * 1024 * 1024

    public init() {}

    public func send(_ spec: HTTPRequestSpec) async throws -> HTTPResponseData {
        var request = HTTPClientRequest(url: spec.url)
        request.method = HTTPMethod(rawValue: spec.method)
        for (name, value) in spec.headers { request.headers.add(name: name, value: value) }
        if let body = spec.body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(spec.timeoutSeconds))
            let status = Int(response.status.code)
            let contentType = response.headers.first(name: "Content-Type")
            let retryAfter = response.headers.first(name: "Retry-After")
            guard let limit = spec.maxResponseBytes else {
                do {
                    let buffer = try await response.body.collect(upTo: maxResponseBytes)
                    return HTTPResponseData(status: status, body: Data(buffer.readableBytesView),
                                            contentType: contentType, retryAfter: retryAfter)
                } catch is NIOTooManyBytesError {
                    // Said as such, not as a dropped connection: retrying the same request cannot help.
                    return HTTPResponseData(status: status, body: Data(), contentType: contentType, exceededLimit: true)
                }
            }
            // Bounded read: refuse by the announced length without reading, else stop as soon as the
            // streamed body passes the limit (leaving the loop abandons the rest and the connection).
            let tooLarge = HTTPResponseData(status: status, body: Data(), contentType: contentType, exceededLimit: true)
            if let announced = response.headers.first(name: "Content-Length").flatMap(Int.init), announced > limit {
                return tooLarge
            }
            var body = Data()
            for try await chunk in response.body {
                guard body.count + chunk.readableBytes <= limit else { return tooLarge }
                body.append(contentsOf: chunk.readableBytesView)
            }
            return HTTPResponseData(status: status, body: body, contentType: contentType)
        } catch {
            throw Self.transportError(error)
        }
    }

    /// A request of a cancelled task (the run ended: a revoked token, a room beside it failed the run)
    /// is a cancellation, not a dropped connection: retried as transient, it would run on for minutes.
    /// async-http-client says so with `HTTPClientError.cancelled`.
    static func transportError(_ error: any Error) -> any Error {
        if error is CancellationError || (error as? HTTPClientError) == .cancelled || Task.isCancelled {
            return CancellationError()
        }
        return TransportFailure("\(error)")
    }
}
