import ArchiveCore
import ArchiveService
import ArchiveStore
import Exporters
import MatrixAPI
import MatrixCrypto
import SearchIndex
import Testing

/// Every error of every layer says its exit code, whether the user can fix it, and one line, through
/// `ReportableError`: the CLI's reporter needs no list of types (it once missed two).
@Suite struct ErrorModelTests {
    static let cases: [(error: any Error, exitCode: Int32, userMistake: Bool)] = [
        (ArchiveError.usage("bad flag"), 2, true),
        (ArchiveError.input("wrong file"), 1, true),
        (ArchiveError.failure("it broke"), 1, false),
        (ExportError.usage("bad template"), 2, true),
        (ExportError.failure("disk"), 1, false),
        (StoreError.unknownRoom("!r:x"), 1, true),
        (StoreError.noArchive("/nowhere"), 1, true),
        (StoreError.locked("held"), 1, false),
        (MatrixError(step: "sync", status: 401, errcode: "M_UNKNOWN_TOKEN", serverMessage: nil), 1, true),
        (MatrixError(step: "sync", status: 502, errcode: nil, serverMessage: nil), 1, false),
        (KeyMaterialError.wrongPassphraseOrCorruptFile, 1, true),
        (RecoveryKey.Problem.badParity, 1, true),
        (OlmError.badMessageMAC, 1, false),
        (AttachmentCipherError.hashMismatch, 1, false),
        (TransportFailure("connection reset"), 1, false),
        (Self.malformed, 1, false),
    ]

    static var malformed: MalformedEvent {
        guard case .failure(let problem) = RawEvent.parse(["type": "m.room.message"], roomID: "!r:x") else {
            fatalError("an event without an id parsed")
        }
        return problem
    }

    @Test func everyErrorReportsItselfThroughOneProtocol() {
        for (error, exitCode, userMistake) in Self.cases {
            let reportable = error as? any ReportableError
            #expect(reportable != nil, "\(type(of: error)) is not a ReportableError")
            #expect(ErrorReport.exitCode(for: error) == exitCode, "\(error)")
            #expect(reportable?.isUserMistake == userMistake, "\(error)")
            #expect(ErrorReport.message(for: error) == "\(error)")
            #expect(!(ErrorReport.message(for: error) ?? "\n").contains("\n"), "\(error) is not one line")
        }
    }

    @Test func theQueryParsersAndIndexErrorsAreReportableToo() throws {
        #expect {
            try SearchQueryParser.parse("(unclosed")
        } throws: { error in
            ErrorReport.exitCode(for: error) == 2
        }
    }

    @Test func errorsThatAreNotOursAreLeftToTheCLI() {
        struct Foreign: Error {}
        #expect(ErrorReport.exitCode(for: Foreign()) == nil)
        #expect(ErrorReport.message(for: Foreign()) == nil)
    }
}
