import ArchiveCore
import Foundation

/// Settings of the fault tests (kills, full disks): the default run is short enough for every `scripts/test`;
/// `scripts/test --long` (MXARCHIVE_TEST_LONG=1) runs more kills over more data.
enum FaultSettings {
    static var long: Bool { ProcessInfo.processInfo.environment["MXARCHIVE_TEST_LONG"] == "1" }

    /// Kills that must land (the process still running when SIGKILL arrives) per command.
    static var killsPerCommand: Int { long ? 60 : 20 }

    /// The PRNG seed: MXARCHIVE_TEST_KILL_SEED reproduces a failed run. The default run uses a fixed seed, so
    /// it is the same every time; the long run draws a new one each run (printed on failure) to explore.
    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_KILL_SEED"], let value = UInt64(text) {
            return value
        }
        return long ? UInt64.random(in: 1...UInt64.max) : 0x6D78_6172_6368_6976
    }()
}

/// SplitMix64: a small PRNG whose whole state is its seed, so a failure's kill moments can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Kill moments for one command: `count` times spread over `duration` (the length of a clean run), one in
/// each of `count` equal slices at a random point of its slice, so that they land in every phase of the
/// run (start-up, network, store writes, index, rename) rather than clustering.
/// What a kill attempt met: a process still running (`landed`), or one that had finished on its own after
/// `ranFor` seconds (a run faster than the clean run that set the kill moments).
struct KillOutcome {
    let landed: Bool
    let ranFor: Double?
}

struct KillMoments {
    private var generator: SeededGenerator
    let label: String
    let seed: UInt64

    init(label: String, seed: UInt64 = FaultSettings.seed) {
        self.label = label
        self.seed = seed
        // Each command gets its own stream from the one seed, so adding a command does not move the others.
        var mixed = SeededGenerator(seed: seed ^ UInt64(truncatingIfNeeded: label.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
        _ = mixed.next()
        generator = mixed
    }

    /// The delay for attempt `index` of `count`; attempts beyond `count` (a kill that came after the run
    /// had ended) draw again from the first 90 % of the run.
    mutating func delay(_ index: Int, of count: Int, duration: Double) -> Double {
        if index < count { return duration * (Double(index) + generator.unit()) / Double(count) }
        return duration * 0.9 * generator.unit()
    }

    /// Names the seed in a failure, so that `MXARCHIVE_TEST_KILL_SEED=… scripts/test` replays it.
    func context(_ index: Int, _ delay: Double) -> String {
        "\(label): kill #\(index) at \(String(format: "%.3f", delay)) s (MXARCHIVE_TEST_KILL_SEED=\(seed))"
    }
}

extension Archive {
    /// Starts `mxarchive --store STORE arguments…`, sends SIGKILL after `delay` seconds and waits for it. The
    /// outcome says whether the signal ended the process, or else how long the process ran on its own.
    func runKilled(_ arguments: [String], after delay: Double, environment extra: [String: String] = [:]) async throws -> KillOutcome {
        let started = Date()
        let process = try start(arguments, environment: extra)
        // Drain both pipes so a chatty process never blocks on a full pipe before its kill.
        for pipe in [process.standardOutput as! Pipe, process.standardError as! Pipe] {
            DispatchQueue.global().async { _ = pipe.fileHandleForReading.readDataToEndOfFile() }
        }
        // Sleep in short steps, so that a process that ends early is seen ending and timed.
        let deadline = started.addingTimeInterval(delay)
        while process.isRunning, Date() < deadline {
            try await Task.sleep(nanoseconds: UInt64(min(0.01, max(0, deadline.timeIntervalSinceNow)) * 1_000_000_000))
        }
        guard process.isRunning else {
            process.waitUntilExit()
            return KillOutcome(landed: false, ranFor: Date().timeIntervalSince(started))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let landed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return KillOutcome(landed: landed, ranFor: landed ? nil : Date().timeIntervalSince(started))
    }

    /// Runs to completion and returns the result with its wall-clock duration.
    func timedRun(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (RunResult, Double) {
        let started = Date()
        let result = try run(arguments, environment: extra)
        return (result, Date().timeIntervalSince(started))
    }

    /// The same archive in another folder (every file copied; the process that wrote it has ended). Only for
    /// offline commands: a copy shares the original's refresh token, which the server rotates on first use.
    func copy() throws -> Archive {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let copy = Archive(seed: seed, store: base.appendingPathComponent("store"), passwordFile: passwordFile)
        try FileManager.default.copyItem(at: store, to: copy.store)
        return copy
    }

    /// Removes the archive's folder (stores of the kill loops would otherwise pile up in TMPDIR).
    func remove() {
        try? FileManager.default.removeItem(at: store.deletingLastPathComponent())
    }

    /// `verify --json` passes, or the failure names its problems.
    func verifyProblems() throws -> String? {
        let result = try run(["verify", "--json"])
        return result.status == 0 ? nil : "verify exit \(result.status): \(result.stdout) \(result.stderr)"
    }

    /// Writes a secret (0600) beside the store and returns its path.
    func secretFile(_ name: String, _ text: String) throws -> String {
        let url = store.deletingLastPathComponent().appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data((text + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
        return url.path
    }
}
