/// Runs a sync's rooms up to `jobs` at a time (`sync --jobs N`), on one `StoreWriterExecutor`.
///
/// Each room's walk stays sequential (fetch a page, store it, ask for the next), so at most one fetched
/// page per room waits to be stored, and at most `jobs` pages in all: memory grows with `jobs`, never with
/// the number of rooms. Results come back in the order the rooms were given, whatever order they finished
/// in. An error thrown by a room (one that ends the run: the body reports a room's own failures as its
/// result) cancels the rooms still running, waits for them (a page being stored is stored whole) and is
/// rethrown; rooms not yet started are not started.
///
/// The loop that collects results and cancels the other rooms runs on the writer's queue too, not on Swift's
/// shared cooperative pool. The writer is a serial DispatchQueue, served by libdispatch's own threads and
/// not limited to the pool's width (one thread per core), so the rooms go on running while the pool is busy
/// with blocking work elsewhere; the loop must not be the one left waiting for a pool thread, or a
/// run-ending error goes unacted on while the rooms beside it go on fetching and storing (seen in the whole
/// test suite: the room beside a revoked token stored all its pages).
struct RoomScheduler {
    let jobs: Int
    private let writer = StoreWriterExecutor()

    init(jobs: Int) {
        self.jobs = max(1, jobs)
    }

    func run<Room: Sendable, Outcome: Sendable>(
        _ rooms: [Room], _ body: @escaping @Sendable (Room) async throws -> Outcome
    ) async throws -> [Outcome] {
        guard !rooms.isEmpty else { return [] }
        return try await withTaskExecutorPreference(writer) {
            try await collect(rooms, body)
        }
    }

    private func collect<Room: Sendable, Outcome: Sendable>(
        _ rooms: [Room], _ body: @escaping @Sendable (Room) async throws -> Outcome
    ) async throws -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: rooms.count)
        try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0
            func startNext() {
                guard next < rooms.count else { return }
                let index = next
                let room = rooms[index]
                next += 1
                group.addTask(executorPreference: writer) { (index, try await body(room)) }
            }
            for _ in 0..<min(jobs, rooms.count) { startNext() }
            // The first error leaves the loop; the group then cancels and awaits the rooms still running.
            while let (index, outcome) = try await group.next() {
                outcomes[index] = outcome
                try Task.checkCancellation()
                startNext()
            }
        }
        return outcomes.compactMap { $0 }
    }
}
