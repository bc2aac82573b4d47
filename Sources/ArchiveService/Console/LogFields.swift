import Logging

/// The structured part of a log record: which room, which phase, what was counted and how long it took.
/// Only these four keys exist, so that a record can never carry something else by accident (a token is
/// not a count). Rendered as JSON by `JSONLogHandler`; the text format does not show them.
public struct LogFields: Sendable, Equatable {
    public var room: String?
    public var phase: String?
    public var counts: [String: Int] = [:]
    /// Seconds.
    public var durations: [String: Double] = [:]

    public init(room: String? = nil, phase: String? = nil, counts: [String: Int] = [:],
                durations: [String: Double] = [:]) {
        self.room = room
        self.phase = phase
        self.counts = counts
        self.durations = durations
    }

    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        if let room { metadata["room"] = .string(room) }
        if let phase { metadata["phase"] = .string(phase) }
        if !counts.isEmpty { metadata["counts"] = .dictionary(counts.mapValues { Logger.MetadataValue.stringConvertible($0) }) }
        if !durations.isEmpty {
            // Milliseconds are enough for a log and keep the numbers short.
            metadata["durations"] = .dictionary(durations.mapValues {
                Logger.MetadataValue.stringConvertible(($0 * 1000).rounded() / 1000)
            })
        }
        return metadata
    }
}
