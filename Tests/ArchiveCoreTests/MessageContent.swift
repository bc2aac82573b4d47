import ArchiveCore

/// `m.room.message` content for the reply-fallback tests: a text, its HTML, and whether it is a reply.
enum MessageContent {
    static func make(_ body: String, formatted: String? = nil, reply: Bool = true) -> JSONValue {
        var object: [String: JSONValue] = ["msgtype": "m.text", "body": .string(body)]
        if let formatted {
            object["format"] = "org.matrix.custom.html"
            object["formatted_body"] = .string(formatted)
        }
        if reply { object["m.relates_to"] = ["m.in_reply_to": ["event_id": "$q"]] }
        return .object(object)
    }
}
