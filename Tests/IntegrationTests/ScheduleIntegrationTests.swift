import Foundation
import Testing

/// `mxarchive schedule`: the units pass `systemd-analyze verify` (Debian's systemd package; it reads the
/// files and checks every directive and the ExecStart binary without a running systemd), and the crontab
/// line parses (Debian's python3-croniter, so /usr/bin/python3, for the schedule, sh -n for the command).
@Suite struct ScheduleIntegrationTests {
    @Test func systemdUnitsPassSystemdAnalyzeVerify() throws {
        let archive = try Archive.loggedIn()
        let units = try scratch("units")
        try Data("[export.n]\nformat = \"json\"\noutput = \"\(units.path)/n-{date}.zip\"\n".utf8)
            .write(to: archive.store.appendingPathComponent("config.toml"))
        let written = try archive.run(["schedule", "--systemd", "--unit-dir", units.path, "--at", "04:10"])
        #expect(written.status == 0, "\(written.stderr)")
        let service = units.appendingPathComponent("mxarchive.service")
        let timer = units.appendingPathComponent("mxarchive.timer")
        let text = try readText(service)
        let binary = Archive.binary.resolvingSymlinksInPath().path
        #expect(text.contains("ExecStart=\(binary) --store \(archive.store.path) sync --then-export"), "\(text)")
        #expect(text.contains("ReadWritePaths=\(archive.store.path) \(units.path)"))
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
        #expect(command.hasPrefix("\(Archive.binary.resolvingSymlinksInPath().path) --store \(archive.store.path) sync "))
        #expect(command.hasSuffix("| logger -t mxarchive"))
        #expect(!command.contains("%"), "a % in a crontab command is a line break")
        #expect(try archive.run(["schedule"]).status == 2)
    }
}
