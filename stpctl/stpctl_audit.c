/* stpctl audit: every recorded change of organisation settings and roles, and every NDA
 * acceptance, oldest first, as CSV or JSON lines. Reads the state httpd writes; safe while it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "stp_layout.h"
#include "stp_org.h"
#include "stp_state.h"
#include "stpctl.h"

#define NFIELDS 10
static const char *const fields[NFIELDS] = {"time",   "kind",    "tenant", "user",  "email",
                                            "action", "subject", "before", "after", "seq"};

typedef struct {
    apr_time_t when;
    int kind; /* 0 organisation, 1 NDA: at the same time, settings first */
    apr_uint64_t seq;
    const char *v[NFIELDS];
} row_t;

typedef struct {
    apr_array_header_t *rows;
    apr_pool_t *pool;
} collect_t;

static int org_row(void *baton, const stp_org_change_t *c)
{
    collect_t *k = baton;
    row_t *r = apr_array_push(k->rows);
    r->when = c->when;
    r->kind = 0;
    r->seq = c->seq;
    const char *v[NFIELDS] = {stpctl_export_time(c->when, k->pool),
                              "organisation",
                              c->tenant,
                              c->actor,
                              c->actor_email,
                              c->action,
                              c->subject,
                              c->before,
                              c->after,
                              apr_psprintf(k->pool, "%" APR_UINT64_T_FMT, c->seq)};
    memcpy(r->v, v, sizeof v);
    return 0;
}

static int nda_row(void *baton, const stp_nda_record_t *n)
{
    collect_t *k = baton;
    row_t *r = apr_array_push(k->rows);
    r->when = n->when;
    r->kind = 1;
    r->seq = n->seq;
    const char *v[NFIELDS] = {stpctl_export_time(n->when, k->pool),
                              "nda",
                              apr_pstrdup(k->pool, n->tenant),
                              apr_pstrdup(k->pool, n->user_key),
                              "",
                              "accept",
                              apr_pstrdup(k->pool, n->version),
                              "",
                              "",
                              apr_psprintf(k->pool, "%" APR_UINT64_T_FMT, n->seq)};
    memcpy(r->v, v, sizeof v);
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    if (x->when != y->when)
        return x->when < y->when ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: stpctl audit [--format csv|jsonl] STATE_DIR\n"
               "\n"
               "Every change of organisation settings and roles (who, what, when, before and after) and\n"
               "every NDA acceptance in STATE_DIR/state.mdb, oldest first. CSV (the default) has a header\n"
               "line; a field that a spreadsheet would run as a formula starts with an apostrophe. JSON\n"
               "lines: one object per record with the same names:\n"
               "  time, kind (organisation or nda), tenant, user, email, action (settings, add, role,\n"
               "  revoke, administrator; accept for the NDA), subject (an address; the NDA version),\n"
               "  before, after, seq.\n"
               "Safe while httpd runs.\n");
}

int stpctl_audit(int argc, const char *const *argv, apr_pool_t *pool)
{
    stpctl_format_t format = STPCTL_CSV;
    const char *dir = NULL;
    char err[256];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            if (stpctl_export_format(&format, argv[++i]) != APR_SUCCESS) {
                fprintf(stderr, "stpctl audit: unknown format '%s' (csv or jsonl)\n", argv[i]);
                return 2;
            }
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    stp_state_t *st = stpctl_state_open_existing("stpctl audit", dir, pool);
    if (!st)
        return 2;
    const char *path = apr_pstrcat(pool, dir, "/" STP_STATE_DB, NULL);
    apr_status_t rv;
    collect_t k = {apr_array_make(pool, 64, sizeof(row_t)), pool};
    rv = stp_org_log(st, NULL, 0, org_row, &k, pool);
    if (rv == APR_SUCCESS)
        rv = stp_state_nda_log(st, nda_row, &k, pool);
    stp_state_close(st);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "stpctl audit: reading %s failed: %s\n", path, apr_strerror(rv, err, sizeof err));
        return 2;
    }
    qsort(k.rows->elts, (size_t)k.rows->nelts, sizeof(row_t), by_time);
    stpctl_export_header(stdout, format, NFIELDS, fields);
    for (int i = 0; i < k.rows->nelts; i++)
        stpctl_export_row(stdout, format, NFIELDS, fields, APR_ARRAY_IDX(k.rows, i, row_t).v, pool);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "stpctl audit: writing the export failed\n");
        return 2;
    }
    return 0;
}
