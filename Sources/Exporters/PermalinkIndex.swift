import ArchiveCore

/// The lookup behind a room's permalink page (`event.html#<event id>`): which page each exported event
/// is on, as static script files `events/<n>.js`, each calling `mxaEventShard(n, [[id, page], …])`. An
/// event's shard is the FNV-1a hash of its id's UTF-8 bytes modulo the shard count, which
/// `assets/permalink.js` computes the same way, so opening a permalink loads one small file (about
/// `shardSize` entries) whatever the room's size. Scripts, not JSON fetched: `fetch` of a `file://` URL
/// is refused, a `<script src>` under `script-src 'self'` is not. Entries are arrays, not object keys, so
/// that an id like `__proto__` is data.
///
/// Memory stays flat: entries go to a few binary spill files (`ExportFile`, on disk past a small
/// threshold), grouped by shard, and each group is sorted out into its shard files at the end.
final class PermalinkIndex {
    static let shardSize = 256
    static let groupLimit = 64

    let shardCount: Int
    private let groups: [ExportFile]

    /// `expectedEvents`: the plan's count (the shard count must be fixed before the first entry).
    init(expectedEvents: Int) {
        shardCount = max(1, (expectedEvents + Self.shardSize - 1) / Self.shardSize)
        let groupCount = min(shardCount, Self.groupLimit)
        groups = (0..<groupCount).map { _ in ExportFile(spillThreshold: 256 << 10) }
    }

    /// The shard of an event id: 32-bit FNV-1a over its UTF-8 bytes (what `permalink.js` computes).
    static func shard(of eventID: String, count: Int) -> Int {
        var hash: UInt32 = 0x811C_9DC5
        for byte in eventID.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return Int(hash % UInt32(count))
    }

    /// Records that `eventID` is on `page` (relative to the room's folder).
    func add(eventID: String, page: String) {
        let shard = Self.shard(of: eventID, count: shardCount)
        var record: [UInt8] = []
        for value in [UInt32(shard), UInt32(eventID.utf8.count), UInt32(page.utf8.count)] {
            withUnsafeBytes(of: value.littleEndian) { record.append(contentsOf: $0) }
        }
        record.append(contentsOf: eventID.utf8)
        record.append(contentsOf: page.utf8)
        record.withUnsafeBytes { groups[shard % groups.count].append($0) }
    }

    /// Writes every shard file (empty ones too: a missing file would mean a broken export, not an
    /// unknown id) under `directory/events/`; returns their paths.
    func write(directory: String, writer: ExportWriter) throws -> [String] {
        var texts = [String](repeating: "", count: shardCount)
        var paths: [String] = []
        for (groupIndex, group) in groups.enumerated() {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(group.size))
            try group.forEachChunk { bytes.append(contentsOf: $0) }
            var offset = 0
            func word() -> Int {
                let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                    | UInt32(bytes[offset + 3]) << 24
                offset += 4
                return Int(value)
            }
            while offset + 12 <= bytes.count {
                let shard = word(), idLength = word(), pageLength = word()
                let id = String(decoding: bytes[offset..<offset + idLength], as: UTF8.self)
                let page = String(decoding: bytes[offset + idLength..<offset + idLength + pageLength], as: UTF8.self)
                offset += idLength + pageLength
                texts[shard] += (texts[shard].isEmpty ? "" : ",\n")
                    + JSONCoding.encodeForScript(.array([.string(id), .string(page)]))
            }
            for shard in stride(from: groupIndex, to: shardCount, by: groups.count) {
                let path = directory + "/events/\(shard).js"
                let file = ExportFile()
                file.append("mxaEventShard(\(shard), [\n" + texts[shard] + "\n]);\n")
                texts[shard] = ""
                try writer.add(path, file)
                paths.append(path)
            }
        }
        return paths
    }
}
