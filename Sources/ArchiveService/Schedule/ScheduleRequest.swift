import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// What `mxarchive schedule` writes a timer or crontab line for: the nightly `sync` of one store, run by
/// this very binary.
public struct ScheduleRequest: Sendable {
    public var storeDirectory: URL
    /// The binary's resolved path: a unit or crontab runs it without the caller's PATH.
    public var binary: String
    /// The time of day (local time of the host), HH:MM.
    public var at = "03:00"
    /// systemd: start up to this many minutes after `at`, so that many archives do not hit one server at once.
    public var randomizedDelayMinutes = 30
    /// The units' name (NAME.service, NAME.timer).
    public var name = "mxarchive"
    /// systemd: the account the service runs as (User=); nil runs it as the current user when that is not root.
    public var user: String?
    /// Also run the config's export jobs after a successful sync (when the config has any).
    public var thenExport = false
    /// Folders the export jobs write to, beside the store (ReadWritePaths=).
    public var exportFolders: [String] = []

    public init(storeDirectory: URL, binary: String) {
        self.storeDirectory = storeDirectory
        self.binary = binary
    }

    /// This process's executable, symlinks resolved (Linux: /proc/self/exe), else argv[0] made absolute.
    public static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let argument = CommandLine.arguments.first ?? "mxarchive"
        return URL(fileURLWithPath: argument).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// For a schedule made from the store's config: sync, then the export jobs, with each job's fixed
    /// output folder writable.
    public mutating func follow(_ config: ArchiveConfig?) {
        guard let config, !config.exportJobs.isEmpty else { return }
        thenExport = true
        let store = storeDirectory.standardizedFileURL.path
        for job in config.exportJobs {
            // A relative output is the store's (as `ExportJob.requests` joins it); `../x` still leaves it.
            let pattern = job.output.hasPrefix("/") ? job.output : store + "/" + job.output
            let folder = URL(fileURLWithPath: Self.fixedFolder(of: pattern)).standardizedFileURL.path
            // Folders inside the store are writable already.
            if folder != store && !folder.hasPrefix(store + "/") && !exportFolders.contains(folder) {
                exportFolders.append(folder)
            }
        }
    }

    /// ReadWritePaths=: the store, then the export jobs' folders, standardised. systemd fails the whole
    /// unit (226/NAMESPACE) when a listed path does not exist, so one missing now (an export folder the
    /// first export creates, a store the first sync creates) carries `-`, which tells systemd to skip it
    /// while it is missing. `/` would make the whole system writable, undoing ProtectSystem=strict.
    func readWritePaths(fileManager: FileManager = .default) throws -> [String] {
        let paths = [storeDirectory.path] + exportFolders
        var seen: Set<String> = []
        return try paths.compactMap { raw in
            let path = URL(fileURLWithPath: raw).standardizedFileURL.path
            guard path != "/" else {
                throw ArchiveError.usage("'\(raw)' is the root folder: a unit may not make / writable "
                                         + "(give the store and the export jobs' outputs a folder of their own)")
            }
            guard seen.insert(path).inserted else { return nil }
            return fileManager.fileExists(atPath: path) ? path : "-" + path
        }
    }

    /// The part of an output pattern that names no placeholder: `/srv/archive/{room}-{date}.tar.zst` →
    /// `/srv/archive`; `/srv/site-{date}/` → `/srv`.
    static func fixedFolder(of pattern: String) -> String {
        let fixed = pattern.prefix { $0 != "{" }
        let folder = fixed.hasSuffix("/") && fixed.count < pattern.count ? String(fixed)
            : URL(fileURLWithPath: String(fixed)).deletingLastPathComponent().path
        return folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    }

    /// The arguments of the nightly command after the binary.
    var arguments: [String] {
        ["--store", storeDirectory.standardizedFileURL.path, "sync"] + (thenExport ? ["--then-export"] : [])
    }

    /// `at` as (hour, minute), or a usage error.
    func time() throws -> (hour: Int, minute: Int) {
        let parts = at.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute) else {
            throw ArchiveError.usage("--at must be a time of day HH:MM (00:00 to 23:59), got '\(at)'")
        }
        return (hour, minute)
    }

    /// Paths go into a unit file and a crontab line unquoted: refuse any that would need quoting or that
    /// systemd or cron would read specially (`%` is a specifier in units and a newline in crontabs).
    func checkPaths() throws {
        let store = storeDirectory.standardizedFileURL.path
        if store == "/" { throw ArchiveError.usage("the store cannot be the root folder /") }
        for (what, path) in [("the binary's path", binary), ("the store's path", store)]
            + exportFolders.map({ ("an export job's folder", $0) }) {
            guard path.hasPrefix("/") else { throw ArchiveError.usage("\(what) must be absolute, got '\(path)'") }
            let awkward = path.unicodeScalars.contains { scalar in
                scalar.value < 0x21 || scalar.value == 0x7F || "%\"'\\$`;&|<>*?#~!".unicodeScalars.contains(scalar)
            }
            if awkward {
                throw ArchiveError.usage("\(what) '\(path)' holds a space, a quote or a character such as % $ ; that "
                                         + "a unit file or crontab would read specially; use a path without them")
            }
        }
        if let user, user.isEmpty || !user.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
            throw ArchiveError.usage("--user must be a user name, got '\(user)'")
        }
        if !(0...720).contains(randomizedDelayMinutes) {
            throw ArchiveError.usage("--randomized-delay must be between 0 and 720 minutes")
        }
        if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }) {
            throw ArchiveError.usage("--name must use letters, digits, - and _ only, got '\(name)'")
        }
    }

    /// The current user's name, unless root (a root service needs no User=).
    static func currentUserName() -> String? {
        let uid = geteuid()
        guard uid != 0, let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}
