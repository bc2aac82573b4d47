import Foundation
@testable import MatrixAPI
import Testing

/// A request of a cancelled task surfaces as `CancellationError`, which the client does not retry, never as
/// a `TransportFailure` (retried as a dropped connection for minutes after the run ended).
@Suite struct TransportCancellationTests {
    struct Dropped: Error {}

    @Test func aFailureInACancelledTaskIsACancellation() async {
        let task = Task {
            while !Task.isCancelled { await Task.yield() }
            return AsyncHTTPTransport.transportError(Dropped())
        }
        task.cancel()
        #expect(await task.value is CancellationError)
    }

    @Test func aFailureOutsideOneIsATransportFailure() {
        #expect(AsyncHTTPTransport.transportError(Dropped()) is TransportFailure)
        #expect(AsyncHTTPTransport.transportError(CancellationError()) is CancellationError)
    }
}
