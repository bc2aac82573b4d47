import ArchiveService
import ArgumentParser

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show per room what is archived: counts, cursors, last sync time (offline).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print {\"rooms\":[…]} as JSON.")
    var json = false

    func run() throws {
        Console.print(try global.open(.read).status(), json: json)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the archive's integrity; exit 1 listing the problems if anything is wrong.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print {\"ok\": bool, \"problems\": [...]} as JSON.")
    var json = false

    func run() throws {
        let report = try global.open(.read).verify()
        Console.printOutcome(report, json: json, succeeded: report.ok)
        if !report.ok { throw ExitCode(1) }
    }
}
