@testable import ArchiveService
import ArchiveCore
import MatrixAPI
import Testing

/// Which refused downloads say the file is not there (and are then tried less often): only the media
/// repository's own M_NOT_FOUND and M_FORBIDDEN.
@Suite struct MediaStatusTests {
    func status(_ code: Int, _ errcode: String?) -> MediaStatus {
        MediaFetcher.status(of: MatrixError(step: "download", status: code, errcode: errcode, serverMessage: nil))
    }

    @Test func onlyTheRepositorysOwnAnswersAreNotFoundOrForbidden() {
        #expect(status(404, "M_NOT_FOUND") == .notFound)
        #expect(status(403, "M_FORBIDDEN") == .forbidden)
        #expect(status(404, nil) == .failed)                 // a proxy's page, not the media repository
        #expect(status(403, nil) == .failed)
        #expect(status(403, "M_USER_SUSPENDED") == .failed)  // about the account, not the file
        #expect(status(404, "M_UNRECOGNIZED") == .failed)
        #expect(status(502, "M_UNKNOWN") == .failed)
        #expect(status(504, "M_NOT_YET_UPLOADED") == .failed)
        #expect(MediaRef(eventID: "$e", role: .file, mxc: "mxc://a/b", keyDigest: "", status: .failed, sha256: nil,
                         attempts: 50, attemptedAt: 0).retryAfter == nil)
    }
}
