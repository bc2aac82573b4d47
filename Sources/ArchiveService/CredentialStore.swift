import ArchiveStore
import Foundation
import MatrixAPI

/// Where the account's credentials live: `credentials.json` (0600) in the store, or the environment
/// (`MXARCHIVE_HOMESERVER` + `MXARCHIVE_ACCESS_TOKEN`) for setups that manage tokens themselves.
public struct CredentialStore: Sendable {
    public let fileURL: URL

    public init(storeDirectory: URL) {
        fileURL = storeDirectory.appendingPathComponent("credentials.json")
    }

    public func save(_ credentials: Credentials) throws {
        try SecureFiles.createDirectory(fileURL.deletingLastPathComponent())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try SecureFiles.writeAtomically(try encoder.encode(credentials), to: fileURL)
    }

    /// The credentials to use: the environment wins when both variables are set.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Credentials {
        if let homeserver = environment["MXARCHIVE_HOMESERVER"], !homeserver.isEmpty,
           let token = environment["MXARCHIVE_ACCESS_TOKEN"], !token.isEmpty {
            return Credentials(homeserver: homeserver, userID: environment["MXARCHIVE_USER"] ?? "",
                               deviceID: nil, accessToken: token, refreshToken: nil)
        }
        guard let data = FileManager.default.contents(atPath: fileURL.path) else {
            throw ArchiveError.notLoggedIn(store: fileURL.deletingLastPathComponent().path)
        }
        do {
            return try JSONDecoder().decode(Credentials.self, from: data)
        } catch {
            throw ArchiveError.badCredentialsFile(fileURL.path)
        }
    }
}
