/* stp_search: the build's search index (search.db, SQLite FTS5). sitegen writes it through
 * stp_search_writer_*; the module opens it read-only and immutable once per build and asks
 * stp_search_run. One component so that writer and reader cannot drift apart.
 *
 * Per locale, one FTS5 table of (title, summary, note, body): alphabetic languages through the
 * "stp" tokenizer (unicode61 with diacritics removed, after folding ß to ss, dropping Arabic
 * vowel marks and tatweel and folding Arabic alef, alef maqsura and ta marbuta variants; Arabic words then lightly
 * stemmed), CJK locales through trigram (substrings). A `docs` table holds, per
 * document and locale, what a result shows and what it is filtered by (tile, services, regions,
 * industries, access, tenants). The reader keeps that second part in memory and filters every
 * hit, count and facet by what the reader may see (docs/architecture.md, tenant non-disclosure). */
#ifndef STP_SEARCH_H
#define STP_SEARCH_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "stp_access.h"
#include "stp_catalog.h"

/* Bumped when the schema or the tokenizers change; readers refuse other formats and sitegen then
 * rebuilds the index instead of updating it. */
#define STP_SEARCH_FORMAT 5

/* The facets, in the order of the query parameters service, category, region, industry. */
typedef enum {
    STP_FACET_SERVICE,
    STP_FACET_CATEGORY,
    STP_FACET_REGION,
    STP_FACET_INDUSTRY,
    STP_FACET_COUNT
} stp_facet_t;
/* The query parameter of each facet. */
const char *stp_search_facet_param(stp_facet_t f);

/* --- the query language -------------------------------------------------------------------------- */

/* One term of a query: a word (matched as a prefix) or a "quoted phrase" (matched as is). */
typedef struct {
    const char *text;
    int phrase;
} stp_search_term_t;

/* Splits what the user typed into terms. Everything is text: FTS5 syntax (NEAR, AND, *, :, ^,
 * parentheses, column filters) has no effect, and an unbalanced quote runs to the end. At most
 * `max_terms` terms are kept. Returns an array of stp_search_term_t (possibly empty). */
apr_array_header_t *stp_search_parse(const char *text, int max_terms, apr_pool_t *pool);
/* The FTS5 MATCH expression for terms (each as a quoted string, words with a prefix star),
 * ANDed. `trigram`: for a CJK table, where only terms of three characters or more can use the
 * index (shorter ones are matched with LIKE by stp_search_run). NULL when no term can. */
const char *stp_search_match_expr(const apr_array_header_t *terms, int trigram, apr_pool_t *pool);
/* Whether a locale's text is indexed by trigrams (ja, zh, ko) rather than by words. */
int stp_search_locale_trigram(const char *lang);

/* --- writing (sitegen) -------------------------------------------------------------------------- */

typedef struct stp_search_writer_t stp_search_writer_t;

/* What the index holds of one document in one locale. */
typedef struct {
    const char *doc, *lang;
    const char *title, *summary, *note, *body; /* plain text; body and note may be "" */
    const char *tile;
    stp_access_t access;
    int nda;
    stp_day_t published;
    const apr_array_header_t *tenants, *services, *regions, *industries; /* const char *; may be NULL */
    const apr_array_header_t *requires;                                  /* stp_require_t; may be NULL */
    /* When the row may be found: from `live` (the document's embargo, stp_catalog_live) until
     * `until` (when a newer version of its series goes live; 0: no end). */
    apr_time_t live, until;
    const char *fp; /* a fingerprint of all of the above: an unchanged row is left alone */
} stp_search_row_t;

/* Opens `path` for writing. With `from` (the previous build's index) of this format and the same
 * locales, `path` starts as a copy of it and stp_search_writer_put only touches rows whose
 * fingerprint changed; else a new index is made. `locales`: const char *. */
apr_status_t stp_search_writer_open(stp_search_writer_t **w, const char *path, const char *from,
                                    const apr_array_header_t *locales, const char **err, apr_pool_t *pool);
/* Whether the index already holds (row->doc, row->lang) with fingerprint row->fp: then the row is
 * kept as it is (the caller need not extract its text) and counts as put. */
int stp_search_writer_keep(stp_search_writer_t *w, const stp_search_row_t *row);
/* Adds or replaces the row of (row->doc, row->lang), unless its fingerprint is unchanged. */
apr_status_t stp_search_writer_put(stp_search_writer_t *w, const stp_search_row_t *row, const char **err);
/* Removes every row whose document was not put in this run, commits and closes. `rows_written`:
 * how many rows were (re)indexed, for the caller's statistics. */
apr_status_t stp_search_writer_finish(stp_search_writer_t *w, int *rows_written, const char **err);

/* --- reading (module) ---------------------------------------------------------------------------- */

typedef struct stp_search_t stp_search_t;

/* Opens an index read-only and immutable, and loads what filtering needs. Safe to share between
 * threads: each stp_search_run takes a connection of its own. Closed with `pool`. */
apr_status_t stp_search_open(stp_search_t **s, const char *path, const char **err, apr_pool_t *pool);

typedef enum { STP_SEARCH_SORT_RELEVANCE, STP_SEARCH_SORT_DATE } stp_search_sort_t;

typedef struct {
    const char *lang;                                   /* the locale searched */
    const char *text;                                   /* what the user typed ("" or NULL: no text) */
    const apr_array_header_t *filters[STP_FACET_COUNT]; /* const char * ids; NULL or empty: none */
    stp_search_sort_t sort;
    int page, per_page; /* page from 1 */
    const char *tenant; /* the reader's tenant (NULL: none): tenant documents only for its members */
    int any_facet;      /* a row passes when it has a chosen value of any filtered facet (recommendations),
                           rather than of every one */
    /* The reader (NULL: anonymous): documents with requirements only for those who meet them
     * (stp_access_requirements_met); an unlisted member is no member of `tenant`. */
    const stp_user_t *user;
    /* The moment judged (embargoes): rows that are not live then are not found; 0: the clock. */
    apr_time_t now;
} stp_search_query_t;

typedef struct {
    const char *doc, *title, *summary, *tile;
    const char *snippet; /* the matched words between \x01 and \x02; NULL without text */
    stp_access_t access;
    int nda;
    stp_day_t published;
} stp_search_hit_t;

typedef struct {
    const char *id;
    int count;
    int selected;
} stp_search_facet_value_t;

typedef struct {
    int total; /* matches the reader may see */
    int pages;
    apr_array_header_t *hits;                    /* stp_search_hit_t, this page's */
    apr_array_header_t *facets[STP_FACET_COUNT]; /* stp_search_facet_value_t, by id */
} stp_search_result_t;

/* Runs a query. Counts of a facet are over the matches with every other facet's filters applied
 * (so values within one facet widen, facets narrow). Nothing of a document the reader may not see
 * enters any number. */
apr_status_t stp_search_run(stp_search_result_t *res, stp_search_t *s, const stp_search_query_t *query,
                            const char **err, apr_pool_t *pool);

#endif
