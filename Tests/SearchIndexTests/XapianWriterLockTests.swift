import Foundation
@testable import SearchIndex
import Testing
import TestSupport

/// A shard closed a moment ago opens again while other threads spawn processes.
///
/// Xapian's write lock is an open-file-description lock, and a child spawned by any thread of the process
/// holds a copy of the description until it execs: a reopen in that instant was refused as "being written
/// by another mxarchive process" (seen once in the unit suite, where tests run node and schema validators
/// beside the index tests). The writer now tries again for about a second before it says so.
@Suite struct XapianWriterLockTests {
    @Test func aClosedShardReopensWhileOtherThreadsSpawnProcesses() throws {
        let path = try shardPath()
        let spawning = SpawnLoop()
        spawning.start()
        defer { spawning.stop() }
        // The opens run beside at least 20 spawns (on a loaded machine the first one can take a while).
        spawning.waitForFirstSpawn()
        let before = spawning.spawned
        var opens = 0
        while opens < 300 || spawning.spawned < before + 20 {
            let writer = try XapianWriter(path: path, overwrite: false, language: "none")
            try writer.commit()
            opens += 1
        }
        #expect(opens >= 300)
    }

    /// A writer that really holds the lock is still reported as such, after the retries.
    @Test func aHeldLockIsStillAnError() throws {
        let path = try shardPath()
        let holder = try XapianWriter(path: path, overwrite: false, language: "none")
        defer { withExtendedLifetime(holder) {} }
        #expect {
            _ = try XapianWriter(path: path, overwrite: false, language: "none")
        } throws: { error in
            (error as? SearchIndexError)?.isLocked == true
                && "\(error)" == "the search index is being written by another mxarchive process"
        }
    }
}

private func shardPath() throws -> String {
    let directory = uniqueTemporaryDirectory("mxa-xapian-lock")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("shard-0").path
}

/// Spawns `/bin/true` over and over on a thread of its own until stopped.
private final class SpawnLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var count = 0
    private let done = DispatchSemaphore(value: 0)

    var spawned: Int { lock.withLock { count } }
    private let first = DispatchSemaphore(value: 0)

    func waitForFirstSpawn() { first.wait() }

    func start() {
        Thread { [self] in
            while !lock.withLock({ stopped }) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/true")
                if (try? process.run()) != nil {
                    process.waitUntilExit()
                    if lock.withLock({ count += 1; return count }) == 1 { first.signal() }
                }
            }
            done.signal()
        }.start()
    }

    func stop() {
        lock.withLock { stopped = true }
        done.wait()
    }
}
