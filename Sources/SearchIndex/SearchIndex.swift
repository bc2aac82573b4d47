import ArchiveCore
import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Where an index lives and how it is split: one Xapian database per shard (`shard-0`, `shard-1`, …) in a
/// folder of the store. A message always goes to the shard its event id hashes to, so replacing or removing
/// it finds it again; searching opens every shard together as one database.
public struct SearchIndexLayout: Sendable, Hashable {
    public let directory: URL
    public let shards: Int
    public let language: String

    public init(directory: URL, shards: Int, language: String) {
        self.directory = directory
        self.shards = max(1, shards)
        self.language = language
    }

    public var shardPaths: [String] {
        (0..<shards).map { directory.appendingPathComponent("shard-\($0)").path }
    }

    public func shard(of eventID: String) -> Int { Int(FNV1a.hash(eventID) % UInt64(shards)) }

    /// True when every shard exists on disk.
    public var exists: Bool {
        shardPaths.allSatisfy { FileManager.default.fileExists(atPath: $0 + "/iamglass") }
    }

    /// The language names Xapian stems (and `none`).
    public static func isValidLanguage(_ name: String) -> Bool {
        supportedLanguages.contains(name.lowercased())
    }

    public static let supportedLanguages: [String] = [
        "none", "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english", "finnish", "french",
        "german", "greek", "hindi", "hungarian", "indonesian", "irish", "italian", "lithuanian", "nepali",
        "norwegian", "portuguese", "romanian", "russian", "spanish", "swedish", "tamil", "turkish",
    ]
}

/// Writes the index: one writer per shard, each on its own thread, so indexing uses every core. Actions
/// are queued to the shard that owns them (bounded queues keep memory flat); `commit()` waits until every
/// queued action is written and every shard committed. Not for use from several threads at once.
public final class SearchIndexWriter: @unchecked Sendable {
    public let layout: SearchIndexLayout
    private let workers: [ShardWorker]
    /// `replace` (incremental updates) looks each document up by id; a fresh build only adds.
    private let replace: Bool

    /// Opens (creating when missing) every shard. `fresh` empties them first: a rebuild.
    public init(layout: SearchIndexLayout, fresh: Bool) throws {
        self.layout = layout
        replace = !fresh
        // The index holds message text: private like the rest of the store (Xapian creates files as the
        // umask allows).
        umask(0o077)
        try FileManager.default.createDirectory(at: layout.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        workers = try layout.shardPaths.map {
            ShardWorker(writer: try XapianWriter(path: $0, overwrite: fresh, language: layout.language))
        }
        for worker in workers { worker.start() }
    }

    deinit { close() }

    /// Queues actions; blocks only while a shard's queue is full.
    public func submit(_ actions: [SearchDocument.Action]) throws {
        var perShard = Array(repeating: [ShardWorker.Operation](), count: workers.count)
        for action in actions {
            switch action {
            case .put(let document): perShard[layout.shard(of: document.eventID)].append(.put(PreparedDocument(document)))
            case .delete(let eventID): perShard[layout.shard(of: eventID)].append(.delete(eventID))
            case .skip: continue
            }
        }
        for (index, batch) in perShard.enumerated() where !batch.isEmpty {
            try workers[index].enqueue(.batch(batch, replace: replace))
        }
    }

    /// Waits for everything queued and commits every shard; rethrows the first failure of any shard.
    public func commit() throws {
        let done = DispatchSemaphore(value: 0)
        for worker in workers { try worker.enqueue(.commit(done)) }
        for _ in workers { done.wait() }
        for worker in workers { if let error = worker.failure { throw error } }
    }

    /// Documents in all shards (after a commit).
    public func documentCount() throws -> Int {
        try commit()
        return try workers.reduce(0) { $0 + (try $1.documentCount()) }
    }

    /// Stops the threads. Pending actions are written; call `commit()` first to know they were.
    public func close() {
        for worker in workers { worker.stop() }
    }
}

/// One shard's writer and the thread that owns it.
final class ShardWorker: @unchecked Sendable {
    enum Operation {
        case put(PreparedDocument)
        case delete(String)
    }

    enum Job {
        case batch([Operation], replace: Bool)
        case commit(DispatchSemaphore)
        case stop
    }

    /// Released when the thread stops: Xapian's write lock goes with it.
    private var writer: XapianWriter?
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopped = false
    private var thread: Thread?
    private var _failure: (any Error)?
    private let finished = DispatchSemaphore(value: 0)
    static let maxQueued = 8

    private let name: String

    init(writer: XapianWriter) {
        self.writer = writer
        name = "mxarchive-index-\(writer.path.split(separator: "/").last ?? "")"
    }

    var failure: (any Error)? { condition.withLock { _failure } }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.stackSize = 4 << 20
        self.thread = thread
        thread.start()
    }

    func enqueue(_ job: Job) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure = _failure { throw failure }
        while queue.count >= Self.maxQueued { condition.wait() }
        queue.append(job)
        condition.broadcast()
    }

    func stop() {
        condition.lock()
        guard !stopped, thread != nil else { condition.unlock(); return }
        stopped = true
        queue.append(.stop)
        condition.broadcast()
        condition.unlock()
        finished.wait()
        writer = nil
        // The thread's block holds this worker: dropping the thread breaks the cycle, which otherwise kept
        // both alive after every writer closed (found by the FuzzSearchQuery fuzz target's leak check).
        condition.withLock { thread = nil }
    }

    func documentCount() throws -> Int {
        // Only called after commit(), while the thread is idle.
        guard let writer else { return 0 }
        return try writer.documentCount()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let job = queue.removeFirst()
            condition.broadcast()
            let failed = _failure != nil
            condition.unlock()
            switch job {
            case .stop:
                finished.signal()
                return
            case .commit(let done):
                if !failed, let writer { record { try writer.commit() } }
                done.signal()
            case .batch(let actions, let replace):
                guard !failed, let writer else { continue }
                record {
                    for action in actions {
                        switch action {
                        case .put(let document): try writer.put(document, replace: replace)
                        case .delete(let eventID): try writer.delete(eventID: eventID)
                        }
                    }
                }
            }
        }
    }

    private func record(_ body: () throws -> Void) {
        do { try body() } catch {
            condition.withLock { if _failure == nil { _failure = error } }
        }
    }
}
