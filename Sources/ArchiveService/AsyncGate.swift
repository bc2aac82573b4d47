/// One holder at a time, across tasks, waiting without blocking a thread (unlike a lock held over an
/// `await`). `sync --jobs N --media` runs the rooms' media passes through one gate: a download's reply may
/// be as large as the transport's cap, and N of them at once would multiply what a run holds in memory.
actor AsyncGate {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the gate to the next in line (first come, first served), or opens it.
    private func release() {
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }

    /// Runs `body` once no other holder is inside; the gate opens again however `body` ends.
    nonisolated func exclusively<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }
}
