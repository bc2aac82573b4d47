import ArchiveCore
import ArchiveStore

/// `mxarchive status`: per room what is archived (schemas/status.schema.json).
public struct StatusReport: CommandReport {
    struct Room {
        let stored: StoredRoom
        let malformed: Int
        /// Redactions stored but not applied: their senders may not redact their targets.
        let rejectedRedactions: Int
        let decryption: RoomDecryptionSummary
        let senderKeys: SenderKeyCounts
        let media: [MediaStatus: Int]
        /// When the archive saw that the account left the room (it is not fetched again), or nil.
        var leftAt: Int64? = nil

        var backward: String {
            switch stored.cursors.backward {
            case .notStarted: "not_started"
            case .at: "in_progress"
            case .complete: "complete"
            }
        }

        /// The sessions waiting events need, most events first.
        var waiting: [(key: String, value: Int)] {
            decryption.waitingSessions.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        }
    }

    let rooms: [Room]

    public var jsonValue: JSONValue {
        ["rooms": .array(rooms.map { room in
            let metadata = room.stored.metadata
            return [
                "room_id": .string(room.stored.roomID),
                "name": metadata.name.map(JSONValue.string) ?? .null,
                "canonical_alias": metadata.canonicalAlias.map(JSONValue.string) ?? .null,
                "room_version": .string(metadata.roomVersion.identifier),
                "encrypted": .bool(metadata.encrypted),
                "predecessor": metadata.predecessor.map(JSONValue.string) ?? .null,
                "successor": metadata.successor.map(JSONValue.string) ?? .null,
                "events": .int(Int64(room.stored.eventCount)),
                "malformed_events": .int(Int64(room.malformed)),
                "rejected_redactions": .int(Int64(room.rejectedRedactions)),
                "backward": .string(room.backward),
                "has_forward_cursor": .bool(room.stored.cursors.forward != nil),
                "archive_starts_at": room.stored.archiveStartsAt.map(JSONValue.int) ?? .null,
                "last_sync_at": room.stored.lastSyncAt.map(JSONValue.int) ?? .null,
                "left_at": room.leftAt.map(JSONValue.int) ?? .null,
                "decryption": Self.decryptionJSON(room.decryption.counts, waiting: room.waiting,
                                                  senderKeys: room.senderKeys),
                "media": .object(Dictionary(uniqueKeysWithValues: room.media.map { ($0.key.rawValue, .int(Int64($0.value))) })),
            ]
        })]
    }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        var lines: [String] = []
        for room in rooms {
            let stored = room.stored
            let synced = stored.lastSyncAt.map { Timestamp(milliseconds: $0).iso8601 } ?? "never"
            let name = stored.metadata.name.map { DisplayText.singleLine($0) } ?? "(no name)"
            lines.append("\(stored.roomID)  \(name)  \(stored.eventCount) events  "
                         + "history: \(room.backward)  last sync: \(synced)"
                         + (room.leftAt == nil ? "" : "  left (archived up to the leave)")
                         + (room.malformed > 0 ? "  malformed: \(room.malformed)" : "")
                         + (room.rejectedRedactions > 0 ? "  rejected redactions: \(room.rejectedRedactions)" : "")
                         + (room.media.isEmpty ? "" : "  media: " + Self.mediaSummary(room.media)))
            let counts = room.decryption.counts
            let encrypted = counts.values.reduce(0, +)
            guard encrypted > 0 else { continue }
            let problems = DecryptionStatus.allCases.filter { $0 != .none && $0 != .ok }
                .compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
            lines.append("    encrypted: \(encrypted) events, \(counts[.ok] ?? 0) decrypted"
                         + (problems.isEmpty ? "" : "; " + problems.joined(separator: ", ")))
            let keys = room.senderKeys
            if keys.verified + keys.mismatch + keys.unknown + keys.unchecked > 0 {
                lines.append("    sender keys: \(keys.verified) verified, \(keys.mismatch) mismatch, "
                             + "\(keys.unknown) unknown, \(keys.unchecked) unchecked")
            }
            let waiting = room.waiting
            for (session, count) in waiting.prefix(5) {
                // A session id is what the sender's encrypted event says: as untrusted as a name.
                lines.append("    waiting for session \(DisplayText.singleLine(session)): \(count) events")
            }
            if waiting.count > 5 { lines.append("    … and \(waiting.count - 5) more sessions") }
        }
        return lines.map(OutputLine.result)
    }

    /// `3 stored, 1 too_large`: stored first, then the other outcomes by name.
    static func mediaSummary(_ counts: [MediaStatus: Int]) -> String {
        var parts = counts[.ok].map { ["\($0) stored"] } ?? []
        parts += counts.filter { $0.key != .ok }.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.value) \($0.key.rawValue)" }
        return parts.joined(separator: ", ")
    }

    /// `decryption` of `status --json`: a count for every status but `none`, and the waiting sessions.
    static func decryptionJSON(_ counts: [DecryptionStatus: Int], waiting: [(key: String, value: Int)],
                               senderKeys: SenderKeyCounts) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for status in DecryptionStatus.allCases where status != .none {
            object[status.rawValue] = .int(Int64(counts[status] ?? 0))
        }
        object["sender_keys"] = [
            "verified": .int(Int64(senderKeys.verified)), "mismatch": .int(Int64(senderKeys.mismatch)),
            "unknown": .int(Int64(senderKeys.unknown)), "unchecked": .int(Int64(senderKeys.unchecked)),
        ]
        object["waiting_sessions"] = .array(waiting.map { ["session_id": .string($0.key), "events": .int(Int64($0.value))] })
        return .object(object)
    }
}

extension Archive {
    public func status() throws -> StatusReport {
        StatusReport(rooms: try store.rooms().map { room in
            StatusReport.Room(stored: room, malformed: try store.malformedCount(roomID: room.roomID),
                              rejectedRedactions: try store.rejectedRedactionCount(roomID: room.roomID),
                              decryption: try store.decryptionSummary(roomID: room.roomID),
                              senderKeys: try store.senderKeyCounts(roomID: room.roomID),
                              media: try store.mediaCounts(roomID: room.roomID),
                              leftAt: try store.leftAt(roomID: room.roomID))
        })
    }
}
