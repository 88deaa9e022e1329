#include "stp_library.h"

#include <string.h>

#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_hash.h"
#include "stp_state_int.h"

static const char *const freq_names[] = {"off", "daily", "weekly", "monthly"};

const char *stp_freq_name(stp_freq_t freq)
{
    return (unsigned)freq < 4 ? freq_names[freq] : "off";
}

apr_status_t stp_freq_parse(stp_freq_t *freq, const char *name)
{
    for (unsigned i = 0; name && i < 4; i++)
        if (!strcmp(name, freq_names[i])) {
            *freq = (stp_freq_t)i;
            return APR_SUCCESS;
        }
    return APR_EINVAL;
}

const char *stp_doc_fingerprint(const stp_doc_t *doc, apr_pool_t *pool)
{
    stp_hash_t *h = stp_hash_new();
    unsigned char md[STP_HASH_LEN];
    char *hex = apr_palloc(pool, 17);
    stp_hash_update(h, doc->id, strlen(doc->id) + 1);
    stp_hash_update(h, doc->version, strlen(doc->version) + 1);
    for (int i = 0; doc->files && i < doc->files->nelts; i++) {
        const stp_file_t *f = &APR_ARRAY_IDX(doc->files, i, stp_file_t);
        stp_hash_update(h, f->sha256, strlen(f->sha256) + 1);
    }
    stp_hash_final(md, h);
    stp_hash_free(h);
    stp_hash_hex(hex, md, 8);
    return hex;
}

static int field_ok(const char *s, apr_size_t max)
{
    return s && *s && strlen(s) <= max;
}

static MDB_val encode_saved(const stp_saved_t *e, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_enc_init(&enc, pool);
    stp_enc_str(&enc, e->doc_id);
    stp_enc_str(&enc, e->seen);
    stp_enc_str(&enc, e->kept);
    stp_enc_int(&enc, e->saved);
    MDB_val v = {enc.len, enc.buf};
    return v;
}

static apr_status_t decode_saved(stp_saved_t *e, const char *series, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_dec_init(&d, v->mv_data, v->mv_size);
    e->series = series;
    e->doc_id = stp_dec_str(&d, pool);
    e->seen = stp_dec_str(&d, pool);
    e->kept = stp_dec_str(&d, pool);
    e->saved = (apr_time_t)stp_dec_int(&d);
    return stp_dec_finish(&d);
}

/* Counts the user's entries, up to limit + 1. */
static int count_entries(MDB_txn *txn, MDB_dbi dbi, const MDB_val *prefix, int limit)
{
    MDB_cursor *cur;
    MDB_val k = *prefix, v;
    int n = 0;
    if (mdb_cursor_open(txn, dbi, &cur))
        return 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && n <= limit;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < prefix->mv_size || memcmp(k.mv_data, prefix->mv_data, prefix->mv_size))
            break;
        n++;
    }
    mdb_cursor_close(cur);
    return n;
}

typedef struct {
    stp_state_t *st;
    MDB_val key, val, prefix;
} library_put_t;

static int library_save_write(MDB_txn *txn, void *baton)
{
    library_put_t *p = baton;
    MDB_val v;
    int rc = mdb_get(txn, p->st->library, &p->key, &v);
    if (rc == MDB_NOTFOUND &&
        count_entries(txn, p->st->library, &p->prefix, STP_LIBRARY_MAX_ENTRIES) >= STP_LIBRARY_MAX_ENTRIES)
        return STP_STATE_REFUSED; /* full: nothing written */
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    return mdb_put(txn, p->st->library, &p->key, &p->val, 0);
}

apr_status_t stp_library_save(stp_state_t *st, const char *user_key, const stp_saved_t *entry)
{
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER) || !field_ok(entry->series, 64) || !field_ok(entry->doc_id, 64) ||
        (entry->seen && strlen(entry->seen) > 64) || (entry->kept && strlen(entry->kept) > 64))
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch();
    library_put_t p = {st, stp_state_user_key(user_key, entry->series, pool), encode_saved(entry, pool),
                       stp_state_user_key(user_key, "", pool)};
    int rc = stp_state_write(st, library_save_write, &p);
    apr_pool_destroy(pool);
    return rc == STP_STATE_REFUSED ? APR_ENOSPC : stp_mdb_status(rc);
}

static int library_remove_write(MDB_txn *txn, void *baton)
{
    library_put_t *p = baton;
    int rc = mdb_del(txn, p->st->library, &p->key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

apr_status_t stp_library_remove(stp_state_t *st, const char *user_key, const char *series)
{
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER) || !field_ok(series, 64))
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch();
    library_put_t p = {st, stp_state_user_key(user_key, series, pool), {0, NULL}, {0, NULL}};
    int rc = stp_state_write(st, library_remove_write, &p);
    apr_pool_destroy(pool);
    return stp_mdb_status(rc);
}

apr_status_t stp_library_list(apr_array_header_t **entries, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    apr_status_t rv = APR_SUCCESS;
    *entries = apr_array_make(pool, 8, sizeof(stp_saved_t));
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER))
        return APR_SUCCESS;
    MDB_val prefix = stp_state_user_key(user_key, "", pool), k = prefix, v;
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_mdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->library, &cur))) {
        stp_state_read_end(st, txn);
        return stp_mdb_status(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < prefix.mv_size || memcmp(k.mv_data, prefix.mv_data, prefix.mv_size))
            break;
        const char *series = apr_pstrmemdup(pool, (const char *)k.mv_data + prefix.mv_size, k.mv_size - prefix.mv_size);
        stp_saved_t *e = apr_array_push(*entries);
        if ((rv = decode_saved(e, series, &v, pool)) != APR_SUCCESS)
            break;
    }
    mdb_cursor_close(cur);
    stp_state_read_end(st, txn);
    return rv;
}

static MDB_val encode_notify(const stp_notify_t *n, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_enc_init(&enc, pool);
    stp_enc_uint(&enc, n->freq);
    stp_enc_str(&enc, n->address);
    stp_enc_str(&enc, n->locale);
    stp_enc_str(&enc, n->tenant);
    stp_enc_int(&enc, n->last_digest);
    MDB_val v = {enc.len, enc.buf};
    return v;
}

static apr_status_t decode_notify(stp_notify_t *n, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_dec_init(&d, v->mv_data, v->mv_size);
    uint64_t f = stp_dec_uint(&d);
    n->freq = f <= STP_FREQ_MONTHLY ? (stp_freq_t)f : STP_FREQ_OFF;
    n->address = stp_dec_str(&d, pool);
    n->locale = stp_dec_str(&d, pool);
    n->tenant = stp_dec_str(&d, pool);
    n->last_digest = (apr_time_t)stp_dec_int(&d);
    return stp_dec_finish(&d);
}

apr_status_t stp_notify_get(stp_notify_t *n, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_val v;
    memset(n, 0, sizeof *n);
    n->address = n->locale = n->tenant = "";
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER))
        return APR_NOTFOUND;
    MDB_val k = {strlen(user_key), (void *)user_key};
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_mdb_status(rc);
    apr_status_t rv = stp_mdb_status(mdb_get(txn, st->notify, &k, &v));
    if (rv == APR_SUCCESS)
        rv = decode_notify(n, &v, pool);
    stp_state_read_end(st, txn);
    return rv;
}

static int notify_put_write(MDB_txn *txn, void *baton)
{
    library_put_t *p = baton;
    return mdb_put(txn, p->st->notify, &p->key, &p->val, 0);
}

apr_status_t stp_notify_put(stp_state_t *st, const char *user_key, const stp_notify_t *n)
{
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER) || (n->address && strlen(n->address) > 254) ||
        (n->locale && strlen(n->locale) > 16) || (n->tenant && strlen(n->tenant) > 64))
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch();
    library_put_t p = {st, {strlen(user_key), (void *)user_key}, encode_notify(n, pool), {0, NULL}};
    int rc = stp_state_write(st, notify_put_write, &p);
    apr_pool_destroy(pool);
    return stp_mdb_status(rc);
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
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return stp_mdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->notify, &cur))) {
        mdb_txn_abort(txn);
        return stp_mdb_status(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        APR_ARRAY_PUSH(keys, const char *) = apr_pstrmemdup(pool, k.mv_data, k.mv_size);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
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
        if (decode_notify(&n, &v, d->pool) != APR_SUCCESS)
            return MDB_CORRUPTED;
        n.last_digest = d->sent;
        MDB_val nv = encode_notify(&n, d->pool);
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
        if (!rc && decode_saved(&e, s->series, &ev, d->pool) != APR_SUCCESS)
            rc = MDB_CORRUPTED;
        if (!rc) {
            e.seen = s->seen;
            MDB_val nv = encode_saved(&e, d->pool);
            rc = mdb_put(txn, st->library, &ek, &nv, 0);
        }
    }
    return rc;
}

apr_status_t stp_digest_record(stp_state_t *st, const char *user_key, apr_time_t sent,
                               const apr_array_header_t *delivered)
{
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER))
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch();
    digest_record_t d = {st, user_key, sent, delivered, pool};
    int rc = stp_state_write(st, digest_record_write, &d);
    apr_pool_destroy(pool);
    return stp_mdb_status(rc);
}
