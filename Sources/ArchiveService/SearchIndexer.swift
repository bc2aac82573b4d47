import ArchiveCore
import ArchiveStore
import Foundation
import SearchIndex

/// How an index run went.
public struct IndexRunResult: Sendable, Hashable {
    public var documentsWritten = 0
    public var documentsRemoved = 0
    public var rebuilt = false
    public var cursor: Int64 = 0
    public var seconds = 0.0

    public init() {}
}

/// Keeps the search index in step with the store. The store is the source of truth: the indexer reads the
/// events changed since its cursor (`change_seq`), writes them to the index, commits, and only then moves
/// the cursor in the store — so a crash anywhere between the two is repaired by the next run, which simply
/// redoes the changes after the old cursor (replacing a document by its id term is idempotent).
///
/// The index is rebuilt from scratch when there is none, when its folder does not carry the build id the
/// store expects (a crash mid-swap, a copied folder), or on request (`reindex`, another language). A rebuild
/// writes into `index.new` and swaps it in when complete; searches meanwhile see the old index.
public final class SearchIndexer: @unchecked Sendable {
    public static let defaultLanguage = "english"
    public static var defaultShards: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8) }
    static let batchSize = 2_000
    static let commitEvery = 100_000

    let store: ArchiveStore
    let storeDirectory: URL
    private var writer: SearchIndexWriter?
    private var state: SearchIndexState?
    /// Changes written to the index but not committed yet (the store's cursor is still before them).
    private var uncommitted = false

    /// Opens its own connection to the store, so it can run on its own thread beside a sync.
    public init(storeDirectory: URL) throws {
        self.storeDirectory = storeDirectory
        store = try ArchiveStore(directory: storeDirectory, create: false)
    }

    public static func indexDirectory(store: URL) -> URL { store.appendingPathComponent("index") }
    static func buildMarker(_ directory: URL) -> URL { directory.appendingPathComponent("build-id") }

    /// The layout of the current index, if the store and the index folder agree on one.
    public static func currentLayout(store: ArchiveStore) throws -> (SearchIndexLayout, SearchIndexState)? {
        guard let state = try store.searchIndexState() else { return nil }
        let directory = indexDirectory(store: store.directory)
        let marker = try? String(contentsOf: buildMarker(directory), encoding: .utf8)
        let layout = SearchIndexLayout(directory: directory, shards: state.shards, language: state.language)
        guard marker?.trimmingCharacters(in: .whitespacesAndNewlines) == state.buildID, layout.exists else { return nil }
        return (layout, state)
    }

    /// Brings the index up to date: a rebuild when needed (or when `rebuild`, `language` or `shards` ask
    /// for one), then every change after the cursor.
    /// `commit: false` leaves what this round wrote uncommitted (and the cursor where it was) for a later
    /// round to commit: a sync commits once at its end instead of after every page, since each commit syncs
    /// every shard to disk.
    @discardableResult
    public func catchUp(rebuild: Bool = false, language: String? = nil, shards: Int? = nil,
                        commit: Bool = true) throws -> IndexRunResult {
        let started = Date()
        var result = IndexRunResult()
        if writer == nil {
            let current = try Self.currentLayout(store: store)
            let wantLanguage = language ?? current?.1.language ?? Self.defaultLanguage
            let wantShards = shards ?? current?.1.shards ?? Self.defaultShards
            if let (layout, state) = current, !rebuild, layout.language == wantLanguage, layout.shards == wantShards {
                writer = try SearchIndexWriter(layout: layout, fresh: false)
                self.state = state
            } else {
                try build(language: wantLanguage, shards: wantShards, result: &result)
            }
        }
        try applyChanges(result: &result, commit: commit)
        result.cursor = state?.cursor ?? 0
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// Closes the index writer (its threads end).
    public func close() {
        writer?.close()
        writer = nil
    }

    deinit { close() }

    private func build(language: String, shards: Int, result: inout IndexRunResult) throws {
        let directory = Self.indexDirectory(store: storeDirectory)
        let staging = storeDirectory.appendingPathComponent("index.new")
        let fileManager = FileManager.default
        try? fileManager.removeItem(at: staging)
        let layout = SearchIndexLayout(directory: staging, shards: shards, language: language)
        let buildID = UUID().uuidString
        let through = try store.latestChange()
        let fresh = try SearchIndexWriter(layout: layout, fresh: true)
        var cursor: Int64 = 0
        // Every event changed up to `through`, in change order; anything changed after that (also rows
        // read here and changed since) comes again in the incremental catch-up that follows.
        while true {
            let (events, last) = try store.changedEvents(after: cursor, through: through, limit: Self.batchSize)
            guard let last else { break }
            let actions = events.map(SearchDocument.action(for:)).filter {
                if case .put = $0 { return true } else { return false }
            }
            result.documentsWritten += actions.count
            try fresh.submit(actions)
            cursor = last
        }
        try fresh.commit()
        fresh.close()
        try Data(buildID.utf8).write(to: Self.buildMarker(staging))
        let newState = SearchIndexState(buildID: buildID, language: language, shards: shards, cursor: through)
        // Record the new build, then swap folders: a crash between the two leaves a folder whose build id
        // the store does not expect, which the next run rebuilds.
        try store.saveSearchIndexState(newState)
        let old = storeDirectory.appendingPathComponent("index.old")
        try? fileManager.removeItem(at: old)
        if fileManager.fileExists(atPath: directory.path) { try fileManager.moveItem(at: directory, to: old) }
        try fileManager.moveItem(at: staging, to: directory)
        try? fileManager.removeItem(at: old)
        state = newState
        result.rebuilt = true
        writer = try SearchIndexWriter(layout: SearchIndexLayout(directory: directory, shards: shards, language: language),
                                       fresh: false)
    }

    private func applyChanges(result: inout IndexRunResult, commit: Bool) throws {
        guard let writer, var state else { return }
        var sinceCommit = 0
        var moved = uncommitted
        while true {
            let (events, last) = try store.changedEvents(after: state.cursor, limit: Self.batchSize)
            guard let last else { break }
            let actions = events.map(SearchDocument.action(for:))
            for action in actions {
                switch action {
                case .put: result.documentsWritten += 1
                case .delete: result.documentsRemoved += 1
                case .skip: break
                }
            }
            try writer.submit(actions)
            state.cursor = last
            moved = true
            sinceCommit += events.count
            if sinceCommit >= Self.commitEvery {
                try writer.commit()
                try store.setSearchIndexCursor(state.cursor, buildID: state.buildID)
                sinceCommit = 0
            }
        }
        self.state = state
        uncommitted = moved
        if moved && commit {
            try writer.commit()
            try store.setSearchIndexCursor(state.cursor, buildID: state.buildID)
            uncommitted = false
        }
    }
}

/// Runs a `SearchIndexer` on its own thread beside a sync: each stored page wakes it, it catches up,
/// and `finish()` waits for the last page to be indexed. Fetching, storing and indexing then overlap, so a
/// sync takes about as long as its slowest stage.
public final class BackgroundIndexer: @unchecked Sendable {
    private let indexer: SearchIndexer
    private let condition = NSCondition()
    private var pending = false
    private var finishing = false
    private var done = false
    private var failure: (any Error)?
    private var total = IndexRunResult()

    public init(storeDirectory: URL) throws {
        indexer = try SearchIndexer(storeDirectory: storeDirectory)
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "mxarchive-indexer"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// New events were stored.
    public func poke() {
        condition.withLock {
            pending = true
            condition.broadcast()
        }
    }

    /// Indexes what is left and stops; throws what indexing failed with.
    public func finish() throws -> IndexRunResult {
        condition.lock()
        finishing = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
        indexer.close()
        if let failure { throw failure }
        return total
    }

    private func run() {
        var result = IndexRunResult()
        var error: (any Error)?
        while true {
            condition.lock()
            while !pending && !finishing { condition.wait() }
            let last = finishing
            pending = false
            condition.unlock()
            do {
                let round = try indexer.catchUp(commit: last)
                result.documentsWritten += round.documentsWritten
                result.documentsRemoved += round.documentsRemoved
                result.rebuilt = result.rebuilt || round.rebuilt
                result.cursor = round.cursor
            } catch let caught {
                error = caught
                break
            }
            if last { break }
        }
        condition.withLock {
            total = result
            failure = error
            done = true
            condition.broadcast()
        }
    }
}

/// Forwards sync progress and wakes the background indexer after every stored page.
public struct IndexingSyncObserver: SyncObserver {
    let base: (any SyncObserver)?
    let indexer: BackgroundIndexer

    public init(base: (any SyncObserver)?, indexer: BackgroundIndexer) {
        self.base = base
        self.indexer = indexer
    }

    public func roomStarted(roomID: String, name: String?) { base?.roomStarted(roomID: roomID, name: name) }
    public func roomsScheduled(_ count: Int) { base?.roomsScheduled(count) }

    public func pageStored(roomID: String, pages: Int, newEvents: Int, totalEvents: Int) {
        indexer.poke()
        base?.pageStored(roomID: roomID, pages: pages, newEvents: newEvents, totalEvents: totalEvents)
    }

    public func roomFinished(_ result: RoomSyncResult) { base?.roomFinished(result) }
    public func keyBackupChecked(_ report: KeyImportReport?, error: String?) {
        base?.keyBackupChecked(report, error: error)
    }

    public func upgradeLinkRefused(roomID: String, linkedFrom: String) {
        base?.upgradeLinkRefused(roomID: roomID, linkedFrom: linkedFrom)
    }

    public func mediaProgress(roomID: String, done: Int, total: Int) {
        base?.mediaProgress(roomID: roomID, done: done, total: total)
    }

    public func senderKeysChecked(_ outcome: SenderKeyCheckOutcome) { base?.senderKeysChecked(outcome) }
    public func syncTokenFallback(reason: String) { base?.syncTokenFallback(reason: reason) }
}
