import Foundation

extension Archive {
    /// A named job's export requests for a run now: `{date}` is today (UTC), or the day of
    /// SOURCE_DATE_EPOCH, the same instant the export stamps its files with.
    public func exportRequests(for job: ExportJob, toolVersion: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [ExportRequest] {
        let seconds = try ExportRequest.exportTime(environment: environment, clock: store.clock)
        return try job.requests(date: ExportJob.day(ofSeconds: seconds), storeDirectory: directory,
                                toolVersion: toolVersion)
    }
}

extension ArchiveConfig {
    /// The job `name`, or a usage error naming the jobs there are.
    public func requireExportJob(_ name: String) throws -> ExportJob {
        if let job = exportJob(named: name) { return job }
        let names = exportJobs.map(\.name)
        throw ArchiveError.usage("no export job '\(name)' in \(file)"
                                 + (names.isEmpty ? " (it has none)" : " (it has: \(names.joined(separator: ", ")))"))
    }
}
