#include "stp_search.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_reslist.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <sqlite3.h>

/* BM25 weights of (title, summary, note, body): a title match weighs most. */
#define RANK_EXPR "bm25(%s, 10.0, 4.0, 2.0, 1.0)"
#define SNIPPET_TOKENS 16

static const char *const facet_params[STP_FACET_COUNT] = {"service", "category", "region", "industry"};

const char *stp_search_facet_param(stp_facet_t f)
{
    return f < STP_FACET_COUNT ? facet_params[f] : NULL;
}

int stp_search_locale_trigram(const char *lang)
{
    return !strncmp(lang, "ja", 2) || !strncmp(lang, "zh", 2) || !strncmp(lang, "ko", 2);
}

/* The FTS table of a locale: locale ids are [a-z]{2,3}(-[A-Za-z0-9]+)* (the content schema). */
static const char *fts_table(const char *lang, apr_pool_t *pool)
{
    char *t = apr_pstrcat(pool, "fts_", lang, NULL);
    for (char *c = t; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            *c = '_';
    return t;
}

/* --- the "stp" tokenizer: unicode61 over folded text ------------------------------------------------ */

/* What folding does to one character at s (of len bytes): 0 keep, 1 drop, 2 replace by the two
 * bytes put in rep ("ss" for ß and ẞ; Arabic letters by the letter readers type for them). */
static int fold_action(const unsigned char *s, int len, int *clen, char rep[2])
{
    unsigned c = s[0];
    *clen = 1;
    if (c < 0x80)
        return 0;
    if ((c & 0xE0) == 0xC0 && len >= 2) {
        *clen = 2;
        unsigned cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        if (cp == 0xDF) { /* ß */
            rep[0] = rep[1] = 's';
            return 2;
        }
        /* Arabic harakat, superscript alef, tatweel, Quranic marks: readers type without them. */
        if ((cp >= 0x64B && cp <= 0x65F) || cp == 0x670 || cp == 0x640 || (cp >= 0x6D6 && cp <= 0x6ED))
            return 1;
        /* Alef with hamza or madda as bare alef, alef maqsura as ya, ta marbuta as ha: how
         * Arabic is commonly typed, and what Arabic search engines fold. */
        unsigned to = (cp == 0x622 || cp == 0x623 || cp == 0x625) ? 0x627
                      : cp == 0x649                               ? 0x64A
                      : cp == 0x629                               ? 0x647
                                                                  : 0;
        if (to) {
            rep[0] = (char)(0xC0 | (to >> 6));
            rep[1] = (char)(0x80 | (to & 0x3F));
            return 2;
        }
        return 0;
    }
    if ((c & 0xF0) == 0xE0 && len >= 3) {
        *clen = 3;
        unsigned cp = ((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F);
        if (cp == 0x1E9E) { /* capital ẞ */
            rep[0] = rep[1] = 's';
            return 2;
        }
        return 0;
    }
    if ((c & 0xF8) == 0xF0 && len >= 4)
        *clen = 4;
    return 0;
}

typedef struct {
    fts5_tokenizer base;
    Fts5Tokenizer *inner;
} stp_tok_t;

typedef struct {
    void *ctx;
    int (*token)(void *, int, const char *, int, int, int);
    const int *map; /* folded offset -> original offset */
} tok_call_t;

static int tok_create(void *ud, const char **argv, int argc, Fts5Tokenizer **out)
{
    fts5_api *api = ud;
    void *inner_ud = NULL;
    fts5_tokenizer base;
    if (api->xFindTokenizer(api, "unicode61", &inner_ud, &base) != SQLITE_OK)
        return SQLITE_ERROR;
    stp_tok_t *t = sqlite3_malloc(sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    t->base = base;
    const char *args[] = {"remove_diacritics", "2"};
    (void)argv;
    (void)argc;
    int rc = base.xCreate(inner_ud, args, 2, &t->inner);
    if (rc != SQLITE_OK) {
        sqlite3_free(t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *p)
{
    stp_tok_t *t = (stp_tok_t *)p;
    t->base.xDelete(t->inner);
    sqlite3_free(t);
}

/* Arabic light stemming (Larkey's light10, on text already folded: ة is ه, ى is ي, أ إ آ are ا):
 * the conjunction و, the article and its attached prepositions, and common suffixes go, so that
 * "للمؤسسات" and "المؤسسات" are one word, as Arabic search engines treat them. Only tokens made
 * entirely of Arabic letters (two bytes each in UTF-8); `out` has room for n bytes. */
static int arabic_stem(char *out, const char *token, int n)
{
    if (n < 6 || n % 2)
        return 0;
    for (int i = 0; i < n; i += 2) {
        unsigned char b = (unsigned char)token[i];
        if (b < 0xD8 || b > 0xD9)
            return 0;
    }
    static const char *const prefixes[] = {"\xD9\x88\xD8\xA7\xD9\x84", "\xD8\xA8\xD8\xA7\xD9\x84",
                                           "\xD9\x83\xD8\xA7\xD9\x84", "\xD9\x81\xD8\xA7\xD9\x84",
                                           "\xD8\xA7\xD9\x84",         "\xD9\x84\xD9\x84"}; /* وال بال كال فال ال لل */
    static const char *const suffixes[] = {"\xD9\x87\xD8\xA7", "\xD8\xA7\xD9\x86", "\xD8\xA7\xD8\xAA",
                                           "\xD9\x88\xD9\x86", "\xD9\x8A\xD9\x86", "\xD9\x8A\xD9\x87",
                                           "\xD9\x87",         "\xD9\x8A"}; /* ها ان ات ون ين يه ه ي */
    const char *w = token;
    int len = n;
    if (len >= 8 && !memcmp(w, "\xD9\x88", 2)) { /* و, leaving three letters or more */
        w += 2;
        len -= 2;
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        int pl = (int)strlen(prefixes[i]);
        if (len - pl >= 4 && !memcmp(w, prefixes[i], (size_t)pl)) {
            w += pl;
            len -= pl;
            break;
        }
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        int sl = (int)strlen(suffixes[i]);
        if (len - sl >= 4 && !memcmp(w + len - sl, suffixes[i], (size_t)sl))
            len -= sl;
    }
    if (len == n)
        return 0;
    memcpy(out, w, (size_t)len);
    return len;
}

static int tok_forward(void *data, int flags, const char *token, int n, int start, int end)
{
    tok_call_t *c = data;
    char stem[256];
    int sl = n <= (int)sizeof stem ? arabic_stem(stem, token, n) : 0;
    return c->token(c->ctx, flags, sl ? stem : token, sl ? sl : n, c->map[start], c->map[end]);
}

static int tok_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int len,
                        int (*token)(void *, int, const char *, int, int, int))
{
    stp_tok_t *t = (stp_tok_t *)p;
    const unsigned char *s = (const unsigned char *)text;
    char *out = sqlite3_malloc(len + 1);
    int *map = sqlite3_malloc((int)sizeof(int) * (len + 1));
    int n = 0;
    if (!out || !map) {
        sqlite3_free(out);
        sqlite3_free(map);
        return SQLITE_NOMEM;
    }
    /* Folding never lengthens: every replacement is two bytes, for a character of two or three. */
    for (int i = 0; i < len;) {
        int cl;
        char rep[2];
        int act = fold_action(s + i, len - i, &cl, rep);
        if (act == 0) {
            for (int k = 0; k < cl && i + k < len; k++) {
                map[n] = i + k;
                out[n++] = (char)s[i + k];
            }
        } else if (act == 2) {
            map[n] = i;
            out[n++] = rep[0];
            map[n] = i;
            out[n++] = rep[1];
        }
        i += cl;
    }
    map[n] = len;
    out[n] = '\0';
    tok_call_t call = {ctx, token, map};
    int rc = t->base.xTokenize(t->inner, &call, flags, out, n, tok_forward);
    sqlite3_free(out);
    sqlite3_free(map);
    return rc;
}

/* Makes the "stp" tokenizer known to a connection (sitegen's and every reader's). */
static int register_tokenizer(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api)
        return SQLITE_ERROR;
    fts5_tokenizer tok = {tok_create, tok_delete, tok_tokenize};
    return api->xCreateTokenizer(api, "stp", api, &tok, NULL);
}

/* --- the query language ------------------------------------------------------------------------- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether a term holds anything a tokenizer keeps: a letter or digit, or any non-ASCII character
 * (the tokenizer decides about those; a term it reduces to nothing is dropped at match time). */
static int has_word(const char *s, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return 1;
    }
    return 0;
}

apr_array_header_t *stp_search_parse(const char *text, int max_terms, apr_pool_t *pool)
{
    apr_array_header_t *terms = apr_array_make(pool, 4, sizeof(stp_search_term_t));
    const char *s = text ? text : "";
    while (*s && terms->nelts < max_terms) {
        while (is_space((unsigned char)*s))
            s++;
        if (!*s)
            break;
        int phrase = *s == '"';
        const char *start = phrase ? s + 1 : s, *end = start;
        if (phrase)
            while (*end && *end != '"')
                end++;
        else
            while (*end && !is_space((unsigned char)*end) && *end != '"')
                end++;
        if (has_word(start, (apr_size_t)(end - start))) {
            stp_search_term_t *t = apr_array_push(terms);
            t->text = apr_pstrmemdup(pool, start, (apr_size_t)(end - start));
            t->phrase = phrase;
        }
        s = (phrase && *end == '"') ? end + 1 : end;
    }
    return terms;
}

static apr_size_t utf8_chars(const char *s)
{
    apr_size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* A term as an FTS5 string: inside double quotes everything is text; a quote is doubled. */
static const char *fts_string(const char *text, apr_pool_t *pool)
{
    apr_size_t n = strlen(text), q = 0;
    for (apr_size_t i = 0; i < n; i++)
        q += text[i] == '"';
    char *out = apr_palloc(pool, n + q + 3), *o = out;
    *o++ = '"';
    for (apr_size_t i = 0; i < n; i++) {
        if (text[i] == '"')
            *o++ = '"';
        *o++ = text[i];
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *stp_search_match_expr(const apr_array_header_t *terms, int trigram, apr_pool_t *pool)
{
    const char *expr = NULL;
    for (int i = 0; i < terms->nelts; i++) {
        const stp_search_term_t *t = &APR_ARRAY_IDX(terms, i, stp_search_term_t);
        if (trigram && utf8_chars(t->text) < 3)
            continue;
        const char *one = apr_pstrcat(pool, fts_string(t->text, pool), (t->phrase || trigram) ? "" : "*", NULL);
        expr = expr ? apr_pstrcat(pool, expr, " AND ", one, NULL) : one;
    }
    return expr;
}

/* A LIKE pattern that finds `text` anywhere, with the wildcards in it escaped by '\'. */
static const char *like_pattern(const char *text, apr_pool_t *pool)
{
    apr_size_t n = strlen(text);
    char *out = apr_palloc(pool, 2 * n + 3), *o = out;
    *o++ = '%';
    for (apr_size_t i = 0; i < n; i++) {
        if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
            *o++ = '\\';
        *o++ = text[i];
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* --- writing ------------------------------------------------------------------------------------ */

struct stp_search_writer_t {
    sqlite3 *db;
    apr_pool_t *pool;
    int incremental;
    int written;
    apr_hash_t *locales; /* lang -> its FTS table */
    apr_hash_t *seen;    /* "doc\0lang" of every row put */
    sqlite3_stmt *find, *ins_doc, *upd_doc, *del_fts;
};

static const char *db_error(sqlite3 *db, const char *what, apr_pool_t *pool)
{
    return apr_pstrcat(pool, what, ": ", db ? sqlite3_errmsg(db) : "out of memory", NULL);
}

static apr_status_t writer_cleanup(void *data)
{
    stp_search_writer_t *w = data;
    sqlite3_finalize(w->find);
    sqlite3_finalize(w->ins_doc);
    sqlite3_finalize(w->upd_doc);
    sqlite3_finalize(w->del_fts);
    sqlite3_close(w->db);
    w->db = NULL;
    return APR_SUCCESS;
}

/* "file:" URI of a path, so that ?immutable=1 can follow: everything but unreserved characters
 * and '/' is percent-encoded. */
static const char *file_uri(const char *path, apr_pool_t *pool)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = strlen(path);
    char *out = apr_palloc(pool, 3 * n + 6), *o = out;
    memcpy(o, "file:", 5);
    o += 5;
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("/-._~", c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Opens an index read-only and immutable (no locks, no journal: a build never changes). */
static int open_immutable(sqlite3 **db, const char *path, apr_pool_t *pool)
{
    const char *uri = apr_pstrcat(pool, file_uri(path, pool), "?immutable=1", NULL);
    int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = register_tokenizer(*db);
    return rc;
}

static const char *meta_get(sqlite3 *db, const char *key, apr_pool_t *pool)
{
    sqlite3_stmt *st;
    const char *v = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = apr_pstrdup(pool, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static const char *join_locales(const apr_array_header_t *locales, apr_pool_t *pool)
{
    const char *s = "";
    for (int i = 0; i < locales->nelts; i++)
        s = apr_pstrcat(pool, s, i ? "," : "", APR_ARRAY_IDX(locales, i, const char *), NULL);
    return s;
}

/* Whether the previous index can be updated in place: the same format and locales. */
static int reusable(const char *from, const char *locales, apr_pool_t *pool)
{
    sqlite3 *db = NULL;
    apr_finfo_t fi;
    int ok = 0;
    if (!from || apr_stat(&fi, from, APR_FINFO_TYPE, pool) != APR_SUCCESS || fi.filetype != APR_REG)
        return 0;
    if (open_immutable(&db, from, pool) == SQLITE_OK) {
        const char *fmt = meta_get(db, "format", pool), *locs = meta_get(db, "locales", pool);
        ok = fmt && atoi(fmt) == STP_SEARCH_FORMAT && locs && !strcmp(locs, locales);
    }
    sqlite3_close(db);
    return ok;
}

/* A document's requirements in the index: "r\tROLE\t\n" or "c\tCLAIM\tVALUE\n" each (sitegen
 * refuses control characters in names and values). */
static const char *requires_text(const apr_array_header_t *requires, apr_pool_t *pool)
{
    const char *s = "";
    for (int i = 0; requires && i < requires->nelts; i++) {
        const stp_require_t *q = &APR_ARRAY_IDX(requires, i, stp_require_t);
        s = apr_pstrcat(pool, s, q->kind == STP_REQUIRE_ROLE ? "r\t" : "c\t", q->name, "\t", q->value, "\n", NULL);
    }
    return s;
}

/* The reverse, into `pool`; NULL for none. A line it cannot read is a requirement nobody meets. */
static apr_array_header_t *requires_parse(const char *text, apr_pool_t *pool)
{
    if (!text || !*text)
        return NULL;
    apr_array_header_t *a = apr_array_make(pool, 1, sizeof(stp_require_t));
    char *copy = apr_pstrdup(pool, text), *last;
    for (char *line = apr_strtok(copy, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        stp_require_t *q = &APR_ARRAY_PUSH(a, stp_require_t);
        char *name = strchr(line, '\t'), *value = name ? strchr(name + 1, '\t') : NULL;
        if (!name || !value) {
            *q = (stp_require_t){STP_REQUIRE_ROLE, "", ""};
            continue;
        }
        *name++ = '\0';
        *value++ = '\0';
        *q = (stp_require_t){line[0] == 'r' ? STP_REQUIRE_ROLE : STP_REQUIRE_CLAIM, name, value};
    }
    return a;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int create_schema(stp_search_writer_t *w, const apr_array_header_t *locales, const char *joined)
{
    int rc = exec(w->db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT NOT NULL, lang TEXT NOT NULL,"
                         " title TEXT NOT NULL, summary TEXT NOT NULL, tile TEXT NOT NULL, access INTEGER NOT NULL,"
                         " nda INTEGER NOT NULL, published INTEGER NOT NULL, tenants TEXT NOT NULL,"
                         " services TEXT NOT NULL, regions TEXT NOT NULL, industries TEXT NOT NULL,"
                         " fp TEXT NOT NULL, requires TEXT NOT NULL, live INTEGER NOT NULL,"
                         " until INTEGER NOT NULL, UNIQUE(doc, lang))");
    for (int i = 0; rc == SQLITE_OK && i < locales->nelts; i++) {
        const char *lang = APR_ARRAY_IDX(locales, i, const char *);
        rc = exec(w->db,
                  apr_psprintf(w->pool, "CREATE VIRTUAL TABLE %s USING fts5(title, summary, note, body, tokenize='%s')",
                               fts_table(lang, w->pool), stp_search_locale_trigram(lang) ? "trigram" : "stp"));
    }
    if (rc == SQLITE_OK)
        rc = exec(w->db, apr_psprintf(w->pool, "INSERT INTO meta VALUES('format', '%d'), ('locales', %s)",
                                      STP_SEARCH_FORMAT, sqlite3_mprintf("%Q", joined)));
    return rc;
}

apr_status_t stp_search_writer_open(stp_search_writer_t **wp, const char *path, const char *from,
                                    const apr_array_header_t *locales, const char **err, apr_pool_t *pool)
{
    stp_search_writer_t *w = apr_pcalloc(pool, sizeof *w);
    const char *joined = join_locales(locales, pool);
    w->pool = pool;
    w->seen = apr_hash_make(pool);
    w->locales = apr_hash_make(pool);
    for (int i = 0; i < locales->nelts; i++) {
        const char *lang = APR_ARRAY_IDX(locales, i, const char *);
        apr_hash_set(w->locales, lang, APR_HASH_KEY_STRING, fts_table(lang, pool));
    }
    w->incremental = reusable(from, joined, pool);
    if (w->incremental &&
        apr_file_copy(from, path, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD, pool) !=
            APR_SUCCESS) {
        *err = apr_pstrcat(pool, "cannot copy ", from, " to ", path, NULL);
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pool, w, writer_cleanup, apr_pool_cleanup_null);
    int rc = sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = register_tokenizer(w->db);
    /* Written once into a staging directory that sitegen syncs as a whole: no journal needed. */
    if (rc == SQLITE_OK)
        rc = exec(w->db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN");
    if (rc == SQLITE_OK && !w->incremental)
        rc = create_schema(w, locales, joined);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(w->db, "SELECT id, fp FROM docs WHERE doc = ?1 AND lang = ?2", -1, &w->find, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            w->db,
            "INSERT OR REPLACE INTO docs(id, doc, lang, title, summary, tile, access, nda, published,"
            " tenants, services, regions, industries, fp, requires, live, until)"
            " VALUES(?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?16, ?17)",
            -1, &w->ins_doc, NULL);
    if (rc != SQLITE_OK) {
        *err = db_error(w->db, path, pool);
        return APR_EGENERAL;
    }
    *wp = w;
    return APR_SUCCESS;
}

/* A list of ids as stored: " a b c " (so that a whole id is found with its spaces), "" for none. */
static const char *id_list(const apr_array_header_t *ids, apr_pool_t *pool)
{
    if (!ids || !ids->nelts)
        return "";
    const char *s = " ";
    for (int i = 0; i < ids->nelts; i++)
        s = apr_pstrcat(pool, s, APR_ARRAY_IDX(ids, i, const char *), " ", NULL);
    return s;
}

/* Marks (doc, lang) as put in this run; returns its row id (0: none yet), and in *same whether its
 * fingerprint is `fp`. */
static sqlite3_int64 writer_find(stp_search_writer_t *w, const stp_search_row_t *row, int *same)
{
    char *key = apr_pstrcat(w->pool, row->doc, "/", row->lang, NULL);
    apr_hash_set(w->seen, key, APR_HASH_KEY_STRING, key);
    sqlite3_int64 id = 0;
    *same = 0;
    sqlite3_bind_text(w->find, 1, row->doc, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->find, 2, row->lang, -1, SQLITE_STATIC);
    if (sqlite3_step(w->find) == SQLITE_ROW) {
        id = sqlite3_column_int64(w->find, 0);
        *same = row->fp && !strcmp((const char *)sqlite3_column_text(w->find, 1), row->fp);
    }
    sqlite3_reset(w->find);
    return id;
}

int stp_search_writer_keep(stp_search_writer_t *w, const stp_search_row_t *row)
{
    int same;
    writer_find(w, row, &same);
    return same;
}

apr_status_t stp_search_writer_put(stp_search_writer_t *w, const stp_search_row_t *row, const char **err)
{
    const char *table = apr_hash_get(w->locales, row->lang, APR_HASH_KEY_STRING);
    apr_pool_t *p;
    int same, rc;
    if (!table) {
        *err = apr_pstrcat(w->pool, "search index: unknown locale ", row->lang, NULL);
        return APR_EINVAL;
    }
    sqlite3_int64 id = writer_find(w, row, &same);
    if (same)
        return APR_SUCCESS;
    apr_pool_create(&p, w->pool);
    rc = id ? exec(w->db, apr_psprintf(p, "DELETE FROM %s WHERE rowid = %" APR_INT64_T_FMT, table, (apr_int64_t)id))
            : SQLITE_OK;
    sqlite3_stmt *st = w->ins_doc;
    const char *vals[] = {row->doc,
                          row->lang,
                          row->title ? row->title : "",
                          row->summary ? row->summary : "",
                          row->tile ? row->tile : "",
                          NULL,
                          NULL,
                          NULL,
                          id_list(row->tenants, p),
                          id_list(row->services, p),
                          id_list(row->regions, p),
                          id_list(row->industries, p),
                          row->fp ? row->fp : ""};
    for (int i = 0; i < 13; i++)
        if (vals[i])
            sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, (int)row->access);
    sqlite3_bind_int(st, 7, row->nda);
    sqlite3_bind_int(st, 8, (int)row->published);
    sqlite3_bind_text(st, 15, requires_text(row->requires, p), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 16, (sqlite3_int64)row->live);
    sqlite3_bind_int64(st, 17, (sqlite3_int64)row->until);
    if (id)
        sqlite3_bind_int64(st, 14, id);
    else
        sqlite3_bind_null(st, 14);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *fts;
        id = id ? id : sqlite3_last_insert_rowid(w->db);
        rc = sqlite3_prepare_v2(
            w->db,
            apr_psprintf(p, "INSERT INTO %s(rowid, title, summary, note, body) VALUES(?1, ?2, ?3, ?4, ?5)", table), -1,
            &fts, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(fts, 1, id);
            sqlite3_bind_text(fts, 2, row->title ? row->title : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(fts, 3, row->summary ? row->summary : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(fts, 4, row->note ? row->note : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(fts, 5, row->body ? row->body : "", -1, SQLITE_STATIC);
            rc = sqlite3_step(fts) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_finalize(fts);
        }
    }
    apr_pool_destroy(p);
    if (rc != SQLITE_OK) {
        *err = db_error(w->db, apr_pstrcat(w->pool, "search index: ", row->doc, NULL), w->pool);
        return APR_EGENERAL;
    }
    w->written++;
    return APR_SUCCESS;
}

apr_status_t stp_search_writer_finish(stp_search_writer_t *w, int *rows_written, const char **err)
{
    sqlite3_stmt *st;
    apr_array_header_t *gone = apr_array_make(w->pool, 4, sizeof(const char *));
    int rc = sqlite3_prepare_v2(w->db, "SELECT id, doc, lang FROM docs", -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *doc = (const char *)sqlite3_column_text(st, 1), *lang = (const char *)sqlite3_column_text(st, 2);
        if (!apr_hash_get(w->seen, apr_pstrcat(w->pool, doc, "/", lang, NULL), APR_HASH_KEY_STRING)) {
            const char *table = apr_hash_get(w->locales, lang, APR_HASH_KEY_STRING);
            APR_ARRAY_PUSH(gone, const char *) = apr_psprintf(
                w->pool,
                "DELETE FROM %s WHERE rowid = %" APR_INT64_T_FMT "; DELETE FROM docs WHERE id = %" APR_INT64_T_FMT,
                table ? table : "docs", (apr_int64_t)sqlite3_column_int64(st, 0),
                (apr_int64_t)sqlite3_column_int64(st, 0));
        }
    }
    sqlite3_finalize(st);
    for (int i = 0; rc == SQLITE_OK && i < gone->nelts; i++)
        rc = exec(w->db, APR_ARRAY_IDX(gone, i, const char *));
    /* A new index is merged into one segment per table: fewer lookups per query. An update adds
     * small segments that FTS5's automerge folds in. */
    for (apr_hash_index_t *hi = apr_hash_first(w->pool, w->locales); rc == SQLITE_OK && hi && !w->incremental;
         hi = apr_hash_next(hi)) {
        const char *table = apr_hash_this_val(hi);
        rc = exec(w->db, apr_psprintf(w->pool, "INSERT INTO %s(%s) VALUES('optimize')", table, table));
    }
    if (rc == SQLITE_OK)
        rc = exec(w->db, "COMMIT");
    if (rc != SQLITE_OK) {
        *err = db_error(w->db, "search index", w->pool);
        return APR_EGENERAL;
    }
    if (rows_written)
        *rows_written = w->written;
    apr_pool_cleanup_run(w->pool, w, writer_cleanup);
    return APR_SUCCESS;
}

/* --- reading ------------------------------------------------------------------------------------ */

/* What filtering needs of one row, kept in memory. */
typedef struct {
    sqlite3_int64 id;
    const char *doc;
    stp_day_t published;
    const char *tenants;                /* " a b " or NULL */
    const apr_array_header_t *requires; /* stp_require_t; NULL: none */
    apr_time_t live, until;             /* found from live until `until` (0: no end) */
    int *tags[STP_FACET_COUNT];
    int ntags[STP_FACET_COUNT];
} srow_t;

typedef struct {
    const char *lang, *table;
    int trigram;
    srow_t *rows; /* by id */
    int n;
} sloc_t;

/* The rows one text matches in one locale, best first, for every reader alike (access and filters
 * are applied afterwards), with the snippets worked out so far. A build never changes, so neither
 * does an entry; the least recently used go when the cache outgrows CACHE_BYTES. */
typedef struct entry_t {
    char *key;
    int n;
    int *idx;             /* into the locale's rows */
    double *rank;         /* bm25, lower is better */
    apr_hash_t *snippets; /* row id -> snippet */
    apr_size_t bytes;
    apr_pool_t *pool; /* unmanaged: freed on its own when evicted */
    struct entry_t *prev, *next;
} entry_t;

#define CACHE_BYTES (16u << 20)

struct stp_search_t {
    const char *path;
    apr_hash_t *locales;                        /* lang -> sloc_t */
    apr_hash_t *vocab[STP_FACET_COUNT];         /* id -> int index + 1 */
    apr_array_header_t *names[STP_FACET_COUNT]; /* index -> id */
    apr_reslist_t *conns;
    apr_pool_t *pool;
    apr_thread_mutex_t *lock; /* the cache */
    apr_hash_t *cache;        /* key -> entry_t */
    entry_t *newest, *oldest;
    apr_size_t cached;
};

static apr_status_t cache_cleanup(void *data);

static int vocab_index(stp_search_t *s, stp_facet_t f, const char *id)
{
    intptr_t v = (intptr_t)apr_hash_get(s->vocab[f], id, APR_HASH_KEY_STRING);
    if (v)
        return (int)v - 1;
    const char *copy = apr_pstrdup(s->pool, id);
    APR_ARRAY_PUSH(s->names[f], const char *) = copy;
    apr_hash_set(s->vocab[f], copy, APR_HASH_KEY_STRING, (void *)(intptr_t)s->names[f]->nelts);
    return s->names[f]->nelts - 1;
}

/* " a b " -> vocabulary indexes. */
static void load_tags(stp_search_t *s, srow_t *r, stp_facet_t f, const char *list)
{
    int cap = 0;
    for (const char *c = list; *c; c++)
        cap += *c == ' ';
    r->tags[f] = apr_palloc(s->pool, sizeof(int) * (apr_size_t)(cap + 1));
    r->ntags[f] = 0;
    char *copy = apr_pstrdup(s->pool, list), *state;
    for (char *t = apr_strtok(copy, " ", &state); t; t = apr_strtok(NULL, " ", &state))
        r->tags[f][r->ntags[f]++] = vocab_index(s, f, t);
}

static apr_status_t conn_make(void **res, void *params, apr_pool_t *pool)
{
    stp_search_t *s = params;
    sqlite3 *db = NULL;
    if (open_immutable(&db, s->path, pool) != SQLITE_OK) {
        sqlite3_close(db);
        return APR_EGENERAL;
    }
    *res = db;
    return APR_SUCCESS;
}

static apr_status_t conn_close(void *res, void *params, apr_pool_t *pool)
{
    (void)params;
    (void)pool;
    sqlite3_close(res);
    return APR_SUCCESS;
}

static apr_status_t load_rows(stp_search_t *s, sqlite3 *db, const char **err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, doc, lang, published, tenants, services, tile, regions, industries, requires,"
                           " live, until FROM docs"
                           " ORDER BY lang, id",
                           -1, &st, NULL) != SQLITE_OK) {
        *err = db_error(db, s->path, s->pool);
        return APR_EGENERAL;
    }
    sloc_t *loc = NULL;
    int cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *lang = (const char *)sqlite3_column_text(st, 2);
        if (!loc || strcmp(loc->lang, lang)) {
            loc = apr_hash_get(s->locales, lang, APR_HASH_KEY_STRING);
            if (!loc)
                continue; /* a locale the index does not declare: nothing to search it with */
            cap = 0;
        }
        if (loc->n == cap) {
            cap = cap ? 2 * cap : 64;
            srow_t *rows = apr_palloc(s->pool, sizeof(srow_t) * (apr_size_t)cap);
            if (loc->n)
                memcpy(rows, loc->rows, sizeof(srow_t) * (apr_size_t)loc->n);
            loc->rows = rows;
        }
        srow_t *r = &loc->rows[loc->n++];
        r->id = sqlite3_column_int64(st, 0);
        r->doc = apr_pstrdup(s->pool, (const char *)sqlite3_column_text(st, 1));
        r->published = (stp_day_t)sqlite3_column_int(st, 3);
        const char *tenants = (const char *)sqlite3_column_text(st, 4);
        r->tenants = *tenants ? apr_pstrdup(s->pool, tenants) : NULL;
        r->requires = requires_parse((const char *)sqlite3_column_text(st, 5 + STP_FACET_COUNT), s->pool);
        r->live = (apr_time_t)sqlite3_column_int64(st, 6 + STP_FACET_COUNT);
        r->until = (apr_time_t)sqlite3_column_int64(st, 7 + STP_FACET_COUNT);
        for (int f = 0; f < STP_FACET_COUNT; f++) {
            const char *v = (const char *)sqlite3_column_text(st, 5 + f);
            load_tags(s, r, (stp_facet_t)f, f == STP_FACET_CATEGORY ? apr_pstrcat(s->pool, " ", v, " ", NULL) : v);
        }
    }
    sqlite3_finalize(st);
    return APR_SUCCESS;
}

apr_status_t stp_search_open(stp_search_t **sp, const char *path, const char **err, apr_pool_t *pool)
{
    stp_search_t *s = apr_pcalloc(pool, sizeof *s);
    sqlite3 *db = NULL;
    s->path = apr_pstrdup(pool, path);
    s->pool = pool;
    s->locales = apr_hash_make(pool);
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        s->vocab[f] = apr_hash_make(pool);
        s->names[f] = apr_array_make(pool, 16, sizeof(const char *));
    }
    if (open_immutable(&db, path, pool) != SQLITE_OK) {
        *err = db_error(db, path, pool);
        sqlite3_close(db);
        return APR_EGENERAL;
    }
    const char *fmt = meta_get(db, "format", pool), *locs = meta_get(db, "locales", pool);
    if (!fmt || atoi(fmt) != STP_SEARCH_FORMAT || !locs) {
        *err = apr_psprintf(pool, "%s: not a search index of format %d", path, STP_SEARCH_FORMAT);
        sqlite3_close(db);
        return APR_EGENERAL;
    }
    char *list = apr_pstrdup(pool, locs), *state;
    for (char *l = apr_strtok(list, ",", &state); l; l = apr_strtok(NULL, ",", &state)) {
        sloc_t *loc = apr_pcalloc(pool, sizeof *loc);
        loc->lang = l;
        loc->table = fts_table(l, pool);
        loc->trigram = stp_search_locale_trigram(l);
        apr_hash_set(s->locales, l, APR_HASH_KEY_STRING, loc);
    }
    apr_status_t rv = load_rows(s, db, err);
    sqlite3_close(db);
    if (rv != APR_SUCCESS)
        return rv;
    s->cache = apr_hash_make(pool);
    rv = apr_thread_mutex_create(&s->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        *err = "cannot make the search cache's lock";
        return rv;
    }
    apr_pool_cleanup_register(pool, s, cache_cleanup, apr_pool_cleanup_null);
    /* Connections are per request; a reslist lets threads of one process share a few. */
    rv = apr_reslist_create(&s->conns, 0, 4, 64, apr_time_from_sec(60), conn_make, conn_close, s, pool);
    if (rv != APR_SUCCESS) {
        *err = "cannot make the search connection list";
        return rv;
    }
    *sp = s;
    return APR_SUCCESS;
}

/* One match: a row the reader may see, with its rank and which filters it passes. */
typedef struct {
    const srow_t *row;
    double rank;
    unsigned pass; /* bit f: passes facet f's filter */
} match_t;

/* The embargo (a row is found only while it is its series' live current version), the tenant
 * rule, then the requirements: what stp_access_offered says of a document. */
static int row_visible(const srow_t *r, const stp_search_query_t *q)
{
    const char *tenant = q->user && q->user->unlisted ? NULL : q->tenant;
    if (q->now < r->live || (r->until && q->now >= r->until))
        return 0;
    if (r->requires && !stp_access_requirements_met(q->user, r->requires))
        return 0;
    if (!r->tenants)
        return 1;
    if (!tenant || !*tenant || strchr(tenant, ' '))
        return 0;
    apr_size_t tl = strlen(tenant);
    for (const char *at = strstr(r->tenants, tenant); at; at = strstr(at + 1, tenant))
        if (at[-1] == ' ' && at[tl] == ' ')
            return 1;
    return 0;
}

static const srow_t *row_by_id(const sloc_t *loc, sqlite3_int64 id)
{
    int lo = 0, hi = loc->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (loc->rows[mid].id == id)
            return &loc->rows[mid];
        if (loc->rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* The selected vocabulary indexes of one facet (unknown ids select nothing). */
typedef struct {
    int on;    /* the facet is filtered */
    char *sel; /* per vocabulary index */
} filter_t;

static unsigned passes(const srow_t *r, const filter_t *flt)
{
    unsigned bits = 0;
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        int ok = !flt[f].on;
        for (int i = 0; !ok && i < r->ntags[f]; i++)
            ok = flt[f].sel[r->tags[f][i]];
        if (ok)
            bits |= 1u << f;
    }
    return bits;
}

static int by_date(const void *a, const void *b)
{
    const match_t *x = a, *y = b;
    if (x->row->published != y->row->published)
        return x->row->published > y->row->published ? -1 : 1;
    return strcmp(x->row->doc, y->row->doc);
}

static apr_status_t cache_cleanup(void *data)
{
    stp_search_t *s = data;
    for (entry_t *e = s->newest, *next; e; e = next) {
        next = e->next;
        apr_pool_destroy(e->pool);
    }
    s->newest = s->oldest = NULL;
    return APR_SUCCESS;
}

static void lru_unlink(stp_search_t *s, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->newest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->oldest = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(stp_search_t *s, entry_t *e)
{
    e->next = s->newest;
    if (s->newest)
        s->newest->prev = e;
    s->newest = e;
    if (!s->oldest)
        s->oldest = e;
}

/* With the lock held. */
static void cache_add(stp_search_t *s, entry_t *e)
{
    if (apr_hash_get(s->cache, e->key, APR_HASH_KEY_STRING)) { /* another thread was quicker */
        apr_pool_destroy(e->pool);
        return;
    }
    apr_hash_set(s->cache, e->key, APR_HASH_KEY_STRING, e);
    lru_front(s, e);
    s->cached += e->bytes;
    while (s->cached > CACHE_BYTES && s->oldest && s->oldest != e) {
        entry_t *old = s->oldest;
        lru_unlink(s, old);
        apr_hash_set(s->cache, old->key, APR_HASH_KEY_STRING, NULL);
        s->cached -= old->bytes;
        apr_pool_destroy(old->pool);
    }
}

typedef struct {
    const sloc_t *loc;
    const int *idx;
    const double *rank;
} rank_order_t;

/* Best first; equal ranks newest first, then by id, so that pages are stable. */
static int cmp_ranked(const void *a, const void *b, void *baton)
{
    const rank_order_t *o = baton;
    int x = *(const int *)a, y = *(const int *)b;
    if (o->rank[x] != o->rank[y])
        return o->rank[x] < o->rank[y] ? -1 : 1;
    const srow_t *rx = &o->loc->rows[o->idx[x]], *ry = &o->loc->rows[o->idx[y]];
    if (rx->published != ry->published)
        return rx->published > ry->published ? -1 : 1;
    return strcmp(rx->doc, ry->doc);
}

/* The text's query: the MATCH expression, and LIKE for the terms a trigram index cannot take
 * (under three characters). */
typedef struct {
    const char *where;
    apr_array_header_t *likes;
    const char *key; /* the cache's */
} text_query_t;

static void text_query(text_query_t *tq, const sloc_t *loc, const apr_array_header_t *terms, const char *expr,
                       apr_pool_t *pool)
{
    tq->where = expr ? apr_psprintf(pool, "%s MATCH ?1", loc->table) : "1";
    tq->likes = apr_array_make(pool, 2, sizeof(const char *));
    tq->key = apr_pstrcat(pool, loc->lang, "\037", expr ? expr : "", NULL);
    for (int i = 0; loc->trigram && i < terms->nelts; i++) {
        const stp_search_term_t *t = &APR_ARRAY_IDX(terms, i, stp_search_term_t);
        if (utf8_chars(t->text) >= 3)
            continue;
        const char *like = like_pattern(t->text, pool);
        APR_ARRAY_PUSH(tq->likes, const char *) = like;
        tq->key = apr_pstrcat(pool, tq->key, "\037", like, NULL);
        int n = tq->likes->nelts + 1;
        tq->where = apr_psprintf(pool,
                                 "%s AND (title LIKE ?%d ESCAPE '\\' OR summary LIKE ?%d ESCAPE '\\'"
                                 " OR note LIKE ?%d ESCAPE '\\' OR body LIKE ?%d ESCAPE '\\')",
                                 tq->where, n, n, n, n);
    }
}

/* Runs the text's query: every matching row of the locale, ranked, best first. */
static apr_status_t text_run(entry_t **out, sqlite3 *db, const sloc_t *loc, const text_query_t *tq, const char *expr,
                             const char **err, apr_pool_t *scratch)
{
    const char *rank = expr ? apr_psprintf(scratch, RANK_EXPR, loc->table) : "0";
    const char *sql = apr_psprintf(scratch, "SELECT rowid, %s FROM %s WHERE %s", rank, loc->table, tq->where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        *err = db_error(db, "search", scratch);
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, expr ? expr : "", -1, SQLITE_STATIC);
    for (int i = 0; i < tq->likes->nelts; i++)
        sqlite3_bind_text(st, i + 2, APR_ARRAY_IDX(tq->likes, i, const char *), -1, SQLITE_STATIC);
    apr_pool_t *p;
    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    entry_t *e = apr_pcalloc(p, sizeof *e);
    int cap = 64, rc;
    e->pool = p;
    e->key = apr_pstrdup(p, tq->key);
    e->snippets = apr_hash_make(p);
    int *idx = malloc(sizeof(int) * (size_t)cap);
    double *rk = malloc(sizeof(double) * (size_t)cap);
    while (idx && rk && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const srow_t *r = row_by_id(loc, sqlite3_column_int64(st, 0));
        if (!r)
            continue;
        if (e->n == cap) {
            cap *= 2;
            int *ni = realloc(idx, sizeof(int) * (size_t)cap);
            double *nr = realloc(rk, sizeof(double) * (size_t)cap);
            idx = ni ? ni : idx;
            rk = nr ? nr : rk;
            if (!ni || !nr)
                break;
        }
        idx[e->n] = (int)(r - loc->rows);
        rk[e->n++] = sqlite3_column_double(st, 1);
    }
    rc = sqlite3_errcode(db);
    sqlite3_finalize(st);
    if (!idx || !rk || (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)) {
        *err = !idx || !rk ? "out of memory" : db_error(db, "search", scratch);
        free(idx);
        free(rk);
        apr_pool_destroy(p);
        return APR_EGENERAL;
    }
    /* Best first, once: every later request for this text reads the order as it is. */
    int *order = apr_palloc(p, sizeof(int) * (size_t)(e->n + 1));
    for (int i = 0; i < e->n; i++)
        order[i] = i;
    rank_order_t ro = {loc, idx, rk};
    qsort_r(order, (size_t)e->n, sizeof(int), cmp_ranked, &ro);
    e->idx = apr_palloc(p, sizeof(int) * (size_t)(e->n + 1));
    e->rank = apr_palloc(p, sizeof(double) * (size_t)(e->n + 1));
    for (int i = 0; i < e->n; i++) {
        e->idx[i] = idx[order[i]];
        e->rank[i] = rk[order[i]];
    }
    free(idx);
    free(rk);
    e->bytes = sizeof *e + strlen(e->key) + (apr_size_t)e->n * (2 * sizeof(int) + sizeof(double)) + 256;
    *out = e;
    return APR_SUCCESS;
}

/* The rows the text matches, best first (from the cache when another request asked it before), as
 * copies in `pool`. */
static apr_status_t text_matches(int **idx, double **rank, int *n, stp_search_t *s, sqlite3 *db, const sloc_t *loc,
                                 const text_query_t *tq, const char *expr, const char **err, apr_pool_t *pool)
{
    entry_t *e;
    apr_thread_mutex_lock(s->lock);
    e = apr_hash_get(s->cache, tq->key, APR_HASH_KEY_STRING);
    if (e) {
        lru_unlink(s, e);
        lru_front(s, e);
        *n = e->n;
        *idx = apr_pmemdup(pool, e->idx, sizeof(int) * (size_t)(e->n + 1));
        *rank = apr_pmemdup(pool, e->rank, sizeof(double) * (size_t)(e->n + 1));
    }
    apr_thread_mutex_unlock(s->lock);
    if (e)
        return APR_SUCCESS;
    apr_status_t rv = text_run(&e, db, loc, tq, expr, err, pool);
    if (rv != APR_SUCCESS)
        return rv;
    *n = e->n;
    *idx = apr_pmemdup(pool, e->idx, sizeof(int) * (size_t)(e->n + 1));
    *rank = apr_pmemdup(pool, e->rank, sizeof(double) * (size_t)(e->n + 1));
    apr_thread_mutex_lock(s->lock);
    cache_add(s, e);
    apr_thread_mutex_unlock(s->lock);
    return APR_SUCCESS;
}

/* The rows matching the text (every row without one) that the reader may see, best first. */
static apr_status_t find_matches(apr_array_header_t *out, stp_search_t *s, sqlite3 *db, const sloc_t *loc,
                                 const apr_array_header_t *terms, const text_query_t *tq, const char *expr,
                                 const stp_search_query_t *q, const char **err, apr_pool_t *pool)
{
    if (!terms->nelts) {
        for (int i = 0; i < loc->n; i++)
            if (row_visible(&loc->rows[i], q)) {
                match_t *m = apr_array_push(out);
                m->row = &loc->rows[i];
                m->rank = 0;
            }
        return APR_SUCCESS;
    }
    int *idx, n;
    double *rank;
    apr_status_t rv = text_matches(&idx, &rank, &n, s, db, loc, tq, expr, err, pool);
    for (int i = 0; rv == APR_SUCCESS && i < n; i++) {
        const srow_t *r = &loc->rows[idx[i]];
        if (!row_visible(r, q))
            continue;
        match_t *m = apr_array_push(out);
        m->row = r;
        m->rank = rank[i];
    }
    return rv;
}

/* "1,2,3": row ids for an IN list (numbers only), those of `rows` that `skip` does not mark. */
static const char *id_list_sql(const srow_t *const *rows, const char *skip, int n, apr_pool_t *pool)
{
    const char *s = "";
    for (int i = 0; i < n; i++)
        if (!skip || !skip[i])
            s = apr_psprintf(pool, "%s%s%" APR_INT64_T_FMT, s, *s ? "," : "", (apr_int64_t)rows[i]->id);
    return s;
}

/* Titles, summaries and tiles of a page's rows, in one query. */
static void fill_details(stp_search_hit_t *hits, const srow_t *const *rows, int n, sqlite3 *db, const char *ids,
                         apr_pool_t *pool)
{
    sqlite3_stmt *st;
    const char *sql =
        apr_pstrcat(pool, "SELECT id, title, summary, tile, access, nda FROM docs WHERE id IN (", ids, ")", NULL);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        for (int i = 0; i < n; i++) {
            if (rows[i]->id != id)
                continue;
            hits[i].title = apr_pstrdup(pool, (const char *)sqlite3_column_text(st, 1));
            hits[i].summary = apr_pstrdup(pool, (const char *)sqlite3_column_text(st, 2));
            hits[i].tile = apr_pstrdup(pool, (const char *)sqlite3_column_text(st, 3));
            hits[i].access = (stp_access_t)sqlite3_column_int(st, 4);
            hits[i].nda = sqlite3_column_int(st, 5);
        }
    }
    sqlite3_finalize(st);
}

/* The snippets of a page's rows: those the cache has, the others in one query (kept for the next
 * request that shows them). */
static void fill_snippets(stp_search_hit_t *hits, const srow_t *const *rows, int n, stp_search_t *s, sqlite3 *db,
                          const sloc_t *loc, const text_query_t *tq, const char *expr, apr_pool_t *pool)
{
    char *have = apr_pcalloc(pool, (apr_size_t)n + 1);
    apr_thread_mutex_lock(s->lock);
    entry_t *e = apr_hash_get(s->cache, tq->key, APR_HASH_KEY_STRING);
    for (int i = 0; i < n; i++) {
        const char *sn = e ? apr_hash_get(e->snippets, &rows[i]->id, sizeof rows[i]->id) : NULL;
        if (sn)
            hits[i].snippet = apr_pstrdup(pool, sn);
        have[i] = sn != NULL;
    }
    apr_thread_mutex_unlock(s->lock);
    const char *missing = id_list_sql(rows, have, n, pool);
    if (!*missing)
        return;
    sqlite3_stmt *st;
    const char *sql = apr_psprintf(pool,
                                   "SELECT rowid, snippet(%s, -1, char(1), char(2), '…', %d) FROM %s"
                                   " WHERE %s MATCH ?1 AND rowid IN (%s)",
                                   loc->table, SNIPPET_TOKENS, loc->table, loc->table, missing);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        const char *sn = (const char *)sqlite3_column_text(st, 1);
        for (int i = 0; sn && i < n; i++)
            if (rows[i]->id == id)
                hits[i].snippet = apr_pstrdup(pool, sn);
        apr_thread_mutex_lock(s->lock);
        e = apr_hash_get(s->cache, tq->key, APR_HASH_KEY_STRING);
        if (e && sn && !apr_hash_get(e->snippets, &id, sizeof id)) {
            sqlite3_int64 *key = apr_pmemdup(e->pool, &id, sizeof id);
            apr_hash_set(e->snippets, key, sizeof *key, apr_pstrdup(e->pool, sn));
            e->bytes += strlen(sn) + 48;
            s->cached += strlen(sn) + 48;
        }
        apr_thread_mutex_unlock(s->lock);
    }
    sqlite3_finalize(st);
}

static void count_facets(stp_search_result_t *res, stp_search_t *s, const apr_array_header_t *matches,
                         const filter_t *flt, apr_pool_t *pool)
{
    unsigned all = (1u << STP_FACET_COUNT) - 1;
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        int nv = s->names[f]->nelts;
        int *counts = apr_pcalloc(pool, sizeof(int) * (apr_size_t)(nv + 1));
        unsigned others = all & ~(1u << f);
        for (int i = 0; i < matches->nelts; i++) {
            const match_t *m = &APR_ARRAY_IDX(matches, i, match_t);
            if ((m->pass & others) != others)
                continue;
            for (int t = 0; t < m->row->ntags[f]; t++)
                counts[m->row->tags[f][t]]++;
        }
        res->facets[f] = apr_array_make(pool, nv, sizeof(stp_search_facet_value_t));
        for (int v = 0; v < nv; v++) {
            /* Only values the reader's matches carry: a chosen value without any is the caller's
             * to show, so that nothing here tells a value used only by hidden rows from another. */
            int selected = flt[f].on && flt[f].sel[v];
            if (!counts[v])
                continue;
            stp_search_facet_value_t *fv = apr_array_push(res->facets[f]);
            fv->id = APR_ARRAY_IDX(s->names[f], v, const char *);
            fv->count = counts[v];
            fv->selected = selected;
        }
    }
}

apr_status_t stp_search_run(stp_search_result_t *res, stp_search_t *s, const stp_search_query_t *query,
                            const char **err, apr_pool_t *pool)
{
    stp_search_query_t judged = *query;
    const stp_search_query_t *q = &judged;
    if (!judged.now)
        judged.now = apr_time_now();
    const sloc_t *loc = q->lang ? apr_hash_get(s->locales, q->lang, APR_HASH_KEY_STRING) : NULL;
    memset(res, 0, sizeof *res);
    res->hits = apr_array_make(pool, 1, sizeof(stp_search_hit_t));
    for (int f = 0; f < STP_FACET_COUNT; f++)
        res->facets[f] = apr_array_make(pool, 1, sizeof(stp_search_facet_value_t));
    if (!loc) {
        *err = "the index has no such locale";
        return APR_NOTFOUND;
    }
    filter_t flt[STP_FACET_COUNT];
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        const apr_array_header_t *ids = q->filters[f];
        flt[f].on = ids && ids->nelts;
        flt[f].sel = apr_pcalloc(pool, (apr_size_t)s->names[f]->nelts + 1);
        for (int i = 0; flt[f].on && i < ids->nelts; i++) {
            intptr_t v = (intptr_t)apr_hash_get(s->vocab[f], APR_ARRAY_IDX(ids, i, const char *), APR_HASH_KEY_STRING);
            if (v)
                flt[f].sel[v - 1] = 1;
        }
    }
    apr_array_header_t *terms = stp_search_parse(q->text, 16, pool);
    const char *expr = stp_search_match_expr(terms, loc->trigram, pool);
    text_query_t tq;
    text_query(&tq, loc, terms, expr, pool);
    void *conn;
    apr_status_t rv = apr_reslist_acquire(s->conns, &conn);
    if (rv != APR_SUCCESS) {
        *err = "cannot open the search index";
        return rv;
    }
    sqlite3 *db = conn;
    apr_array_header_t *matches = apr_array_make(pool, 64, sizeof(match_t));
    rv = find_matches(matches, s, db, loc, terms, &tq, expr, q, err, pool);
    if (rv == APR_SUCCESS) {
        unsigned all = (1u << STP_FACET_COUNT) - 1;
        for (int i = 0; i < matches->nelts; i++) {
            match_t *m = &APR_ARRAY_IDX(matches, i, match_t);
            m->pass = passes(m->row, flt);
        }
        count_facets(res, s, matches, flt, pool);
        /* The results: matches passing every filter, best first as they come, or newest first. */
        int n = 0;
        unsigned on = 0;
        for (int f = 0; f < STP_FACET_COUNT; f++)
            on |= flt[f].on ? 1u << f : 0;
        match_t *hits = apr_palloc(pool, sizeof(match_t) * (apr_size_t)(matches->nelts + 1));
        for (int i = 0; i < matches->nelts; i++) {
            const match_t *m = &APR_ARRAY_IDX(matches, i, match_t);
            if (q->any_facet && on ? (m->pass & on) != 0 : m->pass == all)
                hits[n++] = *m;
        }
        if (!(q->sort == STP_SEARCH_SORT_RELEVANCE && terms->nelts))
            qsort(hits, (size_t)n, sizeof *hits, by_date);
        int per = q->per_page > 0 ? q->per_page : 20;
        res->total = n;
        res->pages = (n + per - 1) / per;
        long first = ((long)(q->page > 0 ? q->page : 1) - 1) * per;
        int k = first < n ? (int)(n - first < per ? n - first : per) : 0;
        const srow_t **rows = apr_palloc(pool, sizeof(srow_t *) * (apr_size_t)(k + 1));
        for (int i = 0; i < k; i++) {
            stp_search_hit_t *h = apr_array_push(res->hits);
            rows[i] = hits[first + i].row;
            h->doc = rows[i]->doc;
            h->published = rows[i]->published;
        }
        stp_search_hit_t *page = (stp_search_hit_t *)res->hits->elts;
        if (k) {
            fill_details(page, rows, k, db, id_list_sql(rows, NULL, k, pool), pool);
            if (expr)
                fill_snippets(page, rows, k, s, db, loc, &tq, expr, pool);
        }
    }
    apr_reslist_release(s->conns, conn);
    return rv;
}
