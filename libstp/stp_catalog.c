#include "stp_catalog.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_log.h"

/* Named databases inside catalog.mdb. */
#define DB_META "meta"
#define DB_DOCS "docs"
#define DB_SERIES "series"
#define DB_STRINGS "strings"

struct stp_catalog_t {
    apr_pool_t *pool;
    const char *path;
    MDB_env *env;
    MDB_txn *wtxn; /* writer only: the single transaction of a build */
    MDB_dbi meta, docs, series, strings;
    uint64_t generation;
    /* Reader only: every UI string ("lang\0key" -> value), read once when the catalog is opened.
     * A page looks up dozens (every stp:msg() of the templates); each LMDB lookup began a read
     * transaction and copied the value. */
    apr_hash_t *string_cache;
};

static const char *const access_names[] = {"public", "signin", "nda", "tenant"};

const char *stp_catalog_access_name(stp_access_t access)
{
    return (unsigned)access < 4 ? access_names[access] : "unknown";
}

apr_status_t stp_catalog_access_parse(stp_access_t *access, const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (name && !strcmp(name, access_names[i])) {
            *access = (stp_access_t)i;
            return APR_SUCCESS;
        }
    }
    return APR_EINVAL;
}

/* Finds the element for lang, else for fallback, else the first: texts and files alike carry
 * their locale in a `const char *lang` at `off`. */
static const void *pick(const apr_array_header_t *a, apr_size_t off, const char *lang, const char *fallback)
{
    if (!a || a->nelts == 0)
        return NULL;
    const char *wanted[2] = {lang, fallback};
    for (int w = 0; w < 2; w++) {
        for (int i = 0; wanted[w] && i < a->nelts; i++) {
            const char *elt = a->elts + (apr_size_t)i * (apr_size_t)a->elt_size;
            if (!strcmp(*(const char *const *)(elt + off), wanted[w]))
                return elt;
        }
    }
    return a->elts;
}

const stp_text_t *stp_catalog_text_pick(const apr_array_header_t *texts, const char *lang, const char *fallback)
{
    return pick(texts, offsetof(stp_text_t, lang), lang, fallback);
}

const stp_file_t *stp_catalog_file_pick(const apr_array_header_t *files, const char *lang, const char *fallback)
{
    return pick(files, offsetof(stp_file_t, lang), lang, fallback);
}

/* --- record encoding ---------------------------------------------------------------------- */

static void enc_strings(stp_enc_t *e, const apr_array_header_t *a)
{
    stp_codec_enc_uint(e, a ? (uint64_t)a->nelts : 0);
    for (int i = 0; a && i < a->nelts; i++)
        stp_codec_enc_cstr(e, APR_ARRAY_IDX(a, i, const char *));
}

static void enc_texts(stp_enc_t *e, const apr_array_header_t *a)
{
    stp_codec_enc_uint(e, a ? (uint64_t)a->nelts : 0);
    for (int i = 0; a && i < a->nelts; i++) {
        const stp_text_t *t = &APR_ARRAY_IDX(a, i, stp_text_t);
        stp_codec_enc_cstr(e, t->lang);
        stp_codec_enc_cstr(e, t->text);
    }
}

const char *stp_catalog_doc_encode(apr_size_t *len, const stp_doc_t *doc, apr_pool_t *pool)
{
    stp_enc_t e;
    stp_codec_enc_init(&e, pool);
    stp_codec_enc_cstr(&e, doc->id);
    stp_codec_enc_cstr(&e, doc->series);
    stp_codec_enc_cstr(&e, doc->version);
    stp_codec_enc_cstr(&e, doc->section);
    stp_codec_enc_cstr(&e, doc->tile);
    stp_codec_enc_uint(&e, (uint64_t)doc->access);
    stp_codec_enc_uint(&e, doc->nda ? 1 : 0);
    enc_strings(&e, doc->tenants);
    stp_codec_enc_uint(&e, doc->requires ? (uint64_t)doc->requires->nelts : 0);
    for (int i = 0; doc->requires && i < doc->requires->nelts; i++) {
        const stp_require_t *q = &APR_ARRAY_IDX(doc->requires, i, stp_require_t);
        stp_codec_enc_uint(&e, (uint64_t)q->kind);
        stp_codec_enc_cstr(&e, q->name);
        stp_codec_enc_cstr(&e, q->value ? q->value : "");
    }
    stp_codec_enc_int(&e, doc->published);
    stp_codec_enc_int(&e, doc->live);
    stp_codec_enc_int(&e, doc->retired);
    stp_codec_enc_cstr(&e, doc->current);
    enc_texts(&e, doc->titles);
    enc_texts(&e, doc->summaries);
    enc_texts(&e, doc->changes);
    enc_strings(&e, doc->services);
    enc_strings(&e, doc->regions);
    enc_strings(&e, doc->industries);
    stp_codec_enc_uint(&e, doc->files ? (uint64_t)doc->files->nelts : 0);
    for (int i = 0; doc->files && i < doc->files->nelts; i++) {
        const stp_file_t *f = &APR_ARRAY_IDX(doc->files, i, stp_file_t);
        stp_codec_enc_cstr(&e, f->lang);
        stp_codec_enc_cstr(&e, f->path);
        stp_codec_enc_cstr(&e, f->name);
        stp_codec_enc_cstr(&e, f->media_type);
        stp_codec_enc_uint(&e, f->size);
        stp_codec_enc_cstr(&e, f->sha256);
    }
    *len = e.len;
    return e.buf;
}

static apr_array_header_t *dec_strings(stp_dec_t *d, apr_pool_t *pool)
{
    uint64_t n = stp_codec_dec_count(d, 2);
    apr_array_header_t *a = apr_array_make(pool, (int)n ? (int)n : 1, sizeof(const char *));
    for (uint64_t i = 0; i < n && !d->failed; i++)
        APR_ARRAY_PUSH(a, const char *) = stp_codec_dec_cstr(d);
    return a;
}

static apr_array_header_t *dec_texts(stp_dec_t *d, apr_pool_t *pool)
{
    uint64_t n = stp_codec_dec_count(d, 4);
    apr_array_header_t *a = apr_array_make(pool, (int)n ? (int)n : 1, sizeof(stp_text_t));
    for (uint64_t i = 0; i < n && !d->failed; i++) {
        stp_text_t *t = &APR_ARRAY_PUSH(a, stp_text_t);
        t->lang = stp_codec_dec_cstr(d);
        t->text = stp_codec_dec_cstr(d);
    }
    return a;
}

apr_status_t stp_catalog_doc_decode(stp_doc_t **out, const void *data, apr_size_t len, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_doc_t *doc = apr_pcalloc(pool, sizeof *doc);
    stp_codec_dec_init(&d, data, len);
    doc->id = stp_codec_dec_cstr(&d);
    doc->series = stp_codec_dec_cstr(&d);
    doc->version = stp_codec_dec_cstr(&d);
    doc->section = stp_codec_dec_cstr(&d);
    doc->tile = stp_codec_dec_cstr(&d);
    uint64_t access = stp_codec_dec_uint(&d);
    if (access > STP_ACCESS_TENANT)
        d.failed = 1;
    doc->access = (stp_access_t)access;
    uint64_t nda = stp_codec_dec_uint(&d);
    if (nda > 1)
        d.failed = 1;
    doc->nda = nda == 1;
    doc->tenants = dec_strings(&d, pool);
    uint64_t nreq = stp_codec_dec_count(&d, 3);
    doc->requires = apr_array_make(pool, (int)nreq ? (int)nreq : 1, sizeof(stp_require_t));
    for (uint64_t i = 0; i < nreq && !d.failed; i++) {
        stp_require_t *q = &APR_ARRAY_PUSH(doc->requires, stp_require_t);
        uint64_t kind = stp_codec_dec_uint(&d);
        if (kind > STP_REQUIRE_CLAIM)
            d.failed = 1;
        q->kind = (stp_require_kind_t)kind;
        q->name = stp_codec_dec_cstr(&d);
        q->value = stp_codec_dec_cstr(&d);
        if (!*q->name)
            d.failed = 1; /* sitegen never writes a nameless requirement */
    }
    int64_t published = stp_codec_dec_int(&d);
    doc->live = (apr_time_t)stp_codec_dec_int(&d);
    int64_t retired = stp_codec_dec_int(&d);
    if (published < INT32_MIN || published > INT32_MAX || retired < INT32_MIN || retired > INT32_MAX)
        d.failed = 1; /* day numbers are 32-bit */
    doc->published = (stp_day_t)published;
    doc->retired = (stp_day_t)retired;
    doc->current = stp_codec_dec_cstr(&d);
    doc->titles = dec_texts(&d, pool);
    doc->summaries = dec_texts(&d, pool);
    doc->changes = dec_texts(&d, pool);
    doc->services = dec_strings(&d, pool);
    doc->regions = dec_strings(&d, pool);
    doc->industries = dec_strings(&d, pool);
    uint64_t n = stp_codec_dec_count(&d, 11);
    doc->files = apr_array_make(pool, (int)n ? (int)n : 1, sizeof(stp_file_t));
    for (uint64_t i = 0; i < n && !d.failed; i++) {
        stp_file_t *f = &APR_ARRAY_PUSH(doc->files, stp_file_t);
        f->lang = stp_codec_dec_cstr(&d);
        f->path = stp_codec_dec_cstr(&d);
        f->name = stp_codec_dec_cstr(&d);
        f->media_type = stp_codec_dec_cstr(&d);
        f->size = stp_codec_dec_uint(&d);
        const char *sha = stp_codec_dec_cstr(&d);
        if (strlen(sha) > 64)
            d.failed = 1;
        else
            memcpy(f->sha256, sha, strlen(sha) + 1);
    }
    if (stp_codec_dec_finish(&d) != APR_SUCCESS || !*doc->id)
        return APR_EGENERAL;
    *out = doc;
    return APR_SUCCESS;
}

/* --- environment ---------------------------------------------------------------------------- */

static apr_status_t catalog_cleanup(void *data)
{
    stp_catalog_t *cat = data;
    if (cat->wtxn)
        mdb_txn_abort(cat->wtxn);
    cat->wtxn = NULL;
    if (cat->env)
        mdb_env_close(cat->env);
    cat->env = NULL;
    return APR_SUCCESS;
}

static apr_status_t open_dbis(stp_catalog_t *cat, MDB_txn *txn, unsigned flags)
{
    int rc;
    if ((rc = mdb_dbi_open(txn, DB_META, flags, &cat->meta)) || (rc = mdb_dbi_open(txn, DB_DOCS, flags, &cat->docs)) ||
        (rc = mdb_dbi_open(txn, DB_SERIES, flags, &cat->series)) ||
        (rc = mdb_dbi_open(txn, DB_STRINGS, flags, &cat->strings)))
        return stp_lmdb_status(rc);
    return APR_SUCCESS;
}

/* The environment of a catalog being written or read, closed with `pool`. */
static int env_make(stp_catalog_t *cat, const char *path, apr_pool_t *pool)
{
    int rc;
    cat->pool = pool;
    cat->path = apr_pstrdup(pool, path);
    if ((rc = mdb_env_create(&cat->env)))
        return rc;
    apr_pool_cleanup_register(pool, cat, catalog_cleanup, apr_pool_cleanup_null);
    return mdb_env_set_maxdbs(cat->env, 8);
}

apr_status_t stp_catalog_create(stp_catalog_t **out, const char *path, apr_pool_t *pool)
{
    stp_catalog_t *cat = apr_pcalloc(pool, sizeof *cat);
    apr_finfo_t fi;
    int rc;
    apr_status_t rv;

    if (apr_stat(&fi, path, APR_FINFO_TYPE, pool) == APR_SUCCESS)
        return APR_EEXIST;
    if ((rc = env_make(cat, path, pool)))
        return stp_lmdb_status(rc);
    /* Address space only: the file grows with what is written. */
    mdb_env_set_mapsize(cat->env, (size_t)4 << 30);
    /* One writer that nobody else sees until publication: no lock file, and one sync at commit. */
    rc = mdb_env_open(cat->env, path, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC, 0644);
    if (rc)
        return stp_lmdb_status(rc);
    if ((rc = mdb_txn_begin(cat->env, NULL, 0, &cat->wtxn)))
        return stp_lmdb_status(rc);
    if ((rv = open_dbis(cat, cat->wtxn, MDB_CREATE)) != APR_SUCCESS)
        return rv;
    if ((rv = stp_catalog_put_meta(cat, "format", apr_ltoa(pool, STP_CATALOG_FORMAT))) != APR_SUCCESS)
        return rv;
    *out = cat;
    return APR_SUCCESS;
}

static apr_status_t put(stp_catalog_t *cat, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    if (!cat->wtxn)
        return APR_EINVAL;
    if (klen == 0 || klen > 511)
        return APR_EINVAL;
    return stp_lmdb_status(mdb_put(cat->wtxn, dbi, &key, &val, 0));
}

apr_status_t stp_catalog_put_doc(stp_catalog_t *cat, const stp_doc_t *doc, apr_pool_t *scratch)
{
    apr_size_t len, klen = strlen(doc->id);
    const char *rec = stp_catalog_doc_encode(&len, doc, scratch);
    MDB_val key = {klen, (void *)doc->id}, val = {len, (void *)rec};
    if (!cat->wtxn || klen == 0 || klen > 511)
        return APR_EINVAL;
    /* Writers usually put documents in id order: appending skips the tree search and page splits. */
    int rc = mdb_put(cat->wtxn, cat->docs, &key, &val, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(cat->wtxn, cat->docs, &key, &val, 0);
    return stp_lmdb_status(rc);
}

apr_status_t stp_catalog_put_series(stp_catalog_t *cat, const char *series, const apr_array_header_t *ids,
                                    apr_pool_t *scratch)
{
    stp_enc_t e;
    stp_codec_enc_init(&e, scratch);
    enc_strings(&e, ids);
    return put(cat, cat->series, series, strlen(series), e.buf, e.len);
}

apr_status_t stp_catalog_put_meta(stp_catalog_t *cat, const char *key, const char *value)
{
    return put(cat, cat->meta, key, strlen(key), value, strlen(value));
}

/* Strings are keyed "lang NUL key" so that one locale's strings sort together. */
static const char *string_key(apr_size_t *len, const char *lang, const char *key, apr_pool_t *pool)
{
    apr_size_t ll = strlen(lang), kl = strlen(key);
    char *k = apr_palloc(pool, ll + kl + 1);
    memcpy(k, lang, ll);
    k[ll] = '\0';
    memcpy(k + ll + 1, key, kl);
    *len = ll + 1 + kl;
    return k;
}

apr_status_t stp_catalog_put_string(stp_catalog_t *cat, const char *lang, const char *key, const char *value,
                                    apr_pool_t *scratch)
{
    apr_size_t klen;
    const char *k = string_key(&klen, lang, key, scratch);
    return put(cat, cat->strings, k, klen, value, strlen(value));
}

apr_status_t stp_catalog_commit(stp_catalog_t *cat, int sync)
{
    int rc;
    if (!cat->wtxn)
        return APR_EINVAL;
    rc = mdb_txn_commit(cat->wtxn);
    cat->wtxn = NULL;
    if (rc)
        return stp_lmdb_status(rc);
    return sync ? stp_lmdb_status(mdb_env_sync(cat->env, 1)) : APR_SUCCESS;
}

/* The UI strings into cat->string_cache, in the catalog's pool: the catalog of a build never
 * changes once published, and it lives as long as the build. */
static apr_status_t cache_strings(stp_catalog_t *cat)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;
    apr_hash_t *h = apr_hash_make(cat->pool);
    if ((rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &txn)))
        return stp_lmdb_status(rc);
    if ((rc = mdb_cursor_open(txn, cat->strings, &cur))) {
        mdb_txn_abort(txn);
        return stp_lmdb_status(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        apr_hash_set(h, apr_pstrmemdup(cat->pool, k.mv_data, k.mv_size), (apr_ssize_t)k.mv_size,
                     apr_pstrmemdup(cat->pool, v.mv_data, v.mv_size));
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc != MDB_NOTFOUND)
        return stp_lmdb_status(rc);
    cat->string_cache = h;
    return APR_SUCCESS;
}

apr_status_t stp_catalog_open(stp_catalog_t **out, const char *path, apr_pool_t *pool)
{
    stp_catalog_t *cat = apr_pcalloc(pool, sizeof *cat);
    MDB_txn *txn;
    apr_status_t rv;
    int rc;

    if ((rc = env_make(cat, path, pool)))
        return stp_lmdb_status(rc);
    rc = mdb_env_open(cat->env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0444);
    if (rc)
        return stp_lmdb_status(rc);
    if ((rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &txn)))
        return stp_lmdb_status(rc);
    rv = open_dbis(cat, txn, 0);
    /* Committing, not aborting, keeps the database handles open for later transactions. */
    if (rv != APR_SUCCESS) {
        mdb_txn_abort(txn);
        return rv;
    }
    if ((rc = mdb_txn_commit(txn)))
        return stp_lmdb_status(rc);
    const char *format = stp_catalog_get_meta(cat, "format", pool);
    if (!format || strcmp(format, apr_ltoa(pool, STP_CATALOG_FORMAT))) {
        stp_log(STP_LOG_ERR, APR_SUCCESS, "catalog %s has format %s, this build reads format %d", path,
                format ? format : "(none)", STP_CATALOG_FORMAT);
        return APR_EGENERAL;
    }
    const char *gen = stp_catalog_get_meta(cat, "generation", pool);
    cat->generation = gen ? (uint64_t)apr_atoi64(gen) : 0;
    if ((rv = cache_strings(cat)) != APR_SUCCESS)
        return rv;
    *out = cat;
    return APR_SUCCESS;
}

/* Reads one value into the pool within a short read transaction. */
static apr_status_t get(const char **val, apr_size_t *vlen, stp_catalog_t *cat, MDB_dbi dbi, const void *k, size_t klen,
                        apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_val key = {klen, (void *)k}, v;
    int rc;
    if (klen == 0 || klen > 511)
        return APR_NOTFOUND;
    if ((rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &txn)))
        return stp_lmdb_status(rc);
    rc = mdb_get(txn, dbi, &key, &v);
    if (!rc) {
        char *copy = apr_palloc(pool, v.mv_size + 1);
        memcpy(copy, v.mv_data, v.mv_size);
        copy[v.mv_size] = '\0';
        *val = copy;
        *vlen = v.mv_size;
    }
    mdb_txn_abort(txn);
    return stp_lmdb_status(rc);
}

apr_status_t stp_catalog_get_doc(stp_doc_t **doc, stp_catalog_t *cat, const char *id, apr_pool_t *pool)
{
    const char *rec;
    apr_size_t len;
    apr_status_t rv = get(&rec, &len, cat, cat->docs, id, strlen(id), pool);
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = stp_catalog_doc_decode(doc, rec, len, pool)) != APR_SUCCESS)
        stp_log(STP_LOG_ERR, rv, "catalog %s: the record of document %s is corrupt", cat->path, id);
    return rv;
}

apr_status_t stp_catalog_get_series(apr_array_header_t **ids, stp_catalog_t *cat, const char *series, apr_pool_t *pool)
{
    const char *rec;
    apr_size_t len;
    stp_dec_t d;
    apr_status_t rv = get(&rec, &len, cat, cat->series, series, strlen(series), pool);
    if (rv != APR_SUCCESS)
        return rv;
    stp_codec_dec_init(&d, rec, len);
    *ids = dec_strings(&d, pool);
    return stp_codec_dec_finish(&d);
}

const char *stp_catalog_get_meta(stp_catalog_t *cat, const char *key, apr_pool_t *pool)
{
    const char *v;
    apr_size_t len;
    return get(&v, &len, cat, cat->meta, key, strlen(key), pool) == APR_SUCCESS ? v : NULL;
}

const char *stp_catalog_get_string(stp_catalog_t *cat, const char *lang, const char *key, apr_pool_t *pool)
{
    const char *v;
    apr_size_t len, klen;
    if (cat->string_cache) { /* a published catalog: no transaction, no copy */
        char buf[512];
        apr_size_t ll = strlen(lang), kl = strlen(key);
        if (ll + 1 + kl > sizeof buf)
            return NULL;
        memcpy(buf, lang, ll);
        buf[ll] = '\0';
        memcpy(buf + ll + 1, key, kl);
        return apr_hash_get(cat->string_cache, buf, (apr_ssize_t)(ll + 1 + kl));
    }
    const char *k = string_key(&klen, lang, key, pool);
    return get(&v, &len, cat, cat->strings, k, klen, pool) == APR_SUCCESS ? v : NULL;
}

uint64_t stp_catalog_generation(const stp_catalog_t *cat)
{
    return cat->generation;
}

apr_status_t stp_catalog_foreach_doc(stp_catalog_t *cat, stp_catalog_doc_fn *fn, void *baton, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    int rc;

    if ((rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &txn)))
        return stp_lmdb_status(rc);
    if ((rc = mdb_cursor_open(txn, cat->docs, &cur))) {
        mdb_txn_abort(txn);
        return stp_lmdb_status(rc);
    }
    apr_pool_create(&iter, pool);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        stp_doc_t *doc;
        apr_pool_clear(iter);
        if ((rv = stp_catalog_doc_decode(&doc, v.mv_data, v.mv_size, iter)) != APR_SUCCESS) {
            stp_log(STP_LOG_ERR, rv, "catalog %s: a document record is corrupt", cat->path);
            break;
        }
        int stop = fn(baton, doc);
        if (stop) {
            rv = stop;
            break;
        }
    }
    if (rc && rc != MDB_NOTFOUND)
        rv = stp_lmdb_status(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    apr_pool_destroy(iter);
    return rv;
}

void stp_catalog_close(stp_catalog_t *cat)
{
    apr_pool_cleanup_run(cat->pool, cat, catalog_cleanup);
}

int stp_catalog_live(const stp_doc_t *doc, apr_time_t now)
{
    return doc->live <= now;
}

apr_status_t stp_catalog_get_current(stp_doc_t **doc, stp_catalog_t *cat, const char *series, apr_time_t now,
                                     apr_pool_t *pool)
{
    apr_array_header_t *ids;
    apr_status_t rv = stp_catalog_get_series(&ids, cat, series, pool);
    if (rv != APR_SUCCESS)
        return rv;
    /* Newest first: the first version past its embargo is the current one. */
    for (int i = 0; i < ids->nelts; i++) {
        stp_doc_t *d;
        if ((rv = stp_catalog_get_doc(&d, cat, APR_ARRAY_IDX(ids, i, const char *), pool)) != APR_SUCCESS)
            return rv;
        if (stp_catalog_live(d, now)) {
            *doc = d;
            return APR_SUCCESS;
        }
    }
    return APR_NOTFOUND;
}

apr_status_t stp_catalog_get_version(stp_doc_t **out, stp_catalog_t *cat, stp_doc_t *doc, const char *version,
                                     apr_pool_t *pool)
{
    apr_array_header_t *ids;
    apr_status_t rv;
    if (!strcmp(doc->version, version)) {
        *out = doc;
        return APR_SUCCESS;
    }
    if ((rv = stp_catalog_get_series(&ids, cat, doc->series, pool)) != APR_SUCCESS)
        return rv;
    for (int i = 0; i < ids->nelts; i++) {
        stp_doc_t *v;
        if (stp_catalog_get_doc(&v, cat, APR_ARRAY_IDX(ids, i, const char *), pool) == APR_SUCCESS &&
            !strcmp(v->version, version)) {
            *out = v;
            return APR_SUCCESS;
        }
    }
    return APR_NOTFOUND;
}
