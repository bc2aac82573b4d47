import ArchiveCore
import ArchiveStore
import Foundation
import MatrixAPI

/// An archive opened for one command: the store, and for commands that write, the store's lock. Every
/// command reaches the parts through this, so that which commands may create an archive, and which take
/// the lock, is decided here once.
public final class Archive {
    /// What a command does with the archive.
    public enum Access: Sendable {
        /// Only reads (`status`, `events`, `export`, `verify`): a missing archive is an error.
        case read
        /// Reads many scattered pages (`search`): as `read`, through a memory map.
        case search
        /// Adds to the archive (`sync`, `keys backup`, `keys import`): creates it when missing, takes the lock.
        case update
        /// Changes an existing archive (`reindex`, `keys forget`): takes the lock, never creates one.
        case maintain

        var creates: Bool { self == .update }
        var locks: Bool { self == .update || self == .maintain }
    }

    public let directory: URL
    let store: ArchiveStore
    /// Held for the archive's lifetime; the kernel releases it if the process dies.
    private let lock: StoreLock?

    public init(at directory: URL, access: Access, clock: any ArchiveClock = SystemClock()) throws {
        self.directory = directory
        store = try ArchiveStore(directory: directory, memoryMappedReads: access == .search, create: access.creates,
                                 clock: clock)
        lock = access.locks ? try StoreLock(directory: directory) : nil
        // Under the lock, so two writers never race over the list; a busy store leaves it for the next one.
        if access.locks { try store.resolvePendingEdits() }
    }

    /// The account's client, with the stored (or environment) credentials; refreshed tokens are written
    /// back atomically.
    func client() async throws -> MatrixClient { try await Account(storeDirectory: directory).client() }

    /// A room given by id or alias, as the archive knows it.
    func resolve(_ idOrAlias: String) throws -> String { try store.resolveRoom(idOrAlias) }
}

/// The account whose credentials a store holds (or the environment gives).
public struct Account: Sendable {
    public let storeDirectory: URL

    public init(storeDirectory: URL) { self.storeDirectory = storeDirectory }

    /// A client with the account's user id known: credentials from the environment carry only a token,
    /// so the id is asked of the server (`/account/whoami`) rather than left empty, which made every
    /// per-user request (key backup's account data) fail with a 403 that blamed the room.
    func client() async throws -> MatrixClient {
        let credentialStore = CredentialStore(storeDirectory: storeDirectory)
        let credentials = try credentialStore.load()
        let client = MatrixClient(credentials: credentials, persistCredentials: { updated in
            try credentialStore.save(updated)
        })
        try await client.resolveUserID()
        return client
    }
}
