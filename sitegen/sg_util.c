#include "sg_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>
#include <apr_strings.h>

sg_errors_t *sg_errors_make(apr_pool_t *pool)
{
    sg_errors_t *errs = apr_pcalloc(pool, sizeof *errs);
    errs->pool = pool;
    errs->list = apr_array_make(pool, 16, sizeof(const char *));
    return errs;
}

void sg_error(sg_errors_t *errs, const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = apr_pvsprintf(errs->pool, fmt, ap);
    va_end(ap);
    /* Always path:line, so that editors and tools can jump to it; a whole-file problem is line 1. */
    APR_ARRAY_PUSH(errs->list, const char *) = apr_psprintf(errs->pool, "%s:%d: %s", path, line > 0 ? line : 1, msg);
}

void sg_error_note(sg_errors_t *errs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    APR_ARRAY_PUSH(errs->list, const char *) = apr_pvsprintf(errs->pool, fmt, ap);
    va_end(ap);
}

int sg_errors_count(const sg_errors_t *errs)
{
    return errs->list->nelts;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0; *bad: how many bytes make up
 * the invalid start (the lead byte and the continuation bytes that still fitted). */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t n, apr_size_t *bad)
{
    unsigned char c = s[0];
    apr_size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
        hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (apr_size_t i = 1; i < need; i++) {
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
        if (i >= n || s[i] < min || s[i] > max) {
            *bad = i;
            return 0;
        }
    }
    return need;
}

const char *sg_utf8_text(char **data, apr_size_t *len, int *line, apr_pool_t *pool)
{
    const unsigned char *s = (const unsigned char *)*data;
    apr_size_t n = *len, i = 0, bad = 0;
    if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
        *data += 3;
        *len -= 3;
        s += 3;
        n -= 3;
    }
    *line = 1;
    while (i < n) {
        apr_size_t k = utf8_seq(s + i, n - i, &bad);
        if (k == 0)
            break;
        *line += s[i] == '\n';
        i += k;
    }
    if (i >= n)
        return NULL;
    /* Every bad byte of that line, so that the editor sees which characters are meant (E4: ä in Latin-1). */
    char hex[3 * 16 + 8] = "";
    apr_size_t shown = 0, at = 0;
    while (i < n && s[i] != '\n') {
        apr_size_t k = utf8_seq(s + i, n - i, &bad);
        if (k) {
            i += k;
            continue;
        }
        for (apr_size_t j = 0; j < bad; j++, shown++)
            if (shown < 16)
                at += (apr_size_t)snprintf(hex + at, sizeof hex - at, "%s%02X", at ? " " : "", s[i + j]);
        i += bad;
    }
    if (shown > 16)
        snprintf(hex + at, sizeof hex - at, " ...");
    return apr_psprintf(pool, "not UTF-8 (byte%s %s): save the file as UTF-8", shown > 1 ? "s" : "", hex);
}

apr_status_t sg_file_read(char **data, apr_size_t *len, const char *path, apr_pool_t *pool)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool);
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f)) != APR_SUCCESS) {
        apr_file_close(f);
        return rv;
    }
    if (fi.filetype != APR_REG) {
        apr_file_close(f);
        return APR_EINVAL;
    }
    char *buf = apr_palloc(pool, (apr_size_t)fi.size + 1);
    apr_size_t n = (apr_size_t)fi.size;
    rv = n ? apr_file_read_full(f, buf, n, &n) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        return rv;
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return APR_SUCCESS;
}

/* A link is told apart from other failures by looking at the entry itself: open with O_NOFOLLOW
 * says ELOOP for a link as the last component, but ENOTDIR for one where a directory is wanted. */
static int open_step(int dirfd, const char *name, int flags)
{
    struct stat st;
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno != ELOOP) {
        int saved = errno;
        errno = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ? ELOOP : saved;
    }
    return fd;
}

int sg_openat_nofollow(int dirfd, const char *rel, int want_dir, apr_size_t *bad)
{
    char name[256];
    int cur = dirfd;
    const char *p = rel;
    for (;;) {
        size_t seg = strcspn(p, "/");
        if (seg == 0 || seg >= sizeof name || (seg == 1 && *p == '.') || (seg == 2 && !strncmp(p, "..", 2))) {
            if (cur != dirfd)
                close(cur);
            errno = EINVAL;
            return -1;
        }
        memcpy(name, p, seg);
        name[seg] = '\0';
        int last = p[seg] == '\0';
        int fd = open_step(cur, name, last && !want_dir ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY);
        int saved = errno;
        if (cur != dirfd)
            close(cur);
        if (fd < 0) {
            if (bad)
                *bad = (apr_size_t)(p - rel) + seg;
            errno = saved;
            return -1;
        }
        if (last) {
            struct stat st;
            if (!want_dir && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
                close(fd);
                errno = EINVAL;
                return -1;
            }
            return fd;
        }
        cur = fd;
        p += seg + 1;
    }
}

int sg_open_beneath(const char *root, const char *rel, int want_dir, apr_size_t *bad)
{
    int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -1;
    int fd = sg_openat_nofollow(dirfd, rel, want_dir, bad);
    int saved = errno;
    close(dirfd);
    errno = saved;
    return fd;
}

apr_status_t sg_fd_read(char **data, apr_size_t *len, int fd, apr_pool_t *pool)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return APR_EINVAL;
    }
    apr_size_t cap = (apr_size_t)st.st_size, n = 0;
    char *buf = apr_palloc(pool, cap + 1);
    while (n < cap) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            apr_status_t rv = APR_FROM_OS_ERROR(errno);
            close(fd);
            return rv;
        }
        if (got == 0)
            break; /* shrank while reading: what is there */
        n += (apr_size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return APR_SUCCESS;
}

apr_status_t sg_fd_sha256(char hex[65], apr_uint64_t *size, int fd)
{
    stp_hash_t *ctx = stp_hash_new();
    unsigned char md[STP_HASH_LEN];
    char buf[65536];
    *size = 0;
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            apr_status_t rv = APR_FROM_OS_ERROR(errno);
            close(fd);
            stp_hash_free(ctx);
            return rv;
        }
        if (got == 0)
            break;
        stp_hash_update(ctx, buf, (size_t)got);
        *size += (apr_uint64_t)got;
    }
    close(fd);
    stp_hash_final(md, ctx);
    stp_hash_free(ctx);
    stp_hash_hex(hex, md, sizeof md);
    return APR_SUCCESS;
}

apr_status_t sg_file_copy_nofollow(const char *src, const char *dst, apr_pool_t *pool)
{
    struct stat st;
    char buf[65536];
    apr_status_t rv = APR_SUCCESS;
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return APR_FROM_OS_ERROR(errno);
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return APR_EINVAL;
    }
    apr_file_t *out;
    if ((rv = apr_file_open(&out, dst, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL | APR_FOPEN_BINARY,
                            APR_FPROT_OS_DEFAULT & ~(APR_FPROT_UEXECUTE | APR_FPROT_GEXECUTE | APR_FPROT_WEXECUTE),
                            pool)) != APR_SUCCESS) {
        close(in);
        return rv;
    }
    for (;;) {
        ssize_t got = read(in, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rv = APR_FROM_OS_ERROR(errno);
        if (got <= 0)
            break;
        if ((rv = apr_file_write_full(out, buf, (apr_size_t)got, NULL)) != APR_SUCCESS)
            break;
    }
    close(in);
    apr_status_t rc = apr_file_close(out);
    return rv != APR_SUCCESS ? rv : rc;
}

apr_status_t sg_file_write(const char *path, const void *data, apr_size_t len, apr_pool_t *pool)
{
    apr_file_t *f;
    apr_status_t rv =
        apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL | APR_FOPEN_BINARY,
                      APR_FPROT_OS_DEFAULT & ~(APR_FPROT_UEXECUTE | APR_FPROT_GEXECUTE | APR_FPROT_WEXECUTE), pool);
    if (rv != APR_SUCCESS)
        return rv;
    apr_size_t n = len;
    rv = len ? apr_file_write_full(f, data, len, &n) : APR_SUCCESS;
    apr_status_t rc = apr_file_close(f);
    return rv != APR_SUCCESS ? rv : rc;
}

apr_status_t sg_mkdir_p(const char *path, apr_pool_t *pool)
{
    return apr_dir_make_recursive(path, APR_FPROT_OS_DEFAULT, pool);
}

/* Plain POSIX: lstat never follows the shard symlinks, and the entries are read in full before
 * any is removed (removing while reading may skip entries). */
apr_status_t sg_rm_rf(const char *path, apr_pool_t *pool)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    DIR *dir = opendir(path);
    if (!dir)
        return APR_FROM_OS_ERROR(errno);
    apr_pool_t *sub;
    apr_pool_create(&sub, pool);
    apr_array_header_t *names = apr_array_make(sub, 64, sizeof(const char *));
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            APR_ARRAY_PUSH(names, const char *) = apr_pstrcat(sub, path, "/", e->d_name, NULL);
    closedir(dir);
    apr_status_t rv = APR_SUCCESS;
    for (int i = 0; i < names->nelts && rv == APR_SUCCESS; i++)
        rv = sg_rm_rf(APR_ARRAY_IDX(names, i, const char *), sub);
    apr_pool_destroy(sub);
    if (rv == APR_SUCCESS && rmdir(path) != 0)
        rv = APR_FROM_OS_ERROR(errno);
    return rv;
}

apr_status_t sg_file_sha256(char hex[65], apr_uint64_t *size, const char *path, apr_pool_t *pool)
{
    apr_file_t *f;
    unsigned char md[STP_HASH_LEN];
    char buf[65536];
    apr_size_t n;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool);
    if (rv != APR_SUCCESS)
        return rv;
    stp_hash_t *h = stp_hash_new();
    *size = 0;
    do {
        n = sizeof buf;
        rv = apr_file_read(f, buf, &n);
        if (rv == APR_SUCCESS || (rv == APR_EOF && n)) {
            stp_hash_update(h, buf, n);
            *size += n;
        }
    } while (rv == APR_SUCCESS);
    apr_file_close(f);
    stp_hash_final(md, h);
    stp_hash_free(h);
    if (rv != APR_EOF)
        return rv;
    stp_hash_hex(hex, md, sizeof md);
    return APR_SUCCESS;
}

void sg_fp_init(sg_fp_t *fp)
{
    fp->h = stp_hash_new();
}

void sg_fp_add(sg_fp_t *fp, const void *data, apr_size_t len)
{
    unsigned char n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (unsigned char)((apr_uint64_t)len >> (8 * i));
    stp_hash_update(fp->h, n, sizeof n);
    stp_hash_update(fp->h, data, len);
}

void sg_fp_str(sg_fp_t *fp, const char *s)
{
    sg_fp_add(fp, s ? s : "", s ? strlen(s) : 0);
}

void sg_fp_hex(char out[65], sg_fp_t *fp)
{
    unsigned char md[STP_HASH_LEN];
    stp_hash_final(md, fp->h);
    sg_fp_drop(fp);
    stp_hash_hex(out, md, sizeof md);
}

void sg_fp_drop(sg_fp_t *fp)
{
    stp_hash_free(fp->h);
    fp->h = NULL;
}

typedef struct {
    int n;
    sg_for_fn *fn;
    void *baton;
    volatile apr_uint32_t next;
} for_job_t;

typedef struct {
    for_job_t *job;
    apr_pool_t *pool;
} for_worker_t;

static void *APR_THREAD_FUNC for_worker(apr_thread_t *thread, void *data)
{
    for_worker_t *w = data;
    for (apr_uint32_t i; (i = apr_atomic_inc32(&w->job->next)) < (apr_uint32_t)w->job->n;)
        w->job->fn(w->job->baton, (int)i, w->pool);
    (void)thread; /* returning ends the thread (see worker() in sg_build.c) */
    return NULL;
}

void sg_parallel_for(int n, int jobs, sg_for_fn *fn, void *baton, apr_pool_t *pool)
{
    for_job_t job = {n, fn, baton, 0};
    int threads = jobs > 1 ? jobs : 1;
    for_worker_t *w = apr_pcalloc(pool, sizeof *w * (apr_size_t)threads);
    apr_thread_t **t = apr_pcalloc(pool, sizeof *t * (apr_size_t)threads);
    for (int i = 0; i < threads; i++) {
        w[i].job = &job;
        apr_pool_create(&w[i].pool, pool);
    }
    for (int i = 1; i < threads; i++)
        if (apr_thread_create(&t[i], NULL, for_worker, &w[i], pool) != APR_SUCCESS)
            t[i] = NULL;
    for_worker(NULL, &w[0]); /* this thread works too */
    for (int i = 1; i < threads; i++) {
        apr_status_t rv;
        if (t[i])
            apr_thread_join(&rv, t[i]);
    }
}
