import ArchiveStore
import MatrixAPI

/// Turns `--room`, `--space` and `--all-joined` into room ids.
public struct RoomSelector {
    let client: MatrixClient
    let store: ArchiveStore

    public init(client: MatrixClient, store: ArchiveStore) {
        self.client = client
        self.store = store
    }

    public func select(rooms: [String], spaces: [String], allJoined: Bool) async throws -> [String] {
        var ids: [String] = []
        for room in rooms { ids.append(try await resolve(room)) }
        for space in spaces {
            let spaceID = try await resolve(space)
            ids += try await client.hierarchy(spaceID: spaceID).map(\.roomID)
        }
        if allJoined { ids += try await client.joinedRooms() }
        if rooms.isEmpty, spaces.isEmpty, !allJoined {
            // A bare `mxarchive sync` (the nightly cron line) brings every archived room up to date.
            ids = try store.rooms().map(\.roomID)
            if ids.isEmpty {
                throw ArchiveError.usage("the archive has no rooms yet: name rooms with --room, --space or --all-joined")
            }
            // A room the account left is archived up to the leave; there is nothing more to fetch.
            let left = try store.leftRooms()
            ids.removeAll { left.contains($0) }
        }
        var seen: Set<String> = []
        return ids.filter { seen.insert($0).inserted }
    }

    /// A room id as is; an alias through the server's directory.
    public func resolve(_ idOrAlias: String) async throws -> String {
        if idOrAlias.hasPrefix("!") { return idOrAlias }
        guard idOrAlias.hasPrefix("#") else {
            throw ArchiveError.usage("'\(idOrAlias)' is neither a room id (!…) nor an alias (#…)")
        }
        return try await client.resolveAlias(idOrAlias)
    }
}

extension ArchiveStore {
    /// Resolves a room given by id or alias against the archive only (offline commands).
    public func resolveRoom(_ idOrAlias: String) throws -> String {
        if idOrAlias.hasPrefix("!") {
            guard try room(idOrAlias) != nil else { throw StoreError.unknownRoom(idOrAlias) }
            return idOrAlias
        }
        guard idOrAlias.hasPrefix("#") else {
            throw ArchiveError.usage("'\(idOrAlias)' is neither a room id (!…) nor an alias (#…)")
        }
        guard let roomID = try roomID(forAlias: idOrAlias) else { throw StoreError.unknownRoom(idOrAlias) }
        return roomID
    }

    /// The room and its upgrade chain (oldest first) as far as the archive holds it, through links both
    /// rooms confirm (see `UpgradeLink`).
    public func upgradeChain(of roomID: String) throws -> [String] {
        var chain = [roomID]
        var seen: Set<String> = [roomID]
        var current = try room(roomID)
        while let from = current, let predecessor = from.metadata.predecessor, seen.insert(predecessor).inserted,
              let stored = try room(predecessor),
              UpgradeLink(from: from.roomID, kind: .predecessor).isConfirmed(by: stored.metadata) {
            chain.insert(predecessor, at: 0)
            current = stored
        }
        current = try room(roomID)
        while let from = current, let successor = from.metadata.successor, seen.insert(successor).inserted,
              let stored = try room(successor),
              UpgradeLink(from: from.roomID, kind: .successor).isConfirmed(by: stored.metadata) {
            chain.append(successor)
            current = stored
        }
        return chain
    }
}
