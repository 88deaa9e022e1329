#include "sg_cache.h"
#include "sg_media.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "stp_codec.h"

const char sg_body_lazy[] = "";

#define CACHE_MAGIC "stp-doccache-3"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Binary, so that no formatting is needed: only the same build of sitegen reads it back. */
static void fp_stat(sg_fp_t *fp, const char *name, const struct stat *st)
{
    uint64_t v[4] = {(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
                     (uint64_t)st->st_ino};
    sg_fp_str(fp, name);
    sg_fp_add(fp, v, sizeof v);
}

const char *sg_cache_signature(int docs_fd, const char *folder, const apr_array_header_t *names, const char *salt,
                               apr_pool_t *pool)
{
    struct stat st;
    sg_fp_t fp;
    char path[4096];
    /* The folder's own times change when a file is added, removed or renamed in it; each file's
     * own stat covers changes to its contents. No listing, and every path is looked up from the
     * docs folder, which the caller opened once: one system call per file. */
    /* A symbolic link anywhere on the way means no signature, so that the folder is loaded afresh
     * and the loader refuses the link: the cache must not let one through. */
    if (fstatat(docs_fd, folder, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode))
        return NULL;
    sg_fp_init(&fp);
    sg_fp_str(&fp, salt);
    fp_stat(&fp, ".", &st);
    for (int i = 0; names && i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        int n = snprintf(path, sizeof path, "%s/%s", folder, name);
        if (n < 0 || (size_t)n >= sizeof path) {
            sg_fp_drop(&fp);
            return NULL;
        }
        /* Each directory on the way, then the file itself, without following. */
        int link = 0;
        for (char *slash = path + strlen(folder) + 1; !link && (slash = strchr(slash, '/')) != NULL; slash++) {
            *slash = '\0';
            link = fstatat(docs_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode);
            *slash = '/';
        }
        if (link || fstatat(docs_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode)) {
            sg_fp_drop(&fp);
            return NULL;
        }
        fp_stat(&fp, name, &st);
    }
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
    for (int i = 0; d->images && i < d->images->nelts; i++)
        APR_ARRAY_PUSH(refs, const char *) = APR_ARRAY_IDX(d->images, i, sg_image_t).rel;
    return refs;
}

void sg_cache_sign(sg_cache_note_t *note, const sg_doc_t *d, int docs_fd, const char *salt, apr_pool_t *pool)
{
    note->sig = sg_cache_signature(docs_fd, strrchr(d->dir, '/') + 1, doc_files(d, pool), salt, pool);
}

struct sg_cache_notes_t {
    apr_hash_t *by_doc;
};

sg_cache_notes_t *sg_cache_notes_make(apr_pool_t *pool)
{
    sg_cache_notes_t *n = apr_palloc(pool, sizeof *n);
    n->by_doc = apr_hash_make(pool);
    return n;
}

void sg_cache_notes_set(sg_cache_notes_t *notes, const sg_doc_t *d, const sg_cache_note_t *note)
{
    sg_cache_note_t *copy = apr_palloc(apr_hash_pool_get(notes->by_doc), sizeof *copy);
    *copy = *note;
    apr_hash_set(notes->by_doc, apr_pmemdup(apr_hash_pool_get(notes->by_doc), &d, sizeof d), sizeof d, copy);
}

/* --- records -------------------------------------------------------------------------------- */

static const char *encode_doc(apr_size_t *len, const sg_doc_t *d, const char *sig, apr_pool_t *pool)
{
    stp_enc_t e;
    apr_size_t rl;
    const char *rec = stp_catalog_doc_encode(&rl, &d->cat, pool);
    stp_codec_enc_init(&e, pool);
    stp_codec_enc_cstr(&e, sig);
    stp_codec_enc_bytes(&e, rec, rl);
    stp_codec_enc_uint(&e, (uint64_t)d->line);
    stp_codec_enc_cstr(&e, d->meta_fp);
    stp_codec_enc_cstr(&e, d->fp);
    stp_codec_enc_uint(&e, (uint64_t)d->srcfiles->nelts);
    for (int i = 0; i < d->srcfiles->nelts; i++) {
        stp_codec_enc_cstr(&e, src_name(d, i));
        stp_codec_enc_uint(&e, (uint64_t)APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t).line);
    }
    stp_codec_enc_uint(&e, apr_hash_count(d->body_fps));
    for (apr_hash_index_t *hi = apr_hash_first(pool, d->body_fps); hi; hi = apr_hash_next(hi)) {
        stp_codec_enc_cstr(&e, apr_hash_this_key(hi));
        stp_codec_enc_cstr(&e, apr_hash_this_val(hi));
    }
    stp_codec_enc_uint(&e, (uint64_t)d->images->nelts);
    for (int i = 0; i < d->images->nelts; i++) {
        const sg_image_t *img = &APR_ARRAY_IDX(d->images, i, sg_image_t);
        stp_codec_enc_cstr(&e, img->rel);
        stp_codec_enc_cstr(&e, img->sha256);
        stp_codec_enc_uint(&e, img->size);
    }
    stp_codec_enc_uint(&e, d->draft ? 1 : 0);
    stp_codec_enc_int(&e, d->goes_live); /* a preview build's record says 0 */
    *len = e.len;
    return e.buf;
}

sg_doc_t *sg_cache_lookup(sg_cache_note_t *note, apr_hash_t *cache, const sg_site_t *site, int docs_fd,
                          const char *folder, const char *dir, const char *salt, apr_pool_t *pool)
{
    const stp_enc_t *rec = cache ? apr_hash_get(cache, folder, APR_HASH_KEY_STRING) : NULL;
    stp_dec_t dec;
    if (!rec)
        return NULL;
    stp_codec_dec_init(&dec, rec->buf, rec->len);
    const char *sig = stp_codec_dec_cstr(&dec);
    uint64_t rl = stp_codec_dec_uint(&dec);
    if (dec.failed || rl > (uint64_t)(dec.end - dec.p))
        return NULL;
    sg_doc_t *d = apr_pcalloc(pool, sizeof *d);
    stp_doc_t *cat;
    if (stp_catalog_doc_decode(&cat, dec.p, (apr_size_t)rl, pool) != APR_SUCCESS)
        return NULL;
    dec.p += rl;
    d->cat = *cat;
    d->root = site->content_dir;
    d->dir = dir;
    d->xml_path = apr_pstrcat(pool, dir, "/doc.xml", NULL);
    d->line = (int)stp_codec_dec_uint(&dec);
    const char *meta_fp = stp_codec_dec_cstr(&dec), *fp = stp_codec_dec_cstr(&dec);
    uint64_t nrefs = stp_codec_dec_count(&dec, 2);
    if (dec.failed || strlen(meta_fp) != 64 || strlen(fp) != 64 || nrefs != (uint64_t)d->cat.files->nelts)
        return NULL;
    memcpy(d->meta_fp, meta_fp, 65);
    memcpy(d->fp, fp, 65);
    d->srcfiles = apr_array_make(pool, (int)nrefs + 1, sizeof(sg_srcfile_t));
    for (uint64_t i = 0; i < nrefs && !dec.failed; i++) {
        sg_srcfile_t *sf = &APR_ARRAY_PUSH(d->srcfiles, sg_srcfile_t);
        const char *ref = stp_codec_dec_cstr(&dec);
        sf->src = apr_pstrcat(pool, dir, "/", ref, NULL);
        sf->line = (int)stp_codec_dec_uint(&dec);
        sf->file = APR_ARRAY_IDX(d->cat.files, (int)i, stp_file_t);
    }
    uint64_t nbodies = stp_codec_dec_count(&dec, 2);
    d->bodies = apr_hash_make(pool);
    d->body_fps = apr_hash_make(pool);
    for (uint64_t i = 0; i < nbodies && !dec.failed; i++) {
        const char *lang = stp_codec_dec_cstr(&dec), *bfp = stp_codec_dec_cstr(&dec);
        apr_hash_set(d->bodies, lang, APR_HASH_KEY_STRING, sg_body_lazy);
        apr_hash_set(d->body_fps, lang, APR_HASH_KEY_STRING, bfp);
    }
    uint64_t nimages = stp_codec_dec_count(&dec, 3);
    d->images = apr_array_make(pool, (int)nimages + 1, sizeof(sg_image_t));
    for (uint64_t i = 0; i < nimages && !dec.failed; i++) {
        sg_image_t *img = &APR_ARRAY_PUSH(d->images, sg_image_t);
        img->rel = stp_codec_dec_cstr(&dec);
        const char *sha = stp_codec_dec_cstr(&dec);
        img->size = stp_codec_dec_uint(&dec);
        if (strlen(sha) != 64)
            return NULL;
        memcpy(img->sha256, sha, 65);
        img->src = apr_pstrcat(pool, dir, "/", img->rel, NULL);
        img->name = sg_media_name(img->sha256, img->rel, pool);
        if (!img->name)
            return NULL;
    }
    d->draft = stp_codec_dec_uint(&dec) != 0;
    d->goes_live = d->cat.live = (apr_time_t)stp_codec_dec_int(&dec);
    if (stp_codec_dec_finish(&dec) != APR_SUCCESS)
        return NULL;
    /* Still the same files? */
    const char *now = sg_cache_signature(docs_fd, folder, doc_files(d, pool), salt, pool);
    if (!now || strcmp(now, sig))
        return NULL;
    d->tile = apr_hash_get(site->tile_index, d->cat.tile, APR_HASH_KEY_STRING);
    if (!d->tile)
        return NULL;
    note->sig = now;
    note->rec = rec->buf;
    note->len = rec->len;
    return d;
}

/* --- the file ----------------------------------------------------------------------------- */

typedef struct {
    void *addr;
    size_t len;
} mapping_t;

static apr_status_t unmap(void *data)
{
    mapping_t *m = data;
    munmap(m->addr, m->len);
    return APR_SUCCESS;
}

/* Mapped rather than read: the records are used where they lie, and the pages come from the page
 * cache in one go instead of a copy and a fault per page. */
static const char *map_file(apr_size_t *len, const char *path, apr_pool_t *pool)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return NULL;
    }
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE;
#endif
    void *addr = mmap(NULL, (size_t)st.st_size, PROT_READ, flags, fd, 0);
    close(fd);
    if (addr == MAP_FAILED)
        return NULL;
    mapping_t *m = apr_palloc(pool, sizeof *m);
    m->addr = addr;
    m->len = (size_t)st.st_size;
    apr_pool_cleanup_register(pool, m, unmap, apr_pool_cleanup_null);
    *len = m->len;
    return addr;
}

apr_hash_t *sg_cache_read(const char *path, apr_pool_t *pool)
{
    apr_hash_t *cache = apr_hash_make(pool);
    apr_size_t len;
    const char *data = path ? map_file(&len, path, pool) : NULL;
    stp_dec_t dec;
    if (!data)
        return cache;
    stp_codec_dec_init(&dec, data, len);
    if (strcmp(stp_codec_dec_cstr(&dec), CACHE_MAGIC))
        return cache;
    uint64_t n = stp_codec_dec_count(&dec, 2);
    for (uint64_t i = 0; i < n && !dec.failed; i++) {
        const char *folder = stp_codec_dec_cstr(&dec);
        uint64_t rl = stp_codec_dec_uint(&dec);
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

apr_status_t sg_cache_write(const sg_site_t *site, const sg_cache_notes_t *notes, const char *path, apr_pool_t *pool)
{
    apr_file_t *f;
    stp_enc_t e;
    apr_status_t rv = apr_file_open(
        &f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL | APR_FOPEN_BINARY | APR_FOPEN_BUFFERED,
        APR_FPROT_OS_DEFAULT & ~(APR_FPROT_UEXECUTE | APR_FPROT_GEXECUTE | APR_FPROT_WEXECUTE), pool);
    if (rv != APR_SUCCESS)
        return rv;
    apr_file_buffer_set(f, apr_palloc(pool, 1 << 20), 1 << 20);
    stp_codec_enc_init(&e, pool);
    stp_codec_enc_cstr(&e, CACHE_MAGIC);
    stp_codec_enc_uint(&e, (uint64_t)site->docs->nelts);
    rv = apr_file_write_full(f, e.buf, e.len, NULL);
    /* Records go out as they are (most straight from the previous cache's mapping), each behind
     * its folder's name and length. */
    for (int i = 0; i < site->docs->nelts && rv == APR_SUCCESS; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        const sg_cache_note_t *note = notes ? apr_hash_get(notes->by_doc, &d, sizeof d) : NULL;
        apr_size_t len = note ? note->len : 0;
        const char *rec =
            note && note->rec ? (const char *)note->rec : encode_doc(&len, d, note && note->sig ? note->sig : "", pool);
        e.len = 0;
        stp_codec_enc_cstr(&e, strrchr(d->dir, '/') + 1);
        stp_codec_enc_uint(&e, (uint64_t)len);
        if ((rv = apr_file_write_full(f, e.buf, e.len, NULL)) == APR_SUCCESS)
            rv = apr_file_write_full(f, rec, len, NULL);
    }
    apr_status_t rc = apr_file_close(f);
    return rv != APR_SUCCESS ? rv : rc;
}

const char *sg_body_text(const sg_doc_t *d, const char *lang, apr_pool_t *pool)
{
    const char *md = apr_hash_get(d->bodies, lang, APR_HASH_KEY_STRING);
    char *data;
    apr_size_t len;
    if (md != sg_body_lazy)
        return md;
    /* Read as the loader reads: below the content directory, following no link. */
    int fd =
        sg_open_beneath(d->root, apr_pstrcat(pool, "docs/", strrchr(d->dir, '/') + 1, "/", lang, ".md", NULL), 0, NULL);
    int line;
    if (fd < 0 || sg_fd_read(&data, &len, fd, pool) != APR_SUCCESS)
        return NULL;
    /* Validated when the cache entry was made; this only drops the byte order mark again. */
    return sg_utf8_text(&data, &len, &line, pool) ? NULL : data;
}
