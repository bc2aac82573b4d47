import ArchiveCore

/// `mxarchive verify`: the archive's integrity and its search index's agreement with it
/// (schemas/verify.schema.json).
public struct VerifyReport: CommandReport {
    public let problems: [String]
    let notes: [String]
    let rooms: Int
    let indexed: Bool
    /// Decrypted events whose session belongs to another user's device (issue 9.8).
    let senderKeyMismatches: Int

    public var ok: Bool { problems.isEmpty }

    public var jsonValue: JSONValue {
        ["ok": .bool(ok), "problems": .array(problems.map(JSONValue.string)),
         "sender_key_mismatches": .int(Int64(senderKeyMismatches))]
    }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        guard ok else { return problems.map(OutputLine.result) }
        return [.result("archive OK: \(rooms) rooms, integrity and cursors consistent"
                        + (indexed ? "; search index consistent" : ""))]
            + notes.map { .result("note: \($0)") }
    }
}

extension Archive {
    public func verify() throws -> VerifyReport {
        let index = try SearchIndexCheck.check(store: store)
        // A rejected redaction is no fault of the archive but worth knowing: a server sent it.
        let rejected = try store.rejectedRedactionCount()
        let redactionNotes = rejected == 0 ? [] : ["\(rejected) redactions rejected: their senders may not redact their targets"]
        // A message in a session of another user's device is kept and shown, but the archive cannot vouch
        // for who wrote it: a problem, not a note.
        let mismatches = try store.senderKeyCounts().mismatch
        let senderKeyProblems = mismatches == 0 ? [] : [
            "\(mismatches) decrypted events were encrypted in a session of another user's device (sender key mismatch)",
        ]
        return VerifyReport(problems: try store.verify() + index.problems + senderKeyProblems,
                            notes: index.notes + redactionNotes, rooms: try store.rooms().count,
                            indexed: try store.searchIndexState() != nil, senderKeyMismatches: mismatches)
    }
}
