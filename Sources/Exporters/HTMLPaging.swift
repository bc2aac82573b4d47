import ArchiveCore
import Crypto

/// Splits a room's month items into pages of at most `limit` items, in timeline order. The plan (for
/// links) and the renderer (for files) each run one over the same items, so they agree on every page
/// without the renderer depending on the plan's lookup table. Months follow `MonthCursor` (an item stamped
/// before the current month stays in it), so each page is written once.
struct MonthPager {
    let limit: Int
    private var months = MonthCursor()
    private var onPage = 0
    private(set) var number = 0

    init(limit: Int) { self.limit = max(1, limit) }

    /// The month key and page number of the next month item, and whether it starts a new page (and month).
    mutating func place(_ millis: Int64) -> (key: String, number: Int, isNewPage: Bool, isNewMonth: Bool) {
        let (key, isNewMonth) = months.month(for: millis)
        if isNewMonth || number == 0 {
            number = 1
            onPage = 1
            return (key, 1, true, true)
        }
        if onPage >= limit {
            number += 1
            onPage = 1
            return (key, number, true, false)
        }
        onPage += 1
        return (key, number, false, false)
    }
}

/// The file names of paged pages, relative to the room's folder. Page 1 keeps the unpaged name
/// (`2024-01.html`, `threads/<hash>.html`), so links made before paging still open the month.
enum PageNames {
    static func month(_ key: String, page: Int) -> String { page <= 1 ? key + ".html" : "\(key)-p\(page).html" }

    /// Relative to the `threads/` folder.
    static func threadFile(_ root: String, page: Int) -> String {
        let name = ExportPath.component(forID: root)
        return page <= 1 ? name + ".html" : "\(name)-p\(page).html"
    }

    static func thread(_ root: String, page: Int) -> String { "threads/" + threadFile(root, page: page) }

    /// Pages needed for `count` items.
    static func pageCount(_ count: Int, limit: Int) -> Int { max(1, (count + limit - 1) / max(1, limit)) }
}

/// A 64-bit key for an event id in the plan's table of where each event is: 8 bytes instead of the id's
/// 40-odd (a million events stay in tens of MB). From SHA-256, so that ids sent by others do not collide
/// by accident; a crafted collision only misdirects a link, the pages themselves do not use the table.
enum EventKey {
    static func of(_ eventID: String) -> UInt64 {
        let digest = SHA256.hash(data: Array(eventID.utf8))
        var key: UInt64 = 0
        for byte in digest.prefix(8) { key = key << 8 | UInt64(byte) }
        return key
    }
}
