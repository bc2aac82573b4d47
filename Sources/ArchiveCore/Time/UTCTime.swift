/// Calendar fields of a UTC timestamp, computed directly (days-from-civil arithmetic) because exports
/// format every event's time and Foundation's formatters cost far more per call.
public struct UTCTime: Sendable, Hashable {
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    /// From milliseconds since the Unix epoch (negative values work too).
    public init(millis: Int64) {
        var seconds = millis / 1000
        if millis % 1000 < 0 { seconds -= 1 }
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        hour = Int(rest / 3600)
        minute = Int(rest % 3600 / 60)
        second = Int(rest % 60)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = Int(doy - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// `2024-01`: the name of a monthly file.
    public var monthKey: String { Self.pad(year, 4) + "-" + Self.pad(month, 2) }
    /// `2024-01-02`.
    public var dayKey: String { monthKey + "-" + Self.pad(day, 2) }
    /// `13:04:05`.
    public var clock: String { Self.pad(hour, 2) + ":" + Self.pad(minute, 2) + ":" + Self.pad(second, 2) }
    /// `2024-01-02 13:04:05 UTC`.
    public var display: String { dayKey + " " + clock + " UTC" }
    /// `2024-01-02T13:04:05Z`.
    public var iso8601: String { dayKey + "T" + clock + "Z" }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                             "September", "October", "November", "December"]
    /// `January 2024`.
    public var monthTitle: String { Self.monthNames[month - 1] + " " + String(year) }

    /// Days from 1970-01-01 to a civil date (proleptic Gregorian): the inverse of the conversion above.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
