import ArchiveCore
import Foundation
import Testing
import TestSupport

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
