import Foundation
import Testing

/// The browser tests' helper programs can always be stopped: the `ExportStaticSearchTests` hang was a
/// loopback server started from a test task with SIGTERM blocked, which `terminate()` never ended, and
/// Chromium on a page that never finishes has no end of its own.
@Suite struct ChildProcessTests {
    /// The blocked-signal mask of a running process, from /proc (a hex bit set; bit n-1 is signal n).
    static func blockedSignals(_ pid: pid_t) throws -> UInt64 {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") })
        return try #require(UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16))
    }

    /// Started from a test (a Swift concurrency thread, which blocks SIGTERM), the logging file server
    /// blocks no signal and ends on a plain SIGTERM, as any server should.
    @Test func theLoggingServerEndsOnSIGTERM() async throws {
        let root = try scratch("child-sigterm")
        let server = try LoggingFileServer(root: root)
        defer { server.stop() }
        let pid = server.server.pid
        #expect(try Self.blockedSignals(pid) == 0, "the server inherited blocked signals")
        kill(pid, SIGTERM)
        #expect(server.server.wait(seconds: 10) != nil, "SIGTERM did not end the server within 10 s")
    }

    /// Chromium on a page whose script never returns: the run fails with a clear error within its
    /// timeout, and nothing of its process group is left.
    @Test func chromiumOnAPageThatNeverFinishesFailsWithinItsTimeout() async throws {
        try #require(Chromium.binary != nil, "chromium is not installed (scripts/install-deps installs it)")
        let page = try scratch("child-loop").appendingPathComponent("loop.html")
        try "<!doctype html><html><body><script>for (;;) {}</script></body></html>".write(to: page, atomically: true, encoding: .utf8)
        var group: pid_t = 0
        let started = Date()
        #expect {
            _ = try Chromium.run(["--virtual-time-budget=3000", "--dump-dom", page.absoluteString], timeout: 15) { group = $0.pid }
        } throws: { error in
            "\(error)".contains("did not finish within 15 s")
        }
        #expect(Date().timeIntervalSince(started) < 45, "the timeout did not stop the run")
        #expect(group > 0)
        #expect(ChildProcess.members(ofGroup: group).isEmpty, "left running: \(ChildProcess.members(ofGroup: group))")
    }
}
