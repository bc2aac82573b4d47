import ArchiveCore

/// Assigns events to monthly files in timeline order. The timeline is the room's order, not sorted by
/// time, and clocks disagree: an event stamped earlier than the current file's month stays in the current
/// file, so each month's file is written once and its name never repeats.
struct MonthCursor {
    private(set) var current: String?

    /// The month file for an event at `millis`, and whether it starts a new file.
    mutating func month(for millis: Int64) -> (key: String, isNew: Bool) {
        let key = UTCTime(millis: millis).monthKey
        if let current, key <= current { return (current, false) }
        current = key
        return (key, true)
    }
}
