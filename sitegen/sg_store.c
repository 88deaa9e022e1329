#include "sg_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "sg_manifest.h"
#include "sg_util.h"
#include "stp_layout.h"

typedef struct {
    const sg_plan_t *plan;
    sg_render_t *render;
    const sg_store_where_t *where;
    apr_hash_t *prev_manifest; /* single items of the previous build: out -> fp */
    apr_hash_t *prev_shards;   /* shard dirs of the previous build: path -> store name */
    volatile apr_uint32_t next, done, rendered, reused;
    volatile apr_uint32_t failed;
    const char *failure;
    apr_pool_t *pool; /* for the failure message */
    apr_thread_mutex_t *lock;
} store_t;

static void fail(store_t *st, const char *what, apr_status_t rv)
{
    char err[256];
    apr_thread_mutex_lock(st->lock);
    if (!st->failure)
        st->failure = apr_psprintf(st->pool, "%s: %s", what, apr_strerror(rv, err, sizeof err));
    apr_thread_mutex_unlock(st->lock);
    apr_atomic_set32(&st->failed, 1);
}

/* Writes one item at dst: shared with the previous build (old_path, when its fingerprint old_fp is
 * the same), else rendered or copied. */
static void do_item(store_t *st, const sg_item_t *it, const char *dst, const char *old_fp, const char *old_path,
                    apr_pool_t *pool)
{
    apr_status_t rv;
    if (old_fp && !strcmp(old_fp, it->page.fp) && link(old_path, dst) == 0) {
        apr_atomic_inc32(&st->reused);
        return;
    }
    if (it->src) {
        rv = sg_file_copy_nofollow(it->src, dst, pool); /* checked at load; a link since then is refused */
        if (rv != APR_SUCCESS)
            fail(st, apr_pstrcat(pool, "copying ", it->src, NULL), rv);
        apr_atomic_inc32(&st->rendered);
        return;
    }
    char *out;
    apr_size_t len;
    rv = sg_render_page(&out, &len, st->render, &it->page, pool);
    if (rv != APR_SUCCESS) {
        fail(st, apr_pstrcat(pool, "rendering ", it->page.out, NULL), rv);
        return;
    }
    if ((rv = sg_file_write(dst, out, len, pool)) != APR_SUCCESS)
        fail(st, apr_pstrcat(pool, "writing ", dst, NULL), rv);
    apr_atomic_inc32(&st->rendered);
}

/* Writes the items of shard g into the directory tmp, linking those the previous build's copy of
 * the shard (old_dir) has with the same fingerprint; then their fingerprints into tmp/.fps. */
static void fill_shard(store_t *st, const sg_shard_t *g, const char *tmp, const char *old_dir, apr_pool_t *pool)
{
    apr_status_t rv;
    apr_hash_t *old_fps = sg_manifest_read_file(old_dir ? apr_pstrcat(pool, old_dir, "/" STP_STORE_FPS, NULL) : NULL,
                                                SG_MANIFEST_ITEMS, pool);
    apr_size_t fps_len = 0;
    char *fps = apr_palloc(pool, (apr_size_t)g->items->nelts * 200 + 1);
    for (int i = 0; i < g->items->nelts && !apr_atomic_read32(&st->failed); i++) {
        const sg_item_t *it = APR_ARRAY_IDX(g->items, i, sg_item_t *);
        const char *dst = apr_pstrcat(pool, tmp, "/", it->name, NULL);
        const char *slash = strrchr(it->name, '/');
        if (slash && (rv = sg_mkdir_p(apr_pstrmemdup(pool, dst, strlen(tmp) + 1 + (apr_size_t)(slash - it->name)),
                                      pool)) != APR_SUCCESS) {
            fail(st, apr_pstrcat(pool, "creating a directory for ", dst, NULL), rv);
            break;
        }
        do_item(st, it, dst, apr_hash_get(old_fps, it->name, APR_HASH_KEY_STRING),
                old_dir ? apr_pstrcat(pool, old_dir, "/", it->name, NULL) : NULL, pool);
        if (strlen(it->name) < 130)
            fps_len += (apr_size_t)sprintf(fps + fps_len, "%s %s\n", it->page.fp, it->name);
    }
    if (!apr_atomic_read32(&st->failed) &&
        (rv = sg_file_write(apr_pstrcat(pool, tmp, "/" STP_STORE_FPS, NULL), fps, fps_len, pool)) != APR_SUCCESS)
        fail(st, apr_pstrcat(pool, "writing ", tmp, "/" STP_STORE_FPS, NULL), rv);
}

/* Makes store/<fp> for a shard unless a build already made it; written under a temporary name
 * and renamed when complete, so a store directory with its final name is always whole. */
static void do_shard(store_t *st, const sg_shard_t *g, apr_pool_t *pool)
{
    const char *store = st->where->store;
    const char *final = apr_pstrcat(pool, store, "/", g->fp, NULL);
    apr_finfo_t fi;
    apr_status_t rv;
    if (!st->where->full && apr_stat(&fi, final, APR_FINFO_TYPE, pool) == APR_SUCCESS) {
        apr_atomic_add32(&st->reused, (apr_uint32_t)g->items->nelts);
        return;
    }
    const char *tmp = apr_pstrcat(pool, store, "/" STP_SITE_STORE_TMP_PREFIX, g->fp, NULL);
    if ((rv = apr_dir_make(tmp, APR_FPROT_OS_DEFAULT, pool)) != APR_SUCCESS) {
        fail(st, apr_pstrcat(pool, "creating ", tmp, NULL), rv);
        return;
    }
    /* The same shard in the previous build: its unchanged items are linked, not rendered. */
    const char *old_store = st->where->prev ? apr_hash_get(st->prev_shards, g->path, APR_HASH_KEY_STRING) : NULL;
    fill_shard(st, g, tmp, old_store ? apr_pstrcat(pool, store, "/", old_store, NULL) : NULL, pool);
    if (apr_atomic_read32(&st->failed))
        return;
    if (rename(tmp, final) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY)
            sg_rm_rf(tmp, pool); /* --full: the same bytes are already stored */
        else
            fail(st, apr_pstrcat(pool, "storing ", final, NULL), APR_FROM_OS_ERROR(errno));
    }
}

static void do_single(store_t *st, const sg_item_t *it, apr_pool_t *pool)
{
    const char *prev = st->where->prev;
    do_item(st, it, apr_pstrcat(pool, st->where->staging, "/", it->page.out, NULL),
            apr_hash_get(st->prev_manifest, it->page.out, APR_HASH_KEY_STRING),
            prev ? apr_pstrcat(pool, prev, "/", it->page.out, NULL) : NULL, pool);
}

/* Takes the next shard or single item until none is left or one failed. */
static void *APR_THREAD_FUNC worker(apr_thread_t *thread, void *data)
{
    store_t *st = data;
    const sg_plan_t *plan = st->plan;
    apr_pool_t *pool;
    apr_uint32_t shards = (apr_uint32_t)plan->shards->nelts;
    apr_uint32_t units = shards + (apr_uint32_t)plan->singles->nelts;
    (void)thread;
    apr_pool_create(&pool, NULL);
    for (;;) {
        apr_uint32_t i = apr_atomic_inc32(&st->next);
        if (i >= units || apr_atomic_read32(&st->failed))
            break;
        if (i < shards)
            do_shard(st, &APR_ARRAY_IDX(plan->shards, i, sg_shard_t), pool);
        else
            do_single(st, APR_ARRAY_IDX(plan->singles, (int)(i - shards), sg_item_t *), pool);
        apr_pool_clear(pool);
        apr_uint32_t done = apr_atomic_inc32(&st->done) + 1;
        if (st->where->progress && done % 500 == 0)
            fprintf(stderr, "sitegen: %u of %u shards and pages done\n", done, units);
    }
    apr_pool_destroy(pool);
    /* A plain return rather than apr_thread_exit: pthread_exit's unwinding trips ASan, and the
     * thread's pool goes with the pool it was created from. */
    return NULL;
}

/* Creates the directories of the build: for single items, and the parents of shard links. */
static apr_status_t make_dirs(const store_t *st, apr_pool_t *pool)
{
    apr_hash_t *made = apr_hash_make(pool);
    const apr_array_header_t *items = st->plan->items;
    for (int i = 0; i < items->nelts; i++) {
        const sg_item_t *it = &APR_ARRAY_IDX(items, i, sg_item_t);
        const char *path = it->group ? it->group : it->page.out;
        const char *dir = apr_pstrmemdup(pool, path, (apr_size_t)(strrchr(path, '/') - path));
        if (apr_hash_get(made, dir, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(made, dir, APR_HASH_KEY_STRING, dir);
        apr_status_t rv = sg_mkdir_p(apr_pstrcat(pool, st->where->staging, "/", dir, NULL), pool);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return sg_mkdir_p(st->where->store, pool);
}

/* Points each shard directory of the build at its store directory (a relative link, so that the
 * site can be moved or mounted elsewhere). */
static apr_status_t link_shards(const store_t *st, apr_pool_t *pool)
{
    for (int i = 0; i < st->plan->shards->nelts; i++) {
        const sg_shard_t *g = &APR_ARRAY_IDX(st->plan->shards, i, sg_shard_t);
        const char *target = "../" STP_SITE_STORE "/";
        for (const char *p = g->path; *p; p++)
            if (*p == '/')
                target = apr_pstrcat(pool, "../", target, NULL);
        target = apr_pstrcat(pool, target, g->fp, NULL);
        if (symlink(target, apr_pstrcat(pool, st->where->staging, "/", g->path, NULL)) != 0)
            return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

/* What the previous build wrote. Page fingerprints leave out what every page shares: after a
 * change there, reuse nothing. */
static void read_previous(store_t *st, apr_pool_t *pool)
{
    st->prev_manifest = sg_manifest_read(st->where->prev, SG_MANIFEST_ITEMS, pool);
    st->prev_shards = sg_manifest_read(st->where->prev, SG_MANIFEST_SHARDS, pool);
    const char *prev_global = apr_hash_get(st->prev_manifest, "!global", APR_HASH_KEY_STRING);
    if (!prev_global || strcmp(prev_global, st->plan->global)) {
        st->prev_manifest = apr_hash_make(pool);
        st->prev_shards = apr_hash_make(pool);
    }
}

static apr_status_t run_workers(store_t *st, apr_pool_t *pool)
{
    int n = st->where->jobs > 0 ? st->where->jobs : 1;
    apr_thread_t **threads = apr_pcalloc(pool, sizeof *threads * (size_t)n);
    apr_status_t rv;
    if ((rv = apr_thread_mutex_create(&st->lock, APR_THREAD_MUTEX_DEFAULT, pool)) != APR_SUCCESS)
        return rv;
    for (int i = 0; i < n; i++)
        if ((rv = apr_thread_create(&threads[i], NULL, worker, st, pool)) != APR_SUCCESS)
            return rv;
    for (int i = 0; i < n; i++) {
        apr_status_t trv;
        apr_thread_join(&trv, threads[i]);
    }
    return st->failed ? APR_EGENERAL : link_shards(st, pool);
}

apr_status_t sg_store_write(sg_store_result_t *res, const sg_plan_t *plan, sg_render_t *render,
                            const sg_store_where_t *where, apr_pool_t *pool)
{
    store_t *st = apr_pcalloc(pool, sizeof *st);
    st->plan = plan;
    st->render = render;
    st->where = where;
    st->pool = pool;
    read_previous(st, pool);
    apr_status_t rv = make_dirs(st, pool);
    if (rv == APR_SUCCESS)
        rv = run_workers(st, pool);
    res->rendered = (int)st->rendered;
    res->reused = (int)st->reused;
    res->failure = st->failure;
    return rv;
}

void sg_store_collect(const char *store, const char *site_dir, const char *kept_build, apr_pool_t *pool)
{
    apr_hash_t *live =
        sg_manifest_read(apr_pstrcat(pool, site_dir, "/" STP_SITE_CURRENT, NULL), SG_MANIFEST_STORE_NAMES, pool);
    apr_hash_t *prev = sg_manifest_read(kept_build, SG_MANIFEST_STORE_NAMES, pool);
    apr_dir_t *d;
    apr_finfo_t fi;
    if (apr_dir_open(&d, store, pool) != APR_SUCCESS)
        return;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME, d))) {
        if (!strcmp(fi.name, ".") || !strcmp(fi.name, ".."))
            continue;
        if (apr_hash_get(live, fi.name, APR_HASH_KEY_STRING) || apr_hash_get(prev, fi.name, APR_HASH_KEY_STRING))
            continue;
        sg_rm_rf(apr_pstrcat(pool, store, "/", fi.name, NULL), pool);
    }
    apr_dir_close(d);
}
