import ArchiveCore
import Foundation
import Logging

/// A swift-log handler writing one JSON object per line: `time` (ISO 8601, UTC, milliseconds), `level`,
/// `message`, then the record's metadata (`room`, `phase`, `counts`, `durations`; see `LogFields`).
/// Numbers stay numbers, so that a log collector can sum `counts.new_events` without parsing text.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info
    /// Where a finished line goes (standard error in the CLI); one call per line, so lines never interleave.
    let write: @Sendable (String) -> Void

    init(write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: JSONValue] = [:]
        for (key, value) in metadata.merging(metadataProvider?.get() ?? [:], uniquingKeysWith: { $1 })
            .merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = Self.json(value)
        }
        object["time"] = .string(Self.timestamp(Date()))
        object["level"] = .string(Self.levelName(event.level))
        object["message"] = .string(event.message.description)
        write(JSONCoding.encode(.object(object)) + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let value):
            if let number = value as? Int { return .int(Int64(number)) }
            if let number = value as? Double, number.isFinite { return .double(number) }
            if let flag = value as? Bool { return .bool(flag) }
            return .string(value.description)
        case .dictionary(let dictionary): return .object(dictionary.mapValues(json))
        case .array(let array): return .array(array.map(json))
        }
    }

    /// `warning`, not swift-log's `warning` spelled differently elsewhere: the names log collectors expect.
    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
