/* stpctl feedback: the readers' feedback from state.mdb, as CSV or JSON lines, and how many said
 * each page was helpful or not. Comments are whatever readers typed: the CSV (stpctl_export.c)
 * guards against spreadsheet formulas and quotes every field that needs it; JSON escapes every
 * control character (stp_http_json_string). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "stp_feedback.h"
#include "stp_http.h"
#include "stp_layout.h"
#include "stpctl.h"

static void feedback_usage(FILE *f)
{
    fprintf(f, "Usage: stpctl feedback [--format csv|jsonl] [--counts] STATE_DIR\n"
               "\n"
               "Exports the feedback in STATE_DIR/state.mdb to standard output, oldest first:\n"
               "  csv (default)  seq,time,page,lang,answer,comment,user,ref with a header line; a field\n"
               "                 that starts with = + - @ tab or CR gets a leading apostrophe, so that\n"
               "                 spreadsheets show it as text\n"
               "  jsonl          one JSON object a line: seq, time, page, lang, answer (\"yes\", \"no\"\n"
               "                 or null), comment, user (null: anonymous), ref (null: none)\n"
               "answer is empty for a comment alone; ref is the answer a comment follows.\n"
               "\n"
               "Then prints how many said each page was helpful, to standard error, one line a page:\n"
               "  YES NO PAGE\n"
               "With --counts, prints only those counts, to standard output in the chosen format\n"
               "(csv: page,yes,no; jsonl: {\"page\",\"yes\",\"no\"}), sorted by page.\n"
               "\n"
               "Safe while httpd runs. Exit status: 0 success, 2 usage or system error.\n");
}

typedef struct {
    int yes, no;
} tally_t;

static const char *const COLUMNS[] = {"seq", "time", "page", "lang", "answer", "comment", "user", "ref"};
static const char *const COUNT_COLUMNS[] = {"page", "yes", "no"};

typedef struct {
    int jsonl, counts_only;
    apr_hash_t *pages; /* page -> tally_t */
    apr_pool_t *pool;
} export_t;

static int export_one(void *baton, const stp_feedback_t *e)
{
    export_t *x = baton;
    char seq[24], ref[24];
    const char *when = stpctl_export_time(e->when, x->pool);
    snprintf(seq, sizeof seq, "%" APR_UINT64_T_FMT, e->seq);
    snprintf(ref, sizeof ref, "%" APR_UINT64_T_FMT, e->ref);
    tally_t *t = apr_hash_get(x->pages, e->page, APR_HASH_KEY_STRING);
    if (!t) {
        t = apr_pcalloc(x->pool, sizeof *t);
        apr_hash_set(x->pages, apr_pstrdup(x->pool, e->page), APR_HASH_KEY_STRING, t);
    }
    t->yes += !strcmp(e->answer, "yes");
    t->no += !strcmp(e->answer, "no");
    if (x->counts_only)
        return 0;
    if (x->jsonl) { /* typed: numbers, and null for no answer, user or reference */
        apr_pool_t *p;
        apr_pool_create(&p, x->pool);
        printf("{\"seq\":%s,\"time\":\"%s\",\"page\":%s,\"lang\":%s,\"answer\":%s,\"comment\":%s,\"user\":%s,\"ref\":%"
               "s}\n",
               seq, when, stp_http_json_string(e->page, p), stp_http_json_string(e->lang, p),
               stp_http_json_string(*e->answer ? e->answer : NULL, p), stp_http_json_string(e->comment, p),
               stp_http_json_string(*e->user_key ? e->user_key : NULL, p), e->ref ? ref : "null");
        apr_pool_destroy(p);
        return 0;
    }
    const char *values[] = {seq, when, e->page, e->lang, e->answer, e->comment, e->user_key, e->ref ? ref : ""};
    stpctl_export_row(stdout, STPCTL_CSV, 8, COLUMNS, values, x->pool);
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_counts(const export_t *x)
{
    apr_array_header_t *keys = apr_array_make(x->pool, 16, sizeof(const char *));
    for (apr_hash_index_t *hi = apr_hash_first(x->pool, x->pages); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(keys, const char *) = apr_hash_this_key(hi);
    qsort(keys->elts, (size_t)keys->nelts, sizeof(const char *), by_string);
    if (x->counts_only && !x->jsonl)
        stpctl_export_header(stdout, STPCTL_CSV, 3, COUNT_COLUMNS);
    for (int i = 0; i < keys->nelts; i++) {
        const char *page = APR_ARRAY_IDX(keys, i, const char *);
        const tally_t *t = apr_hash_get(x->pages, page, APR_HASH_KEY_STRING);
        if (!x->counts_only) {
            fprintf(stderr, "%d %d %s\n", t->yes, t->no, page);
        } else if (x->jsonl) {
            printf("{\"page\":%s,\"yes\":%d,\"no\":%d}\n", stp_http_json_string(page, x->pool), t->yes, t->no);
        } else {
            const char *values[] = {page, apr_itoa(x->pool, t->yes), apr_itoa(x->pool, t->no)};
            stpctl_export_row(stdout, STPCTL_CSV, 3, COUNT_COLUMNS, values, x->pool);
        }
    }
}

int stpctl_feedback(int argc, const char *const *argv, apr_pool_t *pool)
{
    export_t x = {0, 0, apr_hash_make(pool), pool};
    const char *state_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            feedback_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc &&
                   (!strcmp(argv[i + 1], "csv") || !strcmp(argv[i + 1], "jsonl"))) {
            x.jsonl = !strcmp(argv[++i], "jsonl");
        } else if (!strcmp(argv[i], "--counts")) {
            x.counts_only = 1;
        } else if (argv[i][0] != '-' && !state_dir) {
            state_dir = argv[i];
        } else {
            feedback_usage(stderr);
            return 2;
        }
    }
    if (!state_dir) {
        feedback_usage(stderr);
        return 2;
    }
    char err[256];
    const char *path = apr_pstrcat(pool, state_dir, "/" STP_STATE_DB, NULL);
    stp_state_t *st = stpctl_state_open_existing("stpctl", state_dir, pool);
    if (!st)
        return 2;
    apr_status_t rv;
    if (!x.counts_only && !x.jsonl)
        stpctl_export_header(stdout, STPCTL_CSV, 8, COLUMNS);
    rv = stp_feedback_each(st, export_one, &x, pool);
    stp_state_close(st);
    if (rv == APR_SUCCESS)
        print_counts(&x);
    if (rv != APR_SUCCESS || fflush(stdout) != 0) {
        fprintf(stderr, "stpctl: reading the feedback of %s failed: %s\n", path,
                rv != APR_SUCCESS ? apr_strerror(rv, err, sizeof err) : "cannot write the output");
        return 2;
    }
    return 0;
}
