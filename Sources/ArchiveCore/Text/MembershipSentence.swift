/// What an `m.room.member` event did, as a sentence whose subject is its sender ("left", "kicked @bob:hs",
/// "changed their display name from A to B"). The one place these sentences are made: the exports and
/// `mxarchive events` all show them.
///
/// The change is judged against `unsigned.prev_content`, the content the event replaced (spec v1.2 and
/// later). Without it the previous membership is taken to be `leave`, as the m.room.member schema says.
/// (Synapse also sends `unsigned.prev_sender`, which the spec does not define; it is not needed: whether a
/// leave was the user's own is told by the sender and the state key.)
public enum MembershipSentence {
    public static func sentence(sender: String, stateKey: String, content: JSONValue, previous: JSONValue?) -> String {
        let membership = content["membership"]?.stringValue ?? "?"
        let before = previous?["membership"]?.stringValue ?? "leave"
        let own = stateKey == sender
        let subject = own ? "" : " \(stateKey)"
        let reason = content["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : " (reason: \($0))" } ?? ""
        switch (before, membership) {
        case ("join", "join"):
            return profileChange(from: previous ?? .object([:]), to: content)
        case (_, "join"):
            if let name = nonEmpty(content["displayname"]) { return "joined\(subject) as \(name)" }
            return "joined\(subject)"
        case ("invite", "leave"):
            return (own ? "rejected the invite" : "withdrew the invite of\(subject)") + reason
        case ("ban", "leave"):
            return "unbanned\(subject)" + reason
        case ("knock", "leave"):
            return (own ? "withdrew their request to join" : "turned down the request to join of\(subject)") + reason
        case ("join", "leave") where !own:
            return "kicked\(subject)" + reason
        case (_, "leave"):
            return (own ? "left" : "removed\(subject)") + reason
        // An invite answering a knock lets the knocker in (the spec's knocking flow): it is the reply.
        case ("knock", "invite"): return "accepted the request to join of\(subject)" + reason
        case (_, "invite"): return "invited\(subject)" + reason
        case (_, "ban"): return "banned\(subject)" + reason
        case (_, "knock"): return "asked to join" + reason
        default: return "\(membership)\(subject)"
        }
    }

    /// A join after a join changes only the profile: the display name, the avatar, both, or nothing.
    static func profileChange(from previous: JSONValue, to content: JSONValue) -> String {
        var changes: [String] = []
        switch (nonEmpty(previous["displayname"]), nonEmpty(content["displayname"])) {
        case let (old?, new?) where old != new: changes.append("changed their display name from \(old) to \(new)")
        case let (nil, new?): changes.append("set their display name to \(new)")
        case let (old?, nil): changes.append("removed their display name (\(old))")
        default: break
        }
        switch (nonEmpty(previous["avatar_url"]), nonEmpty(content["avatar_url"])) {
        case let (old?, new?) where old != new: changes.append("changed their avatar")
        case (nil, _?): changes.append("set their avatar")
        case (_?, nil): changes.append("removed their avatar")
        default: break
        }
        return changes.isEmpty ? "made no change" : changes.joined(separator: " and ")
    }

    private static func nonEmpty(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }
}
