import Foundation
import Testing

/// `--help` is part of the interface people learn the tool from: changes to it are made on purpose.
/// Re-record with `MXARCHIVE_RECORD_GOLDEN=1 swift test --filter HelpGoldenTests`.
@Suite struct HelpGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: ["", "login", "rooms", "sync", "events", "search", "reindex", "status", "verify", "export",
                      "verify-export", "keys", "keys backup", "keys import", "keys forget", "config", "config show",
                      "config check", "schedule"])
    func helpMatchesGolden(_ subcommand: String) throws {
        let process = Process()
        process.executableURL = Archive.binary
        process.arguments = subcommand.split(separator: " ").map(String.init) + ["--help"]
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "100"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let file = Self.golden.appendingPathComponent(
            "help-\(subcommand.isEmpty ? "root" : subcommand.replacingOccurrences(of: " ", with: "-")).txt")
        if ProcessInfo.processInfo.environment["MXARCHIVE_RECORD_GOLDEN"] == "1" {
            try output.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(output == expected, "help of '\(subcommand)' changed; re-record on purpose if intended")
    }
}
