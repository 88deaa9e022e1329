#include "sg_publish.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "sg_util.h"
#include "stp_layout.h"

static uint64_t build_number(const char *name)
{
    const apr_size_t pl = sizeof STP_SITE_BUILD_PREFIX - 1;
    if (strncmp(name, STP_SITE_BUILD_PREFIX, pl) || !name[pl])
        return 0;
    char *end;
    unsigned long long n = strtoull(name + pl, &end, 10);
    return *end ? 0 : (uint64_t)n;
}

/* Store directories still under their temporary name were left by a failed or killed run. */
static void clear_store_tmp(const char *site_dir, apr_pool_t *pool)
{
    const char *store = apr_pstrcat(pool, site_dir, "/" STP_SITE_STORE, NULL);
    apr_dir_t *dir;
    apr_finfo_t fi;
    if (apr_dir_open(&dir, store, pool) != APR_SUCCESS)
        return;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME, dir)))
        if (!strncmp(fi.name, STP_SITE_STORE_TMP_PREFIX, sizeof STP_SITE_STORE_TMP_PREFIX - 1))
            sg_rm_rf(apr_pstrcat(pool, store, "/", fi.name, NULL), pool);
    apr_dir_close(dir);
}

apr_status_t sg_publish_begin(sg_publish_t **out, const char *site_dir, apr_pool_t *pool)
{
    sg_publish_t *pub = apr_pcalloc(pool, sizeof *pub);
    apr_dir_t *dir;
    apr_finfo_t fi;
    apr_status_t rv;
    char real[PATH_MAX];
    uint64_t max = 0;

    if ((rv = sg_mkdir_p(site_dir, pool)) != APR_SUCCESS)
        return rv;
    pub->site_dir = site_dir;
    pub->lock_fd = open(apr_pstrcat(pool, site_dir, "/" STP_SITE_LOCK, NULL), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pub->lock_fd < 0)
        return APR_FROM_OS_ERROR(errno);
    if (flock(pub->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        close(pub->lock_fd);
        return APR_EBUSY;
    }
    if (realpath(apr_pstrcat(pool, site_dir, "/" STP_SITE_CURRENT, NULL), real))
        pub->previous = apr_pstrdup(pool, real);
    if ((rv = apr_dir_open(&dir, site_dir, pool)) != APR_SUCCESS)
        return rv;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir))) {
        uint64_t n = build_number(fi.name);
        if (n > max)
            max = n;
        /* We hold the lock: any staging directory is what a killed run left. */
        if (!strncmp(fi.name, STP_SITE_STAGING_PREFIX, sizeof STP_SITE_STAGING_PREFIX - 1))
            sg_rm_rf(apr_pstrcat(pool, site_dir, "/", fi.name, NULL), pool);
    }
    apr_dir_close(dir);
    clear_store_tmp(site_dir, pool);
    pub->generation = max + 1;
    pub->staging = apr_psprintf(pool, "%s/" STP_SITE_STAGING_PREFIX "%" APR_UINT64_T_FMT, site_dir, pub->generation);
    if ((rv = apr_dir_make(pub->staging, APR_FPROT_OS_DEFAULT, pool)) != APR_SUCCESS)
        return rv;
    *out = pub;
    return APR_SUCCESS;
}

static apr_status_t sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return APR_FROM_OS_ERROR(errno);
    int rc = fsync(fd);
    close(fd);
    return rc ? APR_FROM_OS_ERROR(errno) : APR_SUCCESS;
}

apr_status_t sg_publish_commit(sg_publish_t *pub, apr_pool_t *pool)
{
    const char *name = apr_psprintf(pool, STP_SITE_BUILD_PREFIX "%" APR_UINT64_T_FMT, pub->generation);
    const char *final = apr_pstrcat(pool, pub->site_dir, "/", name, NULL);
    const char *link_tmp = apr_pstrcat(pool, pub->site_dir, "/" STP_SITE_CURRENT_TMP, NULL);
    const char *current = apr_pstrcat(pool, pub->site_dir, "/" STP_SITE_CURRENT, NULL);
    apr_dir_t *dir;
    apr_finfo_t fi;

    /* Everything written must be on disk before the switch makes it visible. */
    int fd = open(pub->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) != 0) {
        if (fd >= 0)
            close(fd);
        return APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    if (rename(pub->staging, final) != 0)
        return APR_FROM_OS_ERROR(errno);
    unlink(link_tmp);
    if (symlink(name, link_tmp) != 0 || rename(link_tmp, current) != 0)
        return APR_FROM_OS_ERROR(errno);
    sync_dir(pub->site_dir);

    /* Keep the new and the previous build; older ones have no readers left. */
    const char *prev_name = pub->previous ? strrchr(pub->previous, '/') + 1 : "";
    if (apr_dir_open(&dir, pub->site_dir, pool) == APR_SUCCESS) {
        while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME, dir))) {
            if (build_number(fi.name) && strcmp(fi.name, name) && strcmp(fi.name, prev_name))
                sg_rm_rf(apr_pstrcat(pool, pub->site_dir, "/", fi.name, NULL), pool);
        }
        apr_dir_close(dir);
    }
    close(pub->lock_fd);
    pub->lock_fd = -1;
    return APR_SUCCESS;
}

void sg_publish_abort(sg_publish_t *pub, apr_pool_t *pool)
{
    if (pub->staging)
        sg_rm_rf(pub->staging, pool);
    clear_store_tmp(pub->site_dir, pool);
    if (pub->lock_fd >= 0)
        close(pub->lock_fd);
    pub->lock_fd = -1;
}
