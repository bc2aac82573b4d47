/// One downloadable attachment of a message: its file or its thumbnail.
public struct Attachment: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case file
        case thumbnail
    }

    public let role: Role
    /// The `mxc://` URI as the event gives it (not yet checked; see `MXCURI`).
    public let url: String
    /// The `EncryptedFile` object (`url`, `key`, `iv`, `hashes`, `v`) for an attachment in an encrypted
    /// room; nil for a plain one.
    public let encryptedFile: JSONValue?
    /// `info.mimetype` (or `info.thumbnail_info.mimetype`) as the sender declared it: untrusted.
    public let mimetype: String?

    public init(role: Role, url: String, encryptedFile: JSONValue?, mimetype: String?) {
        self.role = role
        self.url = url
        self.encryptedFile = encryptedFile
        self.mimetype = mimetype
    }

    /// The message types whose content carries a file (`m.image`, `m.file`, `m.video`, `m.audio`).
    public static let fileMessageTypes: Set<String> = ["m.image", "m.file", "m.video", "m.audio"]

    /// The attachments of an event, given its effective type and content (decrypted, with the winning
    /// edit applied): stickers and file messages, each with its thumbnail when it has one. A plain `url`
    /// and an encrypted `file` are both accepted for either part.
    public static func attachments(type: String, content: JSONValue) -> [Attachment] {
        let carriesFile = type == "m.sticker"
            || (type == "m.room.message" && content["msgtype"]?.stringValue.map(fileMessageTypes.contains) == true)
        guard carriesFile else { return [] }
        let info = content["info"]
        var result: [Attachment] = []
        if let main = attachment(.file, plain: content["url"], encrypted: content["file"],
                                 mimetype: info?["mimetype"]?.stringValue) {
            result.append(main)
        }
        if let thumbnail = attachment(.thumbnail, plain: info?["thumbnail_url"], encrypted: info?["thumbnail_file"],
                                      mimetype: info?.value(at: "thumbnail_info", "mimetype")?.stringValue) {
            result.append(thumbnail)
        }
        return result
    }

    private static func attachment(_ role: Role, plain: JSONValue?, encrypted: JSONValue?,
                                   mimetype: String?) -> Attachment? {
        // The encrypted form wins: a client that sets both means the encrypted one.
        if let file = encrypted, file.objectValue != nil, let url = file["url"]?.stringValue {
            return Attachment(role: role, url: url, encryptedFile: file, mimetype: mimetype)
        }
        if let url = plain?.stringValue {
            return Attachment(role: role, url: url, encryptedFile: nil, mimetype: mimetype)
        }
        return nil
    }
}
