import ArchiveService
import ArgumentParser

/// Runs config.toml's export jobs (`export --job NAME`, `sync --then-export`).
enum ExportJobs {
    /// Every job in turn; one that fails is reported and the others still run, then the command fails.
    /// `archive` is the sync's own (it holds the store's lock until the last job is done).
    static func runAll(_ jobs: [ExportJob], on archive: ArchiveService.Archive, results: (String) -> Void) throws {
        var failed: [String] = []
        for job in jobs {
            do {
                try run(try archive.exportRequests(for: job, toolVersion: MXArchiveCommand.configuration.version),
                        on: archive, results: results)
            } catch {
                Console.error("export job \(job.name): \(ErrorReporter.message(for: error))")
                failed.append(job.name)
            }
        }
        if !failed.isEmpty {
            throw ArchiveError.failure("\(failed.count) of \(jobs.count) export jobs failed: \(failed.joined(separator: ", "))")
        }
    }

    static func run(_ requests: [ExportRequest], on archive: ArchiveService.Archive, results: (String) -> Void) throws {
        for request in requests {
            let report = try archive.export(request, progress: ExportProgressDisplay(live: Console.isTerminal(2)))
            Console.print(report, results: results)
        }
    }
}
