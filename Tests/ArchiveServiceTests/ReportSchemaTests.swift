import ArchiveCore
import ArchiveService
import ArchiveStore
import Foundation
import Testing
import TestSupport

/// Each command's report renders its own `--json` object in one place; here every one of them, made from
/// a real store, is checked against its schema under `schemas/` by an independent validator (Python's
/// jsonschema), so a field added to a report without its schema fails here.
@Suite struct ReportSchemaTests {
    let directory = uniqueTemporaryDirectory("mxa-reports")
    var factory = EventFactory()

    init() throws {
        let store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: RoomVersion("12"), name: "Reports"),
                             state: [])
        let first = factory.message("the deployment went fine")
        let events = [first, factory.message("second message"), factory.edit(of: first.eventID, to: "the deployment went well"),
                      factory.reaction(to: first.eventID, key: "👍")]
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: RoomVersion("12"), events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")))
    }

    func expectValid(_ documents: [String], _ schema: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!documents.isEmpty, sourceLocation: sourceLocation)
        #expect(try SchemaValidator.errors(documents, schema: schema) == [], sourceLocation: sourceLocation)
    }

    @Test func statusVerifyAndEvents() throws {
        let archive = try Archive(at: directory, access: .read)
        try expectValid([try archive.status().jsonText], "status.schema.json")
        try expectValid([try archive.verify().jsonText], "verify.schema.json")
        var lines: [String] = []
        try archive.events(TimelineRequest(room: factory.roomID, dates: .all, followUpgrades: false), jsonl: true) {
            lines.append($0)
        }
        #expect(lines.count == 2)
        try expectValid(lines, "event.schema.json")
    }

    @Test func reindexAndSearch() throws {
        try expectValid([try Archive(at: directory, access: .maintain).reindex(language: nil, shards: 1).jsonText],
                        "reindex.schema.json")
        var request = SearchRequest(query: "deployment")
        request.context = 1
        let report = try Archive(at: directory, access: .search).search(request)
        #expect(report.found.results.count == 1)
        try expectValid([report.jsonText], "search-result.schema.json")
    }

    @Test func exportAndItsCheck() throws {
        let output = uniqueTemporaryDirectory("mxa-reports-export")
        let request = ExportRequest(format: .json, output: output.path, toolVersion: "test")
        _ = try Archive(at: directory, access: .read).export(request, environment: ["SOURCE_DATE_EPOCH": "0"])
        let check = try ExportCheckReport.check(path: output.path)
        #expect(check.ok)
        try expectValid([check.jsonText], "verify-export.schema.json")
    }
}
