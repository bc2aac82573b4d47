/// When to try a request again. Pure, so the rules are tested without a network.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 8, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public enum Failure: Sendable, Hashable {
        /// 429 `M_LIMIT_EXCEEDED`, with the server's `retry_after_ms` when it gave one.
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
            // The server knows best; still never wait unboundedly on a hostile value.
            return min(Double(max(retryAfter, 0)) / 1000, maxDelay * 4)
        case .rateLimited(nil), .transient:
            let exponent = Double(min(attempt - 1, 30))
            return min(baseDelay * pow2(exponent), maxDelay)
        }
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}
