/// A date as users type it on the command line or in a search query: a bare day `2024-03-01` (UTC
/// midnight) or an RFC 3339 time `2024-03-01T12:00:00Z`, `2024-03-01T12:00:00.250+02:00`. Parsed with
/// integer arithmetic, so `.123` is exactly 123 ms wherever a date is read (`--since`, `--until`,
/// `after:`, `before:`, `date:`); fractions beyond the millisecond are dropped.
public struct DateArgument: Sendable, Hashable {
    public let text: String
    /// The instant named: midnight UTC for a bare day.
    public let start: Timestamp
    /// True for a bare day, which as an upper bound includes that whole day.
    public let isDay: Bool

    public init?(_ text: String) {
        guard let (start, isDay) = Self.parse(Array(text.utf8)) else { return nil }
        self.text = text
        self.start = start
        self.isDay = isDay
    }

    /// As an exclusive upper bound (`--until`): a bare day ends at the next midnight, a time at itself.
    public var exclusiveEnd: Timestamp { isDay ? start.adding(milliseconds: Timestamp.dayMilliseconds) : start }

    /// The message every command gives for a date it cannot read.
    public static func problem(option: String, value: String) -> String {
        "\(option) '\(value)' is not a date (use YYYY-MM-DD or 2024-03-01T12:00:00Z)"
    }

    private static func parse(_ bytes: [UInt8]) -> (Timestamp, Bool)? {
        var reader = DigitReader(bytes: bytes)
        guard let year = reader.number(4), reader.take("-"), let month = reader.number(2), reader.take("-"),
              let day = reader.number(2), (1...12).contains(month),
              (1...UTCTime.daysInMonth(year: year, month: month)).contains(day) else { return nil }
        let midnight = UTCTime.daysFromCivil(year: year, month: month, day: day) * Timestamp.dayMilliseconds
        if reader.atEnd { return (Timestamp(milliseconds: midnight), true) }
        guard reader.take("T") || reader.take("t"), let hour = reader.number(2), reader.take(":"),
              let minute = reader.number(2), reader.take(":"), let second = reader.number(2),
              hour < 24, minute < 60, second <= 60 else { return nil }
        var millis = 0
        if reader.take(".") {
            var digits = 0
            while let digit = reader.digit() {
                if digits < 3 { millis = millis * 10 + digit }
                digits += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        var offsetMinutes = 0
        if reader.take("Z") || reader.take("z") {
            offsetMinutes = 0
        } else if let sign = reader.sign(), let offsetHours = reader.number(2), reader.take(":"),
                  let offsetMins = reader.number(2), offsetHours < 24, offsetMins < 60 {
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
        } else {
            return nil
        }
        guard reader.atEnd else { return nil }
        // RFC 3339 allows a leap second (`23:59:60Z`); it is read as the last millisecond of its minute.
        if second == 60 { millis = 999 }
        let clock = Int64(((hour * 60 + minute) * 60 + min(second, 59)) * 1000 + millis)
        return (Timestamp(milliseconds: midnight + clock - Int64(offsetMinutes) * 60_000), false)
    }
}

/// Reads fixed-width ASCII digits and separators off a byte string.
private struct DigitReader {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func digit() -> Int? {
        guard index < bytes.count, (48...57).contains(bytes[index]) else { return nil }
        index += 1
        return Int(bytes[index - 1] - 48)
    }

    mutating func number(_ width: Int) -> Int? {
        var value = 0
        for _ in 0..<width {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    mutating func sign() -> Int? {
        if take("+") { return 1 }
        if take("-") { return -1 }
        return nil
    }
}
