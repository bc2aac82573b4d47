import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Issue 9.9: a message shows the name its sender had then, from timeline member events, their
/// `unsigned.prev_content`, and the lazy-loaded member state of each page; equal names are disambiguated
/// among the members of that moment.
@Suite struct MemberHistoryTests {
    let store: ArchiveStore
    var factory = EventFactory(idPrefix: "mh")
    let version = RoomVersion("12")
    static let alice = "@alice:a.org"

    init() throws {
        store = try ArchiveStore(directory: uniqueTemporaryDirectory("mxa-member-history"))
    }

    mutating func member(_ user: String, _ membership: String = "join", name: String?, previous: JSONValue? = nil,
                         sender: String? = nil, ts: Int64? = nil) -> RawEvent {
        var content: [String: JSONValue] = ["membership": .string(membership)]
        if let name { content["displayname"] = .string(name) }
        let extra: [String: JSONValue] = previous.map { ["unsigned": ["prev_content": $0]] } ?? [:]
        return factory.event(type: "m.room.member", sender: sender ?? user, ts: ts, stateKey: user,
                             content: .object(content), extra: extra)
    }

    func ingest(_ events: [RawEvent], placement: Placement, members: [RawEvent] = [], retain: Bool = false) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: version, events: events,
                                        placement: placement, cursors: RoomCursors(backward: .at("b"), forward: "f"),
                                        memberState: members, retainRedacted: retain))
    }

    /// Each message's body with the name shown for its sender.
    func names() throws -> [String: String] {
        var result: [String: String] = [:]
        try store.timeline(roomID: factory.roomID) { item in
            if let body = item.content["body"]?.stringValue { result[body] = item.senderName }
        }
        return result
    }

    /// A backward walk that started after Alice's join (e.g. `sync --since`): the room's current state
    /// says "Late", yet the messages before her rename must say "Early": the older page's lazy-loaded
    /// member state, and the rename's `prev_content`, tell it.
    @Test mutating func namesOfTheirTimeInABackwardWalk() throws {
        let join = member(Self.alice, name: "Early")
        let first = factory.message("first", sender: Self.alice)
        let before = factory.message("before", sender: Self.alice)
        let rename = member(Self.alice, name: "Late", previous: ["membership": "join", "displayname": "Early"])
        let after = factory.message("after", sender: Self.alice)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [rename])
        // Newest page first, as `dir=b` gives them; Synapse's page state is the state after its newest event.
        try ingest([after, rename, before], placement: .before, members: [rename])
        try ingest([first], placement: .before, members: [join])
        #expect(try names() == ["first": "Early", "before": "Early", "after": "Late"])
        // The rename itself is told under the name it replaced.
        var renameShownAs: String?
        try store.timeline(roomID: factory.roomID) { if $0.eventID == rename.eventID { renameShownAs = $0.senderName } }
        #expect(renameShownAs == "Early")
    }

    /// Walking forward the page state is the state after the page's oldest event: a rename inside the page
    /// is in the chunk and applies from its own place only.
    @Test mutating func pageStateInTheChunkDoesNotRenameEarlierMessages() throws {
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let before = factory.message("before", sender: Self.alice)
        let rename = member(Self.alice, name: "Late", previous: ["membership": "join", "displayname": "Early"])
        let after = factory.message("after", sender: Self.alice)
        // The state after the newest event of a backward page is the rename itself.
        try ingest([after, rename, before], placement: .before, members: [rename])
        #expect(try names() == ["before": "Early", "after": "Late"])
    }

    @Test mutating func equalNamesAreDisambiguatedAmongTheMembersOfTheirTime() throws {
        let (one, two, three) = ("@one:a.org", "@two:a.org", "@three:b.org")
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let quoted = factory.message("one alone", sender: one)
        var events = [member(one, name: "Twin"), quoted, member(two, name: "Twin")]
        events += [factory.message("one among twins", sender: one), factory.message("two among twins", sender: two)]
        events += [member(two, name: "Other", previous: ["membership": "join", "displayname": "Twin"])]
        events += [factory.message("one again alone", sender: one)]
        // An invited member counts; one who left does not.
        events += [member(three, "invite", name: "Twin", sender: one), factory.message("one with an invitee", sender: one)]
        events += [member(three, "leave", name: nil, previous: ["membership": "invite", "displayname": "Twin"]),
                   factory.message("one after the invitee left", sender: one)]
        try ingest(events, placement: .after)
        #expect(try names() == [
            "one alone": "Twin", "one among twins": "Twin (@one:a.org)", "two among twins": "Twin (@two:a.org)",
            "one again alone": "Twin", "one with an invitee": "Twin (@one:a.org)", "one after the invitee left": "Twin",
        ])
        // A quote judges the name at the quoted message's own place.
        #expect(try store.eventSummary(roomID: factory.roomID, eventID: quoted.eventID)?.senderName == "Twin")
        let ambiguous = events[3]
        #expect(try store.eventSummary(roomID: factory.roomID, eventID: ambiguous.eventID)?.senderName == "Twin (@one:a.org)")
        // Search results and their context see the same.
        #expect(try store.messageInfo(eventID: ambiguous.eventID)?.senderNameIsAmbiguous == true)
        #expect(try store.messageInfo(eventID: quoted.eventID)?.senderNameIsAmbiguous == false)
    }

    /// History the account may not see: Two's rename to "Twin" is known only from the state of a later
    /// page, where Two speaks. By its timestamp it had happened when One spoke, so One's "Twin" is shared.
    @Test mutating func pageStateSeenLaterHoldsFromItsOwnTime() throws {
        let (one, two) = ("@one:a.org", "@two:a.org")
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let joins = [member(one, name: "Twin"), member(two, name: "two")]
        let hiddenRename = member(two, name: "Twin", previous: ["membership": "join", "displayname": "two"])
        let oneSpeaks = factory.message("one speaks", sender: one)
        let filler = factory.message("filler", sender: one)
        let twoSpeaks = factory.message("two speaks", sender: two)
        // Backward pages of two, newest first: the rename is never in a chunk.
        try ingest([twoSpeaks, filler], placement: .before, members: [hiddenRename, joins[0]])
        try ingest([oneSpeaks], placement: .before, members: [joins[0]])
        try ingest(joins.reversed(), placement: .before)
        #expect(try names() == ["one speaks": "Twin (@one:a.org)", "filler": "Twin (@one:a.org)",
                                "two speaks": "Twin (@two:a.org)"])
    }

    /// A server may send any `origin_server_ts`: a rename stamped Int64.min is told under the name it
    /// replaced like any other, instead of trapping every reading of the room's timeline.
    @Test mutating func extremeTimestampsDoNotTrap() throws {
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let join = member(Self.alice, name: "Early")
        let early = member(Self.alice, name: "Middle", previous: ["membership": "join", "displayname": "Early"],
                           ts: Int64.min)
        try ingest([join, early, factory.message("after", sender: Self.alice)], placement: .after)
        var shownAs: [String: String] = [:]
        try store.timeline(roomID: factory.roomID) { shownAs[$0.eventID] = $0.senderName }
        #expect(shownAs[early.eventID] == "Early")
        #expect(try names() == ["after": "Middle"])
    }

    /// A member event without `unsigned.prev_content` replaced no membership (the spec reads it as
    /// `leave`): Bob, who joins later as "Alice", was not in the room while Alice spoke before, although
    /// the room's current state has them both under that name.
    @Test mutating func aLaterJoinerIsNoMemberBeforeTheirJoin() throws {
        let bob = "@bob:b.org"
        let aliceJoin = member(Self.alice, name: "Alice")
        let bobJoin = member(bob, name: "Alice")
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [aliceJoin, bobJoin])
        try ingest([aliceJoin, factory.message("alice alone", sender: Self.alice), bobJoin,
                    factory.message("bob", sender: bob), factory.message("alice with bob", sender: Self.alice)],
                   placement: .after)
        #expect(try names() == ["alice alone": "Alice", "bob": "Alice (@bob:b.org)",
                                "alice with bob": "Alice (@alice:a.org)"])
    }

    /// A redacted member event known only from page state loses its name there too, whichever comes first
    /// (a forward sync meets the redaction after the page state, a backward walk before it); under legal
    /// hold the name stays, as the timeline's copy would.
    @Test(arguments: [(false, false), (true, false), (false, true)])
    mutating func aRedactedMemberEventOfPageStateLosesItsName(redactionFirst: Bool, retain: Bool) throws {
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let join = member(Self.alice, name: "Secret")
        let hello = factory.message("hello", sender: Self.alice)
        let redaction = factory.redaction(of: join.eventID, sender: Self.alice)
        let again = factory.message("again", sender: Self.alice)
        if redactionFirst {
            try ingest([again, redaction], placement: .before, retain: retain)
            try ingest([hello], placement: .before, members: [join], retain: retain)
        } else {
            try ingest([hello], placement: .after, members: [join], retain: retain)
            try ingest([redaction, again], placement: .after, retain: retain)
        }
        let shown = retain ? "Secret" : Self.alice
        #expect(try names() == ["hello": shown, "again": shown])
    }

    /// The clock rule cannot take a namesake away. Bob joins as "Alice" and sends a message dated far in
    /// the future; Alice's rename, seen later as page state, is dated before that. Judging Alice by Bob's
    /// clock alone would call her renamed already and show Bob as plain "Alice".
    @Test mutating func aFutureDatedMessageDoesNotRenameOtherMembers() throws {
        let bob = "@bob:b.org"
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let aliceJoin = member(Self.alice, name: "Alice")
        let bobJoin = member(bob, name: "Alice")
        let future = factory.message("from the future", sender: bob, ts: 4_000_000_000_000)
        let hiddenRename = member(Self.alice, name: "Alicia", previous: ["membership": "join", "displayname": "Alice"])
        let aliceSpeaks = factory.message("alice speaks", sender: Self.alice)
        try ingest([aliceJoin, bobJoin, future], placement: .after)
        try ingest([aliceSpeaks], placement: .after, members: [hiddenRename, bobJoin])
        #expect(try names() == ["from the future": "Alice (@bob:b.org)", "alice speaks": "Alicia"])
    }

    /// Page state that later arrives in a timeline holds from its exact place there, not from where the
    /// page state was seen (here before it: the old copy would rename the message before the rename).
    @Test mutating func aMemberEventInTheTimelineOverridesItsPageStateCopy() throws {
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        let join = member(Self.alice, name: "Early")
        let rename = member(Self.alice, name: "Late", previous: ["membership": "join", "displayname": "Early"])
        try ingest([join], placement: .after)
        try ingest([factory.message("before", sender: Self.alice)], placement: .after, members: [rename])
        try ingest([rename, factory.message("after", sender: Self.alice)], placement: .after)
        #expect(try names() == ["before": "Early", "after": "Late"])
    }

    /// A copy of a name that differs only in case, width or invisible characters is the same name; a name
    /// that looks like a user id, or is only invisible characters, never stands alone.
    @Test mutating func lookalikeNamesAreDisambiguated() throws {
        let (bob, carol, dave) = ("@bob:b.org", "@carol:b.org", "@dave:b.org")
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: version), state: [])
        try ingest([member(Self.alice, name: "Alice"), member(bob, name: "\u{FEFF}ａｌｉ\u{200B}ce "),
                    member(carol, name: "@alice:a.org"), member(dave, name: "\u{200B}\u{00AD}"),
                    factory.message("alice", sender: Self.alice), factory.message("bob", sender: bob),
                    factory.message("carol", sender: carol), factory.message("dave", sender: dave)], placement: .after)
        #expect(try names() == ["alice": "Alice (@alice:a.org)", "bob": "\u{FEFF}ａｌｉ\u{200B}ce  (@bob:b.org)",
                                "carol": "@alice:a.org (@carol:b.org)", "dave": dave])
    }
}
