#include "stp_digest.h"

#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "stp_access.h"
#include "stp_hash.h"
#include "stp_lmdb.h"
#include "stp_state_int.h"

apr_time_t stp_digest_due(stp_freq_t freq, apr_time_t last)
{
    apr_time_exp_t tm;
    apr_time_t t;
    if (!last)
        return 0;
    switch (freq) {
    case STP_FREQ_DAILY:
        return last + apr_time_from_sec(86400);
    case STP_FREQ_WEEKLY:
        return last + apr_time_from_sec(7 * 86400);
    case STP_FREQ_MONTHLY:
        /* The same day of the next month, clamped to that month's end (31 Jan -> 28/29 Feb). */
        apr_time_exp_gmt(&tm, last);
        for (int day = tm.tm_mday; day > 0; day--) {
            apr_time_exp_t next = tm;
            next.tm_mon = (tm.tm_mon + 1) % 12;
            next.tm_year = tm.tm_year + (tm.tm_mon == 11);
            next.tm_mday = day;
            if (apr_time_exp_gmt_get(&t, &next) == APR_SUCCESS) {
                apr_time_exp_t check;
                apr_time_exp_gmt(&check, t);
                if (check.tm_mon == next.tm_mon)
                    return t;
            }
        }
        return last + apr_time_from_sec(31 * 86400);
    default:
        return APR_INT64_MAX;
    }
}

/* The claims of a user record ("NAME\tVALUE\n"...), as a stp_claim_fn reads them. */
static const char *record_claim(void *baton, const char *name)
{
    return apr_table_get(baton, name);
}

static apr_table_t *record_claims(const char *text, apr_pool_t *pool)
{
    apr_table_t *t = apr_table_make(pool, 2);
    char *copy = apr_pstrdup(pool, text ? text : ""), *last;
    for (char *line = apr_strtok(copy, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        char *tab = strchr(line, '\t');
        if (tab) {
            *tab = '\0';
            apr_table_setn(t, line, tab + 1);
        }
    }
    return t;
}

stp_digest_t *stp_digest_plan(const char *user_key, const stp_notify_t *n, const stp_user_record_t *who,
                              const apr_array_header_t *entries, stp_series_current_fn *current, void *baton,
                              apr_time_t now, const char *host, apr_pool_t *pool)
{
    if (n->freq == STP_FREQ_OFF || !n->address || !*n->address || now < stp_digest_due(n->freq, n->last_digest))
        return NULL;
    /* The user as the module last saw them signed in: organisation, roles, the required claims. */
    stp_user_t user = {.key = user_key,
                       .tenant = who && who->tenant && *who->tenant ? who->tenant : NULL,
                       .tenant_admin = who && who->tenant_admin,
                       .unlisted = who && who->unlisted,
                       .claim = record_claim,
                       .claim_baton = record_claims(who ? who->claims : NULL, pool)};
    stp_digest_t *dg = apr_pcalloc(pool, sizeof *dg);
    dg->items = apr_array_make(pool, 4, sizeof(stp_digest_item_t));
    stp_hash_t *h = stp_hash_new();
    stp_hash_update(h, user_key, strlen(user_key) + 1);
    stp_hash_update(h, &n->last_digest, sizeof n->last_digest);
    for (int i = 0; entries && i < entries->nelts; i++) {
        const stp_saved_t *e = &APR_ARRAY_IDX(entries, i, stp_saved_t);
        const stp_doc_t *doc = current(baton, e->series, pool);
        if (!doc || !stp_access_offered(&user, doc))
            continue;
        const char *fp = stp_library_fingerprint(doc, pool);
        if (e->seen && !strcmp(e->seen, fp))
            continue;
        stp_digest_item_t *it = apr_array_push(dg->items);
        it->series = e->series;
        it->doc = doc;
        it->seen = fp;
        stp_hash_update(h, fp, strlen(fp) + 1);
    }
    unsigned char md[STP_HASH_LEN];
    stp_hash_final(md, h);
    stp_hash_free(h);
    if (dg->items->nelts == 0)
        return NULL;
    /* Deterministic: a digest planned again after a crash before it was recorded has the same
     * Message-ID, so that receiving systems can drop the duplicate. */
    char hex[33];
    stp_hash_hex(hex, md, 16);
    dg->user_key = user_key;
    dg->address = n->address;
    dg->locale = n->locale;
    dg->message_id = apr_pstrcat(pool, "<", hex, "@", host && *host ? host : "stp.invalid", ">", NULL);
    return dg;
}

const char *stp_digest_unmailable(const stp_user_record_t *who, const char *address, apr_pool_t *pool)
{
    if (!who)
        return "the portal has no record of the user's sign-in (older state): sent once they sign in again";
    if (!who->email_verified)
        return "the identity provider has not verified the user's e-mail address";
    const char *at = who->email ? strrchr(who->email, '@') : NULL, *mine = address ? strrchr(address, '@') : NULL;
    if (!at || !at[1] || !mine || strcasecmp(at + 1, mine + 1))
        return apr_pstrcat(pool, "the address is not in the domain of the verified e-mail address ",
                           who->email && *who->email ? who->email : "(none)", NULL);
    return NULL;
}

typedef struct {
    stp_state_t *st;
    const char *user_key;
    apr_time_t sent;
    const apr_array_header_t *delivered;
    apr_pool_t *pool;
} digest_record_t;

static int digest_record_write(MDB_txn *txn, void *baton)
{
    digest_record_t *d = baton;
    stp_state_t *st = d->st;
    MDB_val k = {strlen(d->user_key), (void *)d->user_key}, v;
    stp_notify_t n;
    int rc = mdb_get(txn, st->notify, &k, &v);
    if (!rc) {
        if (stp_notify_decode(&n, &v, d->pool) != APR_SUCCESS)
            return MDB_CORRUPTED;
        n.last_digest = d->sent;
        MDB_val nv = stp_notify_encode(&n, d->pool);
        rc = mdb_put(txn, st->notify, &k, &nv, 0);
    }
    for (int i = 0; !rc && d->delivered && i < d->delivered->nelts; i++) {
        const stp_saved_t *s = &APR_ARRAY_IDX(d->delivered, i, stp_saved_t);
        stp_saved_t e;
        MDB_val ek = stp_state_user_key(d->user_key, s->series, d->pool), ev;
        rc = mdb_get(txn, st->library, &ek, &ev);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (!rc && stp_library_decode(&e, s->series, &ev, d->pool) != APR_SUCCESS)
            rc = MDB_CORRUPTED;
        if (!rc) {
            e.seen = s->seen;
            MDB_val nv = stp_library_encode(&e, d->pool);
            rc = mdb_put(txn, st->library, &ek, &nv, 0);
        }
    }
    return rc;
}

apr_status_t stp_digest_record(stp_state_t *st, const char *user_key, apr_time_t sent,
                               const apr_array_header_t *delivered)
{
    if (!user_key || !*user_key || strlen(user_key) > STP_LIBRARY_MAX_USER)
        return APR_EINVAL;
    if (st->dbd)
        return stp_pg_digest_record(st, user_key, sent, delivered);
    apr_pool_t *pool = stp_state_scratch();
    digest_record_t d = {st, user_key, sent, delivered, pool};
    int rc = stp_state_write(st, digest_record_write, &d);
    apr_pool_destroy(pool);
    return stp_lmdb_status(rc);
}
