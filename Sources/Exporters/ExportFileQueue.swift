import CMalloc
import Foundation

/// Runs an export's file writes (hashing, `open`/`write`, or the archive's compression) on a thread of
/// their own, one after another in the order they were handed over, while the caller renders the next
/// pages. On two cores this takes the file system off the export's critical path: `write` and `open`
/// were a fifth to a third of the main thread's samples in a 1,000,000-message HTML export, and creating
/// its 34,000 files right after a folder of as many was deleted cost ext4 up to 20 s of kernel time.
///
/// Memory stays bounded: `submit` waits while the queued jobs hold more than `limit` bytes (each counts
/// at least `minimumJobBytes`, so a flood of tiny files is bounded too; a job larger than the limit, such
/// as a spilled file or a large attachment, waits for an empty queue, so at most one of those is
/// queued). The first failure is kept; every later `submit` and `drain` throws it, and no queued write
/// runs after it.
///
/// Unchecked Sendable: `queued`, `failure` and `abandoned` are read and written only under `condition`;
/// the jobs run only on `queue`.
final class ExportFileQueue: @unchecked Sendable {
    /// One write, and the bytes it holds until it has run (an `ExportFile` the caller no longer touches).
    struct Job: @unchecked Sendable {
        let bytes: Int64
        let run: () throws -> Void
    }

    private let queue = DispatchQueue(label: "mxarchive.export-files")
    private let condition = NSCondition()
    private var queued: Int64 = 0
    private var failure: (any Error)?
    /// Set when the writer is torn down (a failed export): queued jobs are skipped.
    private var abandoned = false
    private let limit: Int64
    static let minimumJobBytes: Int64 = 4096

    init(limit: Int64 = 4 << 20) {
        self.limit = limit
        _ = Self.fixedMmapThreshold
    }

    /// Pages are allocated on the caller's thread and freed on this one, in another order than they came.
    /// glibc raises its mmap threshold to the largest block freed (up to 32 MB), so that pages of a few
    /// hundred KB then come from the heap, where that interleaving leaves holes it never returns: the
    /// 1,000,000-message export peaked at 200 MB instead of 133 MB. A fixed threshold (which turns off the
    /// raising) keeps every block of 128 KB or more in a mapping of its own, returned when freed.
    private static let fixedMmapThreshold: Void = { _ = mxa_fix_mmap_threshold(128 << 10) }()

    /// Queues `job` (waiting while the queue is full); throws an earlier job's failure instead.
    func submit(_ job: Job) throws {
        condition.lock()
        let bytes = max(job.bytes, Self.minimumJobBytes)
        while failure == nil && queued > 0 && queued + bytes > limit { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        queued += bytes
        condition.unlock()
        queue.async { [self] in
            condition.lock()
            let skipped = failure != nil || abandoned
            condition.unlock()
            var error: (any Error)?
            if !skipped {
                do { try job.run() } catch let thrown { error = thrown }
            }
            condition.lock()
            if let error, failure == nil { failure = error }
            queued -= bytes
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits until every queued job has run; throws the first failure. What the jobs wrote is visible to
    /// the caller from here on.
    func drain() throws {
        queue.sync {}
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    /// Skips every job not yet started and waits for the one running (a writer being torn down: the
    /// export failed, and what is queued would only be removed again).
    func abandon() {
        condition.lock()
        abandoned = true
        condition.unlock()
        queue.sync {}
    }
}
