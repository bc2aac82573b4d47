import Dispatch

/// The one thread of a parallel sync that touches the archive. `ArchiveStore` holds one SQLite connection
/// and is not thread-safe, so rooms synced at once must not store pages at the same moment. Rather than
/// thread a lock through every store call of a room's walk (code other changes keep touching), each room's
/// task prefers this executor: Swift then runs all of the task's nonisolated code — parsing, decrypting,
/// storing — here, one job after another, and only the awaited network requests overlap. A page is stored
/// in one synchronous call (one transaction, never across an await), so jobs never interleave inside one.
final class StoreWriterExecutor: TaskExecutor, @unchecked Sendable {
    // A serial queue: jobs run one at a time, in the order enqueued, each seeing the writes of the last.
    private let queue = DispatchQueue(label: "mxarchive.store-writer")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// A value that is not `Sendable` (the pipeline with its store connection) handed to room tasks that all
/// run on one `StoreWriterExecutor`, so it is never used from two threads at once.
struct WriterConfined<Value>: @unchecked Sendable {
    let value: Value
}
