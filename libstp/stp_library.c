#include "stp_library.h"

#include <stdlib.h>
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

/* --- the dump (stp_state_dump.c): libraries and notification settings ---------------------------- */

static apr_status_t dump_library(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                                 void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_LIBRARY};
    const char *key = k->mv_data;
    apr_size_t ul = strnlen(key, k->mv_size);
    (void)t;
    if (ul >= k->mv_size)
        return APR_EGENERAL;
    r.key = apr_pstrmemdup(pool, key, ul);
    const char *series = apr_pstrmemdup(pool, key + ul + 1, k->mv_size - ul - 1);
    if (stp_library_decode(&r.library, series, v, pool) != APR_SUCCESS)
        return APR_EGENERAL;
    return emit(baton, &r);
}

static apr_status_t dump_notify(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                                void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_NOTIFY};
    (void)t;
    r.key = apr_pstrmemdup(pool, k->mv_data, k->mv_size);
    if (stp_notify_decode(&r.notify, v, pool) != APR_SUCCESS)
        return APR_EGENERAL;
    return emit(baton, &r);
}

static apr_status_t pg_dump_library(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                    void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_LIBRARY};
    (void)t, (void)pool;
    r.key = stp_dbd_col(c, row, 0);
    r.library.series = stp_dbd_col(c, row, 1);
    r.library.doc_id = stp_dbd_col(c, row, 2);
    r.library.seen = stp_dbd_col(c, row, 3);
    r.library.kept = stp_dbd_col(c, row, 4);
    r.library.saved = apr_strtoi64(stp_dbd_col(c, row, 5), NULL, 10);
    return emit(baton, &r);
}

static apr_status_t pg_dump_notify(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                   void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_NOTIFY};
    (void)t, (void)pool;
    int freq = atoi(stp_dbd_col(c, row, 1));
    r.key = stp_dbd_col(c, row, 0);
    r.notify.freq = freq >= STP_FREQ_OFF && freq <= STP_FREQ_MONTHLY ? (stp_freq_t)freq : STP_FREQ_OFF;
    r.notify.address = stp_dbd_col(c, row, 2);
    r.notify.locale = stp_dbd_col(c, row, 3);
    r.notify.tenant = stp_dbd_col(c, row, 4);
    r.notify.last_digest = apr_strtoi64(stp_dbd_col(c, row, 5), NULL, 10);
    return emit(baton, &r);
}

apr_status_t stp_library_dump_each(stp_dump_txn_t *t, stp_dump_kind_t kind, stp_dump_emit_fn *emit, void *baton)
{
    stp_state_t *st = t->st;
    if (kind == STP_DUMP_LIBRARY)
        return st->dbd ? stp_dump_rows(t, "stp_dump_library", pg_dump_library, emit, baton)
                       : stp_dump_scan(t, st->library, dump_library, emit, baton);
    return st->dbd ? stp_dump_rows(t, "stp_dump_notify", pg_dump_notify, emit, baton)
                   : stp_dump_scan(t, st->notify, dump_notify, emit, baton);
}

apr_status_t stp_library_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r)
{
    stp_state_t *st = t->st;
    apr_pool_t *pool = t->pool;
    if (!field_ok(r->key, STP_LIBRARY_MAX_USER))
        return (t->err = "the user key is empty or too long"), APR_EINVAL;
    if (r->kind == STP_DUMP_LIBRARY) {
        const stp_saved_t *e = &r->library;
        if (!field_ok(e->series, 64) || !field_ok(e->doc_id, 64) || strlen(e->seen) > 64 || strlen(e->kept) > 64)
            return (t->err = "a library entry's field is empty or too long"), APR_EINVAL;
        if (st->dbd) {
            const char *args[] = {r->key, e->series, e->doc_id, e->seen, e->kept, stp_dump_num(e->saved, pool)};
            return stp_dump_exec(t, "stp_restore_library", 6, args);
        }
        MDB_val k = stp_state_user_key(r->key, e->series, pool), v = stp_library_encode(e, pool);
        return stp_dump_mdb_put(t, st->library, &k, &v);
    }
    const stp_notify_t *n = &r->notify;
    if (strlen(n->address) > 254 || strlen(n->locale) > 16 || strlen(n->tenant) > 64)
        return (t->err = "a notification setting is too long"), APR_EINVAL;
    if (st->dbd) {
        const char *args[] = {r->key,    stp_dump_num(n->freq, pool),       n->address, n->locale,
                              n->tenant, stp_dump_num(n->last_digest, pool)};
        return stp_dump_exec(t, "stp_notify_put", 6, args);
    }
    MDB_val k = {strlen(r->key), (void *)r->key}, v = stp_notify_encode(n, pool);
    return stp_dump_mdb_put(t, st->notify, &k, &v);
}
