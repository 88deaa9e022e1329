#include "sg_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "sg_cache.h"
#include "sg_content.h"
#include "sg_i18n.h"
#include "sg_markdown.h"
#include "sg_pages.h"
#include "sg_publish.h"
#include "sg_util.h"
#include "stp_catalog.h"
#include "stp_paths.h"
#include "stp_layout.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

/* What to write: pages and copied files, each with a fingerprint for reuse. */
typedef struct {
    sg_page_t page;    /* kind etc.; page.out (the path in the build) and page.fp for every item */
    const char *src;   /* files and assets: source to copy; NULL for pages */
    const char *group; /* sharded items: the shard directory (see stp_paths.h); NULL otherwise */
    const char *name;  /* sharded items: the path inside the shard */
} item_t;

/* A shard: a directory of items stored once under SITE/store/<fp> and linked into each build. */
typedef struct {
    const char *path;          /* in the build, e.g. public/en/docs/3f */
    apr_array_header_t *items; /* item_t * */
    char fp[65];
} group_t;

typedef struct {
    const sg_options_t *opt;
    sg_site_t *site;
    sg_render_t *render;
    apr_array_header_t *items;
    apr_array_header_t *groups;  /* group_t */
    apr_array_header_t *singles; /* item_t *: items outside any shard */
    apr_hash_t *prev_manifest;   /* single items of the previous build: out -> fp */
    apr_hash_t *prev_shards;     /* shard dirs of the previous build: path -> store name */
    const char *global;          /* fingerprint of the templates, site.xml and the generator */
    const char *prev, *staging, *store;
    volatile apr_uint32_t next, done, rendered, reused;
    volatile apr_uint32_t failed;
    const char *failure;
    apr_thread_mutex_t *lock;
} job_t;

/* --- fingerprints ------------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every file under the template directory, in a stable order. */
static void hash_tree(sg_fp_t *fp, const char *dir, apr_pool_t *pool)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_array_header_t *names = apr_array_make(pool, 16, sizeof(const char *));
    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS)
        return;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)))
        if (fi.name[0] != '.')
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(pool, fi.name);
    apr_dir_close(d);
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), cmp_str);
    for (int i = 0; i < names->nelts; i++) {
        const char *path = apr_pstrcat(pool, dir, "/", APR_ARRAY_IDX(names, i, const char *), NULL);
        char *data;
        apr_size_t len;
        if (apr_stat(&fi, path, APR_FINFO_TYPE, pool) == APR_SUCCESS && fi.filetype == APR_DIR) {
            hash_tree(fp, path, pool);
        } else if (sg_file_read(&data, &len, path, pool) == APR_SUCCESS) {
            sg_fp_str(fp, APR_ARRAY_IDX(names, i, const char *));
            sg_fp_add(fp, data, len);
        }
    }
}

/* What a listing shows of a document in one locale (see doc_el in sg_pages.c). */
static void fp_summary_compute(sg_fp_t *fp, const sg_doc_t *d, const char *lang, const char *def)
{
    char num[32];
    sg_fp_str(fp, d->cat.id);
    sg_fp_str(fp, d->cat.series);
    sg_fp_str(fp, d->cat.version);
    sg_fp_str(fp, stp_access_name(d->cat.access));
    sg_fp_str(fp, d->cat.nda ? "nda" : "");
    sg_fp_str(fp, stp_version_state_name(d->state));
    sg_fp_str(fp, d->cat.tile);
    snprintf(num, sizeof num, "%ld", (long)d->cat.published);
    sg_fp_str(fp, num);
    const apr_array_header_t *texts[] = {d->cat.titles, d->cat.summaries, d->cat.changes};
    for (size_t i = 0; i < 3; i++) {
        const stp_text_t *t = stp_text_pick(texts[i], lang, def);
        sg_fp_str(fp, t ? t->lang : "");
        sg_fp_str(fp, t ? t->text : "");
    }
}

/* Works out a document's summary fingerprint per locale once: listings repeat them often. */
static void summary_compute(void *baton, int i, apr_pool_t *pool)
{
    const sg_site_t *site = baton;
    sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
    d->summary_fps = apr_palloc(pool, sizeof(const char *) * (apr_size_t)site->locales->nelts);
    for (int l = 0; l < site->locales->nelts; l++) {
        sg_fp_t fp;
        char *hex = apr_palloc(pool, 65);
        sg_fp_init(&fp);
        fp_summary_compute(&fp, d, APR_ARRAY_IDX(site->locales, l, sg_locale_t).id, site->default_locale);
        sg_fp_hex(hex, &fp);
        d->summary_fps[l] = hex;
    }
}

static int locale_index(const sg_site_t *site, const char *lang)
{
    for (int l = 0; l < site->locales->nelts; l++)
        if (!strcmp(APR_ARRAY_IDX(site->locales, l, sg_locale_t).id, lang))
            return l;
    return 0;
}

static void fp_summary(sg_fp_t *fp, const sg_doc_t *d, int li)
{
    sg_fp_add(fp, d->summary_fps[li], 64);
}

static void fp_listing(sg_fp_t *fp, const apr_array_header_t *docs, int limit, int li)
{
    for (int i = 0; docs && i < docs->nelts && (limit <= 0 || i < limit); i++)
        fp_summary(fp, APR_ARRAY_IDX(docs, i, sg_doc_t *), li);
}

static void fp_ids(sg_fp_t *fp, const apr_array_header_t *ids)
{
    for (int i = 0; ids && i < ids->nelts; i++)
        sg_fp_str(fp, APR_ARRAY_IDX(ids, i, const char *));
    sg_fp_str(fp, "|");
}

/* A page's fingerprint: the global inputs plus exactly what the page shows, so that a change
 * rewrites the pages that show it and no others. */
static void page_fp(sg_page_t *pg, const char *global, const sg_site_t *site)
{
    const char *lang = pg->lang, *def = site->default_locale;
    int li = locale_index(site, lang);
    sg_fp_t fp;
    sg_fp_init(&fp);
    (void)global;            /* covered once per build: the manifest's and every shard's fingerprint include it */
    sg_fp_str(&fp, pg->out); /* the path names the kind, the locale and the tenant: all change the page */
    switch (pg->kind) {
    case SG_PAGE_HOME:
        fp_listing(&fp, site->listed, 10, li);
        /* Which tiles lead to the organisation's pages (in the taxonomy's order, which is stable). */
        for (int i = 0; i < site->sections->nelts; i++) {
            const sg_term_t *sec = APR_ARRAY_IDX(site->sections, i, sg_term_t *);
            for (int j = 0; j < sec->tiles->nelts; j++)
                sg_fp_str(&fp, apr_hash_get(site->org_tiles, APR_ARRAY_IDX(sec->tiles, j, sg_term_t *)->id,
                                            APR_HASH_KEY_STRING)
                                   ? "o"
                                   : "-");
        }
        break;
    case SG_PAGE_FEED:
        fp_listing(&fp, site->listed, 50, li);
        break;
    case SG_PAGE_TILE:
        fp_listing(&fp, apr_hash_get(site->tile_docs, pg->tile->id, APR_HASH_KEY_STRING), 0, li);
        sg_fp_str(&fp, apr_hash_get(site->org_tiles, pg->tile->id, APR_HASH_KEY_STRING) ? "o" : "-");
        break;
    case SG_PAGE_ORG_HOME:
        fp_listing(&fp, apr_hash_get(site->tenant_docs, pg->tenant, APR_HASH_KEY_STRING), 0, li);
        break;
    case SG_PAGE_DOC:
    case SG_PAGE_ORG_DOC: {
        const sg_doc_t *d = pg->doc;
        fp_summary(&fp, d, li);
        fp_ids(&fp, d->cat.services);
        fp_ids(&fp, d->cat.regions);
        fp_ids(&fp, d->cat.industries);
        const char *body = apr_hash_get(d->body_fps, lang, APR_HASH_KEY_STRING);
        sg_fp_str(&fp, body ? lang : def);
        sg_fp_str(&fp, body ? body : apr_hash_get(d->body_fps, def, APR_HASH_KEY_STRING));
        for (int i = 0; i < d->cat.files->nelts; i++) {
            const stp_file_t *f = &APR_ARRAY_IDX(d->cat.files, i, stp_file_t);
            char size[32];
            snprintf(size, sizeof size, "%" APR_UINT64_T_FMT, f->size);
            sg_fp_str(&fp, f->lang);
            sg_fp_str(&fp, f->name);
            sg_fp_str(&fp, f->media_type);
            sg_fp_str(&fp, f->sha256);
            sg_fp_str(&fp, size);
        }
        fp_listing(&fp, d->older, 0, li);
        if (d->current && d->current != d)
            fp_summary(&fp, d->current, li);
        break;
    }
    case SG_PAGE_SITEMAP:
        for (int i = 0; i < site->docs->nelts; i++) {
            const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
            char num[32];
            if (d->cat.access == STP_ACCESS_TENANT || d->state == STP_VERSION_RETIRED)
                continue;
            snprintf(num, sizeof num, "%ld", (long)d->cat.published);
            sg_fp_str(&fp, d->cat.id);
            sg_fp_str(&fp, num);
        }
        break;
    }
    sg_fp_hex(pg->fp, &fp);
}

typedef struct {
    job_t *job;
    const char *global;
} fp_job_t;

static void fingerprint_page(void *baton, int i, apr_pool_t *pool)
{
    fp_job_t *f = baton;
    item_t *it = &APR_ARRAY_IDX(f->job->items, i, item_t);
    (void)pool;
    if (!it->src)
        page_fp(&it->page, f->global, f->job->site);
}

/* --- planning ---------------------------------------------------------------------------------- */

/* Splits a sharded path (".../<shard>/<name...>") at its shard directory. */
static void set_group(item_t *it, const char *shard_parent, apr_pool_t *pool)
{
    apr_size_t n = strlen(shard_parent);
    it->group = apr_pstrmemdup(pool, it->page.out, n + 3); /* parent + "/" + two hex digits */
    it->name = it->page.out + n + 4;
}

static item_t *add_page(job_t *job, sg_page_kind_t kind, const char *lang, const sg_term_t *tile, const sg_doc_t *doc,
                        const char *tenant, const char *out, const char *global, apr_pool_t *pool)
{
    item_t *it = &APR_ARRAY_PUSH(job->items, item_t);
    memset(it, 0, sizeof *it);
    it->page.kind = kind;
    it->page.lang = lang;
    it->page.tile = tile;
    it->page.doc = doc;
    it->page.tenant = tenant;
    it->page.out = out;
    it->page.url = kind == SG_PAGE_SITEMAP ? "/sitemap.xml" : sg_page_url(kind, lang, tile, doc, pool);
    (void)global; /* fingerprinted by fingerprint_pages, on all threads */
    return it;
}

static item_t *add_copy(job_t *job, const char *src, const char *out, const char *fp)
{
    item_t *it = &APR_ARRAY_PUSH(job->items, item_t);
    memset(it, 0, sizeof *it);
    it->src = src;
    it->page.out = out;
    memcpy(it->page.fp, fp, 65);
    return it;
}

static void plan(job_t *job, const char *global, apr_pool_t *pool)
{
    const sg_site_t *site = job->site;
    for (int l = 0; l < site->locales->nelts; l++) {
        const char *lang = APR_ARRAY_IDX(site->locales, l, sg_locale_t).id;
        const char *base = apr_pstrcat(pool, STP_BUILD_PUBLIC "/", lang, NULL);
        add_page(job, SG_PAGE_HOME, lang, NULL, NULL, NULL, apr_pstrcat(pool, base, "/index.html", NULL), global, pool);
        add_page(job, SG_PAGE_FEED, lang, NULL, NULL, NULL, apr_pstrcat(pool, base, "/feed.xml", NULL), global, pool);
        for (int s = 0; s < site->sections->nelts; s++) {
            const sg_term_t *sec = APR_ARRAY_IDX(site->sections, s, sg_term_t *);
            for (int t = 0; t < sec->tiles->nelts; t++) {
                const sg_term_t *tile = APR_ARRAY_IDX(sec->tiles, t, sg_term_t *);
                add_page(job, SG_PAGE_TILE, lang, tile, NULL, NULL,
                         apr_pstrcat(pool, base, "/", sec->id, "/", tile->id, "/index.html", NULL), global, pool);
            }
        }
        for (int i = 0; i < site->docs->nelts; i++) {
            const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
            if (d->state == STP_VERSION_RETIRED)
                continue;
            if (d->cat.access != STP_ACCESS_TENANT) {
                item_t *it = add_page(job, SG_PAGE_DOC, lang, NULL, d, NULL,
                                      stp_path_doc_page(NULL, lang, d->cat.id, pool), global, pool);
                set_group(it, apr_pstrcat(pool, base, "/docs", NULL), pool);
                continue;
            }
            for (int t = 0; t < d->cat.tenants->nelts; t++) {
                const char *tid = APR_ARRAY_IDX(d->cat.tenants, t, const char *);
                item_t *it = add_page(job, SG_PAGE_ORG_DOC, lang, NULL, d, tid,
                                      stp_path_doc_page(tid, lang, d->cat.id, pool), global, pool);
                set_group(it, apr_pstrcat(pool, STP_BUILD_TENANTS "/", tid, "/", lang, "/docs", NULL), pool);
            }
        }
        for (int t = 0; t < site->tenants->nelts; t++) {
            const char *tid = APR_ARRAY_IDX(site->tenants, t, sg_term_t *)->id;
            add_page(job, SG_PAGE_ORG_HOME, lang, NULL, NULL, tid,
                     apr_pstrcat(pool, STP_BUILD_TENANTS "/", tid, "/", lang, "/index.html", NULL), global, pool);
        }
    }
    add_page(job, SG_PAGE_SITEMAP, site->default_locale, NULL, NULL, NULL, STP_BUILD_PUBLIC "/sitemap.xml", global,
             pool);

    /* Downloads: every version still served (retired ones answer 410 and need no file). */
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        if (d->state == STP_VERSION_RETIRED)
            continue;
        for (int f = 0; f < d->srcfiles->nelts; f++) {
            const sg_srcfile_t *sf = &APR_ARRAY_IDX(d->srcfiles, f, sg_srcfile_t);
            item_t *it =
                add_copy(job, sf->src, apr_pstrcat(pool, STP_BUILD_FILES "/", sf->file.path, NULL), sf->file.sha256);
            set_group(it, STP_BUILD_FILES, pool);
        }
    }
}

/* The build carries the page templates it was published with: the module renders its dynamic
 * pages through the same stylesheet as these static ones (libstp/stp_view.h). */
static void copy_templates(job_t *job, apr_pool_t *pool)
{
    const char *src = apr_pstrcat(pool, job->opt->xslt_dir, "/page.xsl", NULL);
    char hex[65];
    apr_uint64_t size;
    if (sg_file_sha256(hex, &size, src, pool) == APR_SUCCESS)
        add_copy(job, src, STP_BUILD_PAGE_XSL, hex);
}

static apr_status_t copy_assets(job_t *job, apr_pool_t *pool)
{
    const char *dir = apr_pstrcat(pool, job->opt->xslt_dir, "/assets", NULL);
    apr_dir_t *d;
    apr_finfo_t fi;
    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS)
        return APR_SUCCESS;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d))) {
        if (fi.name[0] == '.' || fi.filetype != APR_REG)
            continue;
        const char *src = apr_pstrcat(pool, dir, "/", fi.name, NULL);
        char hex[65];
        apr_uint64_t size;
        if (sg_file_sha256(hex, &size, src, pool) != APR_SUCCESS)
            continue;
        add_copy(job, src, apr_pstrcat(pool, STP_BUILD_PUBLIC "/assets/", fi.name, NULL), hex);
    }
    apr_dir_close(d);
    return APR_SUCCESS;
}

/* --- the manifest: what the previous build wrote, with fingerprints ---------------------------- */

/* A build's .manifest: "<fp> <path>" for each item outside the shards, "<fp> @<shard dir>" for each
 * shard. Each store directory keeps its own items' fingerprints in ".fps" ("<fp> <name>"), so that
 * a build reads and writes a few thousand lines, not one per page. */
enum { MANIFEST_ITEMS, MANIFEST_SHARDS, MANIFEST_STORE_NAMES };

/* ITEMS: path -> fp; SHARDS: shard dir -> store name; STORE_NAMES: store name -> itself. */
static apr_hash_t *read_lines(const char *path, int what, apr_pool_t *pool)
{
    apr_hash_t *h = apr_hash_make(pool);
    char *data;
    apr_size_t len;
    if (!path || sg_file_read(&data, &len, path, pool) != APR_SUCCESS)
        return h;
    for (char *line = data, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        char *sp = strchr(line, ' ');
        if (!sp || (sp[1] == '@') != (what != MANIFEST_ITEMS))
            continue;
        const char *fp = apr_pstrmemdup(pool, line, (apr_size_t)(sp - line));
        if (what == MANIFEST_STORE_NAMES)
            apr_hash_set(h, fp, APR_HASH_KEY_STRING, fp);
        else
            apr_hash_set(h, what == MANIFEST_SHARDS ? sp + 2 : sp + 1, APR_HASH_KEY_STRING, fp);
    }
    return h;
}

static apr_hash_t *read_manifest(const char *build, int what, apr_pool_t *pool)
{
    return read_lines(build ? apr_pstrcat(pool, build, "/" STP_BUILD_MANIFEST, NULL) : NULL, what, pool);
}

static int cmp_item_outs(const void *a, const void *b)
{
    return strcmp((*(item_t *const *)a)->page.out, (*(item_t *const *)b)->page.out);
}

static apr_status_t write_manifest(job_t *job, apr_pool_t *pool)
{
    int n = job->singles->nelts;
    item_t **sorted = apr_palloc(pool, sizeof(item_t *) * (apr_size_t)(n + 1));
    apr_size_t cap = 1, len = 0;
    for (int i = 0; i < n; i++) {
        sorted[i] = APR_ARRAY_IDX(job->singles, i, item_t *);
        cap += strlen(sorted[i]->page.out) + 66;
    }
    for (int i = 0; i < job->groups->nelts; i++)
        cap += strlen(APR_ARRAY_IDX(job->groups, i, group_t).path) + 68;
    cap += 80;
    qsort(sorted, (size_t)n, sizeof(item_t *), cmp_item_outs);
    char *buf = apr_palloc(pool, cap);
    for (int i = 0; i < n; i++) {
        apr_size_t ol = strlen(sorted[i]->page.out);
        memcpy(buf + len, sorted[i]->page.fp, 64);
        buf[len + 64] = ' ';
        memcpy(buf + len + 65, sorted[i]->page.out, ol);
        buf[len + 65 + ol] = '\n';
        len += 66 + ol;
    }
    for (int i = 0; i < job->groups->nelts; i++) {
        const group_t *g = &APR_ARRAY_IDX(job->groups, i, group_t);
        len += (apr_size_t)sprintf(buf + len, "%s @%s\n", g->fp, g->path);
    }
    len += (apr_size_t)sprintf(buf + len, "%s !global\n", job->global);
    return sg_file_write(apr_pstrcat(pool, job->staging, "/" STP_BUILD_MANIFEST, NULL), buf, len, pool);
}

/* --- shards ------------------------------------------------------------------------------------ */

static int cmp_item_ptrs(const void *a, const void *b)
{
    return strcmp((*(item_t *const *)a)->name, (*(item_t *const *)b)->name);
}

/* Groups the sharded items; a shard's fingerprint covers the names and fingerprints of its items,
 * so equal fingerprints mean equal bytes. */
static void make_groups(job_t *job, apr_pool_t *pool)
{
    apr_hash_t *index = apr_hash_make(pool);
    job->groups = apr_array_make(pool, 1024, sizeof(group_t));
    job->singles = apr_array_make(pool, 256, sizeof(item_t *));
    for (int i = 0; i < job->items->nelts; i++) {
        item_t *it = &APR_ARRAY_IDX(job->items, i, item_t);
        if (!it->group) {
            APR_ARRAY_PUSH(job->singles, item_t *) = it;
            continue;
        }
        group_t *g = apr_hash_get(index, it->group, APR_HASH_KEY_STRING);
        if (!g) {
            g = &APR_ARRAY_PUSH(job->groups, group_t);
            g->path = it->group;
            g->items = apr_array_make(pool, 64, sizeof(item_t *));
            apr_hash_set(index, g->path, APR_HASH_KEY_STRING, (void *)(apr_size_t)job->groups->nelts);
        }
        g = &APR_ARRAY_IDX(job->groups, (int)(apr_size_t)apr_hash_get(index, it->group, APR_HASH_KEY_STRING) - 1,
                           group_t);
        APR_ARRAY_PUSH(g->items, item_t *) = it;
    }
    for (int i = 0; i < job->groups->nelts; i++) {
        group_t *g = &APR_ARRAY_IDX(job->groups, i, group_t);
        sg_fp_t fp;
        qsort(g->items->elts, (size_t)g->items->nelts, sizeof(item_t *), cmp_item_ptrs);
        sg_fp_init(&fp);
        sg_fp_str(&fp, job->global);
        for (int j = 0; j < g->items->nelts; j++) {
            const item_t *it = APR_ARRAY_IDX(g->items, j, item_t *);
            sg_fp_str(&fp, it->name);
            sg_fp_str(&fp, it->page.fp);
        }
        sg_fp_hex(g->fp, &fp);
        /* 128 bits name a shard well enough, and keep the link short enough for ext4 to store it
         * in the inode (a "fast" symlink: no block to allocate per link). */
        g->fp[32] = '\0';
    }
}

/* --- rendering --------------------------------------------------------------------------------- */

static void fail(job_t *job, const char *what, apr_status_t rv)
{
    char err[256];
    apr_thread_mutex_lock(job->lock);
    if (!job->failure)
        job->failure = apr_psprintf(job->items->pool, "%s: %s", what, apr_strerror(rv, err, sizeof err));
    apr_thread_mutex_unlock(job->lock);
    apr_atomic_set32(&job->failed, 1);
}

/* Writes one item at dst: shared with the previous build (old_path, when its fingerprint old_fp is
 * the same), else rendered or copied. */
static void do_item(job_t *job, item_t *it, const char *dst, const char *old_fp, const char *old_path, apr_pool_t *pool)
{
    apr_status_t rv;

    if (old_fp && !strcmp(old_fp, it->page.fp) && link(old_path, dst) == 0) {
        apr_atomic_inc32(&job->reused);
        return;
    }
    if (it->src) {
        rv = sg_file_copy_nofollow(it->src, dst, pool); /* checked at load; a link since then is refused */
        if (rv != APR_SUCCESS)
            fail(job, apr_pstrcat(pool, "copying ", it->src, NULL), rv);
        apr_atomic_inc32(&job->rendered);
        return;
    }
    char *out;
    apr_size_t len;
    rv = sg_render_page(&out, &len, job->render, &it->page, pool);
    if (rv != APR_SUCCESS) {
        fail(job, apr_pstrcat(pool, "rendering ", it->page.out, NULL), rv);
        return;
    }
    if ((rv = sg_file_write(dst, out, len, pool)) != APR_SUCCESS)
        fail(job, apr_pstrcat(pool, "writing ", dst, NULL), rv);
    apr_atomic_inc32(&job->rendered);
}

/* Makes store/<fp> for a shard unless a build already made it; written under a temporary name
 * and renamed when complete, so a store directory with its final name is always whole. */
static void do_group(job_t *job, group_t *g, apr_pool_t *pool)
{
    const char *final = apr_pstrcat(pool, job->store, "/", g->fp, NULL);
    apr_finfo_t fi;
    apr_status_t rv;
    if (!job->opt->full && apr_stat(&fi, final, APR_FINFO_TYPE, pool) == APR_SUCCESS) {
        apr_atomic_add32(&job->reused, (apr_uint32_t)g->items->nelts);
        return;
    }
    const char *tmp = apr_pstrcat(pool, job->store, "/" STP_SITE_STORE_TMP_PREFIX, g->fp, NULL);
    if ((rv = apr_dir_make(tmp, APR_FPROT_OS_DEFAULT, pool)) != APR_SUCCESS) {
        fail(job, apr_pstrcat(pool, "creating ", tmp, NULL), rv);
        return;
    }
    /* The same shard in the previous build: its unchanged items are linked, not rendered. */
    const char *old_store = job->prev ? apr_hash_get(job->prev_shards, g->path, APR_HASH_KEY_STRING) : NULL;
    const char *old_dir = old_store ? apr_pstrcat(pool, job->store, "/", old_store, NULL) : NULL;
    apr_hash_t *old_fps =
        read_lines(old_dir ? apr_pstrcat(pool, old_dir, "/" STP_STORE_FPS, NULL) : NULL, MANIFEST_ITEMS, pool);
    apr_size_t fps_len = 0;
    char *fps = apr_palloc(pool, (apr_size_t)g->items->nelts * 200 + 1);
    for (int i = 0; i < g->items->nelts && !apr_atomic_read32(&job->failed); i++) {
        item_t *it = APR_ARRAY_IDX(g->items, i, item_t *);
        const char *dst = apr_pstrcat(pool, tmp, "/", it->name, NULL);
        const char *slash = strrchr(it->name, '/');
        if (slash && (rv = sg_mkdir_p(apr_pstrmemdup(pool, dst, strlen(tmp) + 1 + (apr_size_t)(slash - it->name)),
                                      pool)) != APR_SUCCESS) {
            fail(job, apr_pstrcat(pool, "creating a directory for ", dst, NULL), rv);
            break;
        }
        do_item(job, it, dst, apr_hash_get(old_fps, it->name, APR_HASH_KEY_STRING),
                old_dir ? apr_pstrcat(pool, old_dir, "/", it->name, NULL) : NULL, pool);
        if (strlen(it->name) < 130)
            fps_len += (apr_size_t)sprintf(fps + fps_len, "%s %s\n", it->page.fp, it->name);
    }
    if (!apr_atomic_read32(&job->failed) &&
        (rv = sg_file_write(apr_pstrcat(pool, tmp, "/" STP_STORE_FPS, NULL), fps, fps_len, pool)) != APR_SUCCESS)
        fail(job, apr_pstrcat(pool, "writing ", tmp, "/" STP_STORE_FPS, NULL), rv);
    if (apr_atomic_read32(&job->failed))
        return;
    if (rename(tmp, final) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY)
            sg_rm_rf(tmp, pool); /* --full: the same bytes are already stored */
        else
            fail(job, apr_pstrcat(pool, "storing ", final, NULL), APR_FROM_OS_ERROR(errno));
    }
}

static void *APR_THREAD_FUNC worker(apr_thread_t *thread, void *data)
{
    job_t *job = data;
    apr_pool_t *pool;
    apr_uint32_t units = (apr_uint32_t)(job->groups->nelts + job->singles->nelts);
    apr_pool_create(&pool, NULL);
    for (;;) {
        apr_uint32_t i = apr_atomic_inc32(&job->next);
        if (i >= units || apr_atomic_read32(&job->failed))
            break;
        if (i < (apr_uint32_t)job->groups->nelts) {
            do_group(job, &APR_ARRAY_IDX(job->groups, i, group_t), pool);
        } else {
            item_t *it = APR_ARRAY_IDX(job->singles, (int)(i - (apr_uint32_t)job->groups->nelts), item_t *);
            do_item(job, it, apr_pstrcat(pool, job->staging, "/", it->page.out, NULL),
                    apr_hash_get(job->prev_manifest, it->page.out, APR_HASH_KEY_STRING),
                    job->prev ? apr_pstrcat(pool, job->prev, "/", it->page.out, NULL) : NULL, pool);
        }
        apr_pool_clear(pool);
        apr_uint32_t done = apr_atomic_inc32(&job->done) + 1;
        if (job->opt->progress && done % 500 == 0)
            fprintf(stderr, "sitegen: %u of %u shards and pages done\n", done, units);
    }
    apr_pool_destroy(pool);
    /* A plain return rather than apr_thread_exit: pthread_exit's unwinding trips ASan, and the
     * thread's pool goes with the pool it was created from. */
    return NULL;
}

/* Creates the directories of the build: for single items, and the parents of shard links. */
static apr_status_t make_dirs(job_t *job, apr_pool_t *pool)
{
    apr_hash_t *made = apr_hash_make(pool);
    for (int i = 0; i < job->items->nelts; i++) {
        const item_t *it = &APR_ARRAY_IDX(job->items, i, item_t);
        const char *path = it->group ? it->group : it->page.out;
        const char *dir = apr_pstrmemdup(pool, path, (apr_size_t)(strrchr(path, '/') - path));
        if (apr_hash_get(made, dir, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(made, dir, APR_HASH_KEY_STRING, dir);
        apr_status_t rv = sg_mkdir_p(apr_pstrcat(pool, job->staging, "/", dir, NULL), pool);
        if (rv != APR_SUCCESS)
            return rv;
    }
    return sg_mkdir_p(job->store, pool);
}

/* Points each shard directory of the build at its store directory (a relative link, so that the
 * site can be moved or mounted elsewhere). */
static apr_status_t link_groups(job_t *job, apr_pool_t *pool)
{
    for (int i = 0; i < job->groups->nelts; i++) {
        const group_t *g = &APR_ARRAY_IDX(job->groups, i, group_t);
        const char *target = "../" STP_SITE_STORE "/";
        for (const char *p = g->path; *p; p++)
            if (*p == '/')
                target = apr_pstrcat(pool, "../", target, NULL);
        target = apr_pstrcat(pool, target, g->fp, NULL);
        if (symlink(target, apr_pstrcat(pool, job->staging, "/", g->path, NULL)) != 0)
            return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

/* Removes store directories that neither the new build nor the previous one uses. */
static void collect_store(job_t *job, const char *site_dir, const char *kept_build, apr_pool_t *pool)
{
    apr_hash_t *live =
        read_manifest(apr_pstrcat(pool, site_dir, "/" STP_SITE_CURRENT, NULL), MANIFEST_STORE_NAMES, pool);
    apr_hash_t *prev = read_manifest(kept_build, MANIFEST_STORE_NAMES, pool);
    apr_dir_t *d;
    apr_finfo_t fi;
    if (apr_dir_open(&d, job->store, pool) != APR_SUCCESS)
        return;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME, d))) {
        if (!strcmp(fi.name, ".") || !strcmp(fi.name, ".."))
            continue;
        if (apr_hash_get(live, fi.name, APR_HASH_KEY_STRING) || apr_hash_get(prev, fi.name, APR_HASH_KEY_STRING))
            continue;
        sg_rm_rf(apr_pstrcat(pool, job->store, "/", fi.name, NULL), pool);
    }
    apr_dir_close(d);
}

static apr_status_t render_all(job_t *job, apr_pool_t *pool)
{
    int n = job->opt->jobs > 0 ? job->opt->jobs : 1;
    apr_thread_t **threads = apr_pcalloc(pool, sizeof *threads * (size_t)n);
    apr_status_t rv;
    if ((rv = apr_thread_mutex_create(&job->lock, APR_THREAD_MUTEX_DEFAULT, pool)) != APR_SUCCESS)
        return rv;
    for (int i = 0; i < n; i++)
        if ((rv = apr_thread_create(&threads[i], NULL, worker, job, pool)) != APR_SUCCESS)
            return rv;
    for (int i = 0; i < n; i++) {
        apr_status_t trv;
        apr_thread_join(&trv, threads[i]);
    }
    return job->failed ? APR_EGENERAL : link_groups(job, pool);
}

/* --- the catalog ---------------------------------------------------------------------------------- */

static apr_status_t write_catalog(job_t *job, const sg_i18n_t *i18n, uint64_t generation, apr_pool_t *pool)
{
    const sg_site_t *site = job->site;
    stp_catalog_t *cat;
    apr_pool_t *scratch;
    apr_status_t rv = stp_catalog_create(&cat, apr_pstrcat(pool, job->staging, "/" STP_BUILD_CATALOG, NULL), pool);
    if (rv != APR_SUCCESS)
        return rv;
    apr_pool_create(&scratch, pool);
    for (int i = 0; i < site->docs->nelts && rv == APR_SUCCESS; i++) {
        rv = stp_catalog_put_doc(cat, &APR_ARRAY_IDX(site->docs, i, sg_doc_t *)->cat, scratch);
        apr_pool_clear(scratch);
    }
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi && rv == APR_SUCCESS; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        apr_array_header_t *ids = apr_array_make(scratch, list->nelts, sizeof(const char *));
        for (int j = 0; j < list->nelts; j++)
            APR_ARRAY_PUSH(ids, const char *) = APR_ARRAY_IDX(list, j, sg_doc_t *)->cat.id;
        rv = stp_catalog_put_series(cat, apr_hash_this_key(hi), ids, scratch);
        apr_pool_clear(scratch);
    }
    const char *locales = "";
    for (int l = 0; l < site->locales->nelts && rv == APR_SUCCESS; l++) {
        const sg_locale_t *loc = &APR_ARRAY_IDX(site->locales, l, sg_locale_t);
        locales = apr_pstrcat(pool, locales, l ? "," : "", loc->id, NULL);
        const apr_array_header_t *keys = sg_i18n_keys(i18n);
        for (int k = 0; k < keys->nelts && rv == APR_SUCCESS; k++) {
            const char *key = APR_ARRAY_IDX(keys, k, const char *);
            rv = stp_catalog_put_string(cat, loc->id, key, sg_msg(i18n, loc->id, key), scratch);
        }
        /* For the module's pages and stpctl's mails: the site's name and the locale's own name. */
        if (rv == APR_SUCCESS)
            rv = stp_catalog_put_string(cat, loc->id, "site.title",
                                        sg_text(site->labels, loc->id, site->default_locale), scratch);
        if (rv == APR_SUCCESS)
            rv = stp_catalog_put_string(cat, loc->id, "locale.name", loc->name, scratch);
        if (rv == APR_SUCCESS)
            rv = stp_catalog_put_string(cat, loc->id, "locale.dir", loc->rtl ? "rtl" : "ltr", scratch);
        /* Organisation names, for the header of a member's pages. */
        for (int t = 0; t < site->tenants->nelts && rv == APR_SUCCESS; t++) {
            const sg_term_t *tn = APR_ARRAY_IDX(site->tenants, t, sg_term_t *);
            rv = stp_catalog_put_string(cat, loc->id, apr_pstrcat(scratch, "org.name.", tn->id, NULL),
                                        sg_text(tn->labels, loc->id, site->default_locale), scratch);
        }
        /* The module inserts nda.text as HTML: it is the Markdown rendered under the bodies' rules. */
        const char *nda = apr_hash_get(site->nda_texts, loc->id, APR_HASH_KEY_STRING);
        if (nda && rv == APR_SUCCESS) {
            const char *html = sg_markdown_html(nda, strlen(nda), site->unsafe_html, scratch);
            rv = html ? stp_catalog_put_string(cat, loc->id, "nda.text", html, scratch) : APR_ENOMEM;
        }
        apr_pool_clear(scratch);
    }
    if (rv == APR_SUCCESS) {
        struct {
            const char *k, *v;
        } meta[] = {
            {"generation", apr_psprintf(pool, "%" APR_UINT64_T_FMT, generation)},
            {"default-locale", site->default_locale},
            {"locales", locales},
            {"nda-version", site->nda_version ? site->nda_version : ""},
            {"retention-months", apr_itoa(pool, site->retention_months)},
            {"base-url", site->base_url},
        };
        for (size_t i = 0; i < sizeof meta / sizeof meta[0] && rv == APR_SUCCESS; i++)
            rv = stp_catalog_put_meta(cat, meta[i].k, meta[i].v);
    }
    if (rv == APR_SUCCESS)
        rv = stp_catalog_commit(cat, 0); /* sg_publish_commit syncs the whole build */
    stp_catalog_close(cat);
    return rv;
}

/* The catalog and the document cache depend only on the loaded site, not on the pages: one
 * thread writes them while the others plan, fingerprint and render. */
typedef struct {
    job_t *job;
    const sg_i18n_t *i18n;
    uint64_t generation;
    apr_pool_t *pool; /* this thread's own */
    apr_status_t rv;
    const char *what; /* what failed */
} side_t;

static void *APR_THREAD_FUNC side_writer(apr_thread_t *thread, void *data)
{
    side_t *w = data;
    (void)thread;
    if ((w->rv = write_catalog(w->job, w->i18n, w->generation, w->pool)) != APR_SUCCESS) {
        w->what = "cannot write the catalog";
        return NULL;
    }
    if ((w->rv = sg_cache_write(w->job->site, apr_pstrcat(w->pool, w->job->staging, "/" STP_BUILD_DOCCACHE, NULL),
                                w->pool)) != APR_SUCCESS)
        w->what = "cannot write the document cache";
    return NULL;
}

/* Phase timings for --verbose: where a build spends its time. */
static void phase(const sg_options_t *opt, apr_time_t *t, const char *what)
{
    apr_time_t now = apr_time_now();
    if (opt->verbose)
        fprintf(stderr, "sitegen: %-10s %7.3f s\n", what, (double)(now - *t) / APR_USEC_PER_SEC);
    *t = now;
}

/* --- the run ---------------------------------------------------------------------------------------- */

static void print_errors(const sg_errors_t *errs)
{
    for (int i = 0; i < errs->list->nelts; i++)
        fprintf(stderr, "%s\n", APR_ARRAY_IDX(errs->list, i, const char *));
}

int sg_build_run(const sg_options_t *opt, sg_stats_t *stats, apr_pool_t *pool)
{
    sg_errors_t *errs = sg_errors_make(pool);
    const char *schema_dir = apr_pstrcat(pool, opt->xslt_dir, "/schema", NULL);
    sg_site_t *site;
    sg_i18n_t *i18n = NULL;
    sg_render_t *render;
    sg_publish_t *pub;
    job_t job;
    apr_status_t rv;
    char err[256];

    memset(stats, 0, sizeof *stats);
    apr_time_t t = apr_time_now();
    /* The published build's document cache: only folders that changed since are read again. */
    const char *cache = NULL;
    char real[4096];
    if (!opt->full && opt->site_dir && realpath(apr_pstrcat(pool, opt->site_dir, "/" STP_SITE_CURRENT, NULL), real))
        cache = apr_pstrcat(pool, real, "/" STP_BUILD_DOCCACHE, NULL);
    rv = sg_content_load_cached(&site, errs, opt->content_dir, schema_dir, opt->jobs, cache, pool);
    phase(opt, &t, "load");
    if (rv == APR_ENOENT) {
        fprintf(stderr, "sitegen: %s is not a content directory\n", opt->content_dir);
        return 2;
    }
    if (rv != APR_SUCCESS) {
        print_errors(errs);
        fprintf(stderr, "sitegen: cannot load the schemas from %s\n", schema_dir);
        return 2;
    }
    if (site->locale_index)
        sg_i18n_load(&i18n, site, opt->xslt_dir, errs, pool);
    stats->docs = site->docs->nelts;
    stats->errors = sg_errors_count(errs);
    if (stats->errors) {
        print_errors(errs);
        fprintf(stderr, "sitegen: %d error%s in %s; nothing was published\n", stats->errors,
                stats->errors == 1 ? "" : "s", opt->content_dir);
        return 1;
    }
    if (opt->check_only)
        return 0;

    sg_content_resolve(site, opt->today);
    if (sg_render_open(&render, site, i18n, opt->xslt_dir, errs, pool) != APR_SUCCESS) {
        print_errors(errs);
        return 2;
    }

    memset(&job, 0, sizeof job);
    job.opt = opt;
    job.site = site;
    job.render = render;
    job.items = apr_array_make(pool, site->docs->nelts * (site->locales->nelts + 1) + 256, sizeof(item_t));

    if ((rv = sg_publish_begin(&pub, opt->site_dir, pool)) != APR_SUCCESS) {
        if (rv != APR_EBUSY)
            fprintf(stderr, "sitegen: cannot prepare %s: %s\n", opt->site_dir, apr_strerror(rv, err, sizeof err));
        return 2;
    }
    job.prev = opt->full ? NULL : pub->previous;
    job.staging = pub->staging;
    side_t side = {&job, i18n, pub->generation, NULL, APR_SUCCESS, NULL};
    apr_thread_t *side_thread = NULL;
    apr_pool_create(&side.pool, pool);
    if (apr_thread_create(&side_thread, NULL, side_writer, &side, pool) != APR_SUCCESS) {
        side_thread = NULL;
        side_writer(NULL, &side); /* no thread to spare: write them here and now */
    }

    sg_fp_t fp;
    char global[65];
    sg_fp_init(&fp);
    sg_fp_str(&fp, PACKAGE_VERSION);
    sg_fp_str(&fp, site->site_fp);
    hash_tree(&fp, opt->xslt_dir, pool);
    sg_fp_hex(global, &fp);
    phase(opt, &t, "templates");
    sg_parallel_for(site->docs->nelts, opt->jobs, summary_compute, site, pool);
    phase(opt, &t, "summaries");
    plan(&job, global, pool);
    phase(opt, &t, "items");
    fp_job_t fpj = {&job, global};
    sg_parallel_for(job.items->nelts, opt->jobs, fingerprint_page, &fpj, pool);
    copy_assets(&job, pool);
    copy_templates(&job, pool);
    phase(opt, &t, "pages");

    job.global = apr_pstrdup(pool, global);
    job.prev_manifest = read_manifest(job.prev, MANIFEST_ITEMS, pool);
    job.prev_shards = read_manifest(job.prev, MANIFEST_SHARDS, pool);
    /* Page fingerprints leave out what every page shares: after a change there, reuse nothing. */
    const char *prev_global = apr_hash_get(job.prev_manifest, "!global", APR_HASH_KEY_STRING);
    if (!prev_global || strcmp(prev_global, global)) {
        job.prev_manifest = apr_hash_make(pool);
        job.prev_shards = apr_hash_make(pool);
    }
    phase(opt, &t, "previous");
    job.store = apr_pstrcat(pool, opt->site_dir, "/" STP_SITE_STORE, NULL);
    make_groups(&job, pool);
    phase(opt, &t, "plan");
    if (opt->progress)
        fprintf(stderr, "sitegen: %d documents, %d locales, %d files to write (%s)\n", site->docs->nelts,
                site->locales->nelts, job.items->nelts, job.prev ? "incremental" : "full");

    if ((rv = make_dirs(&job, pool)) == APR_SUCCESS)
        rv = render_all(&job, pool);
    phase(opt, &t, "write");
    if (side_thread) {
        apr_status_t ignored;
        apr_thread_join(&ignored, side_thread);
    }
    phase(opt, &t, "catalog");
    if (rv == APR_SUCCESS && side.rv != APR_SUCCESS) {
        rv = side.rv;
        job.failure = apr_psprintf(pool, "%s: %s", side.what, apr_strerror(rv, err, sizeof err));
    }
    if (rv != APR_SUCCESS || (rv = write_manifest(&job, pool)) != APR_SUCCESS ||
        (phase(opt, &t, "manifest"), (rv = sg_publish_commit(pub, pool)) != APR_SUCCESS)) {
        fprintf(stderr, "sitegen: build failed: %s; the published site is unchanged\n",
                job.failure ? job.failure : apr_strerror(rv, err, sizeof err));
        sg_publish_abort(pub, pool);
        return 2;
    }
    phase(opt, &t, "publish");
    collect_store(&job, opt->site_dir, pub->previous, pool);
    phase(opt, &t, "cleanup");
    stats->pages = job.items->nelts;
    stats->rendered = (int)job.rendered;
    stats->reused = (int)job.reused;
    return 0;
}
