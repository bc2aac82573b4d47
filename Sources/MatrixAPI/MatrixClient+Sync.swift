import ArchiveCore
import Foundation

/// Requests sent and reply bytes read by one client.
public struct HTTPTraffic: Sendable, Hashable {
    public var requests = 0
    public var bytesReceived: Int64 = 0
    public init() {}
}

/// The `/sync` filters the archiver sends, inline (`filter=<JSON>`): an inline filter costs no request and
/// cannot be forgotten by the server, unlike an uploaded filter id that would have to be stored and
/// re-uploaded when the server drops it.
public enum SyncFilter {
    /// A room's news: up to `timelineLimit` timeline events, the state that changed (members of the
    /// timeline's senders only, every time: `include_redundant_members`, so a page carries its senders'
    /// member events as a `/messages` page does), rooms left since the token; nothing else.
    public static func news(timelineLimit: Int) -> JSONValue {
        let members: JSONValue = ["lazy_load_members": true, "include_redundant_members": true]
        let timeline: JSONValue = ["limit": .int(Int64(timelineLimit)), "lazy_load_members": true,
                                   "include_redundant_members": true]
        return [
            "presence": ["not_types": ["*"]],
            "account_data": ["not_types": ["*"]],
            "room": [
                "include_leave": true,
                "timeline": timeline,
                "state": members,
                "ephemeral": ["not_types": ["*"]],
                "account_data": ["not_types": ["*"]],
            ],
        ]
    }

    /// No rooms at all: only a `next_batch` to start the next run from (one small request).
    public static let tokenOnly: JSONValue = [
        "presence": ["not_types": ["*"]],
        "account_data": ["not_types": ["*"]],
        "room": ["rooms": [], "account_data": ["not_types": ["*"]]],
    ]
}

/// One room of a `/sync` reply.
public struct SyncedRoom: Sendable {
    public enum Membership: Sendable, Hashable { case join, leave }
    public let roomID: String
    public let membership: Membership
    public let timeline: [JSONValue]
    /// The timeline does not reach back to the request's `since`: events are missing before it.
    public let limited: Bool
    public let prevBatch: String?
    /// State between `since` and the start of the timeline (with lazy-loaded members of its senders).
    public let state: [JSONValue]

    public var hasNews: Bool { !timeline.isEmpty || !state.isEmpty || limited || membership == .leave }
}

/// What the archiver reads of a `/sync` reply: its `next_batch` and the joined and left rooms.
public struct SyncReply: Sendable {
    public let nextBatch: String
    public let rooms: [SyncedRoom]

    public init(json: JSONValue) throws {
        guard let nextBatch = json["next_batch"]?.stringValue, !nextBatch.isEmpty else {
            throw MatrixError(step: "sync", status: nil, errcode: nil, serverMessage: "the reply has no next_batch")
        }
        self.nextBatch = nextBatch
        var rooms: [SyncedRoom] = []
        let joined = Set((json.value(at: "rooms", "join")?.objectValue ?? [:]).keys)
        for (section, membership) in [("join", SyncedRoom.Membership.join), ("leave", .leave)] {
            // Sorted: a run's order does not depend on the JSON object's.
            for (roomID, room) in (json.value(at: "rooms", section)?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                // A room named under both is one the account is in now (left, then joined again since the
                // token): `join` wins, so a reply cannot make the archive drop a room the account is in.
                if membership == .leave, joined.contains(roomID) { continue }
                rooms.append(SyncedRoom(
                    roomID: roomID, membership: membership,
                    timeline: room.value(at: "timeline", "events")?.arrayValue ?? [],
                    limited: room.value(at: "timeline", "limited")?.boolValue ?? false,
                    prevBatch: room.value(at: "timeline", "prev_batch")?.stringValue,
                    state: room.value(at: "state", "events")?.arrayValue ?? []))
            }
        }
        self.rooms = rooms
    }
}

extension MatrixClient {
    /// `GET /sync` with an inline filter, from `since` (nil: an initial sync), answering at once when
    /// `timeout` is 0.
    public func sync(filter: JSONValue, since: String?, timeout: Int = 0) async throws -> SyncReply {
        var query = [("filter", JSONCoding.encode(filter)), ("timeout", String(timeout)),
                     ("set_presence", "offline")]
        if let since { query.append(("since", since)) }
        let reply = try await call(since == nil ? "start a sync" : "sync from the stored batch token",
                                   path: "/_matrix/client/v3/sync", query: query)
        return try SyncReply(json: reply)
    }
}
