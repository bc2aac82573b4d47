import ArchiveCore
import Foundation

/// Where an effective setting came from.
public enum SettingSource: String, Sendable {
    case `default`, config, flag
}

/// One effective setting, as `config show` prints it.
public struct EffectiveSetting: Sendable {
    public let key: String
    public let value: JSONValue
    public let source: SettingSource
}

/// The sync settings given on the command line; nil (or empty) means "not given", so that the config
/// file, then the default, decides.
public struct SyncFlags: Sendable {
    public var rooms: [String] = []
    public var spaces: [String] = []
    public var allJoined = false
    public var retainRedacted: Bool?
    public var media: Bool?
    public var maxMediaSize: String?
    public var pageSize: Int?
    public var jobs: Int?

    public init() {}
}

/// The sync settings in force: each from a flag, else the config file, else the default. A flag always
/// wins, so a crontab or unit can override one setting of the file for one run.
public struct SyncSettings: Sendable {
    public let entries: [EffectiveSetting]
    /// `base` with the settings applied.
    public let request: SyncRequest

    public init(flags: SyncFlags, config: ArchiveConfig?, base: SyncRequest = SyncRequest()) {
        var request = base
        var entries: [EffectiveSetting] = []
        let defaults = SyncRequest()

        func pick<Value>(_ key: String, flag: Value?, config: Value?, default value: Value,
                         json: (Value) -> JSONValue) -> Value {
            let chosen: Value
            let source: SettingSource
            if let flag {
                (chosen, source) = (flag, .flag)
            } else if let config {
                (chosen, source) = (config, .config)
            } else {
                (chosen, source) = (value, .default)
            }
            entries.append(EffectiveSetting(key: key, value: json(chosen), source: source))
            return chosen
        }
        let strings: ([String]) -> JSONValue = { .array($0.map(JSONValue.string)) }

        // The rooms to follow are one choice: rooms, spaces or all joined rooms named on the command line
        // replace the config's selection whole, rather than adding to it.
        let flagSelects = !flags.rooms.isEmpty || !flags.spaces.isEmpty || flags.allJoined
        let configSelects = config.map { $0.rooms != nil || $0.spaces != nil || $0.allJoined != nil } ?? false
        let selectionSource: SettingSource = flagSelects ? .flag : configSelects ? .config : .default
        let selection: (rooms: [String], spaces: [String], allJoined: Bool) = switch selectionSource {
        case .flag: (flags.rooms, flags.spaces, flags.allJoined)
        case .config: (config?.rooms ?? [], config?.spaces ?? [], config?.allJoined ?? false)
        case .default: ([], [], false)
        }
        request.rooms = selection.rooms
        request.spaces = selection.spaces
        request.allJoined = selection.allJoined
        entries.append(EffectiveSetting(key: "rooms", value: strings(selection.rooms), source: selectionSource))
        entries.append(EffectiveSetting(key: "spaces", value: strings(selection.spaces), source: selectionSource))
        entries.append(EffectiveSetting(key: "all_joined", value: .bool(selection.allJoined), source: selectionSource))

        request.retainRedacted = pick("retain_redacted", flag: flags.retainRedacted, config: config?.retainRedacted,
                                      default: defaults.retainRedacted, json: JSONValue.bool)
        request.media = pick("media", flag: flags.media, config: config?.media, default: defaults.media,
                             json: JSONValue.bool)
        // The cap means something only with media on; it is shown either way.
        let cap = pick("max_media_size", flag: flags.maxMediaSize, config: config?.maxMediaSize,
                       default: Self.defaultMaxMediaSize, json: JSONValue.string)
        // A flag's cap without media on stays, so that the request's own check says it needs --media.
        request.maxMediaSize = request.media ? cap : flags.maxMediaSize
        request.pageSize = pick("page_size", flag: flags.pageSize, config: config?.pageSize,
                                default: defaults.pageSize, json: { .int(Int64($0)) })
        request.jobs = pick("jobs", flag: flags.jobs, config: config?.jobs, default: defaults.jobs,
                            json: { .int(Int64($0)) })
        self.entries = entries
        self.request = request
    }

    /// The flag's documented default, shown by `config show`.
    static let defaultMaxMediaSize = "100M"
}
