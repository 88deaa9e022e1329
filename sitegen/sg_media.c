#include "sg_media.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "sg_markdown.h"
#include "sg_validate.h"
#include "stp_paths.h"

/* The image formats published, by extension, with the bytes each file starts with. SVG is not
 * among them: opened on its own, an SVG is a document of the portal's origin that can carry
 * scripts, links and forms. */
static const struct {
    const char *ext, *as, *name, *magic;
    size_t at, len;
} formats[] = {{"png", "png", "PNG", "\x89PNG\r\n\x1a\n", 0, 8},
               {"jpg", "jpg", "JPEG", "\xff\xd8\xff", 0, 3},
               {"jpeg", "jpg", "JPEG", "\xff\xd8\xff", 0, 3},
               {"gif", "gif", "GIF", "GIF8", 0, 4},
               {"webp", "webp", "WebP", "WEBP", 8, 4}};

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The path in the document folder that a body's address names, or NULL when it names none (an
 * address with a scheme, //host, /path, #fragment or ?query only). The query and fragment are cut
 * off, percent escapes decoded and leading "./" dropped. *nul is set when it decodes to a NUL.
 * A link "../<id>/" is another document's page, relative to this one's (/<lang>/docs/<id>/): no
 * path of the folder either. */
static const char *folder_path(const char *url, int image, int *nul, apr_pool_t *pool)
{
    size_t s = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    *nul = 0;
    /* "C:\..." is a Windows path, not a scheme: sg_path_open explains it */
    if (!*url || strchr("#?/", *url) || (url[s] == ':' && s > 1))
        return NULL;
    apr_size_t il = !image && !strncmp(url, "../", 3) ? stp_paths_ident_len(url + 3) : 0;
    if (il && (!url[3 + il] || strchr("/#?", url[3 + il])) &&
        (url[3 + il] != '/' || !url[4 + il] || strchr("#?", url[4 + il])))
        return NULL;
    size_t n = strcspn(url, "?#");
    char *out = apr_palloc(pool, n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? hexval(url[i + 1]) : -1, lo = i + 2 < n ? hexval(url[i + 2]) : -1;
        if (url[i] == '%' && hi >= 0 && lo >= 0) {
            char c = (char)(hi * 16 + lo);
            *nul |= !c;
            *o++ = c;
            i += 2;
        } else {
            *o++ = url[i];
        }
    }
    *o = '\0';
    while (out[0] == '.' && out[1] == '/')
        out += 2;
    return out;
}

/* A file's path relative to the document folder. */
static const char *file_rel(const sg_doc_t *d, const sg_srcfile_t *sf)
{
    apr_size_t dl = strlen(d->dir);
    return !strncmp(sf->src, d->dir, dl) && sf->src[dl] == '/' ? sf->src + dl + 1 : sf->src;
}

static const sg_srcfile_t *file_named(const sg_doc_t *d, const char *rel)
{
    for (int i = 0; i < d->srcfiles->nelts; i++) {
        const sg_srcfile_t *sf = &APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t);
        if (!strcmp(file_rel(d, sf), rel))
            return sf;
    }
    return NULL;
}

static const sg_image_t *image_named(const sg_doc_t *d, const char *rel)
{
    for (int i = 0; d->images && i < d->images->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(d->images, i, sg_image_t).rel, rel))
            return &APR_ARRAY_IDX(d->images, i, sg_image_t);
    return NULL;
}

/* The index in formats of rel's extension (any case); -1 for none. The lowercase extension goes
 * into ext (at least 8 bytes). */
static int format_of(const char *rel, char *ext)
{
    const char *dot = strrchr(rel, '.'), *slash = strrchr(rel, '/');
    ext[0] = '\0';
    if (dot && (!slash || dot > slash) && strlen(dot + 1) < 8) {
        size_t i;
        for (i = 0; dot[i + 1]; i++)
            ext[i] = (char)(dot[i + 1] >= 'A' && dot[i + 1] <= 'Z' ? dot[i + 1] + 32 : dot[i + 1]);
        ext[i] = '\0';
    }
    for (size_t f = 0; f < sizeof formats / sizeof *formats; f++)
        if (!strcmp(ext, formats[f].ext))
            return (int)f;
    return -1;
}

const char *sg_media_name(const char *sha256, const char *rel, apr_pool_t *pool)
{
    char ext[8];
    int f = format_of(rel, ext);
    return f < 0 ? NULL : apr_pstrcat(pool, apr_pstrmemdup(pool, sha256, 32), ".", formats[f].as, NULL);
}

/* --- checking ----------------------------------------------------------------------------------- */

typedef struct {
    const char *body; /* its path, for messages */
    const char *url;
    int image, line;
} ref_t;

typedef struct {
    const char *body;
    apr_array_header_t *refs; /* ref_t */
    apr_pool_t *pool;
} refs_t;

static void add_ref(void *baton, const char *url, int image, int line)
{
    refs_t *r = baton;
    ref_t *ref = &APR_ARRAY_PUSH(r->refs, ref_t);
    ref->body = r->body;
    ref->url = apr_pstrdup(r->pool, url);
    ref->image = image;
    ref->line = line;
}

/* sg_path_open's message, about an image or a link instead of a file. */
static const char *as_ref(const char *problem, const char *what, apr_pool_t *pool)
{
    return !strncmp(problem, "file '", 6) ? apr_pstrcat(pool, what, problem + 4, NULL) : problem;
}

/* Checks one image file; NULL and *img filled when it is published, else the problem. */
static const char *check_image(sg_image_t *img, const sg_doc_t *d, int dfd, const char *rel, apr_pool_t *pool)
{
    char ext[8];
    int f = format_of(rel, ext);
    if (file_named(d, rel))
        return apr_psprintf(pool,
                            "image '%s' is also a file to download (<file> in doc.xml): an image in the body is "
                            "published for everyone who sees the page; show a separate copy",
                            rel);
    if (!strcmp(ext, "svg") || !strcmp(ext, "svgz"))
        return apr_psprintf(
            pool, "image '%s': SVG images are not published (an SVG can carry scripts); export it as PNG", rel);
    if (f < 0)
        return apr_psprintf(pool, "image '%s' must be a PNG, JPEG, GIF or WebP file (.png, .jpg, .jpeg, .gif, .webp)",
                            rel);
    int fd;
    const char *problem = sg_path_open(&fd, dfd, rel, pool);
    if (problem)
        return as_ref(problem, "image", pool);
    struct stat st;
    unsigned char head[16] = {0};
    if (fstat(fd, &st) != 0 || pread(fd, head, sizeof head, 0) < 0) {
        close(fd);
        return apr_psprintf(pool, "cannot read image '%s'", rel);
    }
    if ((apr_uint64_t)st.st_size > SG_IMAGE_MAX) {
        close(fd);
        return apr_psprintf(pool, "image '%s' is %.1f MiB; an image may be at most %d MiB", rel,
                            (double)st.st_size / (1024.0 * 1024.0), (int)(SG_IMAGE_MAX / (1024 * 1024)));
    }
    if (memcmp(head + formats[f].at, formats[f].magic, formats[f].len) ||
        (!strcmp(formats[f].as, "webp") && memcmp(head, "RIFF", 4))) {
        close(fd);
        return apr_psprintf(pool, "image '%s' does not hold %s data (its first bytes say otherwise)", rel,
                            formats[f].name);
    }
    if (sg_fd_sha256(img->sha256, &img->size, fd) != APR_SUCCESS)
        return apr_psprintf(pool, "cannot read image '%s'", rel);
    if (img->size > SG_IMAGE_MAX) /* grew since fstat */
        return apr_psprintf(pool, "image '%s' is larger than %d MiB", rel, (int)(SG_IMAGE_MAX / (1024 * 1024)));
    img->rel = rel;
    img->src = apr_pstrcat(pool, d->dir, "/", rel, NULL);
    img->name = sg_media_name(img->sha256, rel, pool);
    return NULL;
}

/* A link's problem, or NULL when it names a file to download or a published image. */
static const char *check_link(const sg_doc_t *d, int dfd, const char *rel, apr_pool_t *pool)
{
    if (file_named(d, rel) || image_named(d, rel))
        return NULL;
    int fd;
    const char *problem = sg_path_open(&fd, dfd, rel, pool);
    if (problem)
        return as_ref(problem, "link", pool);
    close(fd);
    return apr_psprintf(pool,
                        "link '%s' names a file that is not published: list it as a <file> in doc.xml to offer "
                        "it for download",
                        rel);
}

typedef struct {
    const char *body;
    int line;
    const char *msg;
} problem_t;

static int cmp_problem(const void *a, const void *b)
{
    const problem_t *x = a, *y = b;
    int c = strcmp(x->body, y->body);
    return c ? c : x->line - y->line;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void sg_media_check(sg_doc_t *d, int dfd, sg_errors_t *errs, apr_pool_t *pool)
{
    refs_t r = {NULL, apr_array_make(pool, 8, sizeof(ref_t)), pool};
    apr_array_header_t *langs = apr_array_make(pool, 5, sizeof(const char *));
    apr_array_header_t *problems = apr_array_make(pool, 1, sizeof(problem_t));
    apr_hash_t *judged = apr_hash_make(pool); /* image rel -> its problem, or "" */
    d->images = apr_array_make(pool, 1, sizeof(sg_image_t));
    for (apr_hash_index_t *hi = apr_hash_first(pool, d->bodies); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(langs, const char *) = apr_hash_this_key(hi);
    qsort(langs->elts, (size_t)langs->nelts, sizeof(const char *), cmp_str);
    for (int i = 0; i < langs->nelts; i++) {
        const char *lang = APR_ARRAY_IDX(langs, i, const char *);
        const char *md = apr_hash_get(d->bodies, lang, APR_HASH_KEY_STRING);
        r.body = apr_pstrcat(pool, d->dir, "/", lang, ".md", NULL);
        sg_markdown_refs(md, strlen(md), add_ref, &r);
    }
    /* Images first, so that a link may name an image shown anywhere in the bodies. */
    for (int pass = 1; pass >= 0; pass--) {
        for (int i = 0; i < r.refs->nelts; i++) {
            const ref_t *ref = &APR_ARRAY_IDX(r.refs, i, ref_t);
            int nul;
            const char *rel = ref->image == pass ? folder_path(ref->url, pass, &nul, pool) : NULL, *msg = NULL;
            if (!rel)
                continue;
            if (nul) {
                msg = apr_psprintf(pool, "%s '%s' is not a plain path (it holds %%00)", pass ? "image" : "link",
                                   ref->url);
            } else if (pass) {
                msg = apr_hash_get(judged, rel, APR_HASH_KEY_STRING);
                if (!msg) {
                    sg_image_t img;
                    msg = check_image(&img, d, dfd, rel, pool);
                    if (!msg)
                        APR_ARRAY_PUSH(d->images, sg_image_t) = img;
                    apr_hash_set(judged, rel, APR_HASH_KEY_STRING, msg ? msg : "");
                }
            } else {
                msg = check_link(d, dfd, rel, pool);
            }
            if (msg && *msg) {
                problem_t *p = &APR_ARRAY_PUSH(problems, problem_t);
                p->body = ref->body;
                p->line = ref->line;
                p->msg = msg;
            }
        }
    }
    qsort(problems->elts, (size_t)problems->nelts, sizeof(problem_t), cmp_problem);
    for (int i = 0; i < problems->nelts; i++) {
        const problem_t *p = &APR_ARRAY_IDX(problems, i, problem_t);
        sg_error(errs, p->body, p->line, "%s", p->msg);
    }
}

/* --- rendering ---------------------------------------------------------------------------------- */

const char *sg_media_url(const sg_doc_t *d, const char *url, int image, const char *lang, int org, apr_pool_t *pool)
{
    int nul;
    const char *rel = folder_path(url, image, &nul, pool), *frag = strchr(url, '#');
    const sg_image_t *img = rel && !nul ? image_named(d, rel) : NULL;
    const sg_srcfile_t *sf = rel && !nul && !image ? file_named(d, rel) : NULL;
    if (img)
        return apr_pstrcat(pool, "/", lang, org ? "/org" : "", "/docs/", d->cat.id, "/", img->name, NULL);
    if (sf)
        return apr_pstrcat(pool, "/download/", d->cat.id, "?lang=", sf->file.lang, frag ? frag : "", NULL);
    return NULL;
}
