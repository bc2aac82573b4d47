import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A helper program of the browser tests (headless Chromium, a loopback file server) started so that it
/// can always be stopped and never stalls a test run.
///
/// Not `Foundation.Process`, for two reasons found when `ExportStaticSearchTests` hung:
/// - A test runs on a Swift concurrency (libdispatch worker) thread, which blocks SIGTERM, SIGINT,
///   SIGCHLD and most other signals; posix_spawn passes the calling thread's mask on, and `Process` does
///   not reset it. A python server started that way ignores `terminate()`, so `terminate()` followed by
///   `waitUntilExit()` waited for ever (reproduced: python's SigBlk was fffffffe3bfaea27).
/// - `waitUntilExit()` has no time limit, and Chromium given a page whose script never returns never
///   exits on its own (reproduced with `for(;;){}` and `--dump-dom`).
/// Here the child gets an empty signal mask and default handlers, its own process group (so that a
/// timeout kills its helpers too: zygote, GPU, renderers), its output in a file rather than a pipe no one
/// may drain, no other descriptor of the test process, and every wait has a deadline.
final class ChildProcess {
    let pid: pid_t
    let executable: String
    /// Standard output; standard error goes to the same path with ".stderr" appended (Chromium writes its
    /// warnings there, which must not mix with a DOM dump).
    let outputFile: URL
    private var status: Int32?

    init(_ executable: String, _ arguments: [String], outputFile: URL) throws {
        self.executable = executable
        self.outputFile = outputFile
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, outputFile.path + ".stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // No descriptor of the test process (another test's pipe, the store) reaches the child: a helper
        // that outlived its test would otherwise hold that pipe open and its reader would never see EOF.
        // Closed in the child itself (closefrom), so a pipe another test opens meanwhile is closed too;
        // without glibc's closefrom action (before 2.34), the ones open now.
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, 3)
        } else {
            for fd in Self.openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(result)))") }
        pid = child
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not
    /// declare: looked up by name.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    deinit {
        // A helper is never left behind by a test that threw before stopping it.
        if status == nil || !Self.members(ofGroup: pid).isEmpty { kill(-pid, SIGKILL); _ = wait(seconds: 5) }
    }

    /// Whether it is still running (reaps it when it has ended).
    var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        let reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == pid { status = raw; return false }
        return reaped == 0 || (reaped == -1 && errno == EINTR)
    }

    /// The exit status (128 + n for signal n) once it has ended, or nil if it is still running after
    /// `seconds`.
    @discardableResult
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning {
            if Date() >= deadline { return nil }
            usleep(20_000)
        }
        return exitStatus
    }

    var exitStatus: Int32? {
        guard let status else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// SIGKILL to its whole process group (the program and whatever it started), then waits until the
    /// group is gone. Its helpers can outlive the program itself, so the group is killed even when the
    /// program has ended.
    func killGroup() {
        kill(-pid, SIGKILL)
        if wait(seconds: 10) == nil { Issue.record("\(executable) (pid \(pid)) survived SIGKILL") }
        let deadline = Date().addingTimeInterval(10)
        while !Self.members(ofGroup: pid).isEmpty {
            if Date() >= deadline { Issue.record("process group \(pid) survived SIGKILL: \(Self.members(ofGroup: pid))"); return }
            usleep(20_000)
        }
    }

    /// The live (not zombie) processes whose process group is `group`, from /proc/<pid>/stat.
    static func members(ofGroup group: pid_t) -> [pid_t] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.filter { pid in
            // "<pid> (<name>) <state> <ppid> <pgrp> …"; the name may hold spaces and parentheses.
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.range(of: ")", options: .backwards) else { return false }
            let fields = stat[close.upperBound...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && fields[0] != "X" && pid_t(fields[2]) == group
        }
    }

    /// Waits up to `seconds` for the program to end; past that, kills its process group and throws, so a
    /// hang fails the test with its name instead of stalling the run.
    func finish(within seconds: Double, what: String) throws -> Int32 {
        if let status = wait(seconds: seconds) {
            killGroup()  // helpers the program left running
            return status
        }
        killGroup()
        throw HarnessError("\(what) did not finish within \(Int(seconds)) s; its process group was killed")
    }

    func output() -> String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }
    func errors() -> String { (try? String(contentsOfFile: outputFile.path + ".stderr", encoding: .utf8)) ?? "" }

    /// Polls the output file until `predicate` holds on it, for a server's "listening" line.
    func awaitOutput(within seconds: Double, what: String, until predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let text = output()
            if predicate(text) { return text }
            if !isRunning { throw HarnessError("\(what) ended before it was ready: \(errors().suffix(500))") }
            if Date() >= deadline {
                killGroup()
                throw HarnessError("\(what) was not ready within \(Int(seconds)) s: \(text.suffix(500))")
            }
            usleep(20_000)
        }
    }
}
