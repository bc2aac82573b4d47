import ArchiveService
import ArgumentParser

struct Schedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a systemd service and timer, or a crontab line, that run the nightly sync.",
        discussion: """
            The command run is this binary with the store's absolute path: `mxarchive --store STORE sync`,
            and `--then-export` when config.toml has export jobs. Two runs never overlap: a sync holds the
            store's lock, and one that finds it taken exits at once saying so.
              mxarchive schedule --systemd --unit-dir /etc/systemd/system && systemctl enable --now mxarchive.timer
              mxarchive schedule --cron | crontab -     # replaces the crontab: see README's "Running it nightly"
            The service logs to the journal (journalctl -u mxarchive.service), the crontab line to syslog
            through logger (the journal on systemd hosts): nothing to rotate.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print a service and a timer unit (hardened; Persistent=true, a randomized delay).")
    var systemd = false

    @Flag(help: "Print a crontab line.")
    var cron = false

    @Option(help: ArgumentHelp("The time of day to run, HH:MM in the host's local time (default 03:00).", valueName: "time"))
    var at = "03:00"

    @Option(help: ArgumentHelp("systemd: start up to this many minutes later, at random (default 30).", valueName: "minutes"))
    var randomizedDelay = 30

    @Option(help: ArgumentHelp("systemd: the units' name, NAME.service and NAME.timer (default mxarchive).", valueName: "name"))
    var name = "mxarchive"

    @Option(help: ArgumentHelp("systemd: the account the service runs as (default: yours, unless root).", valueName: "user"))
    var user: String?

    @Option(help: ArgumentHelp("systemd: write the two unit files into this folder instead of printing them.", valueName: "dir"))
    var unitDir: String?

    func validate() throws {
        guard systemd != cron else { throw ValidationError("give one of --systemd or --cron") }
        if unitDir != nil && !systemd { throw ValidationError("--unit-dir applies to --systemd") }
    }

    func run() throws {
        var request = ScheduleRequest(storeDirectory: StoreLocation.resolve(global.store),
                                      binary: ScheduleRequest.currentExecutable())
        request.at = at
        request.randomizedDelayMinutes = randomizedDelay
        request.name = name
        request.user = user
        // A schedule for a config that does not load would fail every night: say so now.
        request.follow(try global.config())
        if cron {
            Console.line(String(try CronLine(request).text.dropLast()))
            return
        }
        let units = try SystemdUnits(request)
        if let unitDir {
            for path in try units.write(toFolder: unitDir) { Console.line("wrote \(path)") }
        } else {
            Console.line(String((units.service + "\n" + units.timer).dropLast()))
        }
    }
}
