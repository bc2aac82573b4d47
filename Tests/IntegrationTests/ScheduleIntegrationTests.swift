import Foundation
import Testing

/// `mxarchive schedule`: the units pass `systemd-analyze verify` (Debian's systemd package; it reads the
/// files and checks every directive and the ExecStart binary without a running systemd), and the crontab
/// line parses (Debian's python3-croniter, so /usr/bin/python3, for the schedule, sh -n for the command).
@Suite struct ScheduleIntegrationTests {
    @Test func systemdUnitsPassSystemdAnalyzeVerify() throws {
        let archive = try Archive.loggedIn()
        let units = try scratch("units")
        // A job whose folder does not exist yet: systemd must not fail the unit over it (226/NAMESPACE).
        let missing = units.appendingPathComponent("not-yet").path
        try Data("""
            [export.n]
            format = "json"
            output = "\(units.path)/n-{date}.zip"
            [export.later]
            format = "json"
            output = "\(missing)/{date}.zip"
            """.utf8).write(to: archive.store.appendingPathComponent("config.toml"))
        let written = try archive.run(["schedule", "--systemd", "--unit-dir", units.path, "--at", "04:10"])
        #expect(written.status == 0, "\(written.stderr)")
        let service = units.appendingPathComponent("mxarchive.service")
        let timer = units.appendingPathComponent("mxarchive.timer")
        let text = try readText(service)
        let binary = Archive.binary.resolvingSymlinksInPath().path
        #expect(text.contains("ExecStart=\(binary) --store \(archive.store.path) sync --then-export"), "\(text)")
        #expect(text.contains("ReadWritePaths=\(archive.store.path) -\(missing) \(units.path)\n"), "\(text)")
        // verify exits 0 even for directives it ignores: a clean check prints nothing.
        let verify = try shell("systemd-analyze verify \(quoted(service.path)) \(quoted(timer.path)) 2>&1")
        #expect(verify.status == 0 && verify.output.isEmpty, "\(verify.output)")
        // The same check does catch a broken unit, so its silence means something.
        try Data((text + "Type=sometimes\n").utf8).write(to: service)
        let broken = try shell("systemd-analyze verify \(quoted(service.path)) 2>&1")
        #expect(broken.output.contains("sometimes"), "\(broken.output)")

        // Printed (no --unit-dir): the same two units.
        let printed = try archive.run(["schedule", "--systemd", "--at", "04:10"])
        #expect(printed.stdout.contains("[Timer]") && printed.stdout.contains("Persistent=true"))
    }

    @Test func theCronLineParses() throws {
        let archive = try Archive.loggedIn()
        let result = try archive.run(["schedule", "--cron", "--at", "01:05"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines.filter { !$0.hasPrefix("#") }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let fields = line.split(separator: " ", maxSplits: 5).map(String.init)
        #expect(fields.count == 6 && fields[0...4].joined(separator: " ") == "5 1 * * *")
        let schedule = fields[0...4].joined(separator: " ")
        let cron = try shell("/usr/bin/python3 -c 'import sys, croniter; sys.exit(0 if croniter.croniter.is_valid(sys.argv[1]) else 1)' \(quoted(schedule))")
        #expect(cron.status == 0, "\(cron.output)")
        // cron hands the rest to /bin/sh: it must parse there, and name this binary and the store.
        let command = fields[5]
        #expect(try shell("sh -n -c \(quoted(command))").status == 0)
        #expect(command.hasPrefix("\(Archive.binary.resolvingSymlinksInPath().path) --quiet --store \(archive.store.path) sync "))
        #expect(command.hasSuffix("2>&1 | logger -s -t mxarchive"))
        // What cron mails is logger's stderr: the warnings and errors --quiet lets through, nothing else.
        let stub = try scratch("cron-bin")
        let binary = stub.appendingPathComponent("mxarchive")
        try Data("#!/bin/sh\necho 'warning: 3 encrypted events still wait for keys' >&2\n".utf8).write(to: binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        // (This machine has no /dev/log: logger is told not to fail over it, as it would not on a host.)
        let stubbed = (binary.path + " " + command.split(separator: " ", maxSplits: 1)[1])
            .replacingOccurrences(of: "| logger ", with: "| logger --socket-errors=off ")
        let mailed = try shell("(\(stubbed)) 2>&1 >/dev/null")
        #expect(mailed.status == 0, "\(mailed.output)")
        #expect(mailed.output.split(separator: "\n").count == 1
                && mailed.output.contains("mxarchive: warning: 3 encrypted events still wait for keys"), "\(mailed.output)")
        #expect(!command.contains("%"), "a % in a crontab command is a line break")
        #expect(try archive.run(["schedule"]).status == 2)
    }
}
