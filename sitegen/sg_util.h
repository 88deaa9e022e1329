/* sg_util: error collection, files and fingerprints for the generator. */
#ifndef SG_UTIL_H
#define SG_UTIL_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "stp_hash.h"

/* Content errors, reported together as "path:line: message". */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *list; /* const char * */
} sg_errors_t;

sg_errors_t *sg_errors_make(apr_pool_t *pool);
void sg_error(sg_errors_t *errs, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A message that belongs to no file (what failed), recorded as it is. */
void sg_error_note(sg_errors_t *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sg_errors_count(const sg_errors_t *errs);

/* Text files (Markdown bodies, NDA texts) must be UTF-8: a Latin-1 or Windows-1252 file would
 * otherwise be published as mojibake. Skips a leading byte order mark (moving *data, shrinking
 * *len) and returns NULL when the rest is valid UTF-8; otherwise the message for the editor,
 * "not UTF-8 (bytes E4 FC): save the file as UTF-8", naming the bad bytes of the first bad line,
 * with *line set to that line. */
const char *sg_utf8_text(char **data, apr_size_t *len, int *line, apr_pool_t *pool);

/* Content is read without following symbolic links (a link committed to git could otherwise
 * publish any file the build can read). Opens `rel` ('/'-separated, relative, no "." or "..")
 * below the directory open as `dirfd`: every directory on the way and the last component itself
 * must be real, not links. `want_dir`: open a directory, else a regular file (a FIFO or device is
 * refused without blocking). Returns a descriptor, or -1 with errno set: ELOOP when a component
 * is a symbolic link, with *bad (if not NULL) set to the length of rel's prefix that is the link. */
int sg_openat_nofollow(int dirfd, const char *rel, int want_dir, apr_size_t *bad);
/* The same below the directory `root`, which may itself be a link (the operator chose it). */
int sg_open_beneath(const char *root, const char *rel, int want_dir, apr_size_t *bad);
/* Reads the whole regular file open as fd (NUL-terminated) and closes fd. */
apr_status_t sg_fd_read(char **data, apr_size_t *len, int fd, apr_pool_t *pool);
/* SHA-256 of the regular file open as fd, as hex, and its size; closes fd. */
apr_status_t sg_fd_sha256(char hex[65], apr_uint64_t *size, int fd);
/* Copies the regular file at src, refusing a symbolic link there, to the new file dst. */
apr_status_t sg_file_copy_nofollow(const char *src, const char *dst, apr_pool_t *pool);

/* Reads a whole file (NUL-terminated); sets *len. */
apr_status_t sg_file_read(char **data, apr_size_t *len, const char *path, apr_pool_t *pool);
/* Writes a new file durably enough for publication (the caller syncs the tree once). */
apr_status_t sg_file_write(const char *path, const void *data, apr_size_t len, apr_pool_t *pool);
apr_status_t sg_mkdir_p(const char *path, apr_pool_t *pool);
/* apr_dir_read's "more entries" answer: APR_INCOMPLETE only means some wanted detail is unknown. */
#define SG_DIR_MORE(rv) ((rv) == APR_SUCCESS || (rv) == APR_INCOMPLETE)

/* Removes a directory tree; missing is fine. */
apr_status_t sg_rm_rf(const char *path, apr_pool_t *pool);
/* SHA-256 of a file's contents as hex, and its size. */
apr_status_t sg_file_sha256(char hex[65], apr_uint64_t *size, const char *path, apr_pool_t *pool);

/* Runs fn(baton, i, pool) for i in [0, n) on `jobs` threads. Each thread has its own pool, which
 * lives as long as `pool`: allocate results there, never from a shared pool. */
typedef void sg_for_fn(void *baton, int i, apr_pool_t *thread_pool);
void sg_parallel_for(int n, int jobs, sg_for_fn *fn, void *baton, apr_pool_t *pool);

/* A fingerprint: SHA-256 over a sequence of fields (each length-prefixed, so fields cannot run
 * into each other). sg_fp_init holds a libcrypto context that sg_fp_hex (or sg_fp_drop) gives back. */
typedef struct {
    stp_hash_t *h;
} sg_fp_t;
void sg_fp_init(sg_fp_t *fp);
void sg_fp_add(sg_fp_t *fp, const void *data, apr_size_t len);
void sg_fp_str(sg_fp_t *fp, const char *s);
void sg_fp_hex(char out[65], sg_fp_t *fp);
/* Ends a fingerprint that is not wanted after all. */
void sg_fp_drop(sg_fp_t *fp);

#endif
