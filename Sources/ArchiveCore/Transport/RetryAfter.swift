import Foundation

/// The `Retry-After` header of a 429 (RFC 9110 §10.2.3): a number of seconds, or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`). Synapse sends whole seconds beside the older `retry_after_ms` in
/// the body; other servers and proxies may send only the header, or only a date.
public enum RetryAfter {
    /// Milliseconds to wait, or nil when the header says nothing usable. A date in the past is 0.
    public static func milliseconds(_ header: String, now: Timestamp) -> Int64? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) {
            // A value too long for Int64 is "forever": the caller refuses waits that long.
            guard let seconds = Int64(text), seconds <= Int64.max / 1000 else { return Int64.max }
            return seconds * 1000
        }
        guard let date = httpDate(text) else { return nil }
        return max(0, date.milliseconds - now.milliseconds)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate, the form RFC 9110 requires senders to use: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Timestamp? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
              let day = Int(parts[1]), parts[1].count == 2,
              let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]), parts[3].count == 4 else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
              let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
              hour < 24, minute < 60, second < 61,
              (1...UTCTime.daysInMonth(year: year, month: month + 1)).contains(day) else { return nil }
        let days = UTCTime.daysFromCivil(year: year, month: month + 1, day: day)
        return Timestamp(milliseconds: (days * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000)
    }
}
