import ArchiveCore
import Foundation

/// What the exporters read from the archive, and nothing more: rooms, their state, the timeline as
/// items, the few lookups a page needs about other events, and stored media. `ArchiveStore` conforms (in
/// ArchiveService); the exporters never see SQLite, so they build and are tested without it.
public protocol ExportSource {
    /// Runs `body` in one read snapshot: a room's plan and its pages are read inside one, so that a
    /// `sync` writing meanwhile (WAL lets it) cannot put an event on a page the plan never saw.
    func reading<T>(_ body: () throws -> T) throws -> T
    func room(_ roomID: String) throws -> StoredRoom?
    /// Every archived room, ordered by id.
    func rooms() throws -> [StoredRoom]
    /// The raw JSON of a room's current state events of one type, ordered by state key.
    func stateEvents(roomID: String, type: String) throws -> [JSONValue]
    /// A room's normalised timeline in stored order, streamed; `until` exclusive; with `threadRoot`, only
    /// that thread's replies.
    func timeline(roomID: String, since: Int64?, until: Int64?, threadRoot: String?,
                  _ body: (TimelineItem) throws -> Void) throws
    /// The same items as `timeline` (same filter and order) but only each one's id, sender, timestamp
    /// and thread root: enough to plan pages (and where each event is) before rendering.
    func timelineMarks(roomID: String, since: Int64?, until: Int64?,
                       _ body: (_ eventID: String, _ sender: String, _ originServerTS: Int64,
                                _ threadRoot: String?) throws -> Void) throws
    /// An archived event of `roomID`, short; nil when that room has no such event (event ids are unique
    /// only within a room, and a relation holds only inside one).
    func eventSummary(roomID: String, eventID: String) throws -> EventSummary?
    /// An edited message's versions, oldest first: the original, then each valid edit.
    func contentVersions(of eventID: String, validEdits: [String]) throws -> [ContentVersion]
    /// A room's attachment outcomes, keyed by `MediaRef.key(eventID, role)`.
    func mediaRefs(roomID: String) throws -> [String: MediaRef]
    /// The stored files of a room's attachments for an export (`until` exclusive).
    func exportableMedia(roomID: String, since: Int64?, until: Int64?, includeRedacted: Bool) throws -> [ExportableMedia]
    /// Where the stored file with this digest is.
    func mediaFileURL(sha256: String) throws -> URL
}
