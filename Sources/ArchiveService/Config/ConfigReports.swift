import ArchiveCore
import Foundation

/// `mxarchive config show`: every effective setting and where it came from, and the export jobs
/// (schemas/config-show.schema.json). It never shows a secret: the config cannot hold one (the reader
/// rejects it), credentials are not read, and a password file is shown by its path only.
public struct ConfigShowReport: CommandReport {
    let file: String?
    let settings: [EffectiveSetting]
    let exportJobs: [ExportJob]

    public init(config: ArchiveConfig?, sync: SyncSettings) {
        file = config?.file
        var settings: [EffectiveSetting] = []
        for (key, value) in [("homeserver", config?.homeserver), ("user", config?.user),
                             ("password_file", config?.passwordFile)] {
            settings.append(EffectiveSetting(key: key, value: value.map(JSONValue.string) ?? .null,
                                             source: value == nil ? .default : .config))
        }
        self.settings = settings + sync.entries
        exportJobs = config?.exportJobs ?? []
    }

    public var jsonValue: JSONValue {
        .object([
            "config_file": file.map(JSONValue.string) ?? .null,
            "settings": .array(settings.map { .object(["key": .string($0.key), "value": $0.value,
                                                       "source": .string($0.source.rawValue)]) }),
            "export_jobs": .array(exportJobs.map(\.json)),
        ])
    }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        var lines = ["# config file: \(file ?? "none (every setting has its default)")"]
        for setting in settings {
            lines.append("\(setting.key) = \(Self.text(setting.value))    # \(setting.source.rawValue)")
        }
        for job in exportJobs {
            lines.append("")
            lines.append("[export.\(job.name)]    # config")
            for (key, value) in job.json.objectValue!.sorted(by: { $0.key < $1.key }) where key != "name" {
                lines.append("\(key) = \(Self.text(value))")
            }
        }
        return lines.map { .result(DisplayText.singleLine($0)) }
    }

    /// A value written as TOML would write it.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "(not set)"
        case .string(let text): return "\"\(text)\""
        case .array(let items): return "[" + items.map(text).joined(separator: ", ") + "]"
        default: return JSONCoding.encode(value)
        }
    }
}

extension ExportJob {
    var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "format": .string(format.rawValue), "output": .string(output),
            "rooms": .array(rooms.map(JSONValue.string)), "spaces": .array(spaces.map(JSONValue.string)),
            "senders": .array(senders.map(JSONValue.string)), "include_media": .bool(includeMedia),
            "retain_redacted": .bool(retainRedacted), "allow_indexing": .bool(allowIndexing),
        ]
        for (key, value) in [("since", since), ("until", until), ("templates", templates), ("mode", mode)] {
            if let value { object[key] = .string(value) }
        }
        if let pageMessages { object["page_messages"] = .int(Int64(pageMessages)) }
        return .object(object)
    }
}

/// `mxarchive config check`: the file is usable (exit 0), or every problem at its line (exit 1).
public struct ConfigCheckReport: HumanReport {
    public let file: String
    public let problems: [ConfigProblem]
    let exportJobs: Int

    /// Checks `path` (default: the config.toml of the store `--store` names). A missing file is an error
    /// here: asking to check a config that is not there is a mistake worth saying.
    public static func check(file path: String?, store: String?) throws -> ConfigCheckReport {
        let file = path.map { URL(fileURLWithPath: $0) } ?? ArchiveConfig.url(inStore: StoreLocation.resolve(store))
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ArchiveError.input("no config at \(file.path)")
        }
        do {
            let config = try ArchiveConfig.load(file: file)
            return ConfigCheckReport(file: file.path, problems: [], exportJobs: config.exportJobs.count)
        } catch let error as ConfigError {
            return ConfigCheckReport(file: error.file, problems: error.problems, exportJobs: 0)
        }
    }

    public var ok: Bool { problems.isEmpty }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        if ok { return [.result("\(file): ok (\(exportJobs) export job\(exportJobs == 1 ? "" : "s"))")] }
        return problems.map { .problem($0.rendered(file: file)) }
    }
}
