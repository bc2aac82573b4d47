import ArchiveCore
import Foundation
import Logging
import Testing
import TestSupport
@testable import ArchiveService
#if canImport(Glibc)
import Glibc
#endif

/// The pure parts of issue 10 items 5 and 6: which runs are done with warnings, the Prometheus text, the
/// JSON log records and the global options read before parsing. The CLI's behaviour end to end is in
/// IntegrationTests/OperatorOutputTests.
@Suite struct OperatorOutputUnitTests {
    static func room(_ id: String, error: String? = nil, waiting: Int = 0, media: [MediaStatus: Int]? = nil) -> RoomSyncResult {
        var result = RoomSyncResult(roomID: id, name: nil, newEvents: 5, totalEvents: 9, pages: 1, malformed: 0,
                                    error: error)
        result.waitingForKeys = waiting
        if let media {
            var counts = MediaSyncCounts()
            counts.failed = media
            result.media = counts
        }
        return result
    }

    static func report(_ rooms: [RoomSyncResult]) -> SyncReport {
        SyncReport(rooms: rooms, indexed: nil, keyBackup: nil, seconds: 1.5)
    }

    @Test func outcomeFollowsTheExitCodeContract() {
        #expect(Self.report([Self.room("!a:x"), Self.room("!b:x")]).outcome == .done)
        #expect(Self.report([]).outcome == .done)
        // Every room failed: nothing was synced, exit 1.
        #expect(Self.report([Self.room("!a:x", error: "403")]).outcome.exitCode == 1)
        #expect(Self.report([Self.room("!a:x", error: "403"), Self.room("!b:x", error: "403")]).outcome.exitCode == 1)
        // Some failed beside rooms that worked: 3, and the warning says how many.
        guard case .doneWithWarnings(let partial) = Self.report([Self.room("!a:x", error: "403"), Self.room("!b:x")]).outcome
        else { Issue.record("a partial failure is not done with warnings"); return }
        #expect(partial == ["1 of 2 rooms failed to sync (the others are archived)"])
        #expect(Self.report([Self.room("!a:x", waiting: 4)]).outcome.exitCode == 3)
        #expect(Self.report([Self.room("!a:x", media: [.notFound: 1])]).outcome.exitCode == 3)
        // The size cap is the operator's choice, not a failure.
        #expect(Self.report([Self.room("!a:x", media: [.tooLarge: 2])]).outcome == .done)
        #expect(throws: DoneWithWarnings.self) { try Self.report([Self.room("!a:x", waiting: 1)]).outcome.check() }
        // A room the server kept feeding empty pages stopped early: archived so far, and worth a look.
        var stopped = Self.room("!a:x")
        stopped.stoppedEarly = true
        #expect(Self.report([stopped, Self.room("!b:x")]).outcome.exitCode == 3)
        // The key backup or the sender-key check failing beside the rooms is a warning of the run too.
        let progress = SyncProgressDisplay(live: false, summaries: false)
        progress.keyBackupChecked(nil, error: "M_FORBIDDEN")
        var checked = SenderKeyCheckOutcome()
        checked.checked = 2
        checked.statuses = [.mismatch: 2]
        progress.senderKeysChecked(checked)
        #expect(progress.runWarnings == ["the key backup could not be checked for new sessions (see above)"],
                "a mismatch recorded by an earlier run is not news")
        checked.newMismatches = 1
        checked.error = "timeout"
        progress.senderKeysChecked(checked)
        #expect(progress.runWarnings.count == 3)
        let warned = SyncReport(rooms: [Self.room("!a:x")], indexed: nil, keyBackup: nil, seconds: 1,
                                runWarnings: progress.runWarnings)
        guard case .doneWithWarnings(let warnings) = warned.outcome else {
            Issue.record("a failed key backup is not done with warnings"); return
        }
        #expect(warnings == progress.runWarnings)
        #expect(ErrorReport.exitCode(for: DoneWithWarnings(warnings: ["x"])) == 3)
    }

    @Test func prometheusTextGroupsSamplesAndEscapesLabels() {
        var text = PrometheusText()
        text.gauge("m_a", "A\nhelp", 3)
        text.gauge("m_room", "Per room.", 1.5, labels: [("room_id", "!a\"b\\c\nd:x")])
        text.gauge("m_room", "Per room.", 2, labels: [("room_id", "!e:x")])
        #expect(text.text == """
            # HELP m_a A\\nhelp
            # TYPE m_a gauge
            m_a 3
            # HELP m_room Per room.
            # TYPE m_room gauge
            m_room{room_id="!a\\"b\\\\c\\nd:x"} 1.5
            m_room{room_id="!e:x"} 2

            """)
    }

    @Test func metricsOfAFailedRunKeepTheLastSuccess() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.prom").path
        let metrics = SyncMetrics(path: path, storeDirectory: folder, started: Date(timeIntervalSince1970: 1000))
        metrics.write(report: Self.report([Self.room("!a:x")]), exitCode: 0, now: Date(timeIntervalSince1970: 1010))
        #expect(metrics.previousLastSuccess() == 1010)
        metrics.write(report: nil, exitCode: 1, now: Date(timeIntervalSince1970: 2000))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("mxarchive_sync_last_success_timestamp_seconds 1010\n"))
        #expect(text.contains("mxarchive_sync_exit_code 1\n"))
        #expect(text.contains("mxarchive_sync_duration_seconds 1000\n"))
        #expect(!text.contains("mxarchive_room_events"))
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { $0 & 0o022 } == 0)
    }

    /// The search index sets umask 077 for the whole process (its files are private): a metrics file,
    /// which node_exporter reads as another user, must still be 0644 after a sync that indexed.
    @Test func metricsFileIsWorldReadableWhateverTheUmask() throws {
        let folder = uniqueTemporaryDirectory("mxa-metrics-mode")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.prom").path
        // What SearchIndex does when it opens an index; left so (it is what a sync process runs under).
        umask(0o077)
        SyncMetrics(path: path, storeDirectory: folder).write(report: Self.report([Self.room("!a:x")]), exitCode: 0)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o644)
    }

    /// A previous file's last success is carried over only when it is a time: `+Inf` or `NaN` there (a
    /// hand-edited or corrupted file) would otherwise be written on and on.
    @Test func onlyAFinitePreviousLastSuccessIsKept() throws {
        let folder = uniqueTemporaryDirectory("mxa-metrics-previous")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.prom").path
        let metrics = SyncMetrics(path: path, storeDirectory: folder)
        for value in ["+Inf", "-Inf", "NaN", "nan", "inf", "1e400", "soon"] {
            try Data("mxarchive_sync_last_success_timestamp_seconds \(value)\n".utf8).write(to: URL(fileURLWithPath: path))
            #expect(metrics.previousLastSuccess() == nil, "\(value)")
        }
        try Data("mxarchive_sync_last_success_timestamp_seconds 1733011200\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(metrics.previousLastSuccess() == 1_733_011_200)
    }

    @Test func jsonLogHandlerWritesOneObjectWithNumbersAsNumbers() throws {
        let lines = LockedLines()
        var logger = Logger(label: "test") { _ in JSONLogHandler { lines.append($0) } }
        logger.logLevel = .info
        let fields = LogFields(room: "!a:x", phase: "fetch", counts: ["new_events": 7], durations: ["room": 0.25])
        logger.warning("a \"quoted\" message", metadata: fields.metadata)
        logger.debug("not written")
        let written = lines.all
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false)
        let record = try JSONCoding.decode(String(line.dropLast()))
        #expect(record["level"] == "warning")
        #expect(record["message"] == "a \"quoted\" message")
        #expect(record["room"] == "!a:x")
        #expect(record["phase"] == "fetch")
        #expect(record.value(at: "counts", "new_events") == .int(7))
        #expect(record.value(at: "durations", "room") == .double(0.25))
        #expect(record["time"]?.stringValue?.hasSuffix("Z") == true)
    }

    @Test func outputOptionsAreReadBeforeParsing() {
        #expect(OutputOptions.scan(["sync", "--quiet"]) == OutputOptions(quiet: true))
        #expect(OutputOptions.scan(["sync", "--log-format", "json"]).logFormat == .json)
        #expect(OutputOptions.scan(["--log-format=json", "sync"]).logFormat == .json)
        // An unknown value is ArgumentParser's usage error, in text; after `--` nothing is an option.
        #expect(OutputOptions.scan(["sync", "--log-format", "xml"]).logFormat == .text)
        #expect(OutputOptions.scan(["search", "--", "--quiet"]) == OutputOptions())
    }
}

final class LockedLines: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
