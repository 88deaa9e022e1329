#include "sg_util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
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

int sg_errors_count(const sg_errors_t *errs)
{
    return errs->list->nelts;
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
