import ArchiveCore
import ArchiveStore
import Crypto
import Foundation
import MatrixAPI
import MatrixCrypto

/// What `sync --media` does for media, and how much of it.
public struct MediaOptions: Sendable, Hashable {
    /// Bodies longer than this are not downloaded (`too_large`).
    public var maxBytes: Int
    /// Legal hold: redacted events whose content was retained keep their media, and files of redacted
    /// events are not deleted.
    public var retainRedacted: Bool

    public static let defaultMaxBytes = 100 * 1024 * 1024

    public init(maxBytes: Int = MediaOptions.defaultMaxBytes, retainRedacted: Bool = false) {
        self.maxBytes = maxBytes
        self.retainRedacted = retainRedacted
    }
}

/// What one room's media pass did.
public struct MediaSyncCounts: Sendable, Hashable {
    /// Files downloaded and stored by this run.
    public var downloaded = 0
    /// Attachments served by a file another event had already brought (same mxc and key).
    public var reused = 0
    /// Attachments settled by an earlier run (stored, or finally refused), not tried again.
    public var skipped = 0
    /// Attachments the server answered `not_found` or `forbidden` for in the runs before, left alone by
    /// this one until their next try is due (`MediaRef.retryAfter`).
    public var deferred = 0
    /// Attachments that failed in this run, by status (never `ok`).
    public var failed: [MediaStatus: Int] = [:]
    /// Bytes downloaded (ciphertext for encrypted files).
    public var bytes: Int64 = 0
    /// Files deleted because every event referring to them was redacted.
    public var removed = 0

    /// Of `failed`, attachments that failed the same way (same mxc, key and status) in a run before that
    /// finished and reported it: a broken link anyone in a room can post fails every night, and is warned
    /// about only the first time.
    public var failedAsBefore: [MediaStatus: Int] = [:]

    public var failedTotal: Int { failed.values.reduce(0, +) }

    public init() {}
}

/// The media pass of a sync, run for a room after its events are stored: downloads each attachment of the
/// room's messages that is not settled yet, checks and decrypts encrypted ones, and stores the plaintext
/// under its SHA-256, once however many events refer to it.
///
/// Retries: `ok`, `hash_mismatch` and `invalid` are final for an (event, role) while its mxc and key stay
/// the same (an edit that changes the file is a new attempt); `not_found` and `forbidden` are tried again
/// less and less often (`MediaRef.retryAfter`); `too_large` and `failed` by the next `sync --media`.
struct MediaFetcher {
    let client: MatrixClient
    let store: ArchiveStore
    let options: MediaOptions
    let progress: (_ done: Int, _ total: Int) -> Void

    func run(roomID: String) async throws -> MediaSyncCounts {
        var counts = MediaSyncCounts()
        // Half-written files of a killed run (the sync lock keeps any other writer out).
        store.mediaFiles.removeLeftovers()
        if !options.retainRedacted { counts.removed = try store.forgetRedactedMedia(roomID: roomID) }
        let refs = try store.mediaRefs(roomID: roomID)
        let reported = try store.reportedMediaFailures(roomID: roomID)
        let candidates = try store.mediaCandidates(roomID: roomID, includeRedacted: options.retainRedacted)
        let total = candidates.reduce(0) { $0 + $1.attachments.count }
        // A last try stamped after now (a clock set back since) is due: it must not stretch the wait.
        let now = store.clock.now().milliseconds
        var done = 0
        for (eventID, attachments) in candidates {
            for attachment in attachments {
                try Task.checkCancellation()
                let keyDigest = Self.keyDigest(attachment.encryptedFile)
                let key = ArchiveStore.mediaKey(eventID, attachment.role)
                // The outcome recorded for this very file (an edit to another mxc or key is a new attempt).
                let known = refs[key].flatMap { $0.mxc == attachment.url && $0.keyDigest == keyDigest ? $0 : nil }
                if let known, known.status.isFinal,
                   known.status != .ok || store.mediaFiles.contains(sha256: known.sha256 ?? "") {
                    counts.skipped += 1
                } else if let known, let due = known.retryAfter, known.attemptedAt <= now, now < due,
                          // Deferred only once a finished run has warned about it (a run killed before its
                          // report must not hide a new failure), and not when a file another event brought
                          // since serves it (`fetch` reuses it at once).
                          reported.contains(key),
                          try store.storedMedia(mxc: attachment.url, keyDigest: keyDigest) == nil {
                    counts.deferred += 1
                } else {
                    try await fetch(attachment, eventID: eventID, keyDigest: keyDigest,
                                    previous: reported.contains(key) ? refs[key] : nil, counts: &counts)
                }
                done += 1
                progress(done, total)
            }
        }
        return counts
    }

    /// `previous`: the attachment's failure as the last finished sync reported it, if it did.
    private func fetch(_ attachment: Attachment, eventID: String, keyDigest: String, previous: MediaRef?,
                       counts: inout MediaSyncCounts) async throws {
        // `local`: this machine failed (a full disk, no permission), which is never old news.
        func record(_ status: MediaStatus, _ error: String, local: Bool = false) throws {
            try store.recordMediaRef(MediaRef(eventID: eventID, role: attachment.role, mxc: attachment.url,
                                              keyDigest: keyDigest, status: status, sha256: nil), error: error)
            counts.failed[status, default: 0] += 1
            if !local, let previous, previous.status == status, previous.mxc == attachment.url,
               previous.keyDigest == keyDigest {
                counts.failedAsBefore[status, default: 0] += 1
            }
        }
        func stored(_ digest: String) -> MediaRef {
            MediaRef(eventID: eventID, role: attachment.role, mxc: attachment.url, keyDigest: keyDigest,
                     status: .ok, sha256: digest)
        }

        guard let uri = MXCURI(attachment.url) else {
            return try record(.invalid, "not a valid mxc:// URI")
        }
        var cipher: AttachmentCipher?
        if let file = attachment.encryptedFile {
            do {
                cipher = try AttachmentCipher(encryptedFile: file)
            } catch {
                return try record(.invalid, error.description)
            }
        }
        // Another event (or an earlier run) already brought this file: refer to it.
        if let digest = try store.storedMedia(mxc: attachment.url, keyDigest: keyDigest),
           store.mediaFiles.contains(sha256: digest) {
            try store.recordMediaRef(stored(digest), error: nil)
            counts.reused += 1
            return
        }

        let body: Data
        let contentType: String?
        do {
            switch try await client.download(uri, maxBytes: options.maxBytes) {
            case .tooLarge:
                return try record(.tooLarge, "larger than \(ByteSize.format(Int64(options.maxBytes)))")
            case .bytes(let data, let type):
                body = data
                contentType = type
            }
        } catch let error as MatrixError where !error.endsRun {
            return try record(Self.status(of: error), error.description)
        }
        counts.bytes += Int64(body.count)

        var plaintext = body
        if let cipher {
            do {
                plaintext = try cipher.decrypt(body)
            } catch .hashMismatch {
                return try record(.hashMismatch, AttachmentCipherError.hashMismatch.description)
            } catch {
                return try record(.invalid, error.description)
            }
        }
        let digest = SHA256.hash(data: plaintext).map { String(format: "%02x", $0) }.joined()
        do {
            try store.mediaFiles.write(plaintext, sha256: digest)
        } catch {
            // A full disk or a permission problem fails this file, recorded and retried next run; it must
            // not stop the events of the rooms after it.
            return try record(.failed, "\(error)", local: true)
        }
        // An encrypted file's server type is opaque (application/octet-stream): the event's is the one.
        let mimetype = attachment.mimetype ?? (cipher == nil ? contentType : nil)
        try store.recordStoredMedia(sha256: digest, size: plaintext.count, mimetype: mimetype, ref: stored(digest))
        counts.downloaded += 1
    }

    /// What a refused download says of the file. Only the media repository's own answers about it are
    /// `not_found` and `forbidden` (which later runs try less often, `MediaRef.retryAfter`): a bare 404 or
    /// 403 (a proxy in front of the server), one about the account (`M_USER_SUSPENDED`) or any other
    /// code is `failed`, tried by every run.
    static func status(of error: MatrixError) -> MediaStatus {
        switch (error.status, error.errcode) {
        case (404, "M_NOT_FOUND"): .notFound
        case (403, "M_FORBIDDEN"): .forbidden
        default: .failed
        }
    }

    /// Tells encrypted variants of one mxc apart without keeping the key a second time: SHA-256 over the
    /// key, iv and ciphertext hash as the event gives them. '' for plain media.
    static func keyDigest(_ file: JSONValue?) -> String {
        guard let file else { return "" }
        let parts = [file.value(at: "key", "k")?.stringValue, file["iv"]?.stringValue,
                     file.value(at: "hashes", "sha256")?.stringValue].map { $0 ?? "" }
        return SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
