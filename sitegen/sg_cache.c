#include "sg_cache.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include "stp_codec.h"

const char sg_body_lazy[] = "";

#define CACHE_MAGIC "stp-doccache-1"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fp_stat(sg_fp_t *fp, const char *name, const struct stat *st)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%lld %lld.%09ld %llu", (long long)st->st_size, (long long)st->st_mtim.tv_sec,
             st->st_mtim.tv_nsec, (unsigned long long)st->st_ino);
    sg_fp_str(fp, name);
    sg_fp_str(fp, buf);
}

const char *sg_cache_signature(const char *dir, const apr_array_header_t *names, const char *salt, apr_pool_t *pool)
{
    struct stat st;
    sg_fp_t fp;
    /* The folder's own times change when a file is added, removed or renamed in it; each file's
     * own stat covers changes to its contents. No listing needed. */
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC); /* one path walk, then names within */
    if (dfd < 0)
        return NULL;
    if (fstat(dfd, &st) != 0) {
        close(dfd);
        return NULL;
    }
    sg_fp_init(&fp);
    sg_fp_str(&fp, salt);
    fp_stat(&fp, ".", &st);
    for (int i = 0; names && i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (fstatat(dfd, name, &st, 0) != 0) {
            close(dfd);
            return NULL;
        }
        fp_stat(&fp, name, &st);
    }
    close(dfd);
    char *hex = apr_palloc(pool, 65);
    sg_fp_hex(hex, &fp);
    return hex;
}

/* A referenced file's path relative to the document's folder. */
static const char *src_name(const sg_doc_t *d, int i)
{
    const char *src = APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t).src;
    apr_size_t dl = strlen(d->dir);
    return !strncmp(src, d->dir, dl) && src[dl] == '/' ? src + dl + 1 : src;
}

/* The files a document consists of, relative to its folder: doc.xml, its bodies (sorted), and the
 * files it references. */
static apr_array_header_t *doc_files(const sg_doc_t *d, apr_pool_t *pool)
{
    apr_array_header_t *refs = apr_array_make(pool, d->srcfiles->nelts + 6, sizeof(const char *));
    APR_ARRAY_PUSH(refs, const char *) = "doc.xml";
    for (apr_hash_index_t *hi = apr_hash_first(pool, d->bodies); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(refs, const char *) = apr_pstrcat(pool, (const char *)apr_hash_this_key(hi), ".md", NULL);
    qsort(refs->elts + sizeof(const char *), (size_t)refs->nelts - 1, sizeof(const char *), cmp_str);
    for (int i = 0; i < d->srcfiles->nelts; i++)
        APR_ARRAY_PUSH(refs, const char *) = src_name(d, i);
    return refs;
}

void sg_cache_sign(sg_doc_t *d, const char *salt, apr_pool_t *pool)
{
    d->sig = sg_cache_signature(d->dir, doc_files(d, pool), salt, pool);
}

/* --- records -------------------------------------------------------------------------------- */

static const char *encode_doc(apr_size_t *len, const sg_doc_t *d, const char *sig, apr_pool_t *pool)
{
    stp_enc_t e;
    apr_size_t rl;
    const char *rec = stp_doc_encode(&rl, &d->cat, pool);
    stp_enc_init(&e, pool);
    stp_enc_str(&e, sig);
    stp_enc_bytes(&e, rec, rl);
    stp_enc_uint(&e, (uint64_t)d->line);
    stp_enc_str(&e, d->meta_fp);
    stp_enc_str(&e, d->fp);
    stp_enc_uint(&e, (uint64_t)d->srcfiles->nelts);
    for (int i = 0; i < d->srcfiles->nelts; i++) {
        stp_enc_str(&e, src_name(d, i));
        stp_enc_uint(&e, (uint64_t)APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t).line);
    }
    stp_enc_uint(&e, apr_hash_count(d->body_fps));
    for (apr_hash_index_t *hi = apr_hash_first(pool, d->body_fps); hi; hi = apr_hash_next(hi)) {
        stp_enc_str(&e, apr_hash_this_key(hi));
        stp_enc_str(&e, apr_hash_this_val(hi));
    }
    *len = e.len;
    return e.buf;
}

sg_doc_t *sg_cache_lookup(apr_hash_t *cache, const sg_site_t *site, const char *folder, const char *dir,
                          const char *salt, apr_pool_t *pool)
{
    const stp_enc_t *rec = cache ? apr_hash_get(cache, folder, APR_HASH_KEY_STRING) : NULL;
    stp_dec_t dec;
    if (!rec)
        return NULL;
    stp_dec_init(&dec, rec->buf, rec->len);
    const char *sig = stp_dec_str(&dec, pool);
    uint64_t rl = stp_dec_uint(&dec);
    if (dec.failed || rl > (uint64_t)(dec.end - dec.p))
        return NULL;
    sg_doc_t *d = apr_pcalloc(pool, sizeof *d);
    stp_doc_t *cat;
    if (stp_doc_decode(&cat, dec.p, (apr_size_t)rl, pool) != APR_SUCCESS)
        return NULL;
    dec.p += rl;
    d->cat = *cat;
    d->dir = dir;
    d->xml_path = apr_pstrcat(pool, dir, "/doc.xml", NULL);
    d->line = (int)stp_dec_uint(&dec);
    const char *meta_fp = stp_dec_str(&dec, pool), *fp = stp_dec_str(&dec, pool);
    uint64_t nrefs = stp_dec_count(&dec, 2);
    if (dec.failed || strlen(meta_fp) != 64 || strlen(fp) != 64 || nrefs != (uint64_t)d->cat.files->nelts)
        return NULL;
    memcpy(d->meta_fp, meta_fp, 65);
    memcpy(d->fp, fp, 65);
    d->srcfiles = apr_array_make(pool, (int)nrefs + 1, sizeof(sg_srcfile_t));
    for (uint64_t i = 0; i < nrefs && !dec.failed; i++) {
        sg_srcfile_t *sf = &APR_ARRAY_PUSH(d->srcfiles, sg_srcfile_t);
        const char *ref = stp_dec_str(&dec, pool);
        sf->src = apr_pstrcat(pool, dir, "/", ref, NULL);
        sf->line = (int)stp_dec_uint(&dec);
        sf->file = APR_ARRAY_IDX(d->cat.files, (int)i, stp_file_t);
    }
    uint64_t nbodies = stp_dec_count(&dec, 2);
    d->bodies = apr_hash_make(pool);
    d->body_fps = apr_hash_make(pool);
    for (uint64_t i = 0; i < nbodies && !dec.failed; i++) {
        const char *lang = stp_dec_str(&dec, pool), *bfp = stp_dec_str(&dec, pool);
        apr_hash_set(d->bodies, lang, APR_HASH_KEY_STRING, sg_body_lazy);
        apr_hash_set(d->body_fps, lang, APR_HASH_KEY_STRING, bfp);
    }
    if (stp_dec_finish(&dec) != APR_SUCCESS)
        return NULL;
    /* Still the same files? */
    const char *now = sg_cache_signature(dir, doc_files(d, pool), salt, pool);
    if (!now || strcmp(now, sig))
        return NULL;
    d->sig = now;
    d->cached = rec->buf;
    d->cached_len = rec->len;
    d->tile = apr_hash_get(site->tile_index, d->cat.tile, APR_HASH_KEY_STRING);
    if (!d->tile)
        return NULL;
    return d;
}

/* --- the file ----------------------------------------------------------------------------- */

apr_hash_t *sg_cache_read(const char *path, apr_pool_t *pool)
{
    apr_hash_t *cache = apr_hash_make(pool);
    char *data;
    apr_size_t len;
    stp_dec_t dec;
    if (!path || sg_file_read(&data, &len, path, pool) != APR_SUCCESS)
        return cache;
    stp_dec_init(&dec, data, len);
    if (strcmp(stp_dec_str(&dec, pool), CACHE_MAGIC))
        return cache;
    uint64_t n = stp_dec_count(&dec, 2);
    for (uint64_t i = 0; i < n && !dec.failed; i++) {
        const char *folder = stp_dec_str(&dec, pool);
        uint64_t rl = stp_dec_uint(&dec);
        if (dec.failed || rl > (uint64_t)(dec.end - dec.p))
            break;
        stp_enc_t *rec = apr_palloc(pool, sizeof *rec);
        rec->buf = (char *)dec.p;
        rec->len = (apr_size_t)rl;
        dec.p += rl;
        apr_hash_set(cache, folder, APR_HASH_KEY_STRING, rec);
    }
    return cache;
}

apr_status_t sg_cache_write(const sg_site_t *site, const char *path, apr_pool_t *pool)
{
    stp_enc_t e;
    apr_size_t cap = 64;
    for (int i = 0; i < site->docs->nelts; i++)
        cap += APR_ARRAY_IDX(site->docs, i, sg_doc_t *)->cached_len + 96;
    stp_enc_init(&e, pool);
    e.buf = apr_palloc(pool, cap); /* one allocation for the usual case: every record cached */
    e.cap = cap;
    stp_enc_str(&e, CACHE_MAGIC);
    stp_enc_uint(&e, (uint64_t)site->docs->nelts);
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        apr_size_t len = d->cached_len;
        const char *folder = strrchr(d->dir, '/') + 1;
        const char *rec = d->cached ? (const char *)d->cached : encode_doc(&len, d, d->sig ? d->sig : "", pool);
        stp_enc_str(&e, folder);
        stp_enc_bytes(&e, rec, len);
    }
    return sg_file_write(path, e.buf, e.len, pool);
}

const char *sg_body_text(const sg_doc_t *d, const char *lang, apr_pool_t *pool)
{
    const char *md = apr_hash_get(d->bodies, lang, APR_HASH_KEY_STRING);
    char *data;
    apr_size_t len;
    if (md != sg_body_lazy)
        return md;
    if (sg_file_read(&data, &len, apr_pstrcat(pool, d->dir, "/", lang, ".md", NULL), pool) != APR_SUCCESS)
        return NULL;
    return data;
}
