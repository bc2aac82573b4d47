import ArchiveCore
@testable import ArchiveService
import ArchiveStore
import Foundation
import Testing
import TestSupport

/// The human output of `events`, `search`, `status`, `rooms` and `export`, and the TXT export, from a real
/// store holding a room whose name, a member's display name and a message are hostile: no line they print
/// can pass for one of ours, and no control sequence but our own bold reaches the terminal.
@Suite struct HostileTextOutputTests {
    let directory = uniqueTemporaryDirectory("mxa-hostile")
    var factory = EventFactory()
    static let bold = ["\u{1B}[1m", "\u{1B}[0m"]

    init() throws {
        let store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: RoomVersion("12"),
                                          name: TerminalSafety.hostile, topic: TerminalSafety.hostile), state: [])
        let events = [
            factory.event(type: "m.room.member", stateKey: "@alice:example.org",
                          content: ["membership": "join", "displayname": .string(TerminalSafety.hostile)]),
            factory.message("before the deployment"),
            factory.message("the deployment " + TerminalSafety.hostile + " deployment again"),
        ]
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: RoomVersion("12"), events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f")))
    }

    static func text(_ lines: [OutputLine]) -> String {
        lines.map { line in
            switch line {
            case .result(let text), .problem(let text): text
            }
        }.joined(separator: "\n")
    }

    @Test func eventsLinesAreOursAlone() throws {
        var lines: [String] = []
        try Archive(at: directory, access: .read)
            .events(TimelineRequest(room: factory.roomID, dates: .all, followUpgrades: false), jsonl: false) { lines.append($0) }
        let output = lines.joined(separator: "\n")
        #expect(lines.count == 3)
        #expect(TerminalSafety.unsafeScalars(in: output) == [])
        #expect(TerminalSafety.timelineLines(in: output) == 3)
    }

    @Test func eventsJSONLinesStayExact() throws {
        var lines: [String] = []
        try Archive(at: directory, access: .read)
            .events(TimelineRequest(room: factory.roomID, dates: .all, followUpgrades: false), jsonl: true) { lines.append($0) }
        let body = try JSONCoding.decode(lines[2]).value(at: "content", "body")?.stringValue
        #expect(body == "the deployment " + TerminalSafety.hostile + " deployment again")
    }

    @Test func searchShowsOnlyItsOwnBold() throws {
        _ = try Archive(at: directory, access: .maintain).reindex(language: nil, shards: 1)
        var request = SearchRequest(query: "deployment")
        request.context = 1
        let report = try Archive(at: directory, access: .search).search(request)
        #expect(report.found.results.count == 2)
        let terminal = Self.text(report.humanOutput(terminal: true))
        #expect(terminal.contains("\u{1B}[1m"))  // the hits are still bold
        #expect(TerminalSafety.unsafeScalars(in: terminal, allowing: Self.bold) == [])
        // The context lines are the only ones at their indent that start with a time.
        let lines = terminal.split(whereSeparator: \.isNewline)
        #expect(lines.filter { $0.hasPrefix("    [20") }.count == 2)
        #expect(TerminalSafety.timelineLines(in: terminal) == 0)
        #expect(TerminalSafety.unsafeScalars(in: Self.text(report.humanOutput(terminal: false))) == [])
    }

    @Test func statusRoomsAndExportNameTheRoomOnOneLine() throws {
        let archive = try Archive(at: directory, access: .read)
        let status = Self.text(try archive.status().humanOutput(terminal: false))
        #expect(TerminalSafety.unsafeScalars(in: status) == [] && TerminalSafety.timelineLines(in: status) == 0)
        let metadata = RoomMetadata(roomID: factory.roomID, name: TerminalSafety.hostile, canonicalAlias: "#a\u{1B}[2J:x")
        let rooms = Self.text(RoomsReport(rooms: [.init(roomID: factory.roomID, metadata: metadata, archived: 3)])
            .humanOutput(terminal: false))
        #expect(TerminalSafety.unsafeScalars(in: rooms) == [] && TerminalSafety.timelineLines(in: rooms) == 0)

        let output = uniqueTemporaryDirectory("mxa-hostile-export")
        let report = try archive.export(ExportRequest(format: .txt, output: output.path, toolVersion: "test"),
                                        environment: ["SOURCE_DATE_EPOCH": "0"])
        let summary = Self.text(report.humanOutput(terminal: false))
        #expect(TerminalSafety.unsafeScalars(in: summary) == [] && TerminalSafety.timelineLines(in: summary) == 0)
        let files = try FileManager.default.subpathsOfDirectory(atPath: output.path).filter { $0.hasSuffix(".txt") }
        #expect(files.count == 2)  // room.txt and one month
        for file in files {
            let text = try String(contentsOfFile: output.appendingPathComponent(file).path, encoding: .utf8)
            #expect(TerminalSafety.unsafeScalars(in: text) == [], "\(file)")
            #expect(TerminalSafety.timelineLines(in: text) == (file.hasSuffix("room.txt") ? 0 : 3), "\(file)")
        }
    }
}
