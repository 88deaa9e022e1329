/* Fuzz target: the search query language (libstp/stp_search.h). The input is split at the first NUL
 * into what a user typed and a filter value. The parser's terms must hold their contract, and
 * stp_search_run must answer every text without an SQL error, over a small index of a word locale
 * and a trigram locale written once through the writer sitegen uses. */
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;
static stp_search_t *index_;
static char index_dir[4096], index_path[4096];

static void remove_index(void)
{
    remove(index_path);
    remove(index_dir);
}

static apr_array_header_t *one(const char *v, apr_pool_t *pool)
{
    apr_array_header_t *l = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(l, const char *) = v;
    return l;
}

static void put(stp_search_writer_t *w, const char *doc, const char *lang, const char *title, const char *body,
                const char *tenant, const char *service, apr_pool_t *pool)
{
    stp_search_row_t r = {0};
    const char *err = NULL;
    r.doc = doc;
    r.lang = lang;
    r.title = title;
    r.summary = "Summary: security, availability; 可用性と機密保持";
    r.note = "";
    r.body = body;
    r.tile = "audits";
    r.access = tenant ? STP_ACCESS_TENANT : STP_ACCESS_PUBLIC;
    r.published = 20000;
    r.tenants = tenant ? one(tenant, pool) : NULL;
    r.services = one(service, pool);
    r.regions = one("eu", pool);
    r.fp = apr_pstrcat(pool, doc, lang, NULL);
    if (stp_search_writer_put(w, &r, &err) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_search: put: %s\n", err);
        abort();
    }
}

/* The index, in a temporary directory that lives as long as the fuzzer. */
static void make_index(void)
{
    apr_pool_t *pool = root;
    const char *tmp = NULL, *err = NULL;
    char *dir;
    stp_search_writer_t *w;
    apr_temp_dir_get(&tmp, pool);
    dir = apr_pstrcat(pool, tmp, "/fuzz_search.XXXXXX", NULL);
    if (!mkdtemp(dir))
        abort();
    const char *path = apr_pstrcat(pool, dir, "/search.db", NULL);
    apr_array_header_t *locales = one("en", pool);
    APR_ARRAY_PUSH(locales, const char *) = "ja";
    if (stp_search_writer_open(&w, path, NULL, locales, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_search: open: %s\n", err);
        abort();
    }
    put(w, "iso", "en", "ISO/IEC 27001 certificate", "Scope, audit \"quotes\" and NEAR(x y) * ^ : ( ).", NULL,
        "compute", pool);
    put(w, "soc", "en", "SOC 2 Type II report", "Straße, périmètre, شهادة الأمان", NULL, "storage", pool);
    put(w, "t1doc", "en", "Tenant one pack", "Security details.", "t1", "compute", pool);
    put(w, "iso", "ja", "ISO/IEC 27001 認証書", "事業継続と災害復旧 \"%_\\\"", NULL, "compute", pool);
    put(w, "soc", "ja", "SOC 2 報告書", "セキュリティ、可用性", NULL, "storage", pool);
    if (stp_search_writer_finish(w, NULL, &err) != APR_SUCCESS || stp_search_open(&index_, path, &err, pool)) {
        fprintf(stderr, "fuzz_search: index: %s\n", err);
        abort();
    }
    /* Readers open connections as they go: the file stays until the fuzzer exits. */
    snprintf(index_dir, sizeof index_dir, "%s", dir);
    snprintf(index_path, sizeof index_path, "%s", path);
    atexit(remove_index);
}

static void check_terms(const apr_array_header_t *terms, int max)
{
    if (terms->nelts > max)
        abort(); /* at most max_terms */
    for (int i = 0; i < terms->nelts; i++) {
        const stp_search_term_t *t = &APR_ARRAY_IDX(terms, i, stp_search_term_t);
        if (!t->text || !*t->text || strchr(t->text, '"'))
            abort(); /* a term is text without the quotes that delimit it */
        if (!t->phrase && strpbrk(t->text, " \t\n\r\f\v"))
            abort(); /* a word has no space */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        make_index();
    }
    apr_pool_create(&pool, root);
    const char *nul = memchr(data, 0, size);
    apr_size_t tlen = nul ? (apr_size_t)(nul - (const char *)data) : size;
    const char *text = apr_pstrmemdup(pool, (const char *)data, tlen);
    const char *filter = nul ? apr_pstrmemdup(pool, nul + 1, size - tlen - 1) : NULL;

    apr_array_header_t *terms = stp_search_parse(text, 16, pool);
    check_terms(terms, 16);
    check_terms(stp_search_parse(text, 2, pool), 2);
    for (int trigram = 0; trigram < 2; trigram++) {
        const char *expr = stp_search_match_expr(terms, trigram, pool);
        if (!trigram && (expr == NULL) != (terms->nelts == 0))
            abort(); /* a word locale matches every term it kept */
    }
    static const char *const langs[] = {"en", "ja"};
    for (int l = 0; l < 2; l++) {
        for (int sort = 0; sort < 2; sort++) {
            stp_search_query_t q = {0};
            stp_search_result_t res;
            const char *err = NULL;
            q.lang = langs[l];
            q.text = text;
            q.sort = sort ? STP_SEARCH_SORT_DATE : STP_SEARCH_SORT_RELEVANCE;
            q.page = 1;
            q.per_page = 2;
            q.tenant = sort ? "t1" : NULL;
            if (filter)
                q.filters[STP_FACET_SERVICE] = one(filter, pool);
            if (stp_search_run(&res, index_, &q, &err, pool) != APR_SUCCESS) {
                fprintf(stderr, "fuzz_search: stp_search_run failed for %s: %s\n", langs[l], err ? err : "");
                abort();
            }
            if (res.total < 0 || res.hits->nelts > 2 || res.hits->nelts > res.total)
                abort();
            for (int i = 0; i < res.hits->nelts; i++)
                if (!q.tenant && !strcmp(APR_ARRAY_IDX(res.hits, i, stp_search_hit_t).doc, "t1doc"))
                    abort(); /* a tenant document only for its tenant */
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
