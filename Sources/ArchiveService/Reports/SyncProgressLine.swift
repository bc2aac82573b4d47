import ArchiveCore
import Foundation

/// What the live line of a sync on a terminal says: rooms done of those scheduled, new events stored per
/// second since the start, and an ETA from the rooms' pace so far. With `--jobs` several rooms run at once,
/// so the line counts the whole run rather than one room; it names the room that stored a page last.
struct SyncProgressLine {
    private var started: Date
    private(set) var total = 0
    private(set) var done = 0
    private(set) var newEvents = 0
    /// Per running room: the new events it had reported, to add only what each page adds.
    private var running: [String: Int] = [:]
    private(set) var latest = ""

    init(started: Date) { self.started = started }

    /// The clock starts with the first rooms (after the key backup and the room selection).
    mutating func scheduled(_ count: Int, at now: Date = Date()) {
        if total == 0 { started = now }
        total += count
    }

    mutating func roomStarted(_ roomID: String, label: String) {
        running[roomID] = 0
        latest = label
    }

    mutating func pageStored(_ roomID: String, label: String, newEvents roomTotal: Int) {
        newEvents += max(0, roomTotal - (running[roomID] ?? 0))
        running[roomID] = roomTotal
        latest = label
    }

    mutating func roomFinished(_ roomID: String) {
        running[roomID] = nil
        done += 1
    }

    /// Seconds left at the pace of the rooms done so far; nil before the first room is done.
    func secondsLeft(now: Date) -> Double? {
        guard done > 0, total > done else { return total > 0 && done >= total ? 0 : nil }
        return now.timeIntervalSince(started) / Double(done) * Double(total - done)
    }

    func text(now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        var parts = ["\(done)/\(total) rooms"]
        if running.count > 1 { parts.append("\(running.count) syncing") }
        parts.append("\(newEvents) new events")
        parts.append("\(Int(Double(newEvents) / elapsed)) events/s")
        parts.append("ETA " + (secondsLeft(now: now).map(Self.duration) ?? "…"))
        let room = latest.count > 48 ? String(latest.prefix(47)) + "…" : latest
        return parts.joined(separator: ", ") + (room.isEmpty ? "" : " · \(room)")
    }

    /// `42s`, `3m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + String(format: "%02ds", whole % 60) }
        return "\(whole / 3600)h" + String(format: "%02dm", whole % 3600 / 60)
    }
}
