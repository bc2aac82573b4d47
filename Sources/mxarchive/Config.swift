import ArchiveService
import ArgumentParser

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show or check the store's config.toml (what a plain `mxarchive sync` does).",
        discussion: """
            <store>/config.toml (TOML) sets what `mxarchive sync` follows and how, and named export jobs:
              homeserver = "https://matrix.example.org"    # login's default
              user = "@archiver:example.org"               # login's default
              password_file = "/etc/mxarchive/password"    # a file holding the password, never the password
              rooms = ["#team:example.org"]                # or spaces = ["!space:example.org"], or all_joined = true
              retain_redacted = false
              media = true
              max_media_size = "20M"
              page_size = 1000
              jobs = 4
              [export.nightly]
              format = "json"                              # json, html or txt
              rooms = ["#team:example.org"]
              output = "/srv/archive/{room}-{date}.tar.zst" # {date}: the day (UTC); {room}: one export per room
              # also: spaces, since, until, senders, include_media, retain_redacted, allow_indexing, templates, mode
            A flag on the command line wins over the file, the file over the default. A config is not a
            secret file: one that holds a token, password, passphrase or recovery key is refused.
            """,
        subcommands: [ConfigShow.self, ConfigCheck.self])
}

struct ConfigShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the effective settings and where each comes from (default, config, flag); never a secret.",
        discussion: """
            Give the same flags as to `mxarchive sync` to see what that sync would use:
              mxarchive config show --media --page-size 200
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var settings: SyncSettingOptions

    @Flag(help: "Print {\"config_file\", \"settings\": [{\"key\", \"value\", \"source\"}], \"export_jobs\"} (schemas/config-show.schema.json).")
    var json = false

    func run() throws {
        let config = try global.config()
        Console.print(ConfigShowReport(config: config, sync: SyncSettings(flags: settings.flags, config: config)), json: json)
    }
}

struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate config.toml: exit 0, or 1 with each problem as FILE:LINE: message.",
        discussion: """
            Finds TOML syntax errors, unknown keys and export job fields, wrong types, bad values and
            secrets written into the file. Check a file before putting it in the store:
              mxarchive config check new-config.toml
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The file to check (default: <store>/config.toml).", valueName: "file"))
    var file: String?

    func run() throws {
        let report = try ConfigCheckReport.check(file: file, store: global.store)
        Console.printOutcome(report, succeeded: report.ok)
        if !report.ok { throw ExitCode(1) }
    }
}
