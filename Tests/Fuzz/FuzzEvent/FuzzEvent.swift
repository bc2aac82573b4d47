import ArchiveCore

/// libFuzzer target for event normalisation (issue 12.11): any JSON an event may be is parsed into a
/// `RawEvent` or refused as malformed; its relations, edit judgement, redaction and reply-fallback
/// stripping never trap; redaction is idempotent; and what `DisplayText` makes of its strings for a
/// terminal or a TXT export holds no control, bidi override or line break (forged lines, escapes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvent(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let json = try? JSONParser.parse(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    guard case .success(let event) = RawEvent.parse(json, roomID: "!fuzz:example.org") else { return 0 }
    _ = event.relations
    _ = (event.replaceTarget, event.threadRoot, event.inReplyTo)
    let subject = EditSubject(event, isRedacted: false)
    _ = EditResolver.validate(edit: subject, of: subject)
    _ = EditResolver.resolve(original: subject, edits: [subject])
    for version in ["1", "3", "11", "12", "unknown"].map(RoomVersion.init) {
        _ = event.redactionTarget(roomVersion: version)
        let once = Redactor.redact(json, roomVersion: version, because: nil)
        guard Redactor.redact(once, roomVersion: version, because: nil) == once else {
            fatalError("redaction is not idempotent in room version \(version)")
        }
    }
    _ = ReplyFallback.isReply(event.content)
    let texts = [ReplyFallback.body(of: event.content), ReplyFallback.formattedBody(of: event.content),
                 event.content["body"]?.stringValue.map(ReplyFallback.strippingBody),
                 event.content["formatted_body"]?.stringValue.map(ReplyFallback.strippingFormattedBody),
                 event.content["displayname"]?.stringValue, event.sender].compactMap { $0 }
    for text in texts {
        for line in DisplayText.lines(text) {
            guard !line.unicodeScalars.contains(where: { DisplayText.needsEscape($0) && $0 != "\t" }) else {
                fatalError("a line keeps a control character")
            }
        }
        for breaks in [DisplayText.Breaks.escaped, .space] {
            let single = DisplayText.singleLine(text, breaks: breaks)
            guard !single.unicodeScalars.contains(where: { DisplayText.needsEscape($0) || DisplayText.isLineBreak($0) })
            else { fatalError("a single line keeps a control or a line break") }
        }
    }
    return 0
}
