import Foundation
import Testing
@testable import ArchiveService

/// The live line of a sync with several rooms at once (issue 10.2), and `--jobs` validation.
@Suite struct SyncProgressLineTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    @Test func countsTheWholeRunAcrossRoomsAndEstimatesTheRestFromThePace() {
        var line = SyncProgressLine(started: start)
        line.scheduled(4, at: start)
        #expect(line.secondsLeft(now: start.addingTimeInterval(1)) == nil, "no pace before a room is done")
        line.roomStarted("!a", label: "A")
        line.roomStarted("!b", label: "B")
        // Each page reports the room's new events so far: only what a page adds is counted.
        line.pageStored("!a", label: "A", newEvents: 30)
        line.pageStored("!b", label: "B", newEvents: 10)
        line.pageStored("!a", label: "A", newEvents: 50)
        line.roomFinished("!a")
        #expect(line.newEvents == 60)
        #expect(line.done == 1)
        // One room of four took 10 s: three more take 30 s.
        let now = start.addingTimeInterval(10)
        #expect(line.secondsLeft(now: now) == 30)
        #expect(line.text(now: now) == "1/4 rooms, 60 new events, 6 events/s, ETA 30s · A")
        line.roomFinished("!b")
        line.roomFinished("!c")
        line.roomFinished("!d")
        #expect(line.secondsLeft(now: now) == 0)
    }

    @Test func showsHowManyRoomsRunAtOnce() {
        var line = SyncProgressLine(started: start)
        line.scheduled(200, at: start)
        for room in ["!a", "!b", "!c"] { line.roomStarted(room, label: room) }
        #expect(line.text(now: start.addingTimeInterval(2)).hasPrefix("0/200 rooms, 3 syncing, 0 new events, 0 events/s, ETA …"))
    }

    @Test func durationsReadAsMinutesAndHours() {
        #expect(SyncProgressLine.duration(41.2) == "42s")
        #expect(SyncProgressLine.duration(185) == "3m05s")
        #expect(SyncProgressLine.duration(3720) == "1h02m")
    }

    @Test(arguments: [0, 17, -1]) func jobsOutsideOneToSixteenAreAUsageError(jobs: Int) {
        var request = SyncRequest()
        request.jobs = jobs
        #expect(request.problem == "--jobs must be between 1 and 16")
    }

    @Test func fourJobsByDefault() {
        #expect(SyncRequest().jobs == 4)
        #expect(SyncRequest().problem == nil)
    }

    /// The live line is cut to the terminal's width less one column, so `\r` redraws it in place.
    @Test func theLiveLineFitsTheTerminal() {
        let line = String(repeating: "x", count: 120)
        #expect(Console.fitted(line, width: 80).count == 79)
        #expect(Console.fitted("short", width: 80) == "short")
        #expect(Console.fitted(line, width: 0) == line)
    }
}
