import ArchiveCore
import Testing

/// One date parser and one millisecond type for every command: `--since`, `--until` and the search
/// query's `after:`/`before:`/`date:` all read dates through `DateArgument`.
@Suite struct TimeModelTests {
    @Test func fractionsAreExactMilliseconds() throws {
        // The two parsers this replaced disagreed here by a millisecond (one truncated a Double, one rounded).
        let date = try #require(DateArgument("2024-03-01T12:00:00.123Z"))
        #expect(date.start.milliseconds == 1_709_294_400_123)
        #expect(!date.isDay)
        #expect(DateArgument("2024-03-01T12:00:00.1Z")?.start.milliseconds == 1_709_294_400_100)
        #expect(DateArgument("2024-03-01T12:00:00.123999Z")?.start.milliseconds == 1_709_294_400_123)
    }

    @Test func bareDaysAreUTCMidnightAndIncludeTheWholeDayAsAnUpperBound() throws {
        let day = try #require(DateArgument("2024-02-29"))
        #expect(day.isDay)
        #expect(day.start.milliseconds == 1_709_164_800_000)
        #expect(day.exclusiveEnd.milliseconds == 1_709_164_800_000 + Timestamp.dayMilliseconds)
        let time = try #require(DateArgument("2024-02-29T00:00:00Z"))
        #expect(time.exclusiveEnd == time.start)
    }

    @Test func aLeapSecondIsTheLastMillisecondOfItsMinute() {
        #expect(DateArgument("2016-12-31T23:59:60Z")?.start.milliseconds == 1_483_228_799_999)
        #expect(DateArgument("2016-12-31T23:59:61Z") == nil)
    }

    @Test func offsetsAreApplied() {
        #expect(DateArgument("2024-03-01T14:00:00+02:00")?.start == DateArgument("2024-03-01T12:00:00Z")?.start)
        #expect(DateArgument("2024-03-01T07:30:00-04:30")?.start == DateArgument("2024-03-01T12:00:00Z")?.start)
        #expect(DateArgument("1969-12-31T23:59:59.999Z")?.start.milliseconds == -1)
    }

    @Test(arguments: ["2023-02-29", "2024-13-01", "2024-00-10", "2024-1-01", "2024-01-01T24:00:00Z",
                      "2024-01-01T12:00:00", "2024-01-01T12:00Z", "2024-01-01T12:00:00.Z", "2024-01-01 12:00:00Z",
                      "yesterday", "", "2024-01-01T12:00:00Zjunk"])
    func nonDatesAreRefused(_ text: String) {
        #expect(DateArgument(text) == nil)
        #expect(DateArgument.problem(option: "--since", value: text).contains("is not a date"))
    }

    @Test func formattingRoundTripsThroughUTCTime() throws {
        let time = try #require(DateArgument("2024-01-02T13:04:05.678Z")).start
        #expect(time.iso8601 == "2024-01-02T13:04:05Z")
        #expect(time.display == "2024-01-02 13:04:05 UTC")
        for days: Int64 in [-800_000, -1, 0, 59, 60, 11_016, 2_932_896] {
            let calendar = UTCTime(millis: days * Timestamp.dayMilliseconds)
            #expect(UTCTime.daysFromCivil(year: calendar.year, month: calendar.month, day: calendar.day) == days)
        }
    }

    @Test func aFixedClockSaysWhatItIsTold() {
        #expect(FixedClock(Timestamp(milliseconds: 42)).now().milliseconds == 42)
        #expect(SystemClock().now().milliseconds > 1_700_000_000_000)
    }
}
