import ArchiveService
import Foundation
import Testing
import TestSupport

/// `mxarchive schedule`: what the units and the crontab line say (systemd-analyze and a cron parser
/// check them for real in IntegrationTests/ScheduleIntegrationTests).
@Suite struct ScheduleTests {
    func request(store: String = "/var/lib/mxarchive") -> ScheduleRequest {
        var request = ScheduleRequest(storeDirectory: URL(fileURLWithPath: store), binary: "/usr/local/bin/mxarchive")
        request.at = "02:45"
        request.user = "archiver"
        return request
    }

    @Test func theServiceRunsTheSyncHardenedAndTheTimerCatchesUp() throws {
        var request = request()
        var config = try ArchiveConfig.parse("[export.n]\nformat = \"json\"\noutput = \"/srv/archive/{date}.zip\"\n",
                                             file: "config.toml").get()
        request.follow(config)
        let units = try SystemdUnits(request)
        let service = Set(units.service.split(separator: "\n").map(String.init))
        for line in ["Type=oneshot", "ExecStart=/usr/local/bin/mxarchive --store /var/lib/mxarchive sync --then-export",
                     "User=archiver", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                     "ReadWritePaths=-/var/lib/mxarchive -/srv/archive", "StandardOutput=journal", "UMask=0077"] {
            #expect(service.contains(line), "service lacks \(line)")
        }
        let timer = Set(units.timer.split(separator: "\n").map(String.init))
        for line in ["OnCalendar=*-*-* 02:45:00", "Persistent=true", "RandomizedDelaySec=30min",
                     "Unit=mxarchive.service", "WantedBy=timers.target"] {
            #expect(timer.contains(line), "timer lacks \(line)")
        }
        config.exportJobs = []
        var plain = self.request()
        plain.follow(config)
        #expect(try SystemdUnits(plain).service.contains("ExecStart=/usr/local/bin/mxarchive --store /var/lib/mxarchive sync\n"))
    }

    @Test func theCronLineRunsAtTheTimeAndLogsToSyslog() throws {
        let cron = try CronLine(request())
        // --quiet: nothing on success; logger -s copies what is said to its stderr, which cron mails,
        // while syslog (the journal) keeps it too.
        #expect(cron.line == "45 2 * * * /usr/local/bin/mxarchive --quiet --store /var/lib/mxarchive sync 2>&1 | logger -s -t mxarchive")
        #expect(cron.text.hasPrefix("# mxarchive: nightly sync of /var/lib/mxarchive"))
    }

    /// systemd fails a unit whose ReadWritePaths= names a missing folder (226/NAMESPACE), every night:
    /// missing ones carry `-` (ignored while missing). Each path is standardised; `/` would undo
    /// ProtectSystem=strict and is refused; a relative output reaching out of the store is named too.
    @Test func readWritePathsAreStandardisedAndMissingOnesOptional() throws {
        let existing = uniqueTemporaryDirectory("mxa-rwp")
        try FileManager.default.createDirectory(at: existing.appendingPathComponent("out"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: existing) }
        var request = request(store: existing.path + "/store/")
        let config = try ArchiveConfig.parse("""
            [export.a]
            format = "json"
            output = "\(existing.path)/x/../out/{date}.zip"
            [export.b]
            format = "json"
            output = "/nonexistent-mxa/site-{date}/"
            [export.c]
            format = "json"
            output = "../outside/{date}.zip"
            [export.d]
            format = "json"
            output = "inside/{date}.zip"
            """, file: "config.toml").get()
        request.follow(config)
        let service = try SystemdUnits(request).service
        let line = try #require(service.split(separator: "\n").first { $0.hasPrefix("ReadWritePaths=") })
        #expect(line == "ReadWritePaths=-\(existing.path)/store \(existing.path)/out -/nonexistent-mxa -\(existing.path)/outside",
                "\(line)")

        for output in ["/{date}.zip", "/x/../{room}.zip"] {
            var bad = self.request()
            bad.follow(try ArchiveConfig.parse("[export.a]\nformat = \"json\"\nrooms = [\"#a:x\"]\noutput = \"\(output)\"\n",
                                               file: "config.toml").get())
            #expect(throws: ArchiveError.self, "\(output)") { try SystemdUnits(bad) }
        }
        #expect(throws: ArchiveError.self) { try SystemdUnits(self.request(store: "/")) }
    }

    @Test func pathsAndValuesAUnitWouldMisreadAreRefused() throws {
        for store in ["/srv/my archive", "/srv/100%", "/srv/a;b", "/srv/$HOME"] {
            #expect(throws: ArchiveError.self) { try SystemdUnits(request(store: store)) }
            #expect(throws: ArchiveError.self) { try CronLine(request(store: store)) }
        }
        for at in ["3:00", "24:00", "03:60", "03:00:00", "noon"] {
            var bad = request()
            bad.at = at
            #expect(throws: ArchiveError.self) { try CronLine(bad) }
        }
        var bad = request()
        bad.user = "root\nExecStartPre=/bin/sh"
        #expect(throws: ArchiveError.self) { try SystemdUnits(bad) }
    }
}
