import ArchiveCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What `scripts/seed.py` sent, read from the truth file it wrote (`MXARCHIVE_TEST_SEED`).
struct Seed: Sendable {
    let json: JSONValue
    let homeserver: String

    static func load() throws -> Seed {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["MXARCHIVE_TEST_SEED"], let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError("MXARCHIVE_TEST_SEED is not set or unreadable: run the integration tests through scripts/test, which starts the seeded Synapse")
        }
        let json = try JSONCoding.decode(data)
        let homeserver = environment["MXARCHIVE_TEST_HOMESERVER"] ?? json["homeserver"]?.stringValue ?? ""
        return Seed(json: json, homeserver: homeserver)
    }

    func room(_ key: String) throws -> JSONValue {
        guard let room = json.value(at: "rooms", key) else { throw HarnessError("seed has no room \(key)") }
        return room
    }

    func roomID(_ key: String) throws -> String { try room(key)["room_id"]?.stringValue ?? "" }

    func password(_ user: String) -> String { json.value(at: "users", user, "password")?.stringValue ?? "" }
    func userID(_ user: String) -> String { json.value(at: "users", user, "user_id")?.stringValue ?? "" }

    func messages(_ key: String) throws -> [JSONValue] { try room(key)["messages"]?.arrayValue ?? [] }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The result of running the binary.
struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    var jsonLines: [JSONValue] { lines.compactMap { try? JSONCoding.decode($0) } }
}

/// A fresh store folder logged in as a seeded user, and helpers to run `mxarchive` on it.
struct Archive {
    let seed: Seed
    let store: URL
    let passwordFile: URL

    static var binary: URL {
        if let explicit = ProcessInfo.processInfo.environment["MXARCHIVE_BIN"] { return URL(fileURLWithPath: explicit) }
        // The test bundle sits in the same build folder as the executable it depends on.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = bundle.appendingPathComponent("mxarchive")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/mxarchive")
    }

    /// `parent`: the folder that holds the store's folder (default: the temporary folder).
    static func loggedIn(as user: String = "alice", in parent: URL? = nil) throws -> Archive {
        let seed = try Seed.load()
        return try loggedIn(seed: seed, userID: seed.userID(user), password: seed.password(user), in: parent)
    }

    /// A fresh store logged in as any account (the tests' own, registered by `TestAccount`).
    static func loggedIn(seed: Seed, userID: String, password: String, in parent: URL? = nil) throws -> Archive {
        let base = (parent ?? FileManager.default.temporaryDirectory).appendingPathComponent("mxa-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let passwordFile = base.appendingPathComponent("password")
        try Data((password + "\n").utf8).write(to: passwordFile, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile.path)
        let archive = Archive(seed: seed, store: base.appendingPathComponent("store"), passwordFile: passwordFile)
        let login = try archive.run(["login", "--homeserver", seed.homeserver, "--user", userID,
                                     "--password-file", passwordFile.path])
        guard login.status == 0 else { throw HarnessError("login failed: \(login.stderr)") }
        return archive
    }

    /// Runs `mxarchive --store STORE args…` to completion.
    @discardableResult
    func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> RunResult {
        let process = try start(arguments, environment: extra)
        let out = process.standardOutput as! Pipe
        let err = process.standardError as! Pipe
        // Read both pipes while the process runs so a large output cannot block it.
        let outData = Locked(Data())
        let errData = Locked(Data())
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        process.waitUntilExit()
        group.wait()
        let result = RunResult(status: process.terminationStatus,
                               stdout: String(decoding: outData.get(), as: UTF8.self),
                               stderr: String(decoding: errData.get(), as: UTF8.self))
        try assertNoSecrets(in: result)
        return result
    }

    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--store", store.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "MXARCHIVE_ACCESS_TOKEN")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }

    /// Every run's output is checked: no password, access or refresh token ever appears.
    func assertNoSecrets(in result: RunResult) throws {
        var secrets = [seed.password("alice"), seed.password("bob"), seed.password("carol")]
        // Key material of the encrypted rooms: recovery keys and passphrases never reach any output.
        for path in [["modern", "recovery_key"], ["modern", "passphrase"], ["legacy", "recovery_key"],
                     ["legacy", "passphrase"], ["key_export", "passphrase"]] {
            if let secret = seed.json["e2e"]?[path[0]]?[path[1]]?.stringValue { secrets.append(secret) }
        }
        if let credentials = try? JSONCoding.decode(Data(contentsOf: store.appendingPathComponent("credentials.json"))) {
            secrets += [credentials["access_token"]?.stringValue, credentials["refresh_token"]?.stringValue].compactMap { $0 }
        }
        for secret in secrets where !secret.isEmpty {
            #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret), "output leaks a secret")
        }
    }

    @discardableResult
    func sync(_ arguments: [String]) throws -> RunResult {
        let result = try run(["sync", "--json"] + arguments)
        let expected = Self.expectedSyncStatus(result.jsonLines.first)
        #expect(result.status == expected, "sync \(arguments): exit \(result.status), not \(expected): \(result.stderr)")
        return result
    }

    /// The exit-code contract for a sync whose `--json` is `report`: 3 (done with warnings) when a room
    /// failed, events still wait for keys or attachments failed (other than over the size cap), else 0.
    static func expectedSyncStatus(_ report: JSONValue?) -> Int32 {
        let rooms = report?["rooms"]?.arrayValue ?? []
        let warned = rooms.contains { room in
            room["error"] != nil || room["waiting_for_keys"] != nil
                || (room.value(at: "media", "failed")?.objectValue ?? [:]).keys.contains { $0 != "too_large" }
        }
        // A key backup that could not be read is a warning of the run (the sync goes on without it).
        return warned || report?.value(at: "key_backup", "error") != nil ? 3 : 0
    }

    /// `sync --json` → room id → (new, total).
    func syncCounts(_ result: RunResult) -> [String: (new: Int, total: Int)] {
        var counts: [String: (Int, Int)] = [:]
        for line in result.jsonLines {
            for room in line["rooms"]?.arrayValue ?? [] {
                counts[room["room_id"]?.stringValue ?? ""] = (Int(room["new_events"]?.int64Value ?? -1),
                                                              Int(room["total_events"]?.int64Value ?? -1))
            }
        }
        return counts
    }

    func events(_ room: String, _ extra: [String] = []) throws -> [JSONValue] {
        let result = try run(["events", "--room", room, "--jsonl"] + extra)
        #expect(result.status == 0, "events failed: \(result.stderr)")
        return result.jsonLines
    }

    func eventLines(_ room: String, _ extra: [String] = []) throws -> [String] {
        try run(["events", "--room", room, "--jsonl"] + extra).lines
    }
}

final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func get() -> T { lock.withLock { value } }
    func set(_ newValue: T) { lock.withLock { value = newValue } }
}

/// A minimal client for the tests' own writes to the server (the "live" room), independent of mxarchive.
struct TestSender {
    let homeserver: String
    let token: String

    static func login(seed: Seed, user: String) async throws -> TestSender {
        let reply = try await post(seed.homeserver + "/_matrix/client/v3/login", body: [
            "type": "m.login.password", "identifier": ["type": "m.id.user", "user": .string(seed.userID(user))],
            "password": .string(seed.password(user)),
        ], token: nil)
        return TestSender(homeserver: seed.homeserver, token: reply["access_token"]?.stringValue ?? "")
    }

    func send(roomID: String, body: String) async throws -> String {
        let txn = UUID().uuidString
        let room = roomID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? roomID
        let reply = try await Self.request("PUT", homeserver + "/_matrix/client/v3/rooms/\(room)/send/m.room.message/\(txn)",
                                           body: ["msgtype": "m.text", "body": .string(body)], token: token)
        return reply["event_id"]?.stringValue ?? ""
    }

    func redact(roomID: String, eventID: String) async throws {
        let room = roomID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? roomID
        let event = eventID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? eventID
        _ = try await Self.request("PUT", homeserver + "/_matrix/client/v3/rooms/\(room)/redact/\(event)/\(UUID().uuidString)",
                                   body: ["reason": "test"], token: token)
    }

    static func post(_ url: String, body: JSONValue, token: String?) async throws -> JSONValue {
        try await request("POST", url, body: body, token: token)
    }

    static func request(_ method: String, _ url: String, body: JSONValue?, token: String?) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body { request.httpBody = Data(JSONCoding.encode(body).utf8) }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw HarnessError("\(method) \(url) failed: \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONCoding.decode(data)
    }
}
