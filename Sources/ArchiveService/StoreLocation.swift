import Foundation

/// Which folder is the archive: `--store DIR`, else `$MXARCHIVE_STORE`, else `$XDG_DATA_HOME/mxarchive`,
/// else `~/.local/share/mxarchive`.
public enum StoreLocation {
    public static func resolve(_ explicit: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let fromEnv = environment["MXARCHIVE_STORE"], !fromEnv.isEmpty { return URL(fileURLWithPath: fromEnv) }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("mxarchive")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/mxarchive")
    }
}
