/// What a stored media file is, judged only by its first bytes. The sender chooses the event's mimetype,
/// its file name and every byte of the file, so none of those can decide how a published export names
/// it: an HTML page uploaded as "photo.png" with `image/png` must not become `media/<sha>.png`, because
/// web servers type files by extension and browsers sniff untyped ones into pages that run script.
///
/// Only formats a browser shows as media or hands to a viewer (never as a document of the site's
/// origin) get their own extension; everything else (HTML, SVG, XML, scripts, archives, office files,
/// text and anything unknown) is `.bin`. A file that starts with a known signature but carries more
/// (a PNG with HTML after its header) is still typed by its signature: served as `image/png`, with
/// `nosniff`, a browser only ever decodes it as an image.
public enum MediaSniffer {
    public struct Kind: Sendable, Hashable {
        /// The file name extension, without the dot.
        public let fileExtension: String
        /// The type a web server should send for it.
        public let mimeType: String

        public static let binary = Kind(fileExtension: "bin", mimeType: "application/octet-stream")
    }

    /// How many leading bytes `sniff` looks at; a shorter prefix is judged as a (possibly truncated) file.
    public static let prefixLength = 64

    /// The allowlisted extensions, for documentation and for the export's web-server rules.
    public static let allowed: [Kind] = [
        .init(fileExtension: "png", mimeType: "image/png"),
        .init(fileExtension: "jpg", mimeType: "image/jpeg"),
        .init(fileExtension: "gif", mimeType: "image/gif"),
        .init(fileExtension: "webp", mimeType: "image/webp"),
        .init(fileExtension: "avif", mimeType: "image/avif"),
        .init(fileExtension: "mp4", mimeType: "video/mp4"),
        .init(fileExtension: "m4a", mimeType: "audio/mp4"),
        .init(fileExtension: "mov", mimeType: "video/quicktime"),
        .init(fileExtension: "webm", mimeType: "video/webm"),
        .init(fileExtension: "mkv", mimeType: "video/x-matroska"),
        .init(fileExtension: "ogg", mimeType: "audio/ogg"),
        .init(fileExtension: "mp3", mimeType: "audio/mpeg"),
        .init(fileExtension: "flac", mimeType: "audio/flac"),
        .init(fileExtension: "wav", mimeType: "audio/wav"),
        .init(fileExtension: "pdf", mimeType: "application/pdf"),
        Kind.binary,
    ]

    /// Whether an exported path names a file sniffed as a still image (what a page may show in `<img>`).
    public static func isImagePath(_ path: String) -> Bool {
        ["png", "jpg", "gif", "webp", "avif"].contains { path.hasSuffix("." + $0) }
    }

    private static func kind(_ ext: String) -> Kind { allowed.first { $0.fileExtension == ext } ?? .binary }

    public static func sniff(_ prefix: some Collection<UInt8>) -> Kind {
        let b = Array(prefix.prefix(prefixLength))
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + signature.count && Array(b[offset..<offset + signature.count]) == signature
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }

        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return kind("png") }
        // SOI followed by the first marker's 0xFF: three bytes, as two (FF D8) also begin other data.
        if starts([0xFF, 0xD8, 0xFF]) { return kind("jpg") }
        if ascii("GIF87a") || ascii("GIF89a") { return kind("gif") }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return kind("webp") }
        if ascii("RIFF") && ascii("WAVE", at: 8) { return kind("wav") }
        if ascii("ftyp", at: 4) { return isoMedia(brand: b.count >= 12 ? String(decoding: b[8..<12], as: UTF8.self) : "") }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML: the DocType element (42 82) says webm or matroska, within the first bytes.
            return b.count > 8 && containsASCII(b, "webm") ? kind("webm")
                : containsASCII(b, "matroska") ? kind("mkv") : .binary
        }
        if ascii("OggS") { return kind("ogg") }
        if ascii("fLaC") { return kind("flac") }
        if ascii("ID3") && b.count >= 10 { return kind("mp3") }
        // An MPEG-1/2 audio frame header: 11 sync bits, then a layer other than "reserved" (00 is ADTS AAC).
        if b.count >= 4 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0 && b[1] & 0x06 != 0 && b[1] & 0x18 != 0x08 {
            return kind("mp3")
        }
        if ascii("%PDF-") { return kind("pdf") }
        return .binary
    }

    /// ISO base media (`ftyp` box): the major brand decides. HEIF stills, 3GP and unknown brands are `.bin`.
    private static func isoMedia(brand: String) -> Kind {
        switch brand {
        case "avif", "avis": return kind("avif")
        case "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "M4V ", "M4VP", "MSNV":
            return kind("mp4")
        case "M4A ", "M4B ": return kind("m4a")
        case "qt  ": return kind("mov")
        default: return .binary
        }
    }

    private static func containsASCII(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { Array(bytes[$0..<$0 + needle.count]) == needle }
    }
}
