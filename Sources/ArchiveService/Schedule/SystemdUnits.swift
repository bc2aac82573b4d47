import Foundation

/// `mxarchive schedule --systemd`: a oneshot service and its timer. The service is hardened to what a
/// sync needs: the network, and write access to the store (and the export jobs' folders) only. Output
/// goes to the journal (StandardOutput=journal), which rotates itself: no log files, no logrotate.
public struct SystemdUnits: Sendable {
    public let serviceName: String
    public let timerName: String
    public let service: String
    public let timer: String

    public init(_ request: ScheduleRequest) throws {
        try request.checkPaths()
        let (hour, minute) = try request.time()
        serviceName = "\(request.name).service"
        timerName = "\(request.name).timer"
        let store = request.storeDirectory.standardizedFileURL.path
        let user = request.user ?? ScheduleRequest.currentUserName()
        var service = """
            # \(serviceName): written by `mxarchive schedule --systemd`
            [Unit]
            Description=mxarchive: archive Matrix rooms into \(store)
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=oneshot
            ExecStart=\(([request.binary] + request.arguments).joined(separator: " "))

            """
        if let user { service += "User=\(user)\n" }
        service += """
            # A sync needs the network and its store; nothing else of the system is written or seen.
            UMask=0077
            NoNewPrivileges=yes
            ProtectSystem=strict
            ProtectHome=read-only
            ReadWritePaths=\(try request.readWritePaths().joined(separator: " "))
            PrivateTmp=yes
            PrivateDevices=yes
            ProtectKernelTunables=yes
            ProtectKernelModules=yes
            ProtectKernelLogs=yes
            ProtectControlGroups=yes
            ProtectClock=yes
            ProtectHostname=yes
            RestrictSUIDSGID=yes
            RestrictRealtime=yes
            RestrictNamespaces=yes
            LockPersonality=yes
            CapabilityBoundingSet=
            RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
            SystemCallArchitectures=native
            # Nightly work yields to everything else on the host.
            Nice=10
            IOSchedulingClass=idle
            # The journal keeps (and rotates) the output: `journalctl -u \(serviceName)`.
            StandardOutput=journal
            StandardError=journal
            SyslogIdentifier=mxarchive

            """
        self.service = service
        timer = """
            # \(timerName): written by `mxarchive schedule --systemd`
            [Unit]
            Description=mxarchive: nightly sync of \(store)

            [Timer]
            OnCalendar=*-*-* \(String(format: "%02d:%02d", hour, minute)):00
            # Spread many archives' runs; a run missed while the host was off starts at the next boot.
            RandomizedDelaySec=\(request.randomizedDelayMinutes)min
            Persistent=true
            Unit=\(serviceName)

            [Install]
            WantedBy=timers.target

            """
    }
}

/// `mxarchive schedule --cron`: one crontab line. Two runs never interleave: `sync` takes the store's
/// lock (flock, released by the kernel even on SIGKILL) and a second run exits at once with an error
/// that says so. The output goes to syslog (the journal on systemd hosts) through logger(1), and to cron's
/// mail (only what `--quiet` lets through): no log files, no logrotate.
public struct CronLine: Sendable {
    public let line: String
    public let text: String

    public init(_ request: ScheduleRequest) throws {
        try request.checkPaths()
        let (hour, minute) = try request.time()
        // --quiet: a good night says nothing. logger -s copies each line to its standard error, which
        // cron mails: exactly the warnings and errors --quiet lets through; syslog keeps them as well.
        let command = ([request.binary, "--quiet"] + request.arguments).joined(separator: " ")
        line = "\(minute) \(hour) * * * \(command) 2>&1 | logger -s -t mxarchive"
        text = """
            # mxarchive: nightly sync of \(request.storeDirectory.standardizedFileURL.path) (a run that finds the \
            store busy exits at once); output in syslog or the journal: journalctl -t mxarchive
            \(line)

            """
    }
}

extension SystemdUnits {
    /// Writes NAME.service and NAME.timer into `folder` (0644: units are read by systemd and hold no
    /// secret); returns their paths.
    public func write(toFolder path: String) throws -> [String] {
        let folder = URL(fileURLWithPath: path)
        var written: [String] = []
        for (name, text) in [(serviceName, service), (timerName, timer)] {
            let url = folder.appendingPathComponent(name)
            do {
                try Data(text.utf8).write(to: url, options: .atomic)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
            } catch {
                throw ArchiveError.input("cannot write \(url.path)")
            }
            written.append(url.path)
        }
        return written
    }
}
