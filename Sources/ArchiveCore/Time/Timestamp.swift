import Foundation

/// A point in time as Matrix gives it and the archive stores it: milliseconds since the Unix epoch, UTC.
/// Every column and every date the tool reads or prints is in this unit; formatting goes through
/// `UTCTime` (exact integer arithmetic), never through a floating-point `Date`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static let dayMilliseconds: Int64 = 86_400_000

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public func adding(milliseconds delta: Int64) -> Timestamp { Timestamp(milliseconds: milliseconds + delta) }

    /// `2024-01-02T13:04:05Z` (whole seconds, as the CLI prints times).
    public var iso8601: String { UTCTime(millis: milliseconds).iso8601 }
    /// `2024-01-02 13:04:05 UTC`.
    public var display: String { UTCTime(millis: milliseconds).display }
    public var description: String { iso8601 }
}

/// Where "now" comes from. The store and the pipelines take one so that tests can set the time they
/// record (`last_sync_at`, `imported_at`, …) instead of depending on the wall clock.
public protocol ArchiveClock: Sendable {
    func now() -> Timestamp
}

/// The wall clock.
public struct SystemClock: ArchiveClock {
    public init() {}

    public func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(milliseconds: Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000)
    }
}

/// A clock that says what it is told: for tests.
public struct FixedClock: ArchiveClock {
    public let time: Timestamp
    public init(_ time: Timestamp) { self.time = time }
    public func now() -> Timestamp { time }
}
