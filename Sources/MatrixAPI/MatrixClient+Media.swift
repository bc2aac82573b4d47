import ArchiveCore
import Foundation

/// What a media download gave.
public enum MediaDownload: Sendable {
    /// The body, whole, with the server's `Content-Type`.
    case bytes(Data, contentType: String?)
    /// The body (announced or streamed) was longer than the limit; nothing of it is kept.
    case tooLarge
}

extension MatrixClient {
    /// Fewer attempts than API calls: a remote server's media that fails keeps failing (Synapse answers
    /// 502 for it), and a sync with many such files should not spend a minute on each. Another run retries.
    static let mediaRetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 0.5, maxDelay: 5)

    /// Downloads `uri`, reading at most `maxBytes` of it. Uses the authenticated endpoint
    /// (`/_matrix/client/v1/media/download`, spec v1.11) and falls back to the legacy
    /// `/_matrix/media/v3/download` on servers that do not know it. Errors are `MatrixError`s whose
    /// status says what happened (404: gone, 403: not allowed).
    public func download(_ uri: MXCURI, maxBytes: Int) async throws -> MediaDownload {
        let suffix = "/\(Self.segment(uri.serverName))/\(Self.segment(uri.mediaID))"
        let step = "download \(uri)"
        do {
            return try await fetchMedia(step, path: "/_matrix/client/v1/media/download" + suffix, maxBytes: maxBytes)
        } catch let error as MatrixError where Self.isUnknownEndpoint(error) {
            return try await fetchMedia(step, path: "/_matrix/media/v3/download" + suffix, maxBytes: maxBytes)
        }
    }

    /// How servers without authenticated media answer for its path: Synapse-style `404 M_UNRECOGNIZED`, or a
    /// bare 400/405 from others. A plain 404 (`M_NOT_FOUND`) means the media is gone, not the endpoint.
    static func isUnknownEndpoint(_ error: MatrixError) -> Bool {
        switch error.status {
        case 404: error.errcode == "M_UNRECOGNIZED"
        case 400, 405: error.errcode == nil || error.errcode == "M_UNRECOGNIZED"
        default: false
        }
    }

    private func fetchMedia(_ step: String, path: String, maxBytes: Int) async throws -> MediaDownload {
        // Redirects (which v1 allows) are followed by async-http-client, which drops `Authorization` on a
        // redirect to another origin.
        let response = try await exchange(step, path: path, accept: "*/*",
                                          timeoutSeconds: 600, maxResponseBytes: maxBytes,
                                          retryPolicy: Self.mediaRetryPolicy,
                                          // The bytes as stored: a proxy's gzip would only be undone again,
                                          // and a file that compresses well would trip the client's
                                          // decompression-ratio guard.
                                          extraHeaders: [("Accept-Encoding", "identity")])
        if response.exceededLimit { return .tooLarge }
        return .bytes(response.body, contentType: response.contentType)
    }
}
