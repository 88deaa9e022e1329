#include "stp_library.h"

#include <string.h>

#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_hash.h"
#include "stp_state_int.h"

const char *stp_library_fingerprint(const stp_doc_t *doc, apr_pool_t *pool)
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

MDB_val stp_library_encode(const stp_saved_t *e, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_str(&enc, e->doc_id);
    stp_codec_enc_str(&enc, e->seen);
    stp_codec_enc_str(&enc, e->kept);
    stp_codec_enc_int(&enc, e->saved);
    MDB_val v = {enc.len, enc.buf};
    return v;
}

apr_status_t stp_library_decode(stp_saved_t *e, const char *series, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    e->series = series;
    e->doc_id = stp_codec_dec_str(&d, pool);
    e->seen = stp_codec_dec_str(&d, pool);
    e->kept = stp_codec_dec_str(&d, pool);
    e->saved = (apr_time_t)stp_codec_dec_int(&d);
    return stp_codec_dec_finish(&d);
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
    if (st->dbd)
        return stp_pg_library_save(st, user_key, entry, STP_LIBRARY_MAX_ENTRIES);
    apr_pool_t *pool = stp_state_scratch();
    library_put_t p = {st, stp_state_user_key(user_key, entry->series, pool), stp_library_encode(entry, pool),
                       stp_state_user_key(user_key, "", pool)};
    int rc = stp_state_write(st, library_save_write, &p);
    apr_pool_destroy(pool);
    return rc == STP_STATE_REFUSED ? APR_ENOSPC : stp_lmdb_status(rc);
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
    if (st->dbd)
        return stp_pg_library_remove(st, user_key, series);
    apr_pool_t *pool = stp_state_scratch();
    library_put_t p = {st, stp_state_user_key(user_key, series, pool), {0, NULL}, {0, NULL}};
    int rc = stp_state_write(st, library_remove_write, &p);
    apr_pool_destroy(pool);
    return stp_lmdb_status(rc);
}

apr_status_t stp_library_list(apr_array_header_t **entries, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    apr_status_t rv = APR_SUCCESS;
    *entries = apr_array_make(pool, 8, sizeof(stp_saved_t));
    if (!field_ok(user_key, STP_LIBRARY_MAX_USER))
        return APR_SUCCESS;
    if (st->dbd)
        return stp_pg_library_list(*entries, st, user_key, pool);
    MDB_val prefix = stp_state_user_key(user_key, "", pool), k = prefix, v;
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->library, &cur))) {
        stp_state_read_end(st, txn);
        return stp_lmdb_status(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < prefix.mv_size || memcmp(k.mv_data, prefix.mv_data, prefix.mv_size))
            break;
        const char *series = apr_pstrmemdup(pool, (const char *)k.mv_data + prefix.mv_size, k.mv_size - prefix.mv_size);
        stp_saved_t *e = apr_array_push(*entries);
        if ((rv = stp_library_decode(e, series, &v, pool)) != APR_SUCCESS)
            break;
    }
    mdb_cursor_close(cur);
    stp_state_read_end(st, txn);
    return rv;
}
