#include "stp_site.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_rwlock.h>

#include "stp_log.h"
#include "stp_layout.h"

typedef struct held_t {
    stp_build_t pub;
    apr_pool_t *pool;
    volatile apr_uint32_t refs; /* requests holding it, plus one while it is the site's current build */
    stp_site_t *site;
} held_t;

struct stp_site_t {
    apr_pool_t *pool;
    const char *dir;
    /* Readers: every request, to take the current build. Writer: switching builds, and creating or
     * destroying a build's pool (children of one parent pool). Requests never wait for each other. */
    apr_thread_rwlock_t *lock;
    char target[256];     /* what `current` pointed to when `current` was opened */
    char failed[256];     /* a target that could not be opened: not retried until it changes */
    apr_ino_t failed_ino; /* ... or until its directory is another one under the same name */
    apr_time_t failed_mtime;
    held_t *current;
    apr_interval_time_t recheck;      /* how long a look at `current` holds; 0: every request */
    int previewing;                   /* stp_site_previewing: preview builds are what is expected */
    volatile apr_uint64_t next_check; /* apr_time_t of the next look */
};

void stp_site_previewing(stp_site_t *site)
{
    site->previewing = 1;
}

apr_status_t stp_site_create(stp_site_t **out, const char *site_dir, apr_interval_time_t recheck, apr_pool_t *pool)
{
    stp_site_t *site = apr_pcalloc(pool, sizeof *site);
    site->pool = pool;
    site->dir = apr_pstrdup(pool, site_dir);
    site->recheck = recheck > 0 ? recheck : 0;
    apr_status_t rv = apr_atomic_init(pool);
    if (rv == APR_SUCCESS)
        rv = apr_thread_rwlock_create(&site->lock, pool);
    if (rv == APR_SUCCESS)
        *out = site;
    return rv;
}

static void destroy(held_t *h)
{
    stp_catalog_close(h->pub.cat);
    apr_pool_destroy(h->pool);
}

/* Drops a reference with the write lock held (when switching builds). */
static void unref_locked(held_t *h)
{
    if (apr_atomic_dec32(&h->refs) == 0)
        destroy(h);
}

/* A request's reference, dropped when its pool is cleared. Only the last holder of a build that
 * is no longer current takes the write lock, to destroy it. */
static apr_status_t release(void *data)
{
    held_t *h = data;
    stp_site_t *site = h->site;
    if (apr_atomic_dec32(&h->refs) == 0) {
        apr_thread_rwlock_wrlock(site->lock);
        destroy(h);
        apr_thread_rwlock_unlock(site->lock);
    }
    return APR_SUCCESS;
}

static const char *meta(stp_catalog_t *cat, const char *key, apr_pool_t *pool)
{
    const char *v = stp_catalog_get_meta(cat, key, pool);
    return v ? v : "";
}

/* Opens the build `target` names; called with the lock held. */
static held_t *open_build(stp_site_t *site, const char *target)
{
    apr_pool_t *pool;
    stp_catalog_t *cat;
    apr_pool_create_unmanaged_ex(&pool, NULL, NULL); /* see stp_state_scratch() */
    held_t *h = apr_pcalloc(pool, sizeof *h);
    h->pool = pool;
    h->site = site;
    h->pub.root = target[0] == '/' ? apr_pstrdup(pool, target) : apr_pstrcat(pool, site->dir, "/", target, NULL);
    const char *path = apr_pstrcat(pool, h->pub.root, "/" STP_BUILD_CATALOG, NULL);
    apr_status_t rv = stp_catalog_open(&cat, path, pool);
    if (rv != APR_SUCCESS) {
        stp_log(STP_LOG_ERR, rv, "%s: cannot open the catalog %s; %s", site->dir, path,
                "serving the newest other build whose catalog opens, if any");
        apr_pool_destroy(pool);
        return NULL;
    }
    h->pub.cat = cat;
    h->pub.default_locale = meta(cat, "default-locale", pool);
    h->pub.locales = meta(cat, "locales", pool);
    h->pub.nda_version = meta(cat, "nda-version", pool);
    h->pub.base_url = meta(cat, "base-url", pool);
    h->pub.require_claims = meta(cat, "require-claims", pool);
    h->pub.retention_months = atoi(meta(cat, "retention-months", pool));
    h->pub.preview = !strcmp(meta(cat, "preview", pool), "yes");
    if (h->pub.preview && !site->previewing) /* never meant for readers: say so wherever the operator looks */
        stp_log(STP_LOG_ERR, 0,
                "%s: %s is a preview build (sitegen --preview): drafts and embargoed documents are shown to "
                "everyone; publish without --preview for readers",
                site->dir, h->pub.root);
    /* Compiled once per build per process, when the process first uses the build. */
    stp_view_t *view;
    const char *err;
    const char *xsl = apr_pstrcat(pool, h->pub.root, "/" STP_BUILD_PAGE_XSL, NULL);
    if (stp_view_open(&view, xsl, &err, pool) == APR_SUCCESS)
        h->pub.view = view;
    else
        stp_log(STP_LOG_WARN, 0,
                "%s: %s; the module's pages answer in plain text until a build with templates is "
                "published",
                site->dir, err);
    stp_search_t *search;
    if (stp_search_open(&search, apr_pstrcat(pool, h->pub.root, "/" STP_BUILD_SEARCH, NULL), &err, pool) == APR_SUCCESS)
        h->pub.search = search;
    else
        stp_log(STP_LOG_WARN, 0, "%s: %s; search answers 503 until a build with an index is published", site->dir, err);
    h->refs = 1;
    stp_log(STP_LOG_INFO, 0, "%s: serving %s, catalog generation %" APR_UINT64_T_FMT, site->dir, h->pub.root,
            stp_catalog_generation(cat));
    return h;
}

/* `current` names a build that cannot be opened (a half-copied or damaged tree). Every process
 * must then agree on what "the last good build" is, whatever it served before: the other build
 * directory with the highest catalog generation that opens. Called with the lock held. */
static held_t *open_last_good(stp_site_t *site, const char *broken)
{
    apr_pool_t *tmp;
    apr_dir_t *dir;
    apr_finfo_t fi;
    const char *best = NULL;
    apr_uint64_t best_gen = 0;
    apr_pool_create_unmanaged_ex(&tmp, NULL, NULL);
    if (apr_dir_open(&dir, site->dir, tmp) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
            stp_catalog_t *cat;
            if (fi.filetype != APR_DIR || fi.name[0] == '.' || !strcmp(fi.name, broken))
                continue;
            const char *path = apr_pstrcat(tmp, site->dir, "/", fi.name, "/" STP_BUILD_CATALOG, NULL);
            if (stp_catalog_open(&cat, path, tmp) != APR_SUCCESS)
                continue;
            apr_uint64_t gen = stp_catalog_generation(cat);
            if (!best || gen > best_gen) {
                best = apr_pstrdup(tmp, fi.name);
                best_gen = gen;
            }
            stp_catalog_close(cat);
        }
        apr_dir_close(dir);
    }
    held_t *h = NULL;
    if (best && !(site->current && !strcmp(best, site->target)) && strlen(best) < sizeof site->target) {
        h = open_build(site, best);
        if (h)
            strcpy(site->target, best);
    }
    apr_pool_destroy(tmp);
    return h;
}

/* Takes a reference to the build this process serves, if any. */
static held_t *hold_current(stp_site_t *site)
{
    apr_thread_rwlock_rdlock(site->lock);
    held_t *h = site->current;
    if (h)
        apr_atomic_inc32(&h->refs);
    apr_thread_rwlock_unlock(site->lock);
    return h;
}

/* Reads `current` and returns a reference to the build to serve (switching to a new one, or to
 * the last good one when `current` names a broken build), or NULL when there is none. */
static held_t *look(stp_site_t *site, apr_pool_t *pool)
{
    held_t *h = NULL;
    char target[sizeof site->target];
    const char *link = apr_pstrcat(pool, site->dir, "/" STP_SITE_CURRENT, NULL);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';

    /* The common case: `current` still names the build this process serves. */
    apr_thread_rwlock_rdlock(site->lock);
    if (n > 0 && site->current && !strcmp(target, site->target)) {
        h = site->current;
        apr_atomic_inc32(&h->refs);
    }
    apr_thread_rwlock_unlock(site->lock);
    if (h)
        return h;

    apr_thread_rwlock_wrlock(site->lock);
    apr_finfo_t fi;
    int have_fi = 0;
    if (n > 0 && (!strcmp(target, site->failed) || strcmp(target, site->target))) {
        /* Only while `current` names a failed or a new build: the common path stays one readlink. */
        const char *dir = target[0] == '/' ? target : apr_pstrcat(pool, site->dir, "/", target, NULL);
        have_fi = apr_stat(&fi, dir, APR_FINFO_INODE | APR_FINFO_MTIME, pool) == APR_SUCCESS;
        if (!strcmp(target, site->failed) && have_fi &&
            (fi.inode != site->failed_ino || fi.mtime != site->failed_mtime))
            site->failed[0] = '\0'; /* the name was reused for a new build (sitegen numbers from the highest) */
    }
    if (n > 0 && strcmp(target, site->target) && strcmp(target, site->failed)) {
        h = open_build(site, target);
        if (h) {
            if (site->current)
                unref_locked(site->current);
            site->current = h;
            memcpy(site->target, target, sizeof target);
            site->failed[0] = '\0';
        } else {
            memcpy(site->failed, target, sizeof target);
            site->failed_ino = have_fi ? fi.inode : 0;
            site->failed_mtime = have_fi ? fi.mtime : 0;
            if ((h = open_last_good(site, target)) != NULL) {
                if (site->current)
                    unref_locked(site->current);
                site->current = h;
            }
        }
    } else if (n <= 0 && !site->current && !site->failed[0]) {
        stp_log(STP_LOG_ERR, APR_FROM_OS_ERROR(errno), "%s/" STP_SITE_CURRENT ": no published site; run sitegen -o %s",
                site->dir, site->dir);
        strcpy(site->failed, "\n"); /* logged once */
    }
    h = site->current;
    if (h)
        apr_atomic_inc32(&h->refs);
    apr_thread_rwlock_unlock(site->lock);
    return h;
}

apr_status_t stp_site_acquire(const stp_build_t **build, stp_site_t *site, apr_pool_t *pool)
{
    held_t *h = NULL;
    apr_time_t now = apr_time_now();
    /* Within the interval of the last look: that look's build, without a system call (one costs
     * a 4 KiB download several per cent on a virtual machine). */
    int within = site->recheck && (apr_time_t)apr_atomic_read64(&site->next_check) > now;
    if (within)
        h = hold_current(site);
    /* None held within the interval: the thread that started it may still be opening this
     * process's first build; look() waits for it on the lock instead of answering 404 meanwhile. */
    if (!h) {
        if (!within)
            apr_atomic_set64(&site->next_check, (apr_uint64_t)(now + site->recheck));
        h = look(site, pool);
    }
    if (!h)
        return APR_NOTFOUND;
    apr_pool_cleanup_register(pool, h, release, apr_pool_cleanup_null);
    *build = &h->pub;
    return APR_SUCCESS;
}
