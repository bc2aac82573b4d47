import ArchiveCore
import Foundation
import Testing
import TestSupport

/// Issue 10 items 5 and 6: what a nightly job's operator sees. Exit 3 when the run did its work but
/// something needs a look, `--quiet` silent unless something is wrong, `--log-format json` records a log
/// collector can read, and `--metrics-file` for node_exporter's textfile collector.
@Suite struct OperatorOutputTests {
    static let live = "#live:localhost"
    static let missingRoom = "!doesnotexist:localhost"

    /// Encrypted events still waiting for keys after the run: exit 3, and under `--quiet` the warning is
    /// the only thing said (stdout stays empty: cron mails exactly this).
    @Test func eventsWaitingForKeysAreExit3AndQuietStillSaysSo() throws {
        let archive = try Archive.loggedIn(as: "alice")
        let room = try archive.seed.roomID("encrypted")
        let result = try archive.run(["--quiet", "sync", "--room", room])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stdout.isEmpty, "stdout under --quiet: \(result.stdout)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("warning: ") && $0.contains("still wait for keys") }, "\(result.stderr)")
        #expect(lines.allSatisfy { $0.hasPrefix("warning: ") || $0.hasPrefix("error: ") }, "\(result.stderr)")
    }

    /// A successful sync under `--quiet` prints nothing at all, a first one and a nightly one; `--json`
    /// still prints its object on stdout.
    @Test func quietSyncPrintsNothingOnSuccess() throws {
        let archive = try Archive.loggedIn()
        for arguments in [["--quiet", "sync", "--room", Self.live], ["sync", "--quiet"]] {
            let result = try archive.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(arguments): '\(result.stdout)' '\(result.stderr)'")
        }
        let json = try archive.run(["sync", "--quiet", "--json"])
        #expect(json.status == 0)
        #expect(json.stderr.isEmpty)
        #expect(try SchemaValidator.errors(json.lines, schema: "sync-result.schema.json") == [])
        #expect(json.lines.count == 1)
    }

    /// A room that fails beside one that works is done with warnings (3); when every room fails it is 1.
    @Test func aFailedRoomBesideAnArchivedOneIsExit3AndAllFailedIs1() throws {
        let archive = try Archive.loggedIn()
        let partial = try archive.run(["sync", "--json", "--room", Self.missingRoom, "--room", Self.live])
        #expect(partial.status == 3, "\(partial.stderr)")
        #expect(partial.stderr.contains("warning: 1 of 2 rooms failed to sync"), "\(partial.stderr)")
        let rooms = partial.jsonLines.first?["rooms"]?.arrayValue ?? []
        #expect(rooms.count == 2)
        #expect(rooms.contains { $0["room_id"]?.stringValue == Self.missingRoom && $0["error"] != nil })
        #expect(rooms.contains { $0["error"] == nil && ($0["total_events"]?.int64Value ?? 0) > 0 })

        let allFailed = try archive.run(["sync", "--room", Self.missingRoom])
        #expect(allFailed.status == 1, "\(allFailed.stderr)")
        #expect(allFailed.stderr.contains("error: 1 of 1 rooms failed to sync"), "\(allFailed.stderr)")
        #expect(try archive.run(["verify"]).status == 0)
    }

    /// `--log-format json`: every stderr line is one JSON object with time, level and message; rooms carry
    /// their id, phase, counts and durations; a usage error is a record too; no secret in any of it.
    @Test func jsonLogRecordsParseCarryTheFieldsAndNoSecret() throws {
        let archive = try Archive.loggedIn()
        let seed = archive.seed
        let recoveryKey = seed.json.value(at: "e2e", "modern", "recovery_key")?.stringValue ?? ""
        #expect(!recoveryKey.isEmpty)
        let keyFile = archive.store.deletingLastPathComponent().appendingPathComponent("recovery-key")
        try Data(recoveryKey.utf8).write(to: keyFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
        // The stored backup key makes the sync fetch sessions from the backup first (a record of its own).
        let keys = try archive.run(["--log-format", "json", "keys", "backup", "--recovery-key-file", keyFile.path])
        #expect(keys.status == 0, "\(keys.stderr)")

        let json = try archive.run(["sync", "--json", "--log-format", "json", "--room", Self.live, "--room", Self.missingRoom])
        #expect(json.status == 3, "\(json.stderr)")
        let records = try Self.records(json.stderr)
        let liveID = try seed.roomID("live")
        let synced = try #require(records.first { $0["message"] == "room synced" && $0["room"]?.stringValue == liveID },
                                  "\(json.stderr)")
        #expect(synced["phase"] == "fetch")
        let reported = json.jsonLines.first?["rooms"]?.arrayValue?.first { $0["room_id"]?.stringValue == liveID }
        #expect(synced.value(at: "counts", "total_events") == reported?["total_events"])
        #expect(synced.value(at: "counts", "new_events") == reported?["new_events"])
        #expect((synced.value(at: "durations", "room").number ?? -1) >= 0)
        #expect(records.contains { $0["level"] == "error" && $0["room"]?.stringValue == Self.missingRoom })
        #expect(records.contains { $0["level"] == "warning" && ($0["message"]?.stringValue ?? "").contains("1 of 2 rooms") })
        #expect(records.contains { $0["phase"] == "key_backup" })
        let finished = try #require(records.first { $0["message"] == "sync finished" })
        #expect(finished.value(at: "counts", "rooms_failed") == .int(1))
        #expect((finished.value(at: "durations", "run").number ?? -1) > 0)

        // Without --json the per-room summaries become records too: stdout keeps nothing but results.
        let human = try archive.run(["--log-format", "json", "sync", "--room", Self.live])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.isEmpty, "\(human.stdout)")
        #expect(try Self.records(human.stderr).contains { $0["message"] == "room synced" })

        let usage = try archive.run(["sync", "--log-format", "json", "--page-size", "0"])
        #expect(usage.status == 2)
        #expect(try Self.records(usage.stderr).contains { $0["level"] == "error" })
        #expect(try archive.run(["sync", "--log-format", "xml"]).status == 2)

        // The secrets a log must never carry: the account's tokens and password, the recovery key.
        let credentials = try JSONCoding.decode(Data(contentsOf: archive.store.appendingPathComponent("credentials.json")))
        let secrets = [credentials["access_token"]?.stringValue, credentials["refresh_token"]?.stringValue,
                       seed.password("alice"), recoveryKey].compactMap { $0 }.filter { !$0.isEmpty }
        // (A refresh token only when the server hands one out.)
        #expect(secrets.count >= 3)
        for output in [keys, json, human, usage] {
            for secret in secrets {
                #expect(!output.stderr.contains(secret) && !output.stdout.contains(secret), "a secret in the log")
            }
        }
    }

    /// `--metrics-file`: Prometheus text that a real parser (prometheus_client) reads, with the numbers of
    /// the sync's `--json`; the file is replaced by a rename (a reader holding the old one keeps it whole),
    /// leaves no temporary file, and a failed run keeps the last success time.
    @Test func metricsFileIsPrometheusTextMatchingTheRunAndReplacedAtomically() throws {
        let archive = try Archive.loggedIn()
        let folder = archive.store.deletingLastPathComponent().appendingPathComponent("textfile")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let metrics = folder.appendingPathComponent("mxarchive.prom")
        let old = "# an earlier run's file\n"
        try Data(old.utf8).write(to: metrics)
        // A hard link is what a reader that opened the old file holds: written in place, it would change.
        let held = archive.store.deletingLastPathComponent().appendingPathComponent("held.prom")
        try FileManager.default.linkItem(at: metrics, to: held)

        let before = Date().timeIntervalSince1970
        let result = try archive.run(["sync", "--json", "--metrics-file", metrics.path,
                                      "--room", Self.live, "--room", Self.missingRoom])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(try String(contentsOf: held, encoding: .utf8) == old, "the metrics file was written in place")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["mxarchive.prom"])
        // The sync indexed (the index sets umask 077 for the process): the collector still reads the file.
        #expect(result.jsonLines.first?["index"] != nil, "\(result.stdout)")
        #expect(try FileManager.default.attributesOfItem(atPath: metrics.path)[.posixPermissions] as? Int == 0o644)

        let samples = try Self.parsePrometheus(metrics)
        let rooms = result.jsonLines.first?["rooms"]?.arrayValue ?? []
        let newEvents = rooms.reduce(0) { $0 + Double($1["new_events"]?.int64Value ?? 0) }
        #expect(newEvents > 0)
        #expect(samples.value("mxarchive_sync_events_fetched") == newEvents)
        #expect(samples.value("mxarchive_sync_rooms") == 2)
        #expect(samples.value("mxarchive_sync_rooms_failed") == 1)
        #expect(samples.value("mxarchive_sync_exit_code") == 3)
        #expect(samples.value("mxarchive_sync_events_waiting_for_keys") == 0)
        #expect((samples.value("mxarchive_archive_size_bytes") ?? 0) > 10_000)
        #expect((samples.value("mxarchive_sync_duration_seconds") ?? 0) > 0)
        let lastSuccess = try #require(samples.value("mxarchive_sync_last_success_timestamp_seconds"))
        #expect(lastSuccess >= before - 1 && lastSuccess <= Date().timeIntervalSince1970 + 1)
        for room in rooms {
            let id = room["room_id"]?.stringValue ?? ""
            #expect(samples.value("mxarchive_room_events", room: id) == Double(room["total_events"]?.int64Value ?? -1))
            #expect(samples.value("mxarchive_room_new_events", room: id) == Double(room["new_events"]?.int64Value ?? -1))
            #expect(samples.value("mxarchive_room_failed", room: id) == (room["error"] == nil ? 0 : 1))
        }

        // A run that fails: exit 1 in the file, the last success kept from the run before.
        let failed = try archive.run(["sync", "--metrics-file", metrics.path, "--room", Self.missingRoom])
        #expect(failed.status == 1)
        let after = try Self.parsePrometheus(metrics)
        #expect(after.value("mxarchive_sync_exit_code") == 1)
        #expect(after.value("mxarchive_sync_last_success_timestamp_seconds") == lastSuccess)
        #expect((after.value("mxarchive_sync_last_run_timestamp_seconds") ?? 0) >= lastSuccess)

        #expect(try archive.run(["sync", "--metrics-file", folder.appendingPathComponent("no/such.prom").path]).status == 2)

        // A run that finds the store busy did nothing: the file stays the running sync's (no exit 1 in it).
        let written = try Data(contentsOf: metrics)
        let holder = try Self.holdStoreLock(archive)
        defer { holder.terminate(); holder.waitUntilExit() }
        let busy = try archive.run(["sync", "--metrics-file", metrics.path, "--room", Self.live])
        #expect(busy.status == 1 && busy.stderr.contains("already running"), "\(busy.stderr)")
        #expect(try Data(contentsOf: metrics) == written, "a busy store's run replaced the metrics file")
    }

    /// Commands that report a success print nothing under `--quiet`: cron mails only what needs a look.
    @Test func quietSuccessReportsAreSilent() throws {
        let archive = try Archive.loggedIn()
        #expect(try archive.run(["sync", "--room", Self.live]).status == 0)
        for arguments in [["--quiet", "verify"], ["--quiet", "reindex"], ["keys", "forget", "--quiet"],
                          ["--quiet", "keys", "forget"]] {
            let result = try archive.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(arguments): '\(result.stdout)' '\(result.stderr)'")
        }
        // Not quiet, the same commands say what they did; --json is printed whatever --quiet says.
        #expect(try archive.run(["verify"]).stdout.contains("archive OK"))
        let json = try archive.run(["--quiet", "verify", "--json"])
        #expect(json.status == 0 && json.jsonLines.first?["ok"] == .bool(true), "\(json.stdout)")
    }

    // MARK: - helpers

    /// `flock(1)` holding the store's sync lock, as a sync running beside would (the same flock(2) lock).
    static func holdStoreLock(_ archive: Archive) throws -> Process {
        let lock = archive.store.appendingPathComponent("sync.lock").path
        let ready = archive.store.deletingLastPathComponent().appendingPathComponent("lock-held-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        process.arguments = ["--exclusive", lock, "sh", "-c", "touch \"$0\" && exec sleep 60", ready.path]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: ready.path) && Date() < deadline { usleep(20_000) }
        try #require(FileManager.default.fileExists(atPath: ready.path), "flock did not take the lock")
        return process
    }

    /// Every non-empty line of `stderr` as a JSON object with the three fields every record has.
    static func records(_ stderr: String) throws -> [JSONValue] {
        let lines = stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        return try lines.map { line in
            let record = try JSONCoding.decode(String(line))
            #expect(record.objectValue != nil, "not an object: \(line)")
            for key in ["time", "level", "message"] {
                #expect(record[key]?.stringValue?.isEmpty == false, "no \(key): \(line)")
            }
            return record
        }
    }

    /// Samples as prometheus_client's text parser (from Synapse's venv, which depends on it) reads them.
    static func parsePrometheus(_ file: URL) throws -> MetricSamples {
        let python = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3"
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                assert family.type == "gauge", family
                assert family.documentation, family
                for s in family.samples:
                    out.append({"name": s.name, "labels": s.labels, "value": s.value})
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "prometheus_client could not parse \(file.path)")
        return MetricSamples(samples: try JSONCoding.decode(data).arrayValue ?? [])
    }
}

extension Optional where Wrapped == JSONValue {
    /// A JSON number as a Double, whichever way it was written (`3` or `3.0`).
    var number: Double? {
        switch self {
        case .int(let value)?: Double(value)
        case .double(let value)?: value
        default: nil
        }
    }
}

struct MetricSamples {
    let samples: [JSONValue]

    func value(_ name: String, room: String? = nil) -> Double? {
        samples.first { sample in
            sample["name"]?.stringValue == name && (room == nil || sample.value(at: "labels", "room_id")?.stringValue == room)
        }?["value"].number
    }
}
