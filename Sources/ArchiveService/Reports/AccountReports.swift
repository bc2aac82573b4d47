import ArchiveCore
import ArchiveStore
import Foundation
import MatrixAPI

/// `mxarchive rooms`: the account's joined rooms and how much of each is archived
/// (schemas/rooms.schema.json).
public struct RoomsReport: CommandReport {
    struct Room {
        let roomID: String
        let metadata: RoomMetadata
        let archived: Int
    }

    let rooms: [Room]

    public var jsonValue: JSONValue {
        .array(rooms.map { room in
            [
                "room_id": .string(room.roomID),
                "name": room.metadata.name.map(JSONValue.string) ?? .null,
                "canonical_alias": room.metadata.canonicalAlias.map(JSONValue.string) ?? .null,
                "encrypted": .bool(room.metadata.encrypted),
                "events_archived": .int(Int64(room.archived)),
            ]
        })
    }

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        rooms.map { room in
            let label = DisplayText.singleLine([room.metadata.name, room.metadata.canonicalAlias].compactMap { $0 }
                .joined(separator: " "))
            return .result("\(room.roomID)  \(label.isEmpty ? "(no name)" : label)"
                           + "\(room.metadata.encrypted ? "  [encrypted]" : "")  \(room.archived) events archived")
        }
    }
}

/// `mxarchive login`: who logged in, and where the session was kept.
public struct LoginReport: HumanReport {
    let credentials: Credentials
    let storeDirectory: URL

    public func humanOutput(terminal: Bool) -> [OutputLine] {
        [.result("logged in as \(credentials.userID) (device \(credentials.deviceID ?? "?")); "
                 + "credentials saved in \(storeDirectory.path)")]
    }
}

extension Account {
    /// Lists the joined rooms with their archived counts. Reads the archive when there is one; never
    /// creates one (the credentials may come from the environment).
    public func rooms() async throws -> RoomsReport {
        let client = try await client()
        let hasArchive = FileManager.default.fileExists(
            atPath: storeDirectory.appendingPathComponent(ArchiveStore.databaseFileName).path)
        let store = hasArchive ? try ArchiveStore(directory: storeDirectory, create: false) : nil
        var rooms: [RoomsReport.Room] = []
        for roomID in try await client.joinedRooms().sorted() {
            let state = (try? await client.state(roomID: roomID)) ?? []
            let metadata = RoomMetadata(roomID: roomID,
                                        state: state.compactMap { try? RawEvent.parse($0, roomID: roomID).get() })
            rooms.append(RoomsReport.Room(roomID: roomID, metadata: metadata,
                                          archived: try store?.eventCount(roomID: roomID) ?? 0))
        }
        return RoomsReport(rooms: rooms)
    }

    /// Logs in with the password in `passwordFile` and keeps the session (0600) in the store.
    public func login(homeserver: String, user: String, passwordFile: String) async throws -> LoginReport {
        // `https://user:password@host` would keep a password in credentials.json's homeserver, in shell
        // history and in every URL built from it; refused before anything is read or sent.
        if ConfigReader.hasUserinfo(homeserver) {
            throw ArchiveError.usage("--homeserver must not hold a user name or password (…@host); "
                                     + "give the user with --user and the password with --password-file")
        }
        let password = try SecretFile.read(passwordFile, what: "password")
        let credentials = try await MatrixClient.login(homeserver: homeserver, user: user, password: password,
                                                       deviceName: "mxarchive")
        try CredentialStore(storeDirectory: storeDirectory).save(credentials)
        return LoginReport(credentials: credentials, storeDirectory: storeDirectory)
    }
}
