import ArchiveCore
@testable import ArchiveStore
import Foundation
import Testing
import TestSupport

/// The store's side: which events' attachments are candidates (effective content), and the records.
@Suite struct MediaStoreTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()

    init() throws {
        directory = uniqueTemporaryDirectory("mxa-media")
        store = try ArchiveStore(directory: directory)
        try store.updateRoom(RoomMetadata(roomID: factory.roomID, roomVersion: RoomVersion("12")), state: [])
    }

    func ingest(_ events: [RawEvent], retain: Bool = false) throws {
        _ = try store.ingest(PageIngest(roomID: factory.roomID, roomVersion: RoomVersion("12"), events: events,
                                        placement: .after, cursors: RoomCursors(backward: .complete, forward: "f"),
                                        retainRedacted: retain))
    }

    @Test mutating func candidatesComeFromTheEffectiveContent() throws {
        let image = factory.event(content: ["msgtype": "m.image", "body": "a", "url": "mxc://hs/original"])
        let edit = factory.event(content: [
            "msgtype": "m.image", "body": "* a", "url": "mxc://hs/fallback",
            "m.new_content": ["msgtype": "m.image", "body": "a", "url": "mxc://hs/edited"],
            "m.relates_to": ["rel_type": "m.replace", "event_id": .string(image.eventID)],
        ])
        let text = factory.message("no file here")
        let encrypted = factory.event(type: "m.room.encrypted", content: ["algorithm": "m.megolm.v1.aes-sha2",
                                                                          "ciphertext": "xx", "session_id": "s"])
        let undecrypted = factory.event(type: "m.room.encrypted", content: ["algorithm": "m.megolm.v1.aes-sha2",
                                                                            "ciphertext": "yy", "session_id": "s"])
        let sticker = factory.event(type: "m.sticker", content: ["body": "s", "url": "mxc://hs/sticker"])
        let redacted = factory.event(content: ["msgtype": "m.file", "body": "f", "url": "mxc://hs/redacted"])
        try ingest([image, edit, text, encrypted, undecrypted, sticker, redacted, factory.redaction(of: redacted.eventID)])
        // What the decryption engineer's code writes once the keys are there.
        try store.db.statement("UPDATE events SET decrypted_json = ?, decryption = 'ok' WHERE event_id = ?").run(
            .text(JSONCoding.encode(["type": "m.room.message",
                                     "content": ["msgtype": "m.video", "body": "v", "file": CipherFixtures.textFile]])),
            .text(encrypted.eventID))

        let candidates = try store.mediaCandidates(roomID: factory.roomID, includeRedacted: false)
        #expect(candidates.map(\.eventID) == [image.eventID, encrypted.eventID, sticker.eventID])
        #expect(candidates.flatMap(\.attachments).map(\.url) == ["mxc://hs/edited", "mxc://example.org/abc", "mxc://hs/sticker"])
    }

    @Test mutating func redactedAttachmentsOnlyUnderLegalHold() throws {
        let file = factory.event(content: ["msgtype": "m.file", "body": "f", "url": "mxc://hs/kept"])
        try ingest([file, factory.redaction(of: file.eventID)], retain: true)
        #expect(try store.mediaCandidates(roomID: factory.roomID, includeRedacted: false).isEmpty)
        #expect(try store.mediaCandidates(roomID: factory.roomID, includeRedacted: true).map(\.eventID) == [file.eventID])
    }

    /// A failure repeated for the same mxc, key and status at least 12 hours later counts up; anything else
    /// starts again at 1, and not_found and forbidden wait longer after each repeat (20 h, 60 h, 180 h,
    /// 540 h, then 30 days).
    @Test mutating func repeatedFailuresCountAndWaitLongerEachTime() throws {
        let file = factory.event(content: ["msgtype": "m.file", "body": "gone", "url": "mxc://hs/gone"])
        try ingest([file])
        let hour: Int64 = 3_600_000
        /// Records an answer; `aged` first moves the last one 13 hours back (a run on another day).
        func record(_ status: MediaStatus, mxc: String = "mxc://hs/gone", aged: Bool = true) throws -> MediaRef {
            if aged { try store.db.execute("UPDATE media_refs SET attempted_at = attempted_at - \(13 * hour)") }
            try store.recordMediaRef(MediaRef(eventID: file.eventID, role: .file, mxc: mxc, keyDigest: "",
                                              status: status, sha256: nil), error: "test")
            return try #require(try store.mediaRefs(roomID: factory.roomID)[MediaRef.key(file.eventID, .file)])
        }
        var ref = try record(.notFound)
        #expect(ref.attempts == 1 && ref.retryAfter == nil)
        // The same answer again within 12 hours (a rerun): not another one in a row, and its time is kept.
        let first = ref.attemptedAt
        ref = try record(.notFound, aged: false)
        #expect(ref.attempts == 1 && ref.attemptedAt == first)
        ref = try record(.notFound)
        #expect(ref.attempts == 2 && ref.retryAfter == ref.attemptedAt + 20 * hour)
        ref = try record(.notFound)
        #expect(ref.attempts == 3 && ref.retryAfter == ref.attemptedAt + 60 * hour)
        ref = try record(.forbidden)
        #expect(ref.attempts == 1 && ref.retryAfter == nil)
        ref = try record(.forbidden)
        #expect(ref.attempts == 2 && ref.retryAfter == ref.attemptedAt + 20 * hour)
        ref = try record(.forbidden, mxc: "mxc://hs/edited")
        #expect(ref.attempts == 1)
        for _ in 0..<20 { ref = try record(.failed) }
        #expect(ref.attempts == 20 && ref.retryAfter == nil)  // a server error is tried by every run
        for (attempts, hours) in [(4, 180), (5, 540), (6, 720), (60, 720), (Int.max, 720)] as [(Int, Int64)] {
            let old = MediaRef(eventID: "$e", role: .file, mxc: "mxc://hs/gone", keyDigest: "", status: .notFound,
                               sha256: nil, attempts: attempts, attemptedAt: 1_000)
            #expect(old.retryAfter == 1_000 + hours * hour)
        }
    }

    @Test mutating func filesAreContentAddressedAndPrivateAndRedactionsDeleteThem() throws {
        let first = factory.event(content: ["msgtype": "m.file", "body": "f", "url": "mxc://hs/one"])
        let second = factory.event(content: ["msgtype": "m.file", "body": "g", "url": "mxc://hs/one"])
        try ingest([first, second])
        // Any lower-case hex digest: the store names files by the digest its caller computed.
        let digest = "d2a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da804a26"
        try store.mediaFiles.write(Data("x".utf8), sha256: digest)
        try store.recordStoredMedia(sha256: digest, size: 1, mimetype: "text/plain", ref: MediaRef(
            eventID: first.eventID, role: .file, mxc: "mxc://hs/one", keyDigest: "", status: .ok, sha256: digest))
        #expect(try store.storedMedia(mxc: "mxc://hs/one", keyDigest: "") == digest)
        #expect(try store.storedMedia(mxc: "mxc://hs/one", keyDigest: "other key") == nil)
        try store.recordMediaRef(MediaRef(eventID: second.eventID, role: .file, mxc: "mxc://hs/one", keyDigest: "",
                                          status: .ok, sha256: digest), error: nil)

        let url = try store.mediaFiles.url(forSHA256: digest)
        #expect(url.path.hasSuffix("/media/d2/a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da804a26"))
        #expect((try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: url.deletingLastPathComponent().path)[.posixPermissions] as? Int) == 0o700)
        #expect(throws: StoreError.self) { try store.mediaFiles.url(forSHA256: "../../etc/passwd") }
        #expect(try store.mediaCounts(roomID: factory.roomID) == [.ok: 2])
        #expect(try store.verify().isEmpty)
        // A file removed behind the archive's back is reported.
        let saved = try Data(contentsOf: try store.mediaFiles.url(forSHA256: digest))
        try store.mediaFiles.remove(sha256: digest)
        #expect(try store.verify() == ["media \(digest): its file under media/ is missing"])
        try store.mediaFiles.write(saved, sha256: digest)

        // A killed write's temporary file is swept; stored files are not.
        let leftover = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).99999.tmp")
        #expect(FileManager.default.createFile(atPath: leftover.path, contents: Data("half".utf8)))
        #expect(store.mediaFiles.removeLeftovers() == 1)
        #expect(!FileManager.default.fileExists(atPath: leftover.path) && FileManager.default.fileExists(atPath: url.path))

        // One of two events redacted: the file stays for the other; both redacted: it goes.
        try ingest([factory.redaction(of: first.eventID)])
        #expect(try store.forgetRedactedMedia(roomID: factory.roomID) == 0)
        #expect(FileManager.default.fileExists(atPath: url.path))
        try ingest([factory.redaction(of: second.eventID)])
        #expect(try store.forgetRedactedMedia(roomID: factory.roomID) == 1)
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(try store.mediaCounts(roomID: factory.roomID).isEmpty)
        #expect(try store.verify().isEmpty)
    }

    /// Media kept under legal hold by one sync stays when a later sync runs without the hold; a file an
    /// edit stopped naming is not swept with a redaction elsewhere.
    @Test mutating func legalHoldAndEditedAwayFilesSurviveTheRedactionSweep() throws {
        let held = factory.event(content: ["msgtype": "m.file", "body": "h", "url": "mxc://hs/held"])
        let edited = factory.event(content: ["msgtype": "m.file", "body": "e", "url": "mxc://hs/old"])
        let gone = factory.event(content: ["msgtype": "m.file", "body": "g", "url": "mxc://hs/gone"])
        try ingest([held, edited, gone])
        var digests: [String: String] = [:]
        for (event, mxc, hexDigit) in [(held, "mxc://hs/held", "a"), (edited, "mxc://hs/old", "b"),
                                       (gone, "mxc://hs/gone", "c")] {
            let digest = String(repeating: hexDigit, count: 64)
            digests[mxc] = digest
            try store.mediaFiles.write(Data(mxc.utf8), sha256: digest)
            try store.recordStoredMedia(sha256: digest, size: mxc.utf8.count, mimetype: nil, ref: MediaRef(
                eventID: event.eventID, role: .file, mxc: mxc, keyDigest: "", status: .ok, sha256: digest))
        }
        // The held event is redacted under legal hold; an edit moves the other event's ref to a new mxc.
        try ingest([factory.redaction(of: held.eventID)], retain: true)
        try store.recordMediaRef(MediaRef(eventID: edited.eventID, role: .file, mxc: "mxc://hs/new", keyDigest: "",
                                          status: .notFound, sha256: nil), error: "gone")
        // A later sync without the hold strips a third event: only its file goes.
        try ingest([factory.redaction(of: gone.eventID)])
        #expect(try store.forgetRedactedMedia(roomID: factory.roomID) == 1)
        #expect(store.mediaFiles.contains(sha256: digests["mxc://hs/held"]!))
        #expect(store.mediaFiles.contains(sha256: digests["mxc://hs/old"]!))
        #expect(!store.mediaFiles.contains(sha256: digests["mxc://hs/gone"]!))
    }
}
