import Foundation

/// Parses the dates users type: `2024-03-01` (UTC midnight) or a full ISO 8601 time
/// (`2024-03-01T12:00:00Z`). Returns milliseconds since the epoch.
public enum DateArgument {
    public static func parse(_ text: String) -> Int64? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        if let date = iso.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = iso.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        iso.formatOptions = [.withFullDate]
        if text.count == 10, let date = iso.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        return nil
    }

    /// True for a bare day (`2024-03-31`): as an upper bound it includes that whole day.
    public static func isDay(_ text: String) -> Bool { text.count == 10 && parse(text) != nil }

    public static let dayMillis: Int64 = 86_400_000

    public static func format(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
