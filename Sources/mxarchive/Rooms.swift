import ArchiveCore
import ArchiveStore
import ArgumentParser
import Foundation
import ArchiveService
import MatrixAPI

struct Rooms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the rooms the account has joined, with how much of each is archived.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print a JSON array of {room_id, name, canonical_alias, encrypted, events_archived}.")
    var json = false

    func run() async throws {
        let store = try global.openStore()
        let client = try global.makeClient()
        var rows: [JSONValue] = []
        for roomID in try await client.joinedRooms().sorted() {
            let state = (try? await client.state(roomID: roomID)) ?? []
            let metadata = RoomMetadata(roomID: roomID,
                                        state: state.compactMap { try? RawEvent.parse($0, roomID: roomID).get() })
            let archived = try store.eventCount(roomID: roomID)
            if json {
                rows.append([
                    "room_id": .string(roomID),
                    "name": metadata.name.map(JSONValue.string) ?? .null,
                    "canonical_alias": metadata.canonicalAlias.map(JSONValue.string) ?? .null,
                    "encrypted": .bool(metadata.encrypted),
                    "events_archived": .int(Int64(archived)),
                ])
            } else {
                let label = [metadata.name, metadata.canonicalAlias].compactMap { $0 }.joined(separator: " ")
                emit("\(roomID)  \(label.isEmpty ? "(no name)" : label)\(metadata.encrypted ? "  [encrypted]" : "")  "
                     + "\(archived) events archived")
            }
        }
        if json { emit(JSONCoding.encode(.array(rows))) }
    }
}
