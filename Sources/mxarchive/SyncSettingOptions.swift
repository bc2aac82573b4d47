import ArchiveService
import ArgumentParser

/// The sync settings that config.toml can also give, shared by `sync` and `config show` (which shows what
/// a sync with the same flags would use). Each is optional here: not given, the config decides.
struct SyncSettingOptions: ParsableArguments {
    @Option(name: .customLong("room"), help: ArgumentHelp("A room id (!…) or alias (#…); repeatable.", valueName: "id-or-alias"))
    var rooms: [String] = []

    @Option(name: .customLong("space"), help: ArgumentHelp("A space: archive every room in its hierarchy; repeatable.", valueName: "id"))
    var spaces: [String] = []

    @Flag(help: "Archive every room the account has joined.")
    var allJoined = false

    @Flag(inversion: .prefixedNo, help: "Legal hold: keep the content of redacted events, marked as redacted.")
    var retainRedacted: Bool?

    @Option(help: ArgumentHelp("Events per /messages request (1–1000; default 1000).", valueName: "n"))
    var pageSize: Int?

    @Option(help: ArgumentHelp("Rooms fetched at once (1–16; default 4).", valueName: "n"))
    var jobs: Int?

    @Flag(inversion: .prefixedNo, help: "Also download the rooms' attachments and thumbnails (decrypting encrypted ones).")
    var media: Bool?

    @Option(help: ArgumentHelp("With --media: skip files larger than this (e.g. 500K, 20M, 1G; default 100M).",
                               valueName: "size"))
    var maxMediaSize: String?

    var flags: SyncFlags {
        var flags = SyncFlags()
        flags.rooms = rooms
        flags.spaces = spaces
        flags.allJoined = allJoined
        flags.retainRedacted = retainRedacted
        flags.media = media
        flags.maxMediaSize = maxMediaSize
        flags.pageSize = pageSize
        flags.jobs = jobs
        return flags
    }
}
