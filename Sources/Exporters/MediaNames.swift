import Foundation

/// The name each stored media file gets in an export: `media/<sha256>.<ext>`, the extension sniffed from
/// the file's first bytes (`MediaSniffer`), never taken from the event. Pages, the text export's lines and
/// `media/index.json` all ask this one place, so they link exactly the file that is written. Each file is
/// read once (its first bytes only) however many events name it.
final class MediaNames {
    private let source: any ExportSource
    private var kinds: [String: MediaSniffer.Kind] = [:]

    init(source: any ExportSource) { self.source = source }

    func kind(of digest: String) -> MediaSniffer.Kind {
        if let known = kinds[digest] { return known }
        // A missing or unreadable file is `.bin` here; the exporter stops with a clear error when it comes
        // to copy it, so no page ever links a name that is not written.
        let kind = ((try? source.mediaFileURL(sha256: digest)).flatMap(Self.prefix(of:))).map(MediaSniffer.sniff)
            ?? .binary
        kinds[digest] = kind
        return kind
    }

    /// The file's path inside the export.
    func path(of digest: String) -> String { "media/\(digest).\(kind(of: digest).fileExtension)" }

    private static func prefix(of url: URL) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: MediaSniffer.prefixLength)).map { Array($0) } ?? []
    }
}
