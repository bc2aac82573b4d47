import ArchiveStore
import Foundation

/// `sync --metrics-file PATH`: the run's numbers for node_exporter's textfile collector, which reads every
/// `*.prom` file of its folder. The file is replaced whole (a temporary file in the same folder, then
/// rename), so the collector never reads half of one; it is written after every run, a failed one too, so
/// that an alert can look at `mxarchive_sync_last_success_timestamp_seconds` (carried over from the
/// previous file when this run failed) and `mxarchive_sync_exit_code`.
public struct SyncMetrics: Sendable {
    public let path: String
    public let storeDirectory: URL
    /// When the command started (made before the sync, so a run that fails early has its duration too).
    let started: Date

    public init(path: String, storeDirectory: URL, started: Date = Date()) {
        self.path = path
        self.storeDirectory = storeDirectory
        self.started = started
    }

    /// A metrics path must name a file in an existing folder: said before the sync starts (exit 2).
    public static func problem(path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            return "--metrics-file \(path): its folder does not exist"
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return "--metrics-file \(path) is a folder"
        }
        return nil
    }

    /// Writes the metrics of a run that ended with `exitCode` (`report` is nil when it failed before any
    /// room was synced). A metrics file that cannot be written is a warning: the archive is fine.
    public func write(report: SyncReport?, exitCode: Int32, now: Date = Date()) {
        let text = render(report: report, exitCode: exitCode, now: now)
        do {
            // 0644: the collector usually runs as another user; the file holds counts and room ids only.
            try SecureFiles.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: path), mode: 0o644)
        } catch {
            Console.warning("could not write the metrics file: \(error)")
        }
    }

    /// A run that failed before it had a report. One that found the store busy did nothing: the sync
    /// that holds the lock writes this file when it ends, and an exit 1 in it now would page someone
    /// over a run that was never meant to happen.
    public func write(failure error: any Error, exitCode: Int32) {
        if let error = error as? StoreError, error.code == .locked { return }
        write(report: nil, exitCode: exitCode)
    }

    func render(report: SyncReport?, exitCode: Int32, now: Date) -> String {
        var out = PrometheusText()
        let succeeded = report != nil && (exitCode == 0 || exitCode == DoneWithWarnings.exitCode)
        let lastSuccess = succeeded ? now.timeIntervalSince1970 : previousLastSuccess()
        if let lastSuccess {
            out.gauge("mxarchive_sync_last_success_timestamp_seconds",
                      "When a sync last finished its work (exit 0 or 3), Unix time.", lastSuccess)
        }
        out.gauge("mxarchive_sync_last_run_timestamp_seconds", "When the last sync ended, Unix time.",
                  now.timeIntervalSince1970)
        out.gauge("mxarchive_sync_exit_code", "Exit code of the last sync (0 done, 1 failed, 3 done with warnings).",
                  Int(exitCode))
        out.gauge("mxarchive_sync_duration_seconds", "Wall time of the last sync.",
                  report?.seconds ?? now.timeIntervalSince(started))
        if let size = archiveBytes() {
            out.gauge("mxarchive_archive_size_bytes", "Bytes of every file in the store folder.", size)
        }
        guard let report else { return out.text }
        out.gauge("mxarchive_sync_events_fetched", "Events the last sync stored (new, deduplicated).", report.newEvents)
        out.gauge("mxarchive_sync_rooms", "Rooms the last sync tried.", report.rooms.count)
        out.gauge("mxarchive_sync_rooms_failed", "Rooms the last sync could not sync.", report.failedRooms)
        out.gauge("mxarchive_sync_events_waiting_for_keys", "Encrypted events of the synced rooms still waiting for keys.",
                  report.waitingForKeys)
        out.gauge("mxarchive_sync_media_failed", "Attachments that failed in the last sync (too_large not counted).",
                  report.mediaFailed)
        // Per room: numbers the run already has (no query of the store).
        for room in report.rooms {
            out.gauge("mxarchive_room_events", "Events archived for the room.", room.totalEvents,
                      labels: [("room_id", room.roomID)])
        }
        for room in report.rooms {
            out.gauge("mxarchive_room_new_events", "Events the last sync stored for the room.", room.newEvents,
                      labels: [("room_id", room.roomID)])
        }
        for room in report.rooms {
            out.gauge("mxarchive_room_failed", "1 when the last sync of the room failed.", room.error == nil ? 0 : 1,
                      labels: [("room_id", room.roomID)])
        }
        return out.text
    }

    /// The last success time of the file this run replaces: a failed run keeps it, so that "no success for
    /// two days" stays visible after any number of failed nights.
    func previousLastSuccess() -> Double? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let prefix = "mxarchive_sync_last_success_timestamp_seconds "
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
            // Only a time: `+Inf`, `NaN` (or 1e400, read as infinity) in a hand-edited file would be carried
            // over night after night and break every alert that subtracts it from time().
            guard let value = Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)),
                  value.isFinite, value >= 0 else { return nil }
            return value
        }
        return nil
    }

    /// The store folder's size, database and media together (the figure a disk alert wants).
    func archiveBytes() -> Int? {
        guard let files = FileManager.default.enumerator(at: storeDirectory, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else {
            return nil
        }
        var total = 0
        for case let url as URL in files {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]),
                  values.isRegularFile == true else { continue }
            total += values.fileSize ?? 0
        }
        return total
    }
}
