import ArchiveCore
import Foundation
import Testing

/// Issue 12, item 9: the real binary SIGKILLed at seeded random moments of `sync`, `keys backup`, `reindex`
/// and `export`. After each kill `verify` is clean, a rerun completes, and the result equals an
/// uninterrupted run's: the `events --jsonl` of the store (and for reindex the search results), or for an
/// export a final file that is absent or complete, byte for byte the clean export, with no `.partial` that
/// trips the rerun. Kill moments are spread over the duration of a clean run of the same command.
@Suite(.serialized) struct KillTests {
    /// Runs attempts until `FaultSettings.killsPerCommand` kills have landed (an attempt whose process ended
    /// before its kill still has its result checked, but does not count), and records how many did. A run
    /// that ended before its kill shortens the window the later kills are spread over: the clean run that set
    /// it may have been slowed by a busy machine or a cold server cache (CI once saw 19 of 60 land).
    func killLoop(_ label: String, duration clean: Double,
                  _ attempt: (_ index: Int, _ delay: Double, _ context: String) async throws -> KillOutcome) async throws {
        let wanted = FaultSettings.killsPerCommand
        var moments = KillMoments(label: label)
        var duration = clean
        var landed = 0
        var index = 0
        while landed < wanted && index < wanted * 3 {
            let delay = moments.delay(index, of: wanted, duration: duration)
            let outcome = try await attempt(index, delay, moments.context(index, delay))
            if outcome.landed { landed += 1 }
            if let ranFor = outcome.ranFor { duration = min(duration, ranFor) }
            index += 1
        }
        print("kills survived: \(label) \(landed) of \(index) attempts (clean run \(String(format: "%.2f", clean)) s, kills spread over \(String(format: "%.2f", duration)) s, seed \(moments.seed))")
        #expect(landed >= wanted, "\(label): only \(landed) of \(index) kills landed before the run ended (seed \(moments.seed))")
    }

    // MARK: sync

    /// Rooms of several kinds (a space with its children, an upgraded pair, a plain room) in small pages,
    /// so that a kill meets room selection, the hierarchy walk, backward and forward pages and the index.
    func syncArguments(_ seed: Seed) throws -> [String] {
        var arguments = ["sync", "--json", "--space", try seed.roomID("space"), "--room", "#upgraded:localhost",
                         "--follow-upgrades", "--room", "#export:localhost", "--page-size", "4"]
        if FaultSettings.long { arguments += ["--room", "#big:localhost"] }
        return arguments
    }

    func syncedRooms(_ seed: Seed) throws -> [String] {
        let keys = ["space", "child_a", "child_b", "upgraded_old", "upgraded_new", "export"] + (FaultSettings.long ? ["big"] : [])
        return try keys.map { try seed.roomID($0) }
    }

    /// Every synced room's `events --jsonl`, in one list.
    func timelines(_ archive: Archive, _ rooms: [String]) throws -> [String] {
        try rooms.flatMap { room in [room] + (try archive.eventLines(room)) }
    }

    @Test func killedSyncsResumeToTheCleanResult() async throws {
        let clean = try Archive.loggedIn()
        defer { clean.remove() }
        let arguments = try syncArguments(clean.seed)
        let rooms = try syncedRooms(clean.seed)
        let (first, duration) = try clean.timedRun(arguments)
        try #require(first.status == 0, "clean sync: \(first.stderr)")
        let reference = try timelines(clean, rooms)
        #expect(reference.count > 100)

        try await killLoop("sync", duration: duration) { _, delay, context in
            let archive = try Archive.loggedIn()
            defer { archive.remove() }
            let outcome = try await archive.runKilled(arguments, after: delay)
            if FileManager.default.fileExists(atPath: archive.store.appendingPathComponent("archive.sqlite").path) {
                let problems = try archive.verifyProblems()
                #expect(problems == nil, "\(context): \(problems ?? "")")
            } else {
                // Killed before it created the archive (`login` makes none): still none, as before the run.
                #expect(try archive.run(["verify"]).stderr.contains("no archive at"), "\(context)")
            }
            let rerun = try archive.run(arguments)
            #expect(rerun.status == 0, "\(context): rerun failed: \(rerun.stderr)")
            #expect(try timelines(archive, rooms) == reference, "\(context): timeline differs from a clean sync")
            let after = try archive.verifyProblems()
            #expect(after == nil, "\(context): after the rerun: \(after ?? "")")
            return outcome
        }
    }

    // MARK: keys backup

    /// carol's legacy backup over the hostile room (default), or alice's backup behind secret storage over the
    /// 2,000-message encrypted room (`--long`).
    struct KeysWorkload {
        let user: String
        let roomKey: String
        let recoveryKeyPath: [String]

        static var current: KeysWorkload {
            FaultSettings.long ? KeysWorkload(user: "alice", roomKey: "encrypted", recoveryKeyPath: ["modern", "recovery_key"])
                : KeysWorkload(user: "carol", roomKey: "hostile", recoveryKeyPath: ["legacy", "recovery_key"])
        }

        /// A fresh archive of the room with every event waiting for its key, and the recovery key's file.
        func prepare() throws -> (Archive, room: String, keyFile: String) {
            let archive = try Archive.loggedIn(as: user)
            let room = try archive.seed.roomID(roomKey)
            try archive.sync(["--room", room, "--from-start"])
            let key = recoveryKeyPath.reduce(archive.seed.json["e2e"]) { $0?[$1] }?.stringValue ?? ""
            return (archive, room, try archive.secretFile("recovery", key))
        }
    }

    @Test func killedKeyBackupsResumeToTheCleanResult() async throws {
        let workload = KeysWorkload.current
        let (clean, room, cleanKey) = try workload.prepare()
        defer { clean.remove() }
        let (first, duration) = try clean.timedRun(["keys", "backup", "--recovery-key-file", cleanKey])
        try #require(first.status == 0, "clean keys backup: \(first.stderr)")
        let reference = try clean.eventLines(room)
        #expect(reference.contains { $0.contains("\"decryption\":\"ok\"") }, "the clean backup decrypted nothing")

        try await killLoop("keys backup", duration: duration) { _, delay, context in
            let (archive, _, keyFile) = try workload.prepare()
            defer { archive.remove() }
            let arguments = ["keys", "backup", "--recovery-key-file", keyFile]
            let outcome = try await archive.runKilled(arguments, after: delay)
            let problems = try archive.verifyProblems()
            #expect(problems == nil, "\(context): \(problems ?? "")")
            let rerun = try archive.run(arguments)
            #expect(rerun.status == 0, "\(context): rerun failed: \(rerun.stderr)")
            #expect(try archive.eventLines(room) == reference, "\(context): timeline differs from a clean keys backup")
            let after = try archive.verifyProblems()
            #expect(after == nil, "\(context): after the rerun: \(after ?? "")")
            return outcome
        }
    }

    // MARK: reindex and export (offline, on copies of one synced archive)

    /// One archive of the big room and the export room, synced once for the offline commands.
    actor Base {
        static let shared = Base()
        private var archive: Archive?

        func get() throws -> Archive {
            if let archive { return archive }
            let made = try Archive.loggedIn()
            try made.sync(["--room", "#big:localhost", "--room", "#export:localhost", "--from-start"])
            archive = made
            return made
        }
    }

    /// The rooms an export kill exports: the small rooms of the sync loop (many rooms, a space, an upgraded
    /// pair: every kind of page) and, with `--long`, the big room as well.
    static var exportedRooms: [String] {
        ["#export:localhost", "#upgraded:localhost", "#child-a:localhost", "#child-b:localhost"]
            + (FaultSettings.long ? ["#big:localhost"] : [])
    }

    /// One archive holding the exported rooms, synced once.
    actor ExportBase {
        static let shared = ExportBase()
        private var archive: Archive?

        func get() throws -> Archive {
            if let archive { return archive }
            let made = try Archive.loggedIn()
            try made.sync(KillTests.exportedRooms.flatMap { ["--room", $0] } + ["--follow-upgrades", "--from-start"])
            archive = made
            return made
        }
    }

    /// What the index answers: the event ids of a few queries that together touch most documents.
    func searchAnswers(_ archive: Archive) throws -> [String] {
        try ["message", "from:@bob:localhost"].flatMap { query in
            let result = try archive.run(["search", query, "--json", "--limit", "1000", "--sort", "date"])
            #expect(result.status == 0, "search \(query): \(result.stderr)")
            let reply = result.jsonLines.first
            return [query, "\(reply?["total_estimate"] ?? .null)"]
                + (reply?["results"]?.arrayValue ?? []).map { $0["event_id"]?.stringValue ?? "" }
        }
    }

    @Test func killedReindexesResumeToTheCleanResult() async throws {
        // The export loop's rooms (the big room too under --long): a verify of the big room's index after
        // each of 20 kills would cost the default run minutes.
        let base = try await ExportBase.shared.get()
        let clean = try base.copy()
        defer { clean.remove() }
        let (first, duration) = try clean.timedRun(["reindex", "--json"])
        try #require(first.status == 0, "clean reindex: \(first.stderr)")
        let documents = first.jsonLines.first?["documents"]
        #expect((documents?.int64Value ?? 0) > 50)
        let answers = try searchAnswers(clean)
        #expect(answers.count > 50)
        let timeline = try clean.eventLines("#export:localhost")

        try await killLoop("reindex", duration: duration) { _, delay, context in
            let archive = try base.copy()
            defer { archive.remove() }
            let outcome = try await archive.runKilled(["reindex"], after: delay)
            let problems = try archive.verifyProblems()
            #expect(problems == nil, "\(context): \(problems ?? "")")
            let rerun = try archive.run(["reindex", "--json"])
            #expect(rerun.status == 0, "\(context): rerun failed: \(rerun.stderr)")
            #expect(rerun.jsonLines.first?["documents"] == documents, "\(context): \(rerun.stdout)")
            #expect(try searchAnswers(archive) == answers, "\(context): search answers differ from a clean reindex")
            #expect(try archive.eventLines("#export:localhost") == timeline, "\(context): the store changed")
            return outcome
        }
    }

    /// Every format with every packer (a folder and each archive kind), in turn.
    static let formats = ["json", "html", "txt"]
    static let packers = ["", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".zip"]

    struct ExportCase: Hashable {
        let format: String
        let packer: String
        var name: String { "out-\(format)\(packer)" }
        var isFolder: Bool { packer.isEmpty }
    }

    /// Attempt `index`'s case. Stepping by 7 (coprime with the 18 cases) still visits every case in 18
    /// attempts, but spreads each packer over the run's time slices: in plain order the folder cases would
    /// only ever be killed in the first slices, before a folder exists.
    static func exportCase(_ index: Int) -> ExportCase {
        let count = formats.count * packers.count
        let step = (index * 7) % count
        return ExportCase(format: formats[step % formats.count], packer: packers[(step / formats.count) % packers.count])
    }

    /// What a finished export is, to compare: an archive's bytes (SOURCE_DATE_EPOCH makes them reproducible),
    /// or a folder's manifest (which holds the SHA-256 of every other file, all checked by verify-export).
    func exportIdentity(_ path: URL, _ kind: ExportCase) throws -> Data {
        try Data(contentsOf: kind.isFolder ? path.appendingPathComponent("manifest.json") : path)
    }

    func exportArguments(_ kind: ExportCase, output: URL) -> [String] {
        ["export", "--format", kind.format] + Self.exportedRooms.flatMap { ["--room", $0] } + ["--output", output.path]
    }

    static let reproducible = ["SOURCE_DATE_EPOCH": "1700000000"]

    @Test func killedExportsLeaveNothingHalfWritten() async throws {
        let archive = try await ExportBase.shared.get()
        var references: [ExportCase: Data] = [:]
        var durations: [Double] = []
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-kill-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for index in 0..<(Self.formats.count * Self.packers.count) {
            let kind = Self.exportCase(index)
            let output = scratch.appendingPathComponent("reference").appendingPathComponent(kind.name)
            try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
            let (result, duration) = try archive.timedRun(exportArguments(kind, output: output), environment: Self.reproducible)
            try #require(result.status == 0, "clean export \(kind.name): \(result.stderr)")
            references[kind] = try exportIdentity(output, kind)
            durations.append(duration)
        }
        let duration = durations.sorted()[durations.count / 2]

        try await killLoop("export", duration: duration) { index, delay, context in
            let kind = Self.exportCase(index)
            let context = "\(context) [\(kind.name)]"
            let folder = scratch.appendingPathComponent("run-\(index)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let output = folder.appendingPathComponent(kind.name)
            let arguments = exportArguments(kind, output: output)
            let outcome = try await archive.runKilled(arguments, after: delay, environment: Self.reproducible)

            // Under its final name there is nothing, or the whole export.
            if FileManager.default.fileExists(atPath: output.path) {
                let verified = try archive.run(["verify-export", output.path])
                #expect(verified.status == 0, "\(context): a killed export left an incomplete \(kind.name): \(verified.stdout)")
                #expect((try? exportIdentity(output, kind)) == references[kind], "\(context): differs from a clean export")
                try FileManager.default.removeItem(at: output)
            }
            let problems = try archive.verifyProblems()
            #expect(problems == nil, "\(context): \(problems ?? "")")

            let rerun = try archive.run(arguments, environment: Self.reproducible)
            #expect(rerun.status == 0, "\(context): rerun failed: \(rerun.stderr)")
            let verified = try archive.run(["verify-export", output.path])
            #expect(verified.status == 0, "\(context): rerun's export does not verify: \(verified.stdout)")
            #expect((try? exportIdentity(output, kind)) == references[kind], "\(context): rerun differs from a clean export")
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0 != kind.name }
            #expect(left.isEmpty, "\(context): left behind after the rerun: \(left)")
            return outcome
        }
    }
}
