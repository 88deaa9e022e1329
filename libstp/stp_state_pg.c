/* The state store's functions on PostgreSQL (stp_dbd): the same contracts as their LMDB versions
 * in stp_state.c, stp_library.c, stp_notify.c and stp_digest.c, which check their arguments and
 * then hand over here when the state is a PostgreSQL one. Each write is one statement, or one
 * transaction, committed with PostgreSQL's synchronous commit: on APR_SUCCESS it is durable. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_dbd.h"
#include "stp_state_int.h"

static const char *num(apr_int64_t v, apr_pool_t *pool)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

static const char *flag(int v)
{
    return v ? "t" : "f";
}

static int is_true(const char *v)
{
    return v && (*v == 't' || *v == '1');
}

/* Runs a statement and keeps its error in st for the caller's log line. */
apr_status_t stp_pg_run(stp_state_t *st, const char *label, int nargs, const char *const *args, int *nrows,
                        apr_dbd_results_t **res, apr_pool_t *pool)
{
    const char *err = NULL;
    apr_status_t rv = stp_dbd_exec(st->dbd, label, nargs, args, nrows, res, &err, pool);
    if (rv != APR_SUCCESS)
        st->dbd_error = apr_pstrdup(st->pool, err ? err : label);
    return rv;
}

stp_state_t *stp_state_over_dbd(stp_dbd_conn_t *c, apr_pool_t *pool)
{
    stp_state_t *st = apr_pcalloc(pool, sizeof *st);
    st->pool = pool;
    st->dbd = c;
    return st;
}

const char *stp_state_error(const stp_state_t *st)
{
    return st->dbd_error;
}

/* --- NDA acceptances and user records ------------------------------------------------------------ */

apr_status_t stp_pg_nda_accept(stp_state_t *st, const char *user_key, const char *tenant, const char *version,
                               apr_time_t when)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *args[] = {user_key, tenant, version, num(when, pool)};
    apr_status_t rv = stp_pg_run(st, "stp_nda_accept", 4, args, NULL, NULL, pool);
    apr_pool_destroy(pool);
    return rv;
}

int stp_pg_nda_accepted(stp_state_t *st, const char *user_key, const char *tenant, const char *version)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* NULL: apr_dbd starts at the first row */
    const char *args[] = {user_key, tenant, version};
    apr_status_t rv = stp_pg_run(st, "stp_nda_accepted", 3, args, NULL, &res, pool);
    int yes = rv == APR_SUCCESS ? stp_dbd_row(st->dbd, res, &row, pool) : -1;
    apr_pool_destroy(pool);
    return yes;
}

apr_status_t stp_pg_nda_log(stp_state_t *st, stp_nda_record_fn *fn, void *baton, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* NULL: apr_dbd starts at the first row */
    apr_status_t rv = stp_pg_run(st, "stp_nda_log", 0, NULL, NULL, &res, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        stp_nda_record_t r;
        r.seq = apr_strtoi64(stp_dbd_col(st->dbd, row, 0), NULL, 10);
        r.when = apr_strtoi64(stp_dbd_col(st->dbd, row, 1), NULL, 10);
        r.user_key = stp_dbd_col(st->dbd, row, 2);
        r.tenant = stp_dbd_col(st->dbd, row, 3);
        r.version = stp_dbd_col(st->dbd, row, 4);
        if (fn(baton, &r))
            break;
    }
    return rv;
}

static apr_status_t user_read(stp_user_record_t *rec, int *found, stp_state_t *st, const char *user_key,
                              apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* NULL: apr_dbd starts at the first row */
    const char *args[] = {user_key};
    apr_status_t rv = stp_pg_run(st, "stp_user_get", 1, args, NULL, &res, pool);
    *found = 0;
    if (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        *found = 1;
        rec->tenant = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 0));
        rec->email = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 1));
        rec->email_verified = is_true(stp_dbd_col(st->dbd, row, 2));
        rec->since = apr_strtoi64(stp_dbd_col(st->dbd, row, 3), NULL, 10);
        rec->tenant_admin = is_true(stp_dbd_col(st->dbd, row, 4));
        rec->unlisted = is_true(stp_dbd_col(st->dbd, row, 5));
        rec->claims = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 6));
        while (stp_dbd_row(st->dbd, res, &row, pool)) /* read to the end: the connection is reused */
            ;
    }
    return rv;
}

apr_status_t stp_pg_user_note(stp_state_t *st, const char *user_key, const stp_user_record_t *rec, int *wrote)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    stp_user_record_t old;
    int found = 0, n = 0;
    /* A read first: on every signed-in request nothing has changed, and a read writes no WAL. */
    apr_status_t rv = user_read(&old, &found, st, user_key, pool);
    if (rv == APR_SUCCESS && !(found && stp_state_user_same(&old, rec))) {
        const char *args[] = {user_key,
                              rec->tenant ? rec->tenant : "",
                              rec->email ? rec->email : "",
                              flag(rec->email_verified),
                              num(rec->since, pool),
                              flag(rec->tenant_admin),
                              flag(rec->unlisted),
                              rec->claims ? rec->claims : ""};
        rv = stp_pg_run(st, "stp_user_put", 8, args, &n, NULL, pool);
        if (wrote)
            *wrote = n > 0;
    }
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t stp_pg_user_get(stp_user_record_t *rec, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    int found = 0;
    apr_status_t rv = user_read(rec, &found, st, user_key, pool);
    return rv == APR_SUCCESS && !found ? APR_NOTFOUND : rv;
}

/* --- My Library ------------------------------------------------------------------------------------ */

apr_status_t stp_pg_library_save(stp_state_t *st, const char *user_key, const stp_saved_t *e, int max_entries)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    int n = 0;
    const char *args[] = {user_key,
                          e->series,
                          e->doc_id,
                          e->seen ? e->seen : "",
                          e->kept ? e->kept : "",
                          num(e->saved, pool),
                          num(max_entries, pool)};
    apr_status_t rv = stp_pg_run(st, "stp_library_save", 7, args, &n, NULL, pool);
    apr_pool_destroy(pool);
    return rv == APR_SUCCESS && n == 0 ? APR_ENOSPC : rv; /* no row: the library was full */
}

apr_status_t stp_pg_library_remove(stp_state_t *st, const char *user_key, const char *series)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *args[] = {user_key, series};
    apr_status_t rv = stp_pg_run(st, "stp_library_remove", 2, args, NULL, NULL, pool);
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t stp_pg_library_list(apr_array_header_t *entries, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* NULL: apr_dbd starts at the first row */
    const char *args[] = {user_key};
    apr_status_t rv = stp_pg_run(st, "stp_library_list", 1, args, NULL, &res, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        stp_saved_t *e = apr_array_push(entries);
        e->series = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 0));
        e->doc_id = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 1));
        e->seen = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 2));
        e->kept = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 3));
        e->saved = apr_strtoi64(stp_dbd_col(st->dbd, row, 4), NULL, 10);
    }
    return rv;
}

/* --- notification settings and digests ------------------------------------------------------------- */

apr_status_t stp_pg_notify_get(stp_notify_t *n, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* NULL: apr_dbd starts at the first row */
    const char *args[] = {user_key};
    apr_status_t rv = stp_pg_run(st, "stp_notify_get", 1, args, NULL, &res, pool);
    if (rv != APR_SUCCESS)
        return rv;
    if (!stp_dbd_row(st->dbd, res, &row, pool))
        return APR_NOTFOUND;
    int freq = atoi(stp_dbd_col(st->dbd, row, 0));
    n->freq = freq >= STP_FREQ_OFF && freq <= STP_FREQ_MONTHLY ? (stp_freq_t)freq : STP_FREQ_OFF;
    n->address = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 1));
    n->locale = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 2));
    n->tenant = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 3));
    n->last_digest = apr_strtoi64(stp_dbd_col(st->dbd, row, 4), NULL, 10);
    while (stp_dbd_row(st->dbd, res, &row, pool))
        ;
    return APR_SUCCESS;
}

apr_status_t stp_pg_notify_put(stp_state_t *st, const char *user_key, const stp_notify_t *n)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *args[] = {user_key,
                          num(n->freq, pool),
                          n->address ? n->address : "",
                          n->locale ? n->locale : "",
                          n->tenant ? n->tenant : "",
                          num(n->last_digest, pool)};
    apr_status_t rv = stp_pg_run(st, "stp_notify_put", 6, args, NULL, NULL, pool);
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t stp_pg_notify_users(apr_array_header_t *keys, stp_state_t *st, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* NULL: apr_dbd starts at the first row */
    apr_status_t rv = stp_pg_run(st, "stp_notify_users", 0, NULL, NULL, &res, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool))
        APR_ARRAY_PUSH(keys, const char *) = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 0));
    return rv;
}

typedef struct {
    stp_state_t *st;
    const char *user_key;
    apr_time_t sent;
    const apr_array_header_t *delivered;
} digest_record_t;

static apr_status_t digest_record_txn(stp_dbd_conn_t *c, void *baton, const char **err, apr_pool_t *pool)
{
    digest_record_t *d = baton;
    const char *args[] = {num(d->sent, pool), d->user_key};
    int n = 0;
    apr_status_t rv = stp_dbd_exec(c, "stp_digest_sent", 2, args, &n, NULL, err, pool);
    if (rv == APR_SUCCESS && n == 0)
        return APR_NOTFOUND; /* no settings (removed meanwhile): nothing to record */
    for (int i = 0; rv == APR_SUCCESS && d->delivered && i < d->delivered->nelts; i++) {
        const stp_saved_t *s = &APR_ARRAY_IDX(d->delivered, i, stp_saved_t);
        const char *seen[] = {s->seen ? s->seen : "", d->user_key, s->series};
        rv = stp_dbd_exec(c, "stp_digest_seen", 3, seen, NULL, NULL, err, pool); /* removed meanwhile: no row */
    }
    return rv;
}

apr_status_t stp_pg_digest_record(stp_state_t *st, const char *user_key, apr_time_t sent,
                                  const apr_array_header_t *delivered)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *err = NULL;
    digest_record_t d = {st, user_key, sent, delivered};
    apr_status_t rv = stp_dbd_transaction(st->dbd, digest_record_txn, &d, &err, pool);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        st->dbd_error = apr_pstrdup(st->pool, err ? err : "recording a digest");
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t stp_pg_digest_claim(int *mine, stp_state_t *st, const char *user_key, apr_time_t last_digest,
                                 const char *run, apr_time_t now, apr_interval_time_t lease)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    int n = 0;
    const char *args[] = {run, num(now + lease, pool), user_key, num(last_digest, pool), num(now, pool)};
    apr_status_t rv = stp_pg_run(st, "stp_digest_claim", 5, args, &n, NULL, pool);
    *mine = rv == APR_SUCCESS && n == 1;
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t stp_pg_digest_release(stp_state_t *st, const char *user_key, const char *run)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *args[] = {user_key, run};
    apr_status_t rv = stp_pg_run(st, "stp_digest_release", 2, args, NULL, NULL, pool);
    apr_pool_destroy(pool);
    return rv;
}
