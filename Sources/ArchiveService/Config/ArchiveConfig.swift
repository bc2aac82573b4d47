import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `<store>/config.toml`, validated: what a nightly `mxarchive sync` follows and how, and the named export
/// jobs. Every field is optional: what the file leaves out keeps its default, and a command-line flag wins
/// over the file (`SyncSettings`).
public struct ArchiveConfig: Sendable {
    public static let fileName = "config.toml"

    /// The file it was read from, as shown in messages.
    public let file: String
    public var homeserver: String?
    /// `login`'s defaults: the account, and the file holding its password (never the password itself).
    public var user: String?
    public var passwordFile: String?
    public var rooms: [String]?
    public var spaces: [String]?
    public var allJoined: Bool?
    public var retainRedacted: Bool?
    public var media: Bool?
    public var maxMediaSize: String?
    public var pageSize: Int?
    public var jobs: Int?
    /// `[export.NAME]` tables, by name.
    public var exportJobs: [ExportJob] = []

    init(file: String) { self.file = file }

    public func exportJob(named name: String) -> ExportJob? { exportJobs.first { $0.name == name } }

    public static func url(inStore directory: URL) -> URL { directory.appendingPathComponent(fileName) }

    /// The store's config, or nil when it has none (every setting then has its default).
    public static func load(storeDirectory: URL) throws -> ArchiveConfig? {
        let url = url(inStore: storeDirectory)
        var info = stat()
        // lstat: whatever is there (a dangling link, a FIFO) is the config, and is judged by `load(file:)`.
        guard lstat(url.path, &info) == 0 else { return nil }
        return try load(file: url)
    }

    /// Reads and validates one file: a `ConfigError` listing every problem, or the config.
    public static func load(file url: URL) throws -> ArchiveConfig {
        let data = try ConfigFile.read(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: url.path, problems: [ConfigProblem(line: 1, message: "not UTF-8 text")])
        }
        return try parse(text, file: url.path).get()
    }

    /// The text's config, or every problem in it.
    public static func parse(_ text: String, file: String) -> Result<ArchiveConfig, ConfigError> {
        let lines = ConfigSourceLines(text)
        // Before TOMLKit: toml++ builds (and recurses through) whatever nesting it is given.
        if let deep = lines.tooDeep {
            return .failure(ConfigError(file: file, problems: [
                ConfigProblem(line: deep.line, message: "keys nest \(deep.depth) deep here; a config nests at most \(ConfigSourceLines.maxDepth)"),
            ]))
        }
        switch TOMLDocument.parse(text) {
        case .failure(let problem):
            return .failure(ConfigError(file: file, problems: [problem]))
        case .success(let document):
            var reader = ConfigReader(lines: lines)
            let config = reader.read(document, file: file)
            let problems = reader.problems.sorted { ($0.line, $0.message) < ($1.line, $1.message) }
            return problems.isEmpty ? .success(config) : .failure(ConfigError(file: file, problems: problems))
        }
    }
}
