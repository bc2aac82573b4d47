#ifndef MXARCHIVE_CXAPIAN_H
#define MXARCHIVE_CXAPIAN_H
/* A C API over Xapian for Swift. Every handle is opaque; every function that can fail catches every C++
 * exception and reports it through `char **error` (a malloc'd message, freed with mxa_x_free), returning
 * NULL or a negative number. Nothing here throws. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mxa_xwriter mxa_xwriter;
typedef struct mxa_xreader mxa_xreader;
typedef struct mxa_xquery mxa_xquery;
typedef struct mxa_xresults mxa_xresults;

void mxa_x_free(void *pointer);

/* Value slots of every document. */
enum { MXA_X_SLOT_TIME = 0, MXA_X_SLOT_ROOM = 1, MXA_X_SLOT_HASH = 2 };

/* One document. `text` holds the text parts separated by 0x1F (no phrase spans two parts); `terms` holds
 * boolean terms, each ending in a NUL byte. */
typedef struct {
    const char *id_term;
    size_t id_term_length;
    const char *text;
    size_t text_length;
    const char *terms;
    size_t terms_length;
    double timestamp;
    const char *room;
    size_t room_length;
    uint64_t hash;
    const char *data;
    size_t data_length;
} mxa_xdoc;

/* The words of `text` as the index's term generator makes them (case-folded, CJK as n-grams) with no
 * stemming: parts separated by 0x1F, as in mxa_xdoc, are 100 positions apart. `each` gets every term
 * once, with its positions in ascending order (none for terms without positions, such as CJK bigrams). */
typedef void (*mxa_xtoken_fn)(void *context, const char *term, size_t length, const uint32_t *positions,
                              size_t count);
int mxa_xtokenize(const char *text, size_t length, void *context, mxa_xtoken_fn each, char **error);

/* Opens (creating when missing) a shard for writing. overwrite != 0 starts it empty. `language` is a
 * Xapian stemmer name ("english", "german", ... or "none"). */
mxa_xwriter *mxa_xwriter_open(const char *path, int overwrite, const char *language, char **error);
/* Closes the shard; pending changes are committed (Xapian's own behaviour), so close after a commit. */
void mxa_xwriter_close(mxa_xwriter *writer);
/* replace != 0: replace the document with the same id term (or add it); 0: add without looking. */
int mxa_xwriter_put(mxa_xwriter *writer, const mxa_xdoc *document, int replace, char **error);
int mxa_xwriter_delete(mxa_xwriter *writer, const char *id_term, size_t length, char **error);
int mxa_xwriter_commit(mxa_xwriter *writer, char **error);
int64_t mxa_xwriter_document_count(mxa_xwriter *writer, char **error);

/* Opens shards together as one database for searching. */
mxa_xreader *mxa_xreader_open(const char *const *paths, size_t count, const char *language, char **error);
void mxa_xreader_close(mxa_xreader *reader);
int64_t mxa_xreader_document_count(mxa_xreader *reader, char **error);
/* Calls `each` for every document with its data and content hash. Returns 0, or -1 with *error. */
int mxa_xreader_each(mxa_xreader *reader, void *context,
                     void (*each)(void *context, const char *data, size_t length, uint64_t hash),
                     char **error);

/* Queries. A free-text fragment goes through Xapian's QueryParser (stemming, phrases, wildcards, CJK
 * n-grams); partial != 0 also matches the last word as a prefix. *empty is set when the fragment holds no
 * searchable word. Every returned query is freed with mxa_xquery_free. */
mxa_xquery *mxa_xquery_text(mxa_xreader *reader, const char *text, int partial, int *empty, char **error);
mxa_xquery *mxa_xquery_term(const char *term, size_t length);
mxa_xquery *mxa_xquery_all(void);
/* timestamp range on MXA_X_SLOT_TIME, inclusive at both ends; has_low/has_high say which end applies. */
mxa_xquery *mxa_xquery_time_range(int has_low, double low, int has_high, double high);
enum { MXA_XOP_AND = 0, MXA_XOP_OR = 1, MXA_XOP_AND_NOT = 2, MXA_XOP_FILTER = 3 };
/* AND/OR over all; AND_NOT and FILTER: the first query, less/filtered by the OR of the others. */
mxa_xquery *mxa_xquery_combine(int op, mxa_xquery *const *queries, size_t count);
char *mxa_xquery_describe(mxa_xquery *query);
void mxa_xquery_free(mxa_xquery *query);

/* Runs a query. sort_by_date != 0: newest first, then relevance. */
mxa_xresults *mxa_xreader_search(mxa_xreader *reader, mxa_xquery *query, uint32_t offset, uint32_t limit,
                                 int sort_by_date, uint32_t check_at_least, char **error);
void mxa_xresults_free(mxa_xresults *results);
size_t mxa_xresults_count(mxa_xresults *results);
uint64_t mxa_xresults_estimate(mxa_xresults *results);
/* Document data (malloc'd, *length set) and weight of result `index`. */
char *mxa_xresults_item(mxa_xresults *results, size_t index, size_t *length, double *weight, char **error);
/* A snippet of `text` around the hits, HTML-escaped by Xapian, hits between hi_start and hi_end. */
char *mxa_xresults_snippet(mxa_xresults *results, const char *text, size_t length, size_t snippet_length,
                           const char *hi_start, const char *hi_end, const char *omit, char **error);

#ifdef __cplusplus
}
#endif
#endif
