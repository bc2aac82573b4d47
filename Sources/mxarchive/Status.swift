import ArchiveCore
import ArchiveStore
import ArgumentParser
import Foundation
import ArchiveService

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show per room what is archived: counts, cursors, last sync time (offline).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print {\"rooms\":[…]} as JSON.")
    var json = false

    func run() throws {
        let store = try global.openStore()
        var rows: [JSONValue] = []
        for room in try store.rooms() {
            let backward: String = switch room.cursors.backward {
            case .notStarted: "not_started"
            case .at: "in_progress"
            case .complete: "complete"
            }
            let malformed = try store.malformedCount(roomID: room.roomID)
            let decryption = try store.decryptionSummary(roomID: room.roomID)
            let waiting = decryption.waitingSessions.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            let media = try store.mediaCounts(roomID: room.roomID)
            if json {
                rows.append([
                    "room_id": .string(room.roomID),
                    "name": room.metadata.name.map(JSONValue.string) ?? .null,
                    "canonical_alias": room.metadata.canonicalAlias.map(JSONValue.string) ?? .null,
                    "room_version": .string(room.metadata.roomVersion.identifier),
                    "encrypted": .bool(room.metadata.encrypted),
                    "predecessor": room.metadata.predecessor.map(JSONValue.string) ?? .null,
                    "successor": room.metadata.successor.map(JSONValue.string) ?? .null,
                    "events": .int(Int64(room.eventCount)),
                    "malformed_events": .int(Int64(malformed)),
                    "backward": .string(backward),
                    "has_forward_cursor": .bool(room.cursors.forward != nil),
                    "archive_starts_at": room.archiveStartsAt.map(JSONValue.int) ?? .null,
                    "last_sync_at": room.lastSyncAt.map(JSONValue.int) ?? .null,
                    "decryption": Self.decryptionJSON(decryption.counts, waiting: waiting),
                    "media": .object(Dictionary(uniqueKeysWithValues: media.map { ($0.key.rawValue, .int(Int64($0.value))) })),
                ])
            } else {
                let synced = room.lastSyncAt.map(DateArgument.format) ?? "never"
                emit("\(room.roomID)  \(room.metadata.name ?? "(no name)")  \(room.eventCount) events  "
                     + "history: \(backward)  last sync: \(synced)"
                     + (malformed > 0 ? "  malformed: \(malformed)" : "")
                     + (media.isEmpty ? "" : "  media: " + Self.mediaSummary(media)))
                let encrypted = decryption.counts.values.reduce(0, +)
                if encrypted > 0 {
                    let problems = DecryptionStatus.allCases.filter { $0 != .none && $0 != .ok }
                        .compactMap { status in decryption.counts[status].map { "\($0) \(status.rawValue)" } }
                    emit("    encrypted: \(encrypted) events, \(decryption.counts[.ok] ?? 0) decrypted"
                         + (problems.isEmpty ? "" : "; " + problems.joined(separator: ", ")))
                    for (session, count) in waiting.prefix(5) {
                        emit("    waiting for session \(session): \(count) events")
                    }
                    if waiting.count > 5 { emit("    … and \(waiting.count - 5) more sessions") }
                }
            }
        }
        if json { emit(JSONCoding.encode(["rooms": .array(rows)])) }
    }

    /// `3 stored, 1 too_large`: stored first, then the other outcomes by name.
    static func mediaSummary(_ counts: [MediaStatus: Int]) -> String {
        var parts = counts[.ok].map { ["\($0) stored"] } ?? []
        parts += counts.filter { $0.key != .ok }.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.value) \($0.key.rawValue)" }
        return parts.joined(separator: ", ")
    }

    /// `decryption` of `status --json`: a count for every status but `none`, and the waiting sessions.
    static func decryptionJSON(_ counts: [DecryptionStatus: Int], waiting: [(key: String, value: Int)]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for status in DecryptionStatus.allCases where status != .none {
            object[status.rawValue] = .int(Int64(counts[status] ?? 0))
        }
        object["waiting_sessions"] = .array(waiting.map { ["session_id": .string($0.key), "events": .int(Int64($0.value))] })
        return .object(object)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the archive's integrity; exit 1 listing the problems if anything is wrong.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print {\"ok\": bool, \"problems\": [...]} as JSON.")
    var json = false

    func run() throws {
        let store = try global.openStore()
        let index = try SearchIndexCheck.check(store: store)
        let problems = try store.verify() + index.problems
        if json {
            emit(JSONCoding.encode(["ok": .bool(problems.isEmpty), "problems": .array(problems.map(JSONValue.string))]))
        } else if problems.isEmpty {
            emit("archive OK: \(try store.rooms().count) rooms, integrity and cursors consistent"
                 + (try store.searchIndexState() == nil ? "" : "; search index consistent"))
            index.notes.forEach { emit("note: \($0)") }
        } else {
            problems.forEach { emit($0) }
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
