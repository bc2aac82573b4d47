import ArchiveCore
import Foundation

/// What to export and how.
public struct ExportOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable { case json, html, txt }

    public var format: Format
    /// Room ids (already resolved from aliases).
    public var roomIDs: [String]
    /// Space ids: the space and every archived room of its hierarchy.
    public var spaceIDs: [String]
    /// Milliseconds; `until` exclusive.
    public var since: Int64?
    public var until: Int64?
    /// The dates as the user gave them, for the manifest.
    public var sinceText: String?
    public var untilText: String?
    /// Only these senders (all when empty).
    public var senders: [String]
    public var includeMedia: Bool
    /// Keep the content of redacted events when the archive retained it (legal hold).
    public var retainRedacted: Bool
    public var allowIndexing: Bool
    /// The export time in seconds: `SOURCE_DATE_EPOCH` when set, so that exports are reproducible.
    public var exportTime: Int64
    public var toolVersion: String
    public var homeserver: String?
    /// Where the HTML templates are (`exports/html/`); found automatically when nil.
    public var templates: URL?
    /// The permission bits of every file written (folders get the same, with search where reading is
    /// allowed): an export of decrypted history is private (0600/0700) unless asked otherwise (`--mode`).
    public var fileMode: UInt16 = ExportFileMode.privateDefault
    /// HTML: at most this many messages on a month or thread page (`--page-messages`), so that a busy
    /// month opens as fast as a quiet one.
    public var pageMessages: Int = ExportOptions.defaultPageMessages
    public static let defaultPageMessages = 1000
    /// `--page-messages` accepts 1 ... this.
    public static let maxPageMessages = 100_000
    /// The search index's tokeniser, for the HTML export's static search (`HTMLSearchIndexWriter`): the
    /// service hands SearchIndex's in, so that the page finds what the CLI finds. Nil: no search data.
    public var searchTokenizer: (any TextTokenizer)?

    public init(format: Format, roomIDs: [String] = [], spaceIDs: [String] = [], since: Int64? = nil,
                until: Int64? = nil, sinceText: String? = nil, untilText: String? = nil, senders: [String] = [],
                includeMedia: Bool = false, retainRedacted: Bool = false, allowIndexing: Bool = false,
                exportTime: Int64, toolVersion: String, homeserver: String? = nil, templates: URL? = nil) {
        self.format = format
        self.roomIDs = roomIDs
        self.spaceIDs = spaceIDs
        self.since = since
        self.until = until
        self.sinceText = sinceText
        self.untilText = untilText
        self.senders = senders
        self.includeMedia = includeMedia
        self.retainRedacted = retainRedacted
        self.allowIndexing = allowIndexing
        self.exportTime = exportTime
        self.toolVersion = toolVersion
        self.homeserver = homeserver
        self.templates = templates
    }

    /// The options as the manifest records them.
    var manifestValue: JSONValue {
        var value: [String: JSONValue] = [
            "format": .string(format.rawValue),
            "rooms": .array(roomIDs.map(JSONValue.string)),
            "spaces": .array(spaceIDs.map(JSONValue.string)),
            "since": sinceText.map(JSONValue.string) ?? .null,
            "until": untilText.map(JSONValue.string) ?? .null,
            "senders": .array(senders.map(JSONValue.string)),
            "include_media": .bool(includeMedia),
            "retain_redacted": .bool(retainRedacted),
            "allow_indexing": .bool(allowIndexing),
        ]
        // Only the HTML export has pages.
        if format == .html { value["page_messages"] = .int(Int64(pageMessages)) }
        return .object(value)
    }
}

/// What one room's export holds; the manifest and the command's summary report it.
public struct RoomExportResult: Sendable {
    public let roomID: String
    public let name: String?
    public let canonicalAlias: String?
    public let roomType: String?
    /// The room's entry point in the export (its metadata, index page or text overview).
    public var path: String
    /// The room's data files, in the order written.
    public var files: [String] = []
    public var events = 0
    public var messages = 0
    public var undecryptable = 0
    public var redacted = 0
    /// Events that could not be rendered: shown as a notice and counted, never fatal.
    public var badEvents = 0
    public var firstTS: Int64?
    public var lastTS: Int64?

    mutating func count(_ item: TimelineItem) {
        events += 1
        if item.type == "m.room.message" || item.type == "m.sticker" || item.type == "m.room.encrypted" { messages += 1 }
        if item.decryption.isUndecryptable { undecryptable += 1 }
        if item.redacted { redacted += 1 }
        firstTS = min(firstTS ?? item.originServerTS, item.originServerTS)
        lastTS = max(lastTS ?? item.originServerTS, item.originServerTS)
    }

    var manifestValue: JSONValue {
        [
            "room_id": .string(roomID),
            "name": name.map(JSONValue.string) ?? .null,
            "canonical_alias": canonicalAlias.map(JSONValue.string) ?? .null,
            "path": .string(path),
            "files": .array(files.map(JSONValue.string)),
            "events": .int(Int64(events)),
            "messages": .int(Int64(messages)),
            "undecryptable": .int(Int64(undecryptable)),
            "redacted": .int(Int64(redacted)),
            "bad_events": .int(Int64(badEvents)),
            "first_ts": firstTS.map(JSONValue.int) ?? .null,
            "last_ts": lastTS.map(JSONValue.int) ?? .null,
        ]
    }
}

public struct ExportSummary: Sendable {
    public let rooms: [RoomExportResult]
    public let fileCount: Int
    public let bytes: Int64
    /// Rooms named by a space but not in the archive (not exported).
    public let missingRooms: [String]
    /// `--include-media`: stored media files written under `media/`.
    public let mediaFiles: Int
    /// Paths not written because one was already written under the same name (ignoring case).
    public let skippedFiles: [String]
}

/// Progress of an export, for a live display.
public protocol ExportObserver: AnyObject {
    func roomStarted(roomID: String, name: String?)
    func progress(events: Int, bytes: Int64)
    func roomFinished(_ result: RoomExportResult)
}

/// `--sender`: the chosen senders; everyone when none was named.
struct SenderFilter: Hashable {
    let senders: Set<String>

    init(_ senders: [String]) { self.senders = Set(senders) }

    func includes(_ sender: String) -> Bool { senders.isEmpty || senders.contains(sender) }
}

extension StoredRoom {
    /// The room's name as exports title it: its name, else its address, else its id.
    var displayName: String { metadata.name ?? metadata.canonicalAlias ?? roomID }
}

/// One room being exported: what every renderer gets.
struct RoomContext {
    let room: StoredRoom
    let directory: String  // rooms/<id>
    let options: ExportOptions
    let source: any ExportSource
    let senders: SenderFilter
    /// The export's names for stored media files (shared by every room: one file, one sniff).
    let mediaNames: MediaNames

    var roomID: String { room.roomID }
    var displayName: String { room.displayName }

    func includes(sender: String) -> Bool { senders.includes(sender) }

    /// The room's items as this export shows them, in timeline order: only the chosen senders and dates,
    /// with the export's redaction policy applied. Every format reads the room (and its threads) through
    /// this, so that they all hand over the same events.
    func forEachItem(threadRoot: String? = nil, _ body: (TimelineItem) throws -> Void) throws {
        let version = room.metadata.roomVersion
        try source.timeline(roomID: roomID, since: options.since, until: options.until, threadRoot: threadRoot) { raw in
            guard includes(sender: raw.sender) else { return }
            try body(raw.applyingExportPolicy(retainRedacted: options.retainRedacted, roomVersion: version))
        }
    }
}

/// A format's renderer. `renderRoom` streams the room's timeline into files through the writer.
protocol ExportRenderer: AnyObject {
    var roomEntryName: String { get }
    func begin(rooms: [StoredRoom], writer: ExportWriter) throws
    func renderRoom(_ context: RoomContext, result: inout RoomExportResult, writer: ExportWriter,
                    progress: (_ eventsSoFar: Int) -> Void) throws
    func finish(rooms: [RoomExportResult], spaces: [String: [String]], writer: ExportWriter) throws
}

/// Store query → renderer → sink → manifest. Memory stays flat: items are streamed from SQLite and files
/// are written (or spilled to an unlinked temporary file) as soon as they are complete.
public final class Exporter {
    let store: any ExportSource
    let options: ExportOptions
    weak var observer: (any ExportObserver)?

    public init(store: any ExportSource, options: ExportOptions, observer: (any ExportObserver)? = nil) {
        self.store = store
        self.options = options
        self.observer = observer
    }

    public static let manifestName = "manifest.json"

    public func run(to destination: ExportDestination) throws -> ExportSummary {
        let (roomIDs, missing) = try selectRooms()
        let rooms = try roomIDs.compactMap { try store.room($0) }
        let renderer: any ExportRenderer
        switch options.format {
        case .json: renderer = JSONRenderer()
        case .txt: renderer = TextRenderer()
        case .html: renderer = try HTMLRenderer(options: options, source: store)
        }
        let writer = try ExportWriter(destination: destination, modificationTime: options.exportTime,
                                      fileMode: options.fileMode)
        let mediaNames = MediaNames(source: store)
        try renderer.begin(rooms: rooms, writer: writer)
        var results: [RoomExportResult] = []
        for room in rooms {
            observer?.roomStarted(roomID: room.roomID, name: room.metadata.name)
            let directory = "rooms/" + ExportPath.component(forID: room.roomID)
            let context = RoomContext(room: room, directory: directory, options: options, source: store,
                                      senders: SenderFilter(options.senders), mediaNames: mediaNames)
            var result = RoomExportResult(roomID: room.roomID, name: room.metadata.name,
                                          canonicalAlias: room.metadata.canonicalAlias,
                                          roomType: room.metadata.roomType,
                                          path: directory + "/" + renderer.roomEntryName)
            let before = writer.paths.count
            let skippedBefore = writer.skippedPaths.count
            // One snapshot per room: the HTML plan (counts, pages, where each event is) and the pages
            // must see the same events however a concurrent sync moves on; the next room sees its news.
            try store.reading {
                try renderer.renderRoom(context, result: &result, writer: writer) { [observer] events in
                    observer?.progress(events: events, bytes: writer.bytesWritten)
                }
            }
            result.files = Array(writer.paths[before...])
            // A page that could not be written (its name was taken) is reported with the events that
            // could not be rendered, which the manifest and the summary already count.
            result.badEvents += writer.skippedPaths.count - skippedBefore
            observer?.roomFinished(result)
            results.append(result)
        }
        let spaces = try spaceChildren(of: rooms)
        try renderer.finish(rooms: results, spaces: spaces, writer: writer)
        let mediaFiles = options.includeMedia ? try addMedia(of: rooms, names: mediaNames, writer: writer) : 0
        // A site (HTML) or an export holding media may be published: the web-server rules go with it.
        if options.format == .html || mediaFiles > 0 {
            for rule in WebServerRules.files(includesMedia: mediaFiles > 0) { try writer.add(rule.path, text: rule.text) }
        }
        try writer.add(Self.manifestName, manifestFile(rooms: results, files: try writer.writtenFiles()))
        try writer.finish()
        return ExportSummary(rooms: results, fileCount: writer.paths.count, bytes: writer.bytesWritten,
                             missingRooms: missing, mediaFiles: mediaFiles, skippedFiles: writer.skippedPaths)
    }

    /// `--include-media`: the stored files (from `sync --media`) of the exported events' attachments, as
    /// `media/<sha256>.<ext>` (the extension sniffed from the content, `MediaNames`), each once, in digest
    /// order (reproducible). The export's own SHA-256 of each file must equal its name: a damaged store
    /// file stops the export instead of being handed over. `media/index.json`
    /// (`schemas/export-media.schema.json`) says which event's file or thumbnail each file is, since file
    /// names are digests and events name mxc URIs (and, when encrypted, a key), and keeps what the event
    /// claimed (name, mimetype) beside what the bytes are (`sniffed_type`).
    private func addMedia(of rooms: [StoredRoom], names: MediaNames, writer: ExportWriter) throws -> Int {
        var digests: Set<String> = []
        var entries: [JSONValue] = []
        let senders = SenderFilter(options.senders)
        for room in rooms {
            for media in try store.exportableMedia(roomID: room.roomID, since: options.since, until: options.until,
                                                   includeRedacted: options.retainRedacted)
            where senders.includes(media.sender) {
                digests.insert(media.sha256)
                entries.append([
                    "room_id": .string(room.roomID), "event_id": .string(media.eventID), "role": .string(media.role),
                    "mxc": .string(media.mxc), "file": .string(names.path(of: media.sha256)),
                    "sha256": .string(media.sha256), "size": .int(media.size),
                    "name": media.name.map(JSONValue.string) ?? .null,
                    "mimetype": media.mimetype.map(JSONValue.string) ?? .null,
                    "sniffed_type": .string(names.kind(of: media.sha256).mimeType),
                ])
            }
        }
        if !entries.isEmpty {
            let index = ExportFile()
            index.append(JSONCoding.encode(["files": .array(entries)]) + "\n")
            _ = try writer.add("media/index.json", index)
        }
        for digest in digests.sorted() {
            let url = try store.mediaFileURL(sha256: digest)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ExportError.failure("stored media file \(url.path) is missing (run `mxarchive sync --media`)")
            }
            // Checked before anything of it is written: a tar on stdout cannot take bytes back.
            guard sha256Hex(data) == digest else {
                throw ExportError.failure("stored media file \(url.path) is damaged (its SHA-256 differs from its name)")
            }
            let file = ExportFile()
            data.withUnsafeBytes { file.append($0) }
            _ = try writer.add(names.path(of: digest), file)
        }
        return digests.count
    }

    /// Named rooms, plus each named space and the archived rooms of its hierarchy; every archived room
    /// when nothing is named. Sorted by id so that exports are reproducible.
    func selectRooms() throws -> (rooms: [String], missing: [String]) {
        var selected: Set<String> = []
        var missing: [String] = []
        if options.roomIDs.isEmpty && options.spaceIDs.isEmpty {
            return (try store.rooms().map(\.roomID).sorted(), [])
        }
        for roomID in options.roomIDs {
            guard try store.room(roomID) != nil else { throw ExportError.usage("room \(roomID) is not in the archive") }
            selected.insert(roomID)
        }
        for spaceID in options.spaceIDs {
            guard try store.room(spaceID) != nil else { throw ExportError.usage("space \(spaceID) is not in the archive") }
            var queue = [spaceID]
            var seen: Set<String> = []
            while let next = queue.popLast() {
                guard seen.insert(next).inserted else { continue }
                guard try store.room(next) != nil else { missing.append(next); continue }
                selected.insert(next)
                queue += try children(of: next)
            }
        }
        return (selected.sorted(), missing.sorted())
    }

    /// A space's children as its `m.space.child` state lists them (a child event without `via` is a
    /// removed child).
    func children(of spaceID: String) throws -> [String] {
        try store.stateEvents(roomID: spaceID, type: "m.space.child").compactMap { event in
            guard let stateKey = event["state_key"]?.stringValue,
                  let via = event.value(at: "content", "via")?.arrayValue, !via.isEmpty else { return nil }
            return stateKey
        }
    }

    /// For each exported space, its exported children.
    func spaceChildren(of rooms: [StoredRoom]) throws -> [String: [String]] {
        let exported = Set(rooms.map(\.roomID))
        var result: [String: [String]] = [:]
        for room in rooms where room.metadata.roomType == "m.space" {
            let children = try children(of: room.roomID).filter { exported.contains($0) && $0 != room.roomID }
            if !children.isEmpty { result[room.roomID] = children.sorted() }
        }
        return result
    }

    /// The manifest's text, the same bytes as `JSONCoding.encode(manifestValue(…))` (keys sorted), with
    /// the file list written entry by entry: as one JSON tree, a site of 30,000 files briefly took 70 MB
    /// more than the whole export before it.
    func manifestFile(rooms: [RoomExportResult], files: [ExportedFile]) -> ExportFile {
        // Sorted keys: "exported_at" < "files" < every other key of the manifest.
        var rest = manifestValue(rooms: rooms).objectValue ?? [:]
        let exportedAt = rest.removeValue(forKey: "exported_at") ?? .null
        let file = ExportFile()
        file.append("{\"exported_at\":" + JSONCoding.encode(exportedAt) + ",\"files\":[")
        for (index, entry) in files.enumerated() {
            let value: JSONValue = ["path": .string(entry.path), "size": .int(entry.size), "sha256": .string(entry.sha256)]
            file.append((index == 0 ? "" : ",") + JSONCoding.encode(value))
        }
        file.append("]," + JSONCoding.encode(.object(rest)).dropFirst() + "\n")
        return file
    }

    /// The manifest but its file list (`manifestFile` writes that).
    func manifestValue(rooms: [RoomExportResult]) -> JSONValue {
        [
            "manifest_version": 1,
            "tool": ["name": "mxarchive", "version": .string(options.toolVersion)],
            "exported_at": .string(UTCTime(millis: options.exportTime * 1000).iso8601),
            "format": .string(options.format.rawValue),
            "options": options.manifestValue,
            "source": ["homeserver": options.homeserver.map(JSONValue.string) ?? .null],
            "rooms": .array(rooms.map(\.manifestValue)),
        ]
    }
}

extension TimelineItem {
    /// The item as exported: under the default policy a redacted event shows only what its room version
    /// keeps, even when the archive retained more (legal hold), unless the export retains it too.
    func applyingExportPolicy(retainRedacted: Bool, roomVersion: RoomVersion) -> TimelineItem {
        guard redacted, !retainRedacted, content.objectValue?.isEmpty == false else { return self }
        var copy = self
        let stripped = Redactor.redact(["type": .string(type), "content": content], roomVersion: roomVersion, because: nil)
        copy.content = stripped["content"] ?? .object([:])
        copy.edited = false
        copy.replacedBy = nil
        copy.reactions = [:]
        return copy
    }
}
