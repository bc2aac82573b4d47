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
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            return HTTPResponseData(status: Int(response.status.code), body: Data(buffer.readableBytesView))
        } catch let error as HTTPClientError {
            throw TransportFailure("\(error)")
        } catch let error as NIOCore.IOError {
            throw TransportFailure("\(error)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportFailure("\(error)")
        }
    }
}
