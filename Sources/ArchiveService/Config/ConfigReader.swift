import ArchiveCore
import Foundation

/// Checks a parsed config document key by key and builds `ArchiveConfig`, collecting every problem (an
/// unknown key, a wrong type, a bad value, a secret) at its line instead of stopping at the first.
struct ConfigReader {
    static let topLevelKeys = ["homeserver", "user", "password_file", "rooms", "spaces", "all_joined",
                               "retain_redacted", "media", "max_media_size", "page_size", "jobs", "export"]
    static let exportJobKeys = ["format", "output", "rooms", "spaces", "since", "until", "senders", "include_media",
                                "retain_redacted", "allow_indexing", "templates", "mode"]
    /// Keys that would hold a secret. A config is not a secret file (it may be shown, copied, committed):
    /// it may name files holding secrets, never hold one.
    static let secretKeys: [String: String] = [
        "password": "name a file holding it instead (password_file)",
        "access_token": "log in with `mxarchive login`, which keeps the token in credentials.json (0600)",
        "refresh_token": "log in with `mxarchive login`, which keeps the token in credentials.json (0600)",
        "token": "log in with `mxarchive login`, which keeps the token in credentials.json (0600)",
        "recovery_key": "give it to `mxarchive keys backup --recovery-key-file FILE` once; the store keeps what it needs",
        "passphrase": "give it to `mxarchive keys backup --passphrase-file FILE` once; the store keeps what it needs",
    ]

    let lines: ConfigSourceLines
    private(set) var problems: [ConfigProblem] = []
    /// Paths already reported as secrets: not reported again as unknown keys.
    private var secretPaths: Set<[String]> = []

    init(lines: ConfigSourceLines) { self.lines = lines }

    mutating func read(_ document: [String: ConfigValue], file: String) -> ArchiveConfig {
        findSecrets(in: document, at: [])
        var config = ArchiveConfig(file: file)
        rejectUnknownKeys(document, known: Self.topLevelKeys, at: [], what: "key")
        if let url = string(document, ["homeserver"]) {
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                problem(["homeserver"], "homeserver must be an http:// or https:// URL")
            } else if Self.hasUserinfo(url) {
                // `https://user:password@host` is a password in the file, and in every URL built from it.
                problem(["homeserver"], "homeserver must not hold a user name or password (…@host); "
                        + "log in with `mxarchive login` and password_file instead")
            } else {
                config.homeserver = url
            }
        }
        config.user = nonEmptyString(document, ["user"])
        config.passwordFile = nonEmptyString(document, ["password_file"])
        config.rooms = rooms(document, ["rooms"])
        config.spaces = spaces(document, ["spaces"])
        config.allJoined = bool(document, ["all_joined"])
        config.retainRedacted = bool(document, ["retain_redacted"])
        config.media = bool(document, ["media"])
        config.maxMediaSize = mediaSize(document, ["max_media_size"])
        config.pageSize = integer(document, ["page_size"], in: 1...1000)
        config.jobs = integer(document, ["jobs"], in: 1...SyncRequest.maxJobs)
        if let exports = document["export"] {
            guard case .table(let jobs) = exports else {
                problem(["export"], "export must be a table of jobs: [export.NAME]")
                return config
            }
            for name in jobs.keys.sorted() {
                if let job = exportJob(name, jobs[name]!) { config.exportJobs.append(job) }
            }
        }
        return config
    }

    // MARK: - export jobs

    private mutating func exportJob(_ name: String, _ value: ConfigValue) -> ExportJob? {
        let path = ["export", name]
        guard case .table(let table) = value else {
            problem(path, "export.\(name) must be a table ([export.\(name)] with format and output)")
            return nil
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            problem(path, "export job names use letters, digits, - and _ only")
            return nil
        }
        rejectUnknownKeys(table, known: Self.exportJobKeys, at: path, what: "export job field")
        var job = ExportJob(name: name)
        let problemsBefore = problems.count
        if let format = string(table, path + ["format"]) {
            if let known = ExportRequest.Format(rawValue: format) {
                job.format = known
            } else {
                problem(path + ["format"], "format must be json, html or txt")
            }
        } else if table["format"] == nil {
            problem(path, "[export.\(name)] needs format = \"json\", \"html\" or \"txt\"")
        }
        job.rooms = rooms(table, path + ["rooms"]) ?? []
        job.spaces = spaces(table, path + ["spaces"]) ?? []
        if let output = string(table, path + ["output"]) {
            job.output = output
            checkOutput(job, at: path + ["output"])
            if job.perRoom { checkSlugs(job.rooms, at: path + ["rooms"]) }
        } else if table["output"] == nil {
            problem(path, "[export.\(name)] needs output = \"PATH\" (it may hold {date} and {room})")
        }
        for key in ["since", "until"] {
            guard let text = string(table, path + [key]) else { continue }
            if DateArgument(text) == nil {
                problem(path + [key], "\(key) must be a date (YYYY-MM-DD or ISO 8601, UTC)")
            }
            if key == "since" { job.since = text } else { job.until = text }
        }
        job.senders = stringArray(table, path + ["senders"]) ?? []
        // By position, never by value: a value in the wrong place may be something pasted by mistake.
        for (index, sender) in job.senders.enumerated() where !sender.hasPrefix("@") || !sender.contains(":") {
            problem(path + ["senders"], "senders: entry \(index + 1) is not a user id (@name:server)")
        }
        job.includeMedia = bool(table, path + ["include_media"]) ?? false
        job.retainRedacted = bool(table, path + ["retain_redacted"]) ?? false
        job.allowIndexing = bool(table, path + ["allow_indexing"]) ?? false
        job.templates = nonEmptyString(table, path + ["templates"])
        if job.templates != nil && job.format != .html {
            problem(path + ["templates"], "templates only applies to format = \"html\"")
        }
        if let mode = string(table, path + ["mode"]) {
            do {
                try ExportRequest.checkMode(mode)
                job.mode = mode
            } catch {
                problem(path + ["mode"], "mode: \(error)")
            }
        }
        return problems.count == problemsBefore ? job : nil
    }

    /// `{room}` names one file per room by its slug: two rooms with the same slug (`!team:x` and
    /// `#team:x`, names differing only in characters the slug replaces) would write the same file, and
    /// on a case-insensitive disk so would slugs differing only in case. Refused, by position.
    private mutating func checkSlugs(_ rooms: [String], at path: [String]) {
        var first: [String: Int] = [:]
        for (index, room) in rooms.enumerated() {
            let slug = ExportJob.slug(room).lowercased()
            if let earlier = first[slug] {
                problem(path, "rooms: entries \(earlier + 1) and \(index + 1) make the same {room} file name "
                        + "(compared ignoring case); name each room once, by one id or alias")
            } else {
                first[slug] = index
            }
        }
    }

    private mutating func checkOutput(_ job: ExportJob, at path: [String]) {
        let output = job.output
        if output.isEmpty || output == "-" {
            problem(path, "output must be a path (a tar on standard output is for `mxarchive export --output -`)")
            return
        }
        var rest = Substring(output)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                problem(path, "output has a { without its }")
                return
            }
            let placeholder = String(rest[open...close])
            if !ExportJob.placeholders.contains(placeholder) {
                problem(path, "output: unknown placeholder \(placeholder) (known: \(ExportJob.placeholders.joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
        if job.perRoom && (job.rooms.isEmpty || !job.spaces.isEmpty) {
            problem(path, "output uses {room}: the job must name its rooms (rooms = [...]) and no spaces")
        }
    }

    // MARK: - secrets and unknown keys

    private mutating func findSecrets(in table: [String: ConfigValue], at path: [String]) {
        for key in table.keys.sorted() {
            let keyPath = path + [key]
            if let advice = Self.secretKeys[key.lowercased()] {
                secretPaths.insert(keyPath)
                problem(keyPath, "`\(key)` would put a secret in the config file, which is not kept secret; \(advice)")
                continue
            }
            findSecrets(in: table[key]!, at: keyPath)
        }
    }

    private mutating func findSecrets(in value: ConfigValue, at path: [String]) {
        switch value {
        case .table(let table): findSecrets(in: table, at: path)
        case .array(let items): items.forEach { findSecrets(in: $0, at: path) }
        case .string(let text) where Self.looksLikeSecret(text):
            guard !secretPaths.contains(path) else { return }
            secretPaths.insert(path)
            problem(path, "\(path.joined(separator: ".")) holds what looks like an access token or recovery key; "
                    + "a config names files holding secrets, never a secret itself")
        default: break
        }
    }

    /// Whether an http(s) URL names a user (`scheme://user[:password]@host`): an `@` before the end of
    /// the authority.
    static func hasUserinfo(_ url: String) -> Bool {
        guard let start = url.range(of: "://")?.upperBound else { return false }
        return url[start...].prefix { !"/?#".contains($0) }.contains("@")
    }

    /// Synapse's and MAS's token prefixes, and the shape of a recovery key (base58 in groups of four,
    /// starting "Es").
    static func looksLikeSecret(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if ["syt_", "syr_", "mat_", "mar_", "mct_"].contains(where: { trimmed.hasPrefix($0) }) { return true }
        let compact = trimmed.filter { $0 != " " }
        let base58 = Set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        return compact.hasPrefix("Es") && compact.count >= 40 && compact.allSatisfy(base58.contains)
    }

    private mutating func rejectUnknownKeys(_ table: [String: ConfigValue], known: [String], at path: [String], what: String) {
        for key in table.keys.sorted() where !known.contains(key) && !secretPaths.contains(path + [key]) {
            let place = path.isEmpty ? "" : " in [\(path.joined(separator: "."))]"
            problem(path + [key], "unknown \(what) `\(key)`\(place) (known: \(known.joined(separator: ", ")))")
        }
    }

    // MARK: - typed values

    mutating func problem(_ path: [String], _ message: String) {
        problems.append(ConfigProblem(line: lines.line(of: path), message: message))
    }

    private func name(_ path: [String]) -> String { path.joined(separator: ".") }

    /// The value at `path`'s last key, or nil when absent or already reported as a secret.
    private func value(_ table: [String: ConfigValue], _ path: [String]) -> ConfigValue? {
        guard !secretPaths.contains(path) else { return nil }
        return table[path.last!]
    }

    private mutating func string(_ table: [String: ConfigValue], _ path: [String]) -> String? {
        guard let value = value(table, path) else { return nil }
        guard case .string(let text) = value else {
            problem(path, "\(name(path)) must be a string, got \(value.typeName)")
            return nil
        }
        return text
    }

    private mutating func nonEmptyString(_ table: [String: ConfigValue], _ path: [String]) -> String? {
        guard let text = string(table, path) else { return nil }
        if text.isEmpty { problem(path, "\(name(path)) must not be empty") ; return nil }
        return text
    }

    private mutating func bool(_ table: [String: ConfigValue], _ path: [String]) -> Bool? {
        guard let value = value(table, path) else { return nil }
        guard case .bool(let flag) = value else {
            problem(path, "\(name(path)) must be true or false, got \(value.typeName)")
            return nil
        }
        return flag
    }

    private mutating func integer(_ table: [String: ConfigValue], _ path: [String], in range: ClosedRange<Int>) -> Int? {
        guard let value = value(table, path) else { return nil }
        guard case .integer(let number) = value else {
            problem(path, "\(name(path)) must be an integer, got \(value.typeName)")
            return nil
        }
        guard range.contains(number) else {
            problem(path, "\(name(path)) must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
            return nil
        }
        return number
    }

    private mutating func stringArray(_ table: [String: ConfigValue], _ path: [String]) -> [String]? {
        guard let value = value(table, path) else { return nil }
        guard case .array(let items) = value else {
            problem(path, "\(name(path)) must be an array of strings, got \(value.typeName)")
            return nil
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else {
                problem(path, "\(name(path)) must be an array of strings, got \(item.typeName) in it")
                return nil
            }
            strings.append(text)
        }
        return strings
    }

    private mutating func rooms(_ table: [String: ConfigValue], _ path: [String]) -> [String]? {
        guard let rooms = stringArray(table, path) else { return nil }
        for (index, room) in rooms.enumerated() where !(room.hasPrefix("!") || room.hasPrefix("#")) || !room.contains(":") {
            problem(path, "\(name(path)): entry \(index + 1) is not a room id (!…:server) or alias (#…:server)")
        }
        return rooms
    }

    private mutating func spaces(_ table: [String: ConfigValue], _ path: [String]) -> [String]? {
        guard let spaces = stringArray(table, path) else { return nil }
        for (index, space) in spaces.enumerated() where !space.hasPrefix("!") || !space.contains(":") {
            problem(path, "\(name(path)): entry \(index + 1) is not a room id (!…:server)")
        }
        return spaces
    }

    /// A size like the flag's ("20M") or a number of bytes.
    private mutating func mediaSize(_ table: [String: ConfigValue], _ path: [String]) -> String? {
        guard let value = value(table, path) else { return nil }
        let text: String
        switch value {
        case .string(let string): text = string
        case .integer(let bytes): text = String(bytes)
        default:
            problem(path, "\(name(path)) must be a size such as \"20M\" or a number of bytes, got \(value.typeName)")
            return nil
        }
        guard let bytes = ByteSize.parse(text), bytes > 0, bytes <= 2 << 30 else {
            problem(path, "\(name(path)) must be a size between 1 byte and 2G (a number with an optional K, M or G)")
            return nil
        }
        return text
    }
}
