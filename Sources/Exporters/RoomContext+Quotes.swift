import ArchiveCore

extension RoomContext {
    /// The event a reply quotes or a thread starts from, as this export may show it: only an event of this
    /// room that the export itself holds (a timeline item of the chosen senders and dates), after the
    /// export's redaction policy. Anything else is nil, and the page says it is not in this export: a quote
    /// must not publish what the export leaves out (another room's message, a sender or date not chosen,
    /// content kept only under legal hold).
    func quotedEvent(_ eventID: String) throws -> EventSummary? {
        guard let summary = try source.eventSummary(roomID: roomID, eventID: eventID),
              summary.isTimelineItem, includes(sender: summary.sender) else { return nil }
        if let since = options.since, summary.originServerTS < since { return nil }
        if let until = options.until, summary.originServerTS >= until { return nil }
        return summary.applyingExportPolicy(retainRedacted: options.retainRedacted)
    }
}

extension EventSummary {
    /// The summary as exported: under the default policy a redacted event is quoted with no content at all,
    /// even when the archive retained it (legal hold). A quote shows only the body, which no room version's
    /// redaction keeps, so the room version's rules need not be applied here.
    func applyingExportPolicy(retainRedacted: Bool) -> EventSummary {
        guard redacted, !retainRedacted else { return self }
        return EventSummary(eventID: eventID, roomID: roomID, sender: sender, senderDisplayName: senderDisplayName,
                            originServerTS: originServerTS, content: .object([:]), redacted: true,
                            isTimelineItem: isTimelineItem, threadRoot: threadRoot,
                            senderNameIsAmbiguous: senderNameIsAmbiguous)
    }
}
