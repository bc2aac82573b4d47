/// When to try a request again. Pure, so the rules are tested without a network.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// The longest rate-limit wait a run accepts (seconds). A server asking for more ends the request
    /// with a message saying so, rather than the run waiting for hours (or silently less than asked).
    public var maxRateLimitWait: Double

    public init(maxAttempts: Int = 8, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRateLimitWait: Double = 300) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRateLimitWait = maxRateLimitWait
    }

    public enum Failure: Sendable, Hashable {
        /// 429 `M_LIMIT_EXCEEDED`, with the wait the server asked for (the longer of `retry_after_ms` and
        /// the `Retry-After` header) when it gave one.
        case rateLimited(retryAfterMs: Int64?)
        /// 5xx, 408, or a connection that dropped or timed out.
        case transient
        /// Anything else (4xx): retrying cannot help.
        case permanent
    }

    /// Seconds to wait before attempt `attempt + 1` (attempts count from 1), or nil to give up.
    public func delay(after failure: Failure, attempt: Int) -> Double? {
        guard attempt < maxAttempts else { return nil }
        switch failure {
        case .permanent:
            return nil
        case .rateLimited(let retryAfter?):
            // The server knows best; a wait longer than the run accepts gives up instead (see
            // `waitIsTooLong`), so that the caller can say why.
            let seconds = Double(max(retryAfter, 0)) / 1000
            return seconds <= maxRateLimitWait ? seconds : nil
        case .rateLimited(nil), .transient:
            let exponent = Double(min(attempt - 1, 30))
            return min(baseDelay * pow2(exponent), maxDelay)
        }
    }

    /// True when a rate limit asks for longer than this run waits: the request ends with that reason.
    public func waitIsTooLong(_ failure: Failure) -> Bool {
        if case .rateLimited(let retryAfter?) = failure { return Double(max(retryAfter, 0)) / 1000 > maxRateLimitWait }
        return false
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}
