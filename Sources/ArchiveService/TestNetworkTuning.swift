import ArchiveCore
import Foundation

/// Shorter network timings for the test suite's fault-injecting proxy, read from the environment. A stall
/// longer than the production request timeout (60 s) or the full back-off (up to 30 s a wait) would make
/// each injected fault cost minutes; these let the fault tests run in seconds while the retry rules (how
/// many attempts, what is retried) stay the production ones. Unset or unparsable values leave the defaults.
/// Documented in README ("Testing"); not meant for production use.
struct TestNetworkTuning {
    /// `MXARCHIVE_TEST_HTTP_TIMEOUT`: seconds one API request may take (default 60).
    let requestTimeoutSeconds: Int64
    /// `MXARCHIVE_TEST_RETRY_MAX_DELAY`: the longest back-off between attempts, seconds (default 30).
    let retryPolicy: RetryPolicy

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let timeout = environment["MXARCHIVE_TEST_HTTP_TIMEOUT"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
        requestTimeoutSeconds = timeout ?? 60
        var policy = RetryPolicy()
        if let maxDelay = environment["MXARCHIVE_TEST_RETRY_MAX_DELAY"].flatMap(Double.init), maxDelay > 0,
           maxDelay.isFinite {
            policy.maxDelay = maxDelay
            policy.baseDelay = min(policy.baseDelay, maxDelay)
        }
        retryPolicy = policy
    }
}
