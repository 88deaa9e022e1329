#include "stp_notify.h"

#include <string.h>

#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_state_int.h"

static int field_ok(const char *s, apr_size_t max)
{
    return s && *s && strlen(s) <= max;
}

typedef struct {
    stp_state_t *st;
    MDB_val key, val;
} notify_put_t;

static const char *const freq_names[] = {"off", "daily", "weekly", "monthly"};

const char *stp_notify_freq_name(stp_freq_t freq)
{
    return (unsigned)freq < 4 ? freq_names[freq] : "off";
}

apr_status_t stp_notify_freq_parse(stp_freq_t *freq, const char *name)
{
    for (unsigned i = 0; name && i < 4; i++)
        if (!strcmp(name, freq_names[i])) {
            *freq = (stp_freq_t)i;
            return APR_SUCCESS;
        }
    return APR_EINVAL;
}

MDB_val stp_notify_encode(const stp_notify_t *n, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_uint(&enc, n->freq);
    stp_codec_enc_str(&enc, n->address);
    stp_codec_enc_str(&enc, n->locale);
    stp_codec_enc_str(&enc, n->tenant);
    stp_codec_enc_int(&enc, n->last_digest);
    MDB_val v = {enc.len, enc.buf};
    return v;
}

apr_status_t stp_notify_decode(stp_notify_t *n, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    uint64_t f = stp_codec_dec_uint(&d);
    n->freq = f <= STP_FREQ_MONTHLY ? (stp_freq_t)f : STP_FREQ_OFF;
    n->address = stp_codec_dec_str(&d, pool);
    n->locale = stp_codec_dec_str(&d, pool);
    n->tenant = stp_codec_dec_str(&d, pool);
    n->last_digest = (apr_time_t)stp_codec_dec_int(&d);
    return stp_codec_dec_finish(&d);
}

apr_status_t stp_notify_get(stp_notify_t *n, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_val v;
    memset(n, 0, sizeof *n);
    n->address = n->locale = n->tenant = "";
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER))
        return APR_NOTFOUND;
    if (st->dbd)
        return stp_pg_notify_get(n, st, user_key, pool);
    MDB_val k = {strlen(user_key), (void *)user_key};
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    apr_status_t rv = stp_lmdb_status(mdb_get(txn, st->notify, &k, &v));
    if (rv == APR_SUCCESS)
        rv = stp_notify_decode(n, &v, pool);
    stp_state_read_end(st, txn);
    return rv;
}

static int notify_put_write(MDB_txn *txn, void *baton)
{
    notify_put_t *p = baton;
    return mdb_put(txn, p->st->notify, &p->key, &p->val, 0);
}

apr_status_t stp_notify_put(stp_state_t *st, const char *user_key, const stp_notify_t *n)
{
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER) || (n->address && strlen(n->address) > 254) ||
        (n->locale && strlen(n->locale) > 16) || (n->tenant && strlen(n->tenant) > 64))
        return APR_EINVAL;
    if (st->dbd)
        return stp_pg_notify_put(st, user_key, n);
    apr_pool_t *pool = stp_state_scratch();
    notify_put_t p = {st, {strlen(user_key), (void *)user_key}, stp_notify_encode(n, pool)};
    int rc = stp_state_write(st, notify_put_write, &p);
    apr_pool_destroy(pool);
    return stp_lmdb_status(rc);
}

apr_status_t stp_notify_each(stp_state_t *st, stp_notify_fn *fn, void *baton, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    /* Collects first: fn may write (stp_digest_record), which must not happen inside this read. */
    apr_array_header_t *keys = apr_array_make(pool, 64, sizeof(const char *));
    if (st->dbd) {
        if ((rv = stp_pg_notify_users(keys, st, pool)) != APR_SUCCESS)
            return rv;
    } else {
        int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
        if (rc)
            return stp_lmdb_status(rc);
        if ((rc = mdb_cursor_open(txn, st->notify, &cur))) {
            mdb_txn_abort(txn);
            return stp_lmdb_status(rc);
        }
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            APR_ARRAY_PUSH(keys, const char *) = apr_pstrmemdup(pool, k.mv_data, k.mv_size);
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
    }
    apr_pool_create(&iter, pool);
    for (int i = 0; i < keys->nelts && rv == APR_SUCCESS; i++) {
        stp_notify_t n;
        const char *user = APR_ARRAY_IDX(keys, i, const char *);
        apr_pool_clear(iter);
        rv = stp_notify_get(&n, st, user, iter);
        if (rv == APR_NOTFOUND) { /* deleted meanwhile */
            rv = APR_SUCCESS;
            continue;
        }
        if (rv == APR_SUCCESS && fn(baton, user, &n))
            break;
    }
    apr_pool_destroy(iter);
    return rv;
}
