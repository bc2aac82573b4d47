import Foundation

/// A path under the temporary folder that no other test uses, so suites running in parallel never share a
/// store. Nothing is created there: the code under test makes its own folders, and their modes are tested.
public func uniqueTemporaryDirectory(_ prefix: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
}
