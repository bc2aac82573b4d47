import ArchiveCore

/// The static search's file layout and number encoding, shared by the writer and read by
/// `exports/html/assets/search.js` (which must agree with every constant here).
///
/// Messages are numbered by rank, 0 the newest (`HTMLSearchIndexWriter`). The rank space is cut into
/// segments of `segmentSize`: a term's postings in one segment live in the fragment file of the term's
/// key (its first two characters, or more where that key was split by size) for that segment, so a query loads the newest segment's fragments of
/// its terms first and older segments only while it needs more results. Message summaries are in chunks
/// of `chunkSize` ranks, loaded only for the results shown.
enum HTMLSearchLayout {
    static let directory = "search"
    static let segmentSize = 65_536
    static let chunkSize = 64
    /// Characters of a message's text in its summary (the whole text is indexed, only this much is shown).
    static let snippetLength = 200
    /// Unicode scalars of a sender's display name kept in a summary.
    static let senderNameLength = 100
    /// Positions kept per (term, message). A hostile "the the the …" message would otherwise put 16k
    /// positions into one posting (and every query's download); past the cap the count is written as
    /// `positionCap + 1` with `positionCap` positions after it, and search.js takes a phrase that may
    /// continue past the kept positions as matching (a candidate, never a lost result).
    static let positionCap = 64
    /// Bytes of one fragment file past which its key is split by the next character
    /// (`HTMLSearchFragmentWriter`): a rare word then fetches at most about this much per segment.
    static let fragmentLimit = 64 << 10
    /// Keys are split no longer than this many scalars, and the split list stops growing at about this
    /// many bytes (`HTMLSearchFragmentWriter`): meta.js stays small whatever a room holds.
    static let maxKeyScalars = 16
    static let splitListBudget = 64 << 10

    /// The fragment key of a term: the UTF-8 bytes of its first two Unicode scalars (all of a shorter
    /// term). Bytes, never `String`: Swift compares strings by canonical equivalence, Xapian by bytes.
    static func prefix(of term: [UInt8]) -> [UInt8] {
        var scalars = 0
        var end = 0
        while end < term.count {
            // A scalar starts at every byte that is not a continuation byte (10xxxxxx).
            if term[end] & 0xC0 != 0x80 {
                if scalars == 2 { break }
                scalars += 1
            }
            end += 1
        }
        return Array(term[0..<end])
    }

    /// `search/f/<segment>-<hex of the prefix's UTF-8>.js`: a name any file system takes, whatever the term.
    static func fragmentPath(segment: Int, prefix: [UInt8]) -> String {
        directory + "/f/" + fragmentName(segment: segment, prefix: prefix) + ".js"
    }

    static func fragmentName(segment: Int, prefix: [UInt8]) -> String {
        "\(segment)-" + prefix.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    static func chunkPath(_ chunk: Int) -> String { directory + "/s/\(chunk).js" }
    static let metaPath = directory + "/meta.js"
}

/// Unsigned numbers as text for a JS string: 5 bits per character, least significant first, the
/// character's 6th bit saying another follows. The alphabet needs no escaping in JSON or in a URL.
enum SearchNumberText {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func append(_ value: UInt64, to output: inout [UInt8]) {
        var rest = value
        while rest >= 32 {
            output.append(alphabet[Int(rest & 31) | 32])
            rest >>= 5
        }
        output.append(alphabet[Int(rest)])
    }
}

/// Variable-length unsigned numbers in bytes, for the writer's temporary runs.
enum VarInt {
    static func append(_ value: UInt64, to output: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            output.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    /// Reads one number at `index` and moves past it.
    static func read(_ bytes: [UInt8], _ index: inout Int) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return value
    }
}
