import ArchiveCore
import Testing
import TestSupport

@Suite struct PaginationPlannerTests {
    @Test func newRoomWalksBackwardFromNowThenForwardFromWhereItBegan() {
        var planner = PaginationPlanner(cursors: .new, startMode: .latest)
        let first = planner.nextRequest()
        #expect(first == PageRequest(direction: .backward, from: nil))
        #expect(planner.apply(PageReply(start: "now", end: "b1", eventCount: 10), to: first!) == .before)
        #expect(planner.cursors == RoomCursors(backward: .at("b1"), forward: "now"))
        let second = planner.nextRequest()
        #expect(second == PageRequest(direction: .backward, from: "b1"))
        planner.apply(PageReply(start: "b1", end: nil, eventCount: 3), to: second!)
        #expect(planner.cursors.backward == .complete)
        let third = planner.nextRequest()
        #expect(third == PageRequest(direction: .forward, from: "now"))
        #expect(planner.apply(PageReply(start: "now", end: nil, eventCount: 0), to: third!) == .after)
        #expect(planner.nextRequest() == nil)
        #expect(planner.cursors == RoomCursors(backward: .complete, forward: "now"))
    }

    @Test func fromStartWalksForwardAndKeepsTheLastEnd() {
        var planner = PaginationPlanner(cursors: .new, startMode: .fromStart)
        let first = planner.nextRequest()!
        #expect(first == PageRequest(direction: .forward, from: nil))
        planner.apply(PageReply(start: "s", end: "f1", eventCount: 5), to: first)
        #expect(planner.cursors == RoomCursors(backward: .complete, forward: "f1"))
        let second = planner.nextRequest()!
        #expect(second == PageRequest(direction: .forward, from: "f1"))
        // Synapse's last page: empty chunk, no end. The stored cursor stays at the last real end.
        planner.apply(PageReply(start: "f1", end: nil, eventCount: 0), to: second)
        #expect(planner.nextRequest() == nil)
        #expect(planner.cursors.forward == "f1")
    }

    @Test func anInterruptedBackwardWalkIsFinishedBeforeWalkingForward() {
        var planner = PaginationPlanner(cursors: RoomCursors(backward: .at("b7"), forward: "now"), startMode: .latest)
        let request = planner.nextRequest()!
        #expect(request == PageRequest(direction: .backward, from: "b7"))
        planner.apply(PageReply(start: "b7", end: nil, eventCount: 2), to: request)
        #expect(planner.cursors.backward == .complete)
        #expect(planner.nextRequest() == PageRequest(direction: .forward, from: "now"))
    }

    /// Synapse answers `chunk: []` with an `end` when every event of a page is hidden from the account
    /// (ignored users, history it may not see): "there might be more in next_token batch". The spec: keep
    /// paginating until no `end` is returned.
    @Test func anEmptyBackwardPageWithAnEndIsNotTheEnd() {
        var planner = PaginationPlanner(cursors: RoomCursors(backward: .at("b7"), forward: "now"), startMode: .latest)
        planner.apply(PageReply(start: "b7", end: "b8", eventCount: 0), to: planner.nextRequest()!)
        #expect(planner.cursors.backward == .at("b8"))
        #expect(planner.nextRequest() == PageRequest(direction: .backward, from: "b8"))
        planner.apply(PageReply(start: "b8", end: "b9", eventCount: 4), to: planner.nextRequest()!)
        #expect(planner.cursors.backward == .at("b9"))
        planner.apply(PageReply(start: "b9", end: nil, eventCount: 0), to: planner.nextRequest()!)
        #expect(planner.cursors.backward == .complete)
    }

    @Test func anEmptyForwardPageWithAnEndMovesTheCursorAndTheWalkGoesOn() {
        var planner = PaginationPlanner(cursors: RoomCursors(backward: .complete, forward: "f1"), startMode: .latest)
        planner.apply(PageReply(start: "f1", end: "f2", eventCount: 0), to: planner.nextRequest()!)
        // Stored: a crash now resumes after the hidden stretch, not before it.
        #expect(planner.cursors.forward == "f2")
        #expect(planner.nextRequest() == PageRequest(direction: .forward, from: "f2"))
        planner.apply(PageReply(start: "f2", end: "f3", eventCount: 3), to: planner.nextRequest()!)
        planner.apply(PageReply(start: "f3", end: nil, eventCount: 0), to: planner.nextRequest()!)
        #expect(planner.nextRequest() == nil)
        #expect(planner.cursors.forward == "f3")
    }

    /// A server that hands out a fresh token with every page that stores nothing new (empty, or events
    /// already archived): the run stops after a bounded number of them, keeping the cursor where it got to
    /// and marking nothing complete (the next run goes on).
    @Test func endlessPagesWithoutNewEventsEndTheRunButNotTheRoom() {
        var planner = PaginationPlanner(cursors: RoomCursors(backward: .at("b0"), forward: "now"), startMode: .latest)
        var pages = 0
        while let request = planner.nextRequest(), pages < 5_000 {
            pages += 1
            // Every other page repeats one stored event: still nothing new.
            planner.apply(PageReply(start: request.from, end: "b\(pages)", eventCount: pages % 2), to: request)
            planner.recordStored(newEvents: 0)
        }
        #expect(pages == PaginationPlanner.maxEmptyPagesPerRun)
        #expect(planner.stoppedForThisRun)
        #expect(planner.cursors.backward == .at("b\(pages)"))
        // One page with a new event resets the count.
        var mixed = PaginationPlanner(cursors: RoomCursors(backward: .complete, forward: "f0"), startMode: .latest)
        for n in 1...3_000 {
            mixed.apply(PageReply(start: "f\(n - 1)", end: "f\(n)", eventCount: 1), to: mixed.nextRequest()!)
            mixed.recordStored(newEvents: n % 500 == 0 ? 1 : 0)
        }
        #expect(!mixed.stoppedForThisRun)
    }

    /// Tokens that cycle (A -> B -> A) would keep a walk going for ever: the run stops, nothing complete.
    @Test func aTokenCycleEndsTheRunButNotTheRoom() {
        var planner = PaginationPlanner(cursors: RoomCursors(backward: .complete, forward: "A"), startMode: .latest)
        planner.apply(PageReply(start: "A", end: "B", eventCount: 1), to: planner.nextRequest()!)
        planner.apply(PageReply(start: "B", end: "A", eventCount: 1), to: planner.nextRequest()!)
        #expect(planner.nextRequest() == nil)
        #expect(planner.stoppedForThisRun)
    }

    @Test func aServerThatReturnsTheSameTokenForeverIsStopped() {
        var backward = PaginationPlanner(cursors: RoomCursors(backward: .at("b"), forward: "now"), startMode: .latest)
        backward.apply(PageReply(start: "b", end: "b", eventCount: 0), to: backward.nextRequest()!)
        #expect(backward.cursors.backward == .complete)
        var forward = PaginationPlanner(cursors: RoomCursors(backward: .complete, forward: "f"), startMode: .latest)
        forward.apply(PageReply(start: "f", end: "f", eventCount: 0), to: forward.nextRequest()!)
        #expect(forward.nextRequest() == nil)
    }

    @Test func aForwardTokenThatDoesNotMoveEndsTheWalk() {
        var planner = PaginationPlanner(cursors: RoomCursors(backward: .complete, forward: "f"), startMode: .latest)
        let request = planner.nextRequest()!
        planner.apply(PageReply(start: "f", end: "f", eventCount: 2), to: request)
        #expect(planner.nextRequest() == nil)
    }

    @Test func startModeOnlyMattersForNewRooms() {
        let planner = PaginationPlanner(cursors: RoomCursors(backward: .complete, forward: "f9"), startMode: .fromStart)
        #expect(planner.nextRequest() == PageRequest(direction: .forward, from: "f9"))
    }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4)

    @Test func rateLimitsWaitWhatTheServerSays() {
        #expect(policy.delay(after: .rateLimited(retryAfterMs: 1500), attempt: 1) == 1.5)
        // Longer than a run waits (300 s by default): no retry; the client says why (MatrixClientTests).
        #expect(policy.delay(after: .rateLimited(retryAfterMs: 10_000_000), attempt: 1) == nil)
        #expect(policy.waitIsTooLong(.rateLimited(retryAfterMs: 300_001)))
        #expect(!policy.waitIsTooLong(.rateLimited(retryAfterMs: 300_000)))
    }

    @Test func transientFailuresBackOffExponentiallyWithACap() {
        #expect((1...4).map { policy.delay(after: .transient, attempt: $0) } == [0.5, 1, 2, 4])
        #expect(policy.delay(after: .transient, attempt: 5) == nil)
    }

    @Test func permanentFailuresAreNotRetried() {
        #expect(policy.delay(after: .permanent, attempt: 1) == nil)
    }
}

@Suite struct RawEventTests {
    @Test func malformedEventsAreRejectedWithAReason() {
        let room = "!r:x"
        #expect(throws: MalformedEvent.self) { try RawEvent.parse("not an object", roomID: room).get() }
        #expect(throws: MalformedEvent.self) { try RawEvent.parse(["type": "m.room.message"], roomID: room).get() }
        #expect(throws: MalformedEvent.self) {
            try RawEvent.parse(["event_id": "$a", "sender": "@a:x"], roomID: room).get()
        }
        #expect(throws: MalformedEvent.self) {
            try RawEvent.parse(["event_id": "$a", "type": "t", "sender": "@a:x", "room_id": "!other:x"], roomID: room).get()
        }
    }

    @Test func roomIDsWithoutServerPartAreAccepted() throws {
        let event = try RawEvent.parse(["event_id": "$a", "type": "m.room.message", "sender": "@a:x",
                                        "room_id": "!AbCdEf123", "origin_server_ts": 5, "content": [:]],
                                       roomID: "!AbCdEf123").get()
        #expect(event.roomID == "!AbCdEf123")
    }

    @Test func threadFallbackIsNotAReply() throws {
        var factory = EventFactory()
        let threaded = factory.event(content: ["body": "in thread", "m.relates_to": [
            "rel_type": "m.thread", "event_id": "$root", "is_falling_back": true,
            "m.in_reply_to": ["event_id": "$previous"],
        ]])
        #expect(threaded.threadRoot == "$root")
        #expect(threaded.inReplyTo == nil)
        let explicitReply = factory.event(content: ["body": "reply in thread", "m.relates_to": [
            "rel_type": "m.thread", "event_id": "$root", "is_falling_back": false,
            "m.in_reply_to": ["event_id": "$quoted"],
        ]])
        #expect(explicitReply.inReplyTo == "$quoted")
        let plainReply = factory.event(content: ["body": "re", "m.relates_to": ["m.in_reply_to": ["event_id": "$q"]]])
        #expect(plainReply.inReplyTo == "$q")
        #expect(plainReply.threadRoot == nil)
        #expect(!plainReply.isAggregationOnly)
    }
}
