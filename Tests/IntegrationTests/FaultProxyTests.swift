import ArchiveCore
import Foundation
import Testing

/// `scripts/fault-proxy.py` between the real `mxarchive` binary and the seeded Synapse: passing faults of
/// every kind must not change what a sync archives, and a fault that never clears must end the run after
/// bounded retries with what was fetched before it kept.
@Suite(.serialized) struct FaultProxyTests {
    /// Small rooms with a small page size: many requests, so the schedule reaches every fault type.
    static let rooms = ["#export:localhost", "#child-a:localhost", "#child-b:localhost"]
    static let pageSize = "2"
    /// The client's request timeout in these runs, and the proxy's stall (longer, so a stall times out).
    static let clientTimeout = 2
    static let stallSeconds = 4
    /// Test-only timings (README, "Testing"): a stall costs seconds, not a minute, and the production
    /// eight attempts of a fault that never clears take seconds, not a minute of back-off.
    static let environment = ["MXARCHIVE_TEST_HTTP_TIMEOUT": String(clientTimeout),
                              "MXARCHIVE_TEST_RETRY_MAX_DELAY": "0.5"]
    /// The longest one proxied `mxarchive` run may take before the watchdog kills it and fails the test:
    /// far more than a healthy run needs (seconds), so only a hang reaches it.
    static let runLimitSeconds: Double = 60

    @Test func aSeededScheduleOfEveryFaultArchivesExactlyWhatACleanRunDoes() async throws {
        let seed = try Seed.load()
        let faultSeed = ProcessInfo.processInfo.environment["MXARCHIVE_FAULT_SEED"].flatMap(Int.init) ?? 1212
        let proxy = try FaultProxy.start(upstream: seed.homeserver, arguments: ["--mixed", "--seed", String(faultSeed)])
        defer { proxy.stop() }

        let proxied = try Archive.loggedIn(seed: Seed(json: seed.json, homeserver: proxy.url),
                                           userID: seed.userID("alice"), password: seed.password("alice"))
        let clean = try Archive.loggedIn(as: "alice")
        let roomArguments = Self.rooms.flatMap { ["--room", $0] }
        let faulted = try proxied.run(["sync", "--from-start", "--page-size", Self.pageSize] + roomArguments,
                                      environment: Self.environment, within: Self.runLimitSeconds)
        let counts = try proxy.counts()
        print("fault-proxy seed \(faultSeed): \(counts)")
        #expect(faulted.status == 0, "sync through the fault proxy failed: \(faulted.stderr)")
        try clean.sync(["--from-start", "--page-size", Self.pageSize] + roomArguments)

        for room in Self.rooms {
            let expected = try clean.eventLines(room)
            let got = try proxied.eventLines(room)
            #expect(!expected.isEmpty)
            #expect(got.count == expected.count, "\(room): \(got.count) events through the proxy, \(expected.count) direct")
            for (index, (line, want)) in zip(got, expected).enumerated() where line != want {
                Issue.record("\(room) line \(index) differs:\n  proxied: \(line)\n  direct:  \(want)")
                break
            }
        }
        // Every kind of fault was injected at least once (the schedule hands them out from a shuffled bag).
        let injected = counts["faults"]?.objectValue ?? [:]
        for fault in FaultProxy.faultTypes {
            #expect((injected[fault]?.int64Value ?? 0) >= 1, "no \(fault) injected: \(counts)")
        }
    }

    /// A fault that starts after a few requests and never clears: exit 1 after bounded retries, the error
    /// on one stderr line, and the pages fetched before it kept.
    @Test(arguments: [
        (fault: "http_503", path: "/messages", after: 2),
        (fault: "truncated_json", path: "", after: 5),
    ])
    func aFaultThatNeverClearsEndsTheRunKeepingWhatWasFetched(fault: String, path: String, after: Int) async throws {
        let seed = try Seed.load()
        var arguments = ["--fail-with", fault, "--fail-after", String(after)]
        if !path.isEmpty { arguments += ["--fail-path", path] }
        let proxy = try FaultProxy.start(upstream: seed.homeserver, arguments: arguments)
        defer { proxy.stop() }

        let proxied = try Archive.loggedIn(seed: Seed(json: seed.json, homeserver: proxy.url),
                                           userID: seed.userID("alice"), password: seed.password("alice"))
        let room = "#export:localhost"
        let started = Date()
        let result = try proxied.run(["sync", "--from-start", "--page-size", Self.pageSize, "--room", room],
                                     environment: Self.environment, within: Self.runLimitSeconds)
        let elapsed = Date().timeIntervalSince(started)
        let counts = try proxy.counts()
        print("fault-proxy \(fault) forever: \(counts), sync took \(Int(elapsed)) s")
        #expect(result.status == 1, "expected exit 1, got \(result.status): \(result.stderr)")
        let errorLines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        // The room's error on one line, then the run's summary ("1 of 1 rooms failed to sync"): two lines
        // today, one naming the cause (see the report of issue 12 item 8; left for the lead to decide).
        #expect(errorLines.count <= 2, "stderr: \(result.stderr)")
        #expect(errorLines.first.map { $0.contains(fault == "http_503" ? "HTTP 503" : "not valid JSON") } == true,
                "the first stderr line should name the cause: \(result.stderr)")
        // Bounded: the production eight attempts, not a retry loop that never ends.
        let injected = counts["faults"]?[fault]?.int64Value ?? 0
        #expect(injected >= 2 && injected <= 16, "\(injected) \(fault) answers before giving up")

        let clean = try Archive.loggedIn(as: "alice")
        try clean.sync(["--from-start", "--page-size", Self.pageSize, "--room", room])
        let expected = try clean.eventLines(room)
        let kept = try proxied.eventLines(room)
        #expect(!kept.isEmpty, "the pages fetched before the fault began were lost")
        #expect(kept.count < expected.count)
        #expect(Set(kept).isSubset(of: Set(expected)), "the kept events differ from a clean run's")
    }
}

extension Archive {
    /// `run`, with a watchdog: a run still going after `seconds` (a client stuck on the proxy) is killed
    /// and fails the test, instead of hanging the whole suite.
    func run(_ arguments: [String], environment extra: [String: String], within seconds: Double) throws -> RunResult {
        let process = try start(arguments, environment: extra)
        let outData = Locked(Data())
        let errData = Locked(Data())
        let group = DispatchGroup()
        for (pipe, sink) in [(process.standardOutput as! Pipe, outData), (process.standardError as! Pipe, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        if !FaultProxy.wait(for: process, seconds: seconds) {
            kill(process.processIdentifier, SIGKILL)
            _ = FaultProxy.wait(for: process, seconds: 5)
            _ = group.wait(timeout: .now() + 5)
            throw HarnessError("mxarchive \(arguments.first ?? "") did not finish within \(Int(seconds)) s; killed. "
                               + "stderr so far: \(String(decoding: errData.get(), as: UTF8.self))")
        }
        // The pipes close when the process exits; a bounded wait so an inherited descriptor cannot hang us.
        if group.wait(timeout: .now() + 10) == .timedOut {
            throw HarnessError("mxarchive \(arguments.first ?? "") exited but its output pipes stayed open")
        }
        let result = RunResult(status: process.terminationStatus,
                               stdout: String(decoding: outData.get(), as: UTF8.self),
                               stderr: String(decoding: errData.get(), as: UTF8.self))
        try assertNoSecrets(in: result)
        return result
    }
}

/// A running `scripts/fault-proxy.py`.
struct FaultProxy {
    /// Every fault type the proxy knows (its FAULTS list).
    static let faultTypes = ["close_mid_body", "reset", "http_500", "http_502", "http_503", "rate_limit_ms",
                             "rate_limit_header", "stall", "truncated_json", "unknown_token", "unknown_token_soft"]

    let process: Process
    let url: String
    let countsFile: URL

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/fault-proxy.py")
    }

    static func start(upstream: String, arguments: [String]) throws -> FaultProxy {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let portFile = folder.appendingPathComponent("port")
        let countsFile = folder.appendingPathComponent("counts.json")
        let process = Process()
        // The interpreter itself, not `/usr/bin/env python3`: that may resolve to a pyenv shim (a shell
        // script), and the signal `stop()` sends must reach the proxy, not a wrapper around it.
        process.executableURL = URL(fileURLWithPath: try python())
        process.arguments = [script.path, "--upstream", upstream, "--port-file", portFile.path,
                             "--counts-file", countsFile.path, "--stall-seconds", String(FaultProxyTests.stallSeconds)]
            + arguments
        let log = folder.appendingPathComponent("proxy.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return FaultProxy(process: process, url: "http://127.0.0.1:\(port)", countsFile: countsFile)
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        FaultProxy(process: process, url: "", countsFile: countsFile).stop()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw HarnessError("the fault proxy did not start: \(output)")
    }

    /// `{seed, requests, faults: {type: count}, faults_total}` as the proxy last wrote it.
    func counts() throws -> JSONValue { try JSONCoding.decode(Data(contentsOf: countsFile)) }

    /// The first of the usual absolute interpreter paths that exists (the proxy needs only the stdlib).
    static func python() throws -> String {
        for path in ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw HarnessError("no python3 interpreter found for the fault proxy")
    }

    /// SIGTERM, then SIGKILL if the proxy is still there after a few seconds; never waits without bound.
    /// (A child started from here inherits SIGTERM blocked; the proxy unblocks it, the SIGKILL is the
    /// backstop for a proxy that is stuck before it gets that far.)
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        if Self.wait(for: process, seconds: 3) { return }
        kill(process.processIdentifier, SIGKILL)
        if !Self.wait(for: process, seconds: 5) {
            Issue.record("the fault proxy (pid \(process.processIdentifier)) survived SIGKILL")
        }
    }

    /// Whether `process` exited within `seconds` (polling: `waitUntilExit` has no timeout).
    static func wait(for process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }
}
