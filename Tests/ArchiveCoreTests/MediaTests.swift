import ArchiveCore
@testable import ArchiveStore
import Foundation
import MatrixAPI
import MatrixCrypto
import Testing

/// Fixtures made with Python's `cryptography` (AES-256-CTR), not with our own code:
///
///     key = bytes(range(32)); iv = bytes.fromhex("0102030405060708") + bytes(8)
///     ct = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor().update(plaintext)
///     hashes.sha256 = unpadded base64 of sha256(ct); k = unpadded base64url of key
enum CipherFixtures {
    static let textPlain = Data("mxarchive attachment fixture: AES-256-CTR, spanning more than one block of sixteen bytes.\n".utf8)
    static let textCipher = hex("081a1aa3449c3c17ead9b184f5be4edc89c42dc87141137849f0a4e760f14ef7d9321c85bb3ab63fdee4f42e049fa138c8c08178066e0612902cd523d17ea3c04ef02b3d9789ad71c2cee1a56ab8b6793390a819cb0ccbb7d22d")
    static let textFile: JSONValue = [
        "url": "mxc://example.org/abc", "v": "v2", "iv": "AQIDBAUGBwgAAAAAAAAAAA",
        "key": ["kty": "oct", "alg": "A256CTR", "ext": true, "key_ops": ["encrypt", "decrypt"],
                "k": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"],
        "hashes": ["sha256": "ERhNSAskD4Bngz5EAHG9DQrrUaSm5SUuio9O7uiKjO0"],
    ]

    /// key = bytes([0xfb, 0xff, 0xbf] * 10 + [0xfe, 0xef]) (a `k` full of `-` and `_`),
    /// iv = a1b2c3d4e5f60718 + 8 zero bytes, plaintext = bytes(range(256)) * 3, no `v` (v1).
    static let binaryPlain = Data((0..<3).flatMap { _ in (0...255).map(UInt8.init) })
    static let binaryCipherSHA256Hex = "6718f0d840b788fc9e0c18983a3a534065ca22fde757a7f277a6cdacae4a874f"
    static let binaryFile: JSONValue = [
        "url": "mxc://example.org/def", "iv": "obLD1OX2BxgAAAAAAAAAAA",
        "key": ["kty": "oct", "alg": "A256CTR", "k": "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-__u8"],
        "hashes": ["sha256": "Zxjw2EC3iPyeDBiYOjpTQGXKIv3nV6fyd6bNrK5Kh08"],
    ]
    static let binaryCipher = hex("da1dbf9eda71f7087fcf15cda62df4aa425b8d305806d747094e63b1c99c8c9abd25587d86162cff5832e92d4da79ba105392408c324a68a4e9594f09b8e4602cf0a8bfe10871c417d45732b062ebcecc5c98d8bf189898bdc1bc821e0c6e528ca4a6a503e4423bde446b36f100e9c7543beb1cb505bb93762920ff54eb16bbdef407da624d6100f5bfb7c2f1e1512a482831e089767ee2fae3ec344ead1b832d330a3502658e7d196022291af841d5e8c6bfe1f7f4aacfae4c13c2b1fc8ee98e63db2e0d3402c974c3b38fb00a974f201bbc6003c5160240a51e35ba64e58c614a6149ddc0a76c59c281e2c0b4ec6815691044151b9906cfe884326028ca17e755e9fa2a62fc24a771a2e688cc10eab2ff981706323c7e74e7fe80abbf8a709fc664c97ff45b256613bec01ea6849e00ae794c96086738178c5321e2ea3657c1f547b18ace1a32bc089647bd51f92c58b811566ebdcbf825aad986768145a269879026fa06178ae071326d8d8461ffb1dbf05b06ca4cbd8dd3efe30c74f1e7fbfccf4aa2eb50c28ce7e5e5b1995ef9acf87f4ad7f2b93826fea62a3c7e443e57091d901c54eb01f279ea9cbedb4c03a610e085a65f6a8bcd40645e5eb7281aef52ee352f36ab71643c59982b6bf0f87043a2d9fbc4d2e1001c565b06a754d506d1ed530f355a0f6888e7b762a19ead2b61d7c3d6991fcb7714e89e078abbb96e19900bbacef4c920459d28da610a66826801a318c0430284ce0b4f681f4e4596706fce4d1f9af8d2966ffc0b5804b74fb8c47792292d76a4a61d89e938aaf7342bd61ad7232ab776cced812ea386f50d0cfca7ec6b967019958f6201f1dbd3e13111b174430de733bca1e478e13c2f803c6f82b78da3c342edb9a64c285f2cfb283e3ca81dc1d85b31b9adb41f924d5248c5bfc47c78deebdc47e16111253a07934a0bd67b59af3cd8385f56e098a4577e22f947b5ac0a7378e819453111f3d6d02bb7c37609afbfdf472dcbe1f25900cc0b8e97f7fa5629c62a4ad05a5b9a6e912407068e1769a433245920f256ca353abc7c4e5082ca3913b84cad2a4e7bb")

    static func hex(_ text: String) -> Data {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return Data(bytes)
    }
}

@Suite struct AttachmentCipherTests {
    @Test func decryptsPythonsCiphertext() throws {
        let cipher = try AttachmentCipher(encryptedFile: CipherFixtures.textFile)
        #expect(try cipher.decrypt(CipherFixtures.textCipher) == CipherFixtures.textPlain)
    }

    @Test func decryptsAURLSafeKeyWithoutVersion() throws {
        let cipher = try AttachmentCipher(encryptedFile: CipherFixtures.binaryFile)
        #expect(try cipher.decrypt(CipherFixtures.binaryCipher) == CipherFixtures.binaryPlain)
    }

    @Test func aChangedByteIsAHashMismatchBeforeDecrypting() throws {
        let cipher = try AttachmentCipher(encryptedFile: CipherFixtures.textFile)
        var tampered = CipherFixtures.textCipher
        tampered[10] ^= 0x01
        #expect(throws: AttachmentCipherError.hashMismatch) { try cipher.decrypt(tampered) }
        #expect(throws: AttachmentCipherError.hashMismatch) { try cipher.decrypt(CipherFixtures.textCipher.dropLast()) }
    }

    static func replacing(_ path: [String], with value: JSONValue?) -> JSONValue {
        func set(_ json: JSONValue, _ path: ArraySlice<String>) -> JSONValue {
            guard var object = json.objectValue, let key = path.first else { return json }
            if path.count == 1 {
                object[key] = value
            } else {
                object[key] = set(object[key] ?? [:], path.dropFirst())
            }
            return .object(object)
        }
        return set(CipherFixtures.textFile, path[...])
    }

    @Test func refusesKeysAndDescriptionsItCannotUse() throws {
        let bad: [(JSONValue, AttachmentCipherError)] = [
            (Self.replacing(["key", "alg"], with: "A128CTR"), .unsupportedKey("alg must be \"A256CTR\"")),
            (Self.replacing(["key", "kty"], with: "RSA"), .unsupportedKey("kty must be \"oct\"")),
            (Self.replacing(["key", "k"], with: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg"),
             .unsupportedKey("k is not 32 bytes of base64url")),
            (Self.replacing(["key", "k"], with: "not base64 !!"), .unsupportedKey("k is not 32 bytes of base64url")),
            (Self.replacing(["key", "key_ops"], with: ["encrypt"]), .unsupportedKey("key_ops does not allow decrypt")),
            (Self.replacing(["key"], with: nil), .malformed("key")),
            (Self.replacing(["iv"], with: "AQIDBAUGBwgAAAAA"), .badIV),
            (Self.replacing(["iv"], with: nil), .malformed("iv")),
            (Self.replacing(["hashes"], with: [:]), .malformed("hashes.sha256")),
            (Self.replacing(["hashes", "sha256"], with: "ERhNSAskD4Bngz5E"), .malformed("hashes.sha256")),
            (Self.replacing(["v"], with: "v3"), .unsupportedVersion("v3")),
            ("mxc://example.org/abc", .malformed("not an object")),
        ]
        for (file, expected) in bad {
            #expect(throws: expected) { try AttachmentCipher(encryptedFile: file) }
        }
    }

    @Test func errorsNeverQuoteTheKey() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        let errors: [AttachmentCipherError] = [.malformed("key"), .unsupportedVersion("v3"), .badIV, .hashMismatch,
                                               .unsupportedKey("k is not 32 bytes of base64url")]
        for error in errors { #expect(!error.description.contains(key)) }
    }
}

@Suite struct MXCURITests {
    @Test func acceptsWellFormedURIs() throws {
        let uri = try #require(MXCURI("mxc://example.org/AbC-123_x"))
        #expect(uri.serverName == "example.org" && uri.mediaID == "AbC-123_x")
        #expect(MXCURI("mxc://localhost:8448/abc")?.serverName == "localhost:8448")
        #expect(MXCURI("mxc://[::1]:8448/abc")?.serverName == "[::1]:8448")
        #expect(MXCURI("mxc://127.0.0.1/abc") != nil)
    }

    @Test(arguments: [
        "", "mxc://", "mxc://example.org", "mxc://example.org/", "mxc:///abc", "http://example.org/abc",
        "MXC://example.org/abc", "mxc://example.org/a/b", "mxc://example.org/..", "mxc://example.org/../../etc",
        "mxc://example.org/a.b", "mxc://example.org/a%2Fb", "mxc://example.org/a?b", "mxc://example.org/a#b",
        "mxc://example.org/a b", "mxc://example.org/ä", "mxc://exa mple.org/a", "mxc://example..org/a",
        "mxc://.example.org/a", "mxc://example.org:port/a", "mxc://example.org:123456/a", "mxc://ex/ample/a",
        "mxc://user@example.org/a", "mxc://example.org/a\u{0}", "mxc://[::1/a", " mxc://example.org/a",
    ])
    func refusesHostileOrMalformedURIs(_ text: String) {
        #expect(MXCURI(text) == nil, "\(text) was accepted")
    }
}

@Suite struct MediaHelpersTests {
    @Test func byteSizes() {
        #expect(ByteSize.parse("1000") == 1000)
        #expect(ByteSize.parse("512K") == Int64(524_288))
        #expect(ByteSize.parse("20M") == Int64(20_971_520))
        #expect(ByteSize.parse("20mb") == Int64(20_971_520))
        #expect(ByteSize.parse("1G") == 1 << 30)
        #expect(ByteSize.parse("1GiB") == 1 << 30)
        for bad in ["", "M", "1.5M", "-1", "20X", "1 0M", "99999999999999999999T"] {
            #expect(ByteSize.parse(bad) == nil, "\(bad) was accepted")
        }
        #expect(ByteSize.format(1536) == "1.5 KiB")
        #expect(ByteSize.format(12) == "12 bytes")
    }

    @Test func attachmentsOfMessagesAndStickers() {
        let image: JSONValue = ["msgtype": "m.image", "body": "cat.png", "url": "mxc://a/b",
                                "info": ["mimetype": "image/png", "thumbnail_url": "mxc://a/t",
                                         "thumbnail_info": ["mimetype": "image/jpeg"]]]
        let found = Attachment.attachments(type: "m.room.message", content: image)
        #expect(found.map(\.role) == [.file, .thumbnail])
        #expect(found.map(\.url) == ["mxc://a/b", "mxc://a/t"])
        #expect(found.map(\.mimetype) == ["image/png", "image/jpeg"])
        #expect(found.allSatisfy { $0.encryptedFile == nil })

        let encrypted: JSONValue = ["msgtype": "m.file", "body": "x", "file": CipherFixtures.textFile]
        let secret = Attachment.attachments(type: "m.room.message", content: encrypted)
        #expect(secret.count == 1 && secret[0].url == "mxc://example.org/abc" && secret[0].encryptedFile != nil)

        #expect(Attachment.attachments(type: "m.sticker", content: ["body": "s", "url": "mxc://a/s"]).count == 1)
        #expect(Attachment.attachments(type: "m.room.message", content: ["msgtype": "m.text", "body": "mxc://a/b",
                                                                          "url": "mxc://a/b"]).isEmpty)
        #expect(Attachment.attachments(type: "m.room.message", content: ["msgtype": "m.image", "body": "no url"]).isEmpty)
    }
}

@Suite struct MediaDownloadTests {
    let credentials = Credentials(homeserver: "http://hs.test", userID: "@me:hs.test", deviceID: "D",
                                  accessToken: "tok", refreshToken: nil)

    func client(_ transport: ScriptedTransport) -> MatrixClient {
        MatrixClient(credentials: credentials, transport: transport, retryPolicy: RetryPolicy(maxAttempts: 2),
                     sleeper: { _ in })
    }

    @Test func usesTheAuthenticatedEndpointWithTheToken() async throws {
        let transport = ScriptedTransport([.reply(200, "file bytes")])
        let result = try await client(transport).download(MXCURI("mxc://hs.test/abc")!, maxBytes: 100)
        guard case .bytes(let data, _) = result else { Issue.record("expected bytes"); return }
        #expect(data == Data("file bytes".utf8))
        let request = try #require(transport.requests.first)
        #expect(request.url == "http://hs.test/_matrix/client/v1/media/download/hs.test/abc")
        #expect(request.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer tok" })
        #expect(request.maxResponseBytes == 100)
    }

    @Test func fallsBackToTheLegacyEndpointWhenTheServerLacksIt() async throws {
        for unknown in [(404, #"{"errcode":"M_UNRECOGNIZED"}"#), (405, ""), (400, "{}")] {
            let transport = ScriptedTransport([.reply(unknown.0, unknown.1), .reply(200, "old")])
            _ = try await client(transport).download(MXCURI("mxc://other.test:8448/x_y")!, maxBytes: 100)
            #expect(transport.requests.map(\.url) == [
                "http://hs.test/_matrix/client/v1/media/download/other.test%3A8448/x_y",
                "http://hs.test/_matrix/media/v3/download/other.test%3A8448/x_y",
            ])
        }
    }

    @Test func missingMediaIsNotAnUnknownEndpoint() async throws {
        let transport = ScriptedTransport([.reply(404, #"{"errcode":"M_NOT_FOUND","error":"gone"}"#)])
        await #expect(throws: MatrixError.self) {
            try await client(transport).download(MXCURI("mxc://hs.test/abc")!, maxBytes: 100)
        }
        #expect(transport.requests.count == 1)
    }
}

/// The store's side: which events' attachments are candidates (effective content), and the records.
@Suite struct MediaStoreTests {
    let directory: URL
    let store: ArchiveStore
    var factory = EventFactory()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxa-media-\(UUID().uuidString)")
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
