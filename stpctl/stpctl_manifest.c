/* stpctl_manifest: the content manifest of a published build, so that a copy on another node can be
 * checked against its source before it is served. sitegen's own .manifest holds the fingerprints of
 * a build's inputs, not of its bytes; this one hashes the bytes. One line per entry, each
 * directory's entries in byte order of their names, a directory before its contents:
 *
 *   stp-build-manifest 1
 *   d MODE PATH                  a directory
 *   f MODE SIZE SHA256 PATH      a regular file
 *   l TARGET PATH                a symlink, never followed
 *
 * then, for each store shard the build links (sitegen's "../store/FP" links), the shard directory
 * as "../store/FP" and its entries under that prefix. MODE is the octal permission bits; PATH and
 * TARGET write bytes below 0x21, 0x7f and '\' as \xHH. Two trees are the same build exactly when
 * their manifests are the same bytes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "stp_hash.h"
#include "stp_layout.h"
#include "stpctl.h"

typedef struct {
    FILE *out;
    stp_hash_t *hash;
    unsigned char *buf;
    apr_hash_t *shards; /* fp -> fp, the store directories the build links */
    long entries;
    char *err;
    apr_size_t errlen;
    apr_pool_t *pool;
} walk_t;

#define READ_BUF (256 * 1024)

static void put_escaped(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x21 || *p == 0x7f || *p == '\\')
            fprintf(out, "\\x%02x", *p);
        else
            putc(*p, out);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static apr_status_t fail(walk_t *w, int e, const char *what, const char *path)
{
    apr_snprintf(w->err, w->errlen, "%s %s: %s", what, path, strerror(e));
    return APR_FROM_OS_ERROR(e);
}

/* sitegen links a shard directory at PATH (k slashes deep) as ("../" x (k + 1)) "store/FP":
 * the store beside the build. Returns FP, or NULL for any other link. */
static const char *shard_fp(const char *rel, const char *target)
{
    for (const char *p = rel; *p; p++)
        if (*p == '/' && strncmp(target, "../", 3) == 0)
            target += 3;
        else if (*p == '/')
            return NULL;
    if (strncmp(target, "../" STP_SITE_STORE "/", sizeof "../" STP_SITE_STORE "/" - 1))
        return NULL;
    target += sizeof "../" STP_SITE_STORE "/" - 1;
    if (!*target || strlen(target) > STP_HASH_HEX_LEN || strspn(target, "0123456789abcdef") != strlen(target))
        return NULL;
    return target;
}

static apr_status_t hash_file(walk_t *w, const char *path, apr_off_t *size, char hex[STP_HASH_HEX_LEN + 1])
{
    unsigned char md[STP_HASH_LEN];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return fail(w, errno, "cannot read", path);
    *size = 0;
    for (;;) {
        ssize_t n = read(fd, w->buf, READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return fail(w, e, "cannot read", path);
        }
        if (n == 0)
            break;
        stp_hash_update(w->hash, w->buf, (size_t)n);
        *size += n;
    }
    close(fd);
    stp_hash_final(md, w->hash);
    stp_hash_hex(hex, md, sizeof md);
    return APR_SUCCESS;
}

/* Lists the directory `abs` (shown as `rel`, "" for the build root) and everything under it. */
static apr_status_t walk_dir(walk_t *w, const char *abs, const char *rel, int in_build)
{
    apr_pool_t *p;
    apr_pool_create(&p, w->pool);
    apr_array_header_t *names = apr_array_make(p, 32, sizeof(const char *));
    DIR *d = opendir(abs);
    if (!d) {
        apr_status_t rv = fail(w, errno, "cannot list", abs);
        apr_pool_destroy(p);
        return rv;
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, de->d_name);
    int e = errno;
    closedir(d);
    if (e) {
        apr_pool_destroy(p);
        return fail(w, e, "cannot list", abs);
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), by_name);

    apr_status_t rv = APR_SUCCESS;
    for (int i = 0; i < names->nelts && rv == APR_SUCCESS; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        const char *path = apr_pstrcat(p, abs, "/", name, NULL);
        const char *r = *rel ? apr_pstrcat(p, rel, "/", name, NULL) : name;
        struct stat st;
        w->entries++;
        if (lstat(path, &st) != 0) {
            rv = fail(w, errno, "cannot stat", path);
            break;
        }
        unsigned mode = (unsigned)(st.st_mode & 07777);
        if (S_ISDIR(st.st_mode)) {
            fprintf(w->out, "d %o ", mode);
            put_escaped(w->out, r);
            putc('\n', w->out);
            rv = walk_dir(w, path, r, in_build);
        } else if (S_ISREG(st.st_mode)) {
            apr_off_t size = 0;
            char hex[STP_HASH_HEX_LEN + 1];
            if ((rv = hash_file(w, path, &size, hex)) != APR_SUCCESS)
                break;
            fprintf(w->out, "f %o %" APR_OFF_T_FMT " %s ", mode, size, hex);
            put_escaped(w->out, r);
            putc('\n', w->out);
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n < 0) {
                rv = fail(w, errno, "cannot read the link", path);
                break;
            }
            target[n] = '\0';
            fputs("l ", w->out);
            put_escaped(w->out, target);
            putc(' ', w->out);
            put_escaped(w->out, r);
            putc('\n', w->out);
            const char *fp = in_build ? shard_fp(r, target) : NULL;
            if (fp)
                apr_hash_set(w->shards, apr_pstrdup(w->pool, fp), APR_HASH_KEY_STRING, "");
        } else {
            apr_snprintf(w->err, w->errlen, "%s is neither a file, a directory nor a link", path);
            rv = APR_EINVAL;
        }
    }
    apr_pool_destroy(p);
    return rv;
}

apr_status_t stpctl_manifest_make(char **text, apr_size_t *len, long *entries, const char *build, char *err,
                                  apr_size_t errlen, apr_pool_t *pool)
{
    walk_t w = {NULL, NULL, NULL, apr_hash_make(pool), 0, err, errlen, pool};
    char real[PATH_MAX];
    size_t size = 0;
    char *buf = NULL;
    struct stat st;
    apr_status_t rv;

    if (!realpath(build, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(&w, errno ? errno : ENOTDIR, "cannot open the build", build);
    const char *site = apr_pstrmemdup(pool, real, (apr_size_t)(strrchr(real, '/') - real));
    if (!(w.out = open_memstream(&buf, &size)))
        return fail(&w, errno, "cannot list", build);
    w.hash = stp_hash_new();
    w.buf = malloc(READ_BUF);
    fputs("stp-build-manifest 1\n", w.out);
    rv = w.buf ? walk_dir(&w, real, "", 1) : APR_ENOMEM;

    /* Then the shards, in the order of their names. */
    apr_array_header_t *fps = apr_array_make(pool, 64, sizeof(const char *));
    for (apr_hash_index_t *hi = apr_hash_first(pool, w.shards); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(fps, const char *) = apr_hash_this_key(hi);
    qsort(fps->elts, (size_t)fps->nelts, sizeof(const char *), by_name);
    for (int i = 0; i < fps->nelts && rv == APR_SUCCESS; i++) {
        const char *fp = APR_ARRAY_IDX(fps, i, const char *);
        const char *rel = apr_pstrcat(pool, "../" STP_SITE_STORE "/", fp, NULL);
        const char *abs = apr_pstrcat(pool, site, "/" STP_SITE_STORE "/", fp, NULL);
        if (lstat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rv = fail(&w, errno ? errno : ENOTDIR, "missing store directory", abs);
            break;
        }
        w.entries++;
        fprintf(w.out, "d %o %s\n", (unsigned)(st.st_mode & 07777), rel);
        rv = walk_dir(&w, abs, rel, 0);
    }
    free(w.buf);
    stp_hash_free(w.hash);
    if (fclose(w.out) != 0 && rv == APR_SUCCESS)
        rv = fail(&w, errno, "cannot list", build);
    if (rv == APR_SUCCESS) {
        *text = apr_pmemdup(pool, buf, size + 1);
        *len = size;
        if (entries)
            *entries = w.entries;
    }
    free(buf);
    return rv;
}

/* One line of `s`, at most 300 bytes of it, for a message. */
static const char *line_at(const char *s, apr_size_t len, apr_size_t at, apr_pool_t *pool)
{
    if (at >= len)
        return "(end of the manifest)";
    const char *nl = memchr(s + at, '\n', len - at);
    apr_size_t n = nl ? (apr_size_t)(nl - (s + at)) : len - at;
    return apr_pstrmemdup(pool, s + at, n > 300 ? 300 : n);
}

const char *stpctl_manifest_diff(const char *want, apr_size_t wlen, const char *have, apr_size_t hlen, apr_pool_t *pool)
{
    if (wlen == hlen && memcmp(want, have, wlen) == 0)
        return NULL;
    apr_size_t i = 0, line;
    while (i < wlen && i < hlen && want[i] == have[i])
        i++;
    /* back to the start of the line where they part */
    for (line = i; line > 0 && want[line - 1] != '\n'; line--)
        ;
    return apr_psprintf(pool, "expected \"%s\", found \"%s\"", line_at(want, wlen, line, pool),
                        line_at(have, hlen, line, pool));
}
