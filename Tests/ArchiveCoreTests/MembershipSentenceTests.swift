import ArchiveCore
import Testing

/// Issue 9.9: a member event reads as what it changed, judged against `unsigned.prev_content`.
@Suite struct MembershipSentenceTests {
    static let alice = "@alice:a.org"
    static let mod = "@mod:a.org"

    func say(_ content: JSONValue, previous: JSONValue?, sender: String = alice, stateKey: String = alice) -> String {
        MembershipSentence.sentence(sender: sender, stateKey: stateKey, content: content, previous: previous)
    }

    @Test func aJoinAfterAJoinIsAProfileChange() {
        let before: JSONValue = ["membership": "join", "displayname": "Alice", "avatar_url": "mxc://a.org/one"]
        #expect(say(["membership": "join", "displayname": "Alicia", "avatar_url": "mxc://a.org/one"], previous: before)
                == "changed their display name from Alice to Alicia")
        #expect(say(["membership": "join", "displayname": "Alice", "avatar_url": "mxc://a.org/two"], previous: before)
                == "changed their avatar")
        #expect(say(["membership": "join", "displayname": "Alicia", "avatar_url": "mxc://a.org/two"], previous: before)
                == "changed their display name from Alice to Alicia and changed their avatar")
        #expect(say(["membership": "join", "avatar_url": "mxc://a.org/one"], previous: before)
                == "removed their display name (Alice)")
        #expect(say(["membership": "join", "displayname": "Alice"], previous: ["membership": "join"])
                == "set their display name to Alice")
        #expect(say(["membership": "join", "displayname": "Alice"], previous: ["membership": "join", "displayname": ""])
                == "set their display name to Alice", "an empty name is no name")
        #expect(say(before, previous: before) == "made no change")
    }

    @Test func aFirstJoinIsAJoin() {
        #expect(say(["membership": "join", "displayname": "Alice"], previous: nil) == "joined as Alice")
        #expect(say(["membership": "join", "displayname": "Alice"], previous: ["membership": "invite"]) == "joined as Alice")
        #expect(say(["membership": "join"], previous: ["membership": "leave", "displayname": "Old"]) == "joined")
    }

    @Test func leavesSayWhatEnded() {
        let leave: JSONValue = ["membership": "leave"]
        #expect(say(leave, previous: ["membership": "invite"]) == "rejected the invite")
        #expect(say(leave, previous: ["membership": "invite"], sender: Self.mod) == "withdrew the invite of @alice:a.org")
        #expect(say(leave, previous: ["membership": "ban"], sender: Self.mod) == "unbanned @alice:a.org")
        #expect(say(leave, previous: ["membership": "join"]) == "left")
        #expect(say(["membership": "leave", "reason": "spam"], previous: ["membership": "join"], sender: Self.mod)
                == "kicked @alice:a.org (reason: spam)")
        #expect(say(leave, previous: ["membership": "knock"]) == "withdrew their request to join")
        #expect(say(leave, previous: nil) == "left", "no prev_content: the previous membership is leave")
    }

    @Test func invitesAndBans() {
        #expect(say(["membership": "invite"], previous: nil, sender: Self.mod) == "invited @alice:a.org")
        #expect(say(["membership": "ban", "reason": "abuse"], previous: ["membership": "join"], sender: Self.mod)
                == "banned @alice:a.org (reason: abuse)")
        #expect(say(["membership": "knock"], previous: nil) == "asked to join")
    }

    @Test func namesAreDisambiguatedAsTheSpecSays() {
        #expect(MemberName.label(userID: Self.alice, displayName: "Alice", ambiguous: false) == "Alice")
        #expect(MemberName.label(userID: Self.alice, displayName: "Alice", ambiguous: true) == "Alice (@alice:a.org)")
        #expect(MemberName.label(userID: Self.alice, displayName: nil, ambiguous: true) == Self.alice)
        #expect(MemberName.label(userID: Self.alice, displayName: "", ambiguous: false) == Self.alice)
    }

    @Test func anInviteAfterAKnockAcceptsTheRequest() {
        #expect(say(["membership": "invite"], previous: ["membership": "knock"], sender: Self.mod)
                == "accepted the request to join of @alice:a.org")
        #expect(say(["membership": "invite"], previous: ["membership": "leave"], sender: Self.mod)
                == "invited @alice:a.org")
    }
}
