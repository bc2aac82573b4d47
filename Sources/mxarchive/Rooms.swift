import ArchiveService
import ArgumentParser

struct Rooms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the rooms the account has joined, with how much of each is archived.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print a JSON array of {room_id, name, canonical_alias, encrypted, events_archived}.")
    var json = false

    func run() async throws {
        Console.print(try await global.account.rooms(), json: json)
    }
}
