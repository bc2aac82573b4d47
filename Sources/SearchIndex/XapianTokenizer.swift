import ArchiveCore

/// The search index's own tokeniser (Xapian's term generator, CJK n-grams, no stemming), for the views
/// that must find exactly what `mxarchive search` finds for an unstemmed word: the HTML export's static
/// search index is built from these terms.
public struct XapianTokenizer: TextTokenizer {
    public init() {}

    public func terms(of parts: [String]) throws -> [(term: String, positions: [UInt32])] {
        try XapianTerms.terms(of: parts)
    }
}
