import ArchiveCore

/// `--since` and `--until` as every offline command reads them: `since` inclusive, `until` exclusive, a
/// bare day in `--until` including that whole day (UTC).
public struct DateRange: Sendable, Hashable {
    public let since: DateArgument?
    public let until: DateArgument?

    /// The values must have passed `problem(option:value:)`; an unreadable one is a usage error.
    public init(since: String?, until: String?) throws {
        func parse(_ option: String, _ value: String?) throws -> DateArgument? {
            guard let value else { return nil }
            guard let date = DateArgument(value) else {
                throw ArchiveError.usage(DateArgument.problem(option: option, value: value))
            }
            return date
        }
        self.since = try parse("--since", since)
        self.until = try parse("--until", until)
    }

    public static let all = try! DateRange(since: nil, until: nil)

    var sinceMillis: Int64? { since?.start.milliseconds }
    var untilMillis: Int64? { until?.exclusiveEnd.milliseconds }

    /// What `validate()` of a command says about a date option: nil when it reads, else the message.
    public static func problem(option: String, value: String?) -> String? {
        guard let value, DateArgument(value) == nil else { return nil }
        return DateArgument.problem(option: option, value: value)
    }
}
