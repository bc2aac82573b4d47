// The only code that touches Xapian's C++ API. Every entry point catches every exception and turns it into
// an error string: a C++ exception must never unwind into Swift.
#include "cxapian.h"

#include <xapian.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct mxa_xwriter {
    Xapian::WritableDatabase db;
    Xapian::TermGenerator generator;
};

struct mxa_xreader {
    Xapian::Database db;
    Xapian::Stem stemmer;
    Xapian::QueryParser parser;
};

struct mxa_xquery {
    Xapian::Query query;
};

struct mxa_xresults {
    Xapian::MSet mset;
    Xapian::Stem stemmer;
};

namespace {

char *copy_string(const std::string &text) {
    char *result = static_cast<char *>(std::malloc(text.size() + 1));
    if (result == nullptr) return nullptr;
    std::memcpy(result, text.data(), text.size());
    result[text.size()] = '\0';
    return result;
}

void set_error(char **error, const std::string &message) {
    if (error != nullptr) *error = copy_string(message);
}

// Runs `body`, converting any exception into an error message. Returns false on failure.
template <typename Body> bool guarded(char **error, Body body) {
    try {
        body();
        return true;
    } catch (const Xapian::Error &e) {
        set_error(error, e.get_description());
    } catch (const std::exception &e) {
        set_error(error, e.what());
    } catch (...) {
        set_error(error, "unknown C++ exception");
    }
    return false;
}

Xapian::Stem make_stemmer(const char *language) {
    std::string name = language == nullptr ? "none" : language;
    return Xapian::Stem(name);
}

void encode_hash(uint64_t hash, char out[8]) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<char>(hash & 0xff);
        hash >>= 8;
    }
}

uint64_t decode_hash(const std::string &bytes) {
    uint64_t hash = 0;
    for (unsigned char byte : bytes) hash = (hash << 8) | byte;
    return hash;
}

const unsigned text_flags = Xapian::TermGenerator::FLAG_CJK_NGRAM;

}  // namespace

extern "C" {

void mxa_x_free(void *pointer) { std::free(pointer); }

mxa_xwriter *mxa_xwriter_open(const char *path, int overwrite, const char *language, char **error) {
    mxa_xwriter *writer = nullptr;
    guarded(error, [&] {
        Xapian::Stem stemmer = make_stemmer(language);
        int action = overwrite ? Xapian::DB_CREATE_OR_OVERWRITE : Xapian::DB_CREATE_OR_OPEN;
        Xapian::WritableDatabase db(path, action);
        writer = new mxa_xwriter{db, Xapian::TermGenerator()};
        writer->generator.set_stemmer(stemmer);
        writer->generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
        writer->generator.set_flags(text_flags);
    });
    return writer;
}

void mxa_xwriter_close(mxa_xwriter *writer) {
    if (writer == nullptr) return;
    try {
        writer->db.close();
    } catch (...) {
    }
    try {
        delete writer;
    } catch (...) {
    }
}

int mxa_xwriter_put(mxa_xwriter *writer, const mxa_xdoc *input, int replace, char **error) {
    return guarded(error, [&] {
        Xapian::Document document;
        writer->generator.set_document(document);
        const char *text = input->text;
        size_t remaining = input->text_length;
        bool first = true;
        while (remaining > 0 || first) {
            const void *separator = std::memchr(text, 0x1f, remaining);
            size_t part = separator ? static_cast<const char *>(separator) - text : remaining;
            if (!first) writer->generator.increase_termpos(100);
            if (part > 0) writer->generator.index_text(std::string(text, part));
            first = false;
            if (!separator) break;
            text += part + 1;
            remaining -= part + 1;
        }
        const char *term = input->terms;
        const char *end = input->terms + input->terms_length;
        while (term < end) {
            size_t length = std::strlen(term);
            if (length > 0) document.add_boolean_term(std::string(term, length));
            term += length + 1;
        }
        std::string id(input->id_term, input->id_term_length);
        document.add_boolean_term(id);
        document.add_value(MXA_X_SLOT_TIME, Xapian::sortable_serialise(input->timestamp));
        document.add_value(MXA_X_SLOT_ROOM, std::string(input->room, input->room_length));
        char hash[8];
        encode_hash(input->hash, hash);
        document.add_value(MXA_X_SLOT_HASH, std::string(hash, 8));
        document.set_data(std::string(input->data, input->data_length));
        if (replace) {
            writer->db.replace_document(id, document);
        } else {
            writer->db.add_document(document);
        }
    }) ? 0 : -1;
}

int mxa_xwriter_delete(mxa_xwriter *writer, const char *id_term, size_t length, char **error) {
    return guarded(error, [&] { writer->db.delete_document(std::string(id_term, length)); }) ? 0 : -1;
}

int mxa_xwriter_commit(mxa_xwriter *writer, char **error) {
    return guarded(error, [&] { writer->db.commit(); }) ? 0 : -1;
}

int64_t mxa_xwriter_document_count(mxa_xwriter *writer, char **error) {
    int64_t count = -1;
    guarded(error, [&] { count = writer->db.get_doccount(); });
    return count;
}

mxa_xreader *mxa_xreader_open(const char *const *paths, size_t count, const char *language, char **error) {
    mxa_xreader *reader = nullptr;
    guarded(error, [&] {
        Xapian::Database db;
        for (size_t i = 0; i < count; ++i) db.add_database(Xapian::Database(paths[i]));
        Xapian::Stem stemmer = make_stemmer(language);
        reader = new mxa_xreader{db, stemmer, Xapian::QueryParser()};
        reader->parser.set_database(db);
        reader->parser.set_stemmer(stemmer);
        reader->parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        reader->parser.set_default_op(Xapian::Query::OP_AND);
        // A prefix like "a*" must not expand into thousands of terms: the most frequent 64 serve people.
        reader->parser.set_max_expansion(64, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                                         Xapian::QueryParser::FLAG_WILDCARD | Xapian::QueryParser::FLAG_PARTIAL);
    });
    return reader;
}

void mxa_xreader_close(mxa_xreader *reader) {
    try {
        delete reader;
    } catch (...) {
    }
}

int64_t mxa_xreader_document_count(mxa_xreader *reader, char **error) {
    int64_t count = -1;
    guarded(error, [&] { count = reader->db.get_doccount(); });
    return count;
}

int mxa_xreader_each(mxa_xreader *reader, void *context,
                     void (*each)(void *context, const char *data, size_t length, uint64_t hash), char **error) {
    return guarded(error, [&] {
        for (Xapian::PostingIterator it = reader->db.postlist_begin(""); it != reader->db.postlist_end(""); ++it) {
            Xapian::Document document = reader->db.get_document(*it);
            std::string data = document.get_data();
            each(context, data.data(), data.size(), decode_hash(document.get_value(MXA_X_SLOT_HASH)));
        }
    }) ? 0 : -1;
}

mxa_xquery *mxa_xquery_text(mxa_xreader *reader, const char *text, int partial, int *empty, char **error) {
    mxa_xquery *result = nullptr;
    guarded(error, [&] {
        unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_WILDCARD |
                         Xapian::QueryParser::FLAG_CJK_NGRAM;
        // The last word also matches as a prefix — unless it is a whole word of the index already: then
        // stemming finds its other forms, and expanding a frequent word into every longer one only costs.
        if (partial) {
            std::string lowered = Xapian::Unicode::tolower(std::string(text));
            if (!reader->db.term_exists(lowered)) flags |= Xapian::QueryParser::FLAG_PARTIAL;
        }
        Xapian::Query query = reader->parser.parse_query(text, flags);
        if (empty != nullptr) *empty = query.empty() ? 1 : 0;
        result = new mxa_xquery{query};
    });
    return result;
}

mxa_xquery *mxa_xquery_term(const char *term, size_t length) {
    try {
        return new mxa_xquery{Xapian::Query(std::string(term, length))};
    } catch (...) {
        return nullptr;
    }
}

mxa_xquery *mxa_xquery_all(void) {
    try {
        return new mxa_xquery{Xapian::Query::MatchAll};
    } catch (...) {
        return nullptr;
    }
}

mxa_xquery *mxa_xquery_time_range(int has_low, double low, int has_high, double high) {
    try {
        if (has_low && has_high) {
            return new mxa_xquery{Xapian::Query(Xapian::Query::OP_VALUE_RANGE, MXA_X_SLOT_TIME,
                                                Xapian::sortable_serialise(low), Xapian::sortable_serialise(high))};
        }
        if (has_low) {
            return new mxa_xquery{
                Xapian::Query(Xapian::Query::OP_VALUE_GE, MXA_X_SLOT_TIME, Xapian::sortable_serialise(low))};
        }
        if (has_high) {
            return new mxa_xquery{
                Xapian::Query(Xapian::Query::OP_VALUE_LE, MXA_X_SLOT_TIME, Xapian::sortable_serialise(high))};
        }
        return new mxa_xquery{Xapian::Query::MatchAll};
    } catch (...) {
        return nullptr;
    }
}

mxa_xquery *mxa_xquery_combine(int op, mxa_xquery *const *queries, size_t count) {
    try {
        std::vector<Xapian::Query> parts;
        for (size_t i = 0; i < count; ++i) parts.push_back(queries[i]->query);
        switch (op) {
        case MXA_XOP_AND:
            return new mxa_xquery{Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end())};
        case MXA_XOP_OR:
            return new mxa_xquery{Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end())};
        case MXA_XOP_AND_NOT:
        case MXA_XOP_FILTER: {
            if (parts.empty()) return new mxa_xquery{Xapian::Query()};
            Xapian::Query rest(Xapian::Query::OP_OR, parts.begin() + 1, parts.end());
            Xapian::Query::op xop = op == MXA_XOP_AND_NOT ? Xapian::Query::OP_AND_NOT : Xapian::Query::OP_FILTER;
            if (parts.size() == 1) return new mxa_xquery{parts[0]};
            return new mxa_xquery{Xapian::Query(xop, parts[0], rest)};
        }
        default:
            return nullptr;
        }
    } catch (...) {
        return nullptr;
    }
}

char *mxa_xquery_describe(mxa_xquery *query) {
    try {
        return copy_string(query->query.get_description());
    } catch (...) {
        return nullptr;
    }
}

void mxa_xquery_free(mxa_xquery *query) {
    try {
        delete query;
    } catch (...) {
    }
}

mxa_xresults *mxa_xreader_search(mxa_xreader *reader, mxa_xquery *query, uint32_t offset, uint32_t limit,
                                 int sort_by_date, uint32_t check_at_least, char **error) {
    mxa_xresults *results = nullptr;
    guarded(error, [&] {
        Xapian::Enquire enquire(reader->db);
        enquire.set_query(query->query);
        if (sort_by_date) enquire.set_sort_by_value_then_relevance(MXA_X_SLOT_TIME, true);
        Xapian::MSet mset = enquire.get_mset(offset, limit, check_at_least);
        results = new mxa_xresults{mset, reader->stemmer};
    });
    return results;
}

void mxa_xresults_free(mxa_xresults *results) {
    try {
        delete results;
    } catch (...) {
    }
}

int mxa_xtokenize(const char *text, size_t length, void *context, mxa_xtoken_fn each, char **error) {
    return guarded(error, [&] {
        // The writer's generator with its flags but no stemmer: the static search finds words as written.
        Xapian::Document document;
        Xapian::TermGenerator generator;
        generator.set_flags(text_flags);
        generator.set_document(document);
        size_t start = 0;
        for (size_t index = 0; index <= length; ++index) {
            if (index < length && text[index] != 0x1f) continue;
            if (start > 0) generator.increase_termpos(100);
            if (index > start) generator.index_text(std::string(text + start, index - start));
            start = index + 1;
        }
        std::vector<uint32_t> positions;
        for (Xapian::TermIterator term = document.termlist_begin(); term != document.termlist_end(); ++term) {
            positions.clear();
            for (Xapian::PositionIterator p = term.positionlist_begin(); p != term.positionlist_end(); ++p) {
                positions.push_back(*p);
            }
            std::string name = *term;
            each(context, name.data(), name.size(), positions.data(), positions.size());
        }
    }) ? 0 : -1;
}

size_t mxa_xresults_count(mxa_xresults *results) { return results->mset.size(); }

uint64_t mxa_xresults_estimate(mxa_xresults *results) { return results->mset.get_matches_estimated(); }

char *mxa_xresults_item(mxa_xresults *results, size_t index, size_t *length, double *weight, char **error) {
    char *data = nullptr;
    guarded(error, [&] {
        Xapian::MSetIterator it = results->mset[static_cast<Xapian::doccount>(index)];
        std::string text = it.get_document().get_data();
        if (weight != nullptr) *weight = it.get_weight();
        if (length != nullptr) *length = text.size();
        data = copy_string(text);
    });
    return data;
}

char *mxa_xresults_snippet(mxa_xresults *results, const char *text, size_t length, size_t snippet_length,
                           const char *hi_start, const char *hi_end, const char *omit, char **error) {
    char *snippet = nullptr;
    guarded(error, [&] {
        // No background model: it looks up the frequency of every word of the text in the index, which
        // costs more than the search itself; chat messages are short enough that the hits decide.
        unsigned flags = Xapian::MSet::SNIPPET_EXHAUSTIVE | Xapian::MSet::SNIPPET_CJK_NGRAM;
        snippet = copy_string(results->mset.snippet(std::string(text, length), snippet_length, results->stemmer,
                                                    flags, hi_start, hi_end, omit));
    });
    return snippet;
}

}  // extern "C"
