import Foundation

/// Catches two threads inside one SQLite connection at once. The connection is opened NOMUTEX (no locking
/// of its own), so all access to a store must stay on one thread at a time; with `sync --jobs` that is the
/// store's writer (`StoreWriterExecutor`). A store call made from a room's task instead would corrupt the
/// connection's state silently and only sometimes; this makes it a trap with a clear message the first time
/// two uses overlap. Re-entry from the same thread (a statement inside a transaction) is fine.
final class ExclusiveAccess: @unchecked Sendable {
    private let lock = NSLock()
    private var owner: pthread_t?
    private var depth = 0

    /// Enters from the calling thread: false when another thread is inside (the overlap the guard exists
    /// to catch), and then nothing changes.
    func enter() -> Bool {
        lock.withLock {
            let me = pthread_self()
            if let owner, pthread_equal(owner, me) == 0 { return false }
            owner = me
            depth += 1
            return true
        }
    }

    func leave() {
        lock.withLock {
            depth -= 1
            if depth == 0 { owner = nil }
        }
    }

    /// Runs `body` as the only thread inside; traps when another thread already is.
    func during<T>(_ body: () throws -> T) rethrows -> T {
        guard enter() else {
            preconditionFailure("the archive's database was used from two threads at once: "
                                + "store access must stay on the store's writer (StoreWriterExecutor)")
        }
        defer { leave() }
        return try body()
    }
}
