@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// The store's guard against two threads in one connection (`ExclusiveAccess`): an overlapping entry from
/// another thread is detected (the store then traps), re-entry from the same thread is not.
@Suite struct ExclusiveAccessTests {
    /// Whether `access` lets a fresh thread in right now.
    func otherThreadEnters(_ access: ExclusiveAccess) -> Bool {
        let done = DispatchSemaphore(value: 0)
        let entered = LockedFlag()
        Thread {
            if access.enter() {
                entered.set()
                access.leave()
            }
            done.signal()
        }.start()
        done.wait()
        return entered.value
    }

    @Test func anOverlappingEntryFromAnotherThreadIsCaught() {
        let access = ExclusiveAccess()
        #expect(access.enter())
        #expect(access.enter(), "re-entry from the same thread (a statement inside a transaction)")
        #expect(!otherThreadEnters(access))
        access.leave()
        #expect(!otherThreadEnters(access), "still inside the outer entry")
        access.leave()
        #expect(otherThreadEnters(access), "one after the other is fine")
    }

    /// The store's connection runs every statement inside the guard: while another thread holds it, the
    /// store's entry is refused (what would trap).
    @Test func theStoresStatementsRunInsideTheGuard() throws {
        let store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-exclusive"))
        let access = store.db.access
        // Handed to another thread on purpose: the misuse the guard catches.
        let database = UncheckedBox(store.db)
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let nested = LockedFlag()
        Thread {
            _ = try? database.value.transaction {
                entered.signal()
                release.wait()
            }
            done.signal()
        }.start()
        entered.wait()
        #expect(!access.enter(), "a transaction on another thread is not inside the guard")
        release.signal()
        done.wait()
        #expect(access.enter())
        _ = try store.syncBatch()  // a store call from the thread inside: re-entry
        nested.set()
        access.leave()
        #expect(nested.value)
    }
}

final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}
