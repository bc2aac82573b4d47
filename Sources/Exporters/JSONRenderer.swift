import ArchiveCore

/// Per room: `rooms/<id>/events/<YYYY-MM>.jsonl` (one `events --jsonl` object per line, the room's
/// order, split by month so no file grows without bound) and `rooms/<id>/room.json` (metadata, members,
/// the list of event files; `schemas/export-room.schema.json`).
final class JSONRenderer: ExportRenderer {
    let roomEntryName = "room.json"

    func begin(rooms: [StoredRoom], writer: ExportWriter) throws {}

    func renderRoom(_ context: RoomContext, result: inout RoomExportResult, writer: ExportWriter,
                    progress: (_ eventsSoFar: Int) -> Void) throws {
        var months = MonthCursor()
        var file: ExportFile?
        var fileInfo: (month: String, events: Int, first: Int64, last: Int64)?
        var eventFiles: [JSONValue] = []
        var localResult = result
        func flush() throws {
            guard let current = file, let info = fileInfo else { return }
            let path = context.directory + "/events/" + info.month + ".jsonl"
            try writer.add(path, current)
            eventFiles.append([
                "path": .string(path), "month": .string(info.month), "events": .int(Int64(info.events)),
                "first_ts": .int(info.first), "last_ts": .int(info.last),
            ])
            file = nil
            progress(localResult.events)
        }
        try context.forEachItem { item in
            let (month, isNew) = months.month(for: item.originServerTS)
            if isNew || file == nil {
                try flush()
                file = ExportFile()
                fileInfo = (month, 0, item.originServerTS, item.originServerTS)
            }
            file?.append(JSONCoding.encode(item.jsonValue))
            file?.append("\n")
            if var info = fileInfo {
                info.events += 1
                info.first = min(info.first, item.originServerTS)
                info.last = max(info.last, item.originServerTS)
                fileInfo = info
            }
            localResult.count(item)
            if localResult.events % 5000 == 0 { progress(localResult.events) }
        }
        try flush()
        result = localResult

        let metadata = context.room.metadata
        let members: [JSONValue] = try context.source.stateEvents(roomID: context.roomID, type: "m.room.member").map { event in
            [
                "user_id": event["state_key"] ?? .null,
                "display_name": event.value(at: "content", "displayname")?.stringValue.map(JSONValue.string) ?? .null,
                "membership": event.value(at: "content", "membership")?.stringValue.map(JSONValue.string) ?? .null,
            ]
        }
        let room: JSONValue = [
            "room_id": .string(metadata.roomID),
            "name": metadata.name.map(JSONValue.string) ?? .null,
            "topic": metadata.topic.map(JSONValue.string) ?? .null,
            "canonical_alias": metadata.canonicalAlias.map(JSONValue.string) ?? .null,
            "room_version": .string(metadata.roomVersion.identifier),
            "room_type": metadata.roomType.map(JSONValue.string) ?? .null,
            "encrypted": .bool(metadata.encrypted),
            "predecessor": metadata.predecessor.map(JSONValue.string) ?? .null,
            "successor": metadata.successor.map(JSONValue.string) ?? .null,
            "members": .array(members),
            "event_files": .array(eventFiles),
            "counts": [
                "events": .int(Int64(result.events)), "messages": .int(Int64(result.messages)),
                "undecryptable": .int(Int64(result.undecryptable)), "redacted": .int(Int64(result.redacted)),
                "bad_events": .int(Int64(result.badEvents)),
            ],
        ]
        try writer.add(context.directory + "/room.json", text: JSONCoding.encode(room) + "\n")
    }

    func finish(rooms: [RoomExportResult], spaces: [String: [String]], writer: ExportWriter) throws {}
}
