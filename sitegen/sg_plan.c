#include "sg_plan.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "sg_util.h"
#include "stp_layout.h"
#include "stp_paths.h"

/* Splits a sharded path (".../<shard>/<name...>") at its shard directory. */
static void set_group(sg_item_t *it, const char *shard_parent, apr_pool_t *pool)
{
    apr_size_t n = strlen(shard_parent);
    it->group = apr_pstrmemdup(pool, it->page.out, n + 3); /* parent + "/" + two hex digits */
    it->name = it->page.out + n + 4;
}

static sg_item_t *add_page(sg_plan_t *plan, sg_page_kind_t kind, const char *lang, const sg_term_t *tile,
                           const sg_doc_t *doc, const char *tenant, const char *out, apr_pool_t *pool)
{
    sg_item_t *it = &APR_ARRAY_PUSH(plan->items, sg_item_t);
    memset(it, 0, sizeof *it);
    it->page.kind = kind;
    it->page.lang = lang;
    it->page.tile = tile;
    it->page.doc = doc;
    it->page.tenant = tenant;
    it->page.out = out;
    it->page.url = kind == SG_PAGE_SITEMAP ? "/sitemap.xml" : sg_page_url(kind, lang, tile, doc, pool);
    return it;
}

/* What's new of one locale: the newest month at whats-new/ (an empty page while nothing is listed),
 * each older month at whats-new/<YYYY-MM>/. */
static void plan_whatsnew(sg_plan_t *plan, const char *lang, const char *base, apr_pool_t *pool)
{
    const apr_array_header_t *months = plan->site->months;
    for (int i = 0; i < (months->nelts ? months->nelts : 1); i++) {
        const sg_month_t *m = months->nelts ? APR_ARRAY_IDX(months, i, sg_month_t *) : NULL;
        const char *out = i == 0 ? apr_pstrcat(pool, base, "/whats-new/index.html", NULL)
                                 : apr_pstrcat(pool, base, "/whats-new/", m->id, "/index.html", NULL);
        sg_item_t *it = add_page(plan, SG_PAGE_WHATSNEW, lang, NULL, NULL, NULL, out, pool);
        it->page.month = m;
        it->page.url = sg_page_url_of(&it->page, lang, pool);
    }
}

static sg_item_t *add_copy(sg_plan_t *plan, const char *src, const char *out, const char *fp)
{
    sg_item_t *it = &APR_ARRAY_PUSH(plan->items, sg_item_t);
    memset(it, 0, sizeof *it);
    it->src = src;
    it->page.out = out;
    memcpy(it->page.fp, fp, 65);
    return it;
}

/* The home page, the feed, What's new and the tile pages of one locale. */
static void plan_listings(sg_plan_t *plan, const char *lang, const char *base, apr_pool_t *pool)
{
    const sg_site_t *site = plan->site;
    add_page(plan, SG_PAGE_HOME, lang, NULL, NULL, NULL, apr_pstrcat(pool, base, "/index.html", NULL), pool);
    add_page(plan, SG_PAGE_HOME, lang, NULL, NULL, NULL,
             apr_pstrcat(pool, STP_BUILD_MODELS "/", lang, "/home.xml", NULL), pool)
        ->page.model = 1;
    add_page(plan, SG_PAGE_FEED, lang, NULL, NULL, NULL, apr_pstrcat(pool, base, "/feed.xml", NULL), pool);
    plan_whatsnew(plan, lang, base, pool);
    for (int s = 0; s < site->sections->nelts; s++) {
        const sg_term_t *sec = APR_ARRAY_IDX(site->sections, s, sg_term_t *);
        for (int t = 0; t < sec->tiles->nelts; t++) {
            const sg_term_t *tile = APR_ARRAY_IDX(sec->tiles, t, sg_term_t *);
            add_page(plan, SG_PAGE_TILE, lang, tile, NULL, NULL,
                     apr_pstrcat(pool, base, "/", sec->id, "/", tile->id, "/index.html", NULL), pool);
        }
    }
}

/* The document pages of one locale: public ones, and each tenant's own (never under public/). */
static void plan_docs(sg_plan_t *plan, const char *lang, const char *base, apr_pool_t *pool)
{
    const sg_site_t *site = plan->site;
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        if (d->state == STP_VERSION_RETIRED)
            continue;
        if (d->embargoed) { /* outside public/ and tenants/, for the module to serve from its moment */
            for (int t = 0; t < (d->cat.access == STP_ACCESS_TENANT ? d->cat.tenants->nelts : 1); t++) {
                const char *tid =
                    d->cat.access == STP_ACCESS_TENANT ? APR_ARRAY_IDX(d->cat.tenants, t, const char *) : NULL;
                add_page(plan, tid ? SG_PAGE_ORG_DOC : SG_PAGE_DOC, lang, NULL, d, tid,
                         apr_pstrcat(pool, STP_BUILD_EMBARGO "/", stp_paths_doc_page(tid, lang, d->cat.id, pool), NULL),
                         pool);
            }
            continue;
        }
        if (d->cat.access != STP_ACCESS_TENANT) {
            sg_item_t *it =
                add_page(plan, SG_PAGE_DOC, lang, NULL, d, NULL, stp_paths_doc_page(NULL, lang, d->cat.id, pool), pool);
            set_group(it, apr_pstrcat(pool, base, "/docs", NULL), pool);
            continue;
        }
        for (int t = 0; t < d->cat.tenants->nelts; t++) {
            const char *tid = APR_ARRAY_IDX(d->cat.tenants, t, const char *);
            sg_item_t *it = add_page(plan, SG_PAGE_ORG_DOC, lang, NULL, d, tid,
                                     stp_paths_doc_page(tid, lang, d->cat.id, pool), pool);
            set_group(it, apr_pstrcat(pool, STP_BUILD_TENANTS "/", tid, "/", lang, "/docs", NULL), pool);
        }
    }
    for (int t = 0; t < site->tenants->nelts; t++) {
        const char *tid = APR_ARRAY_IDX(site->tenants, t, sg_term_t *)->id;
        add_page(plan, SG_PAGE_ORG_HOME, lang, NULL, NULL, tid,
                 apr_pstrcat(pool, STP_BUILD_TENANTS "/", tid, "/", lang, "/index.html", NULL), pool);
        add_page(plan, SG_PAGE_ORG_HOME, lang, NULL, NULL, tid,
                 apr_pstrcat(pool, STP_BUILD_TENANTS "/", tid, "/", lang, "/index.xml", NULL), pool)
            ->page.model = 1;
    }
}

/* Downloads: every version still served (retired ones answer 410 and need no file). */
static void plan_files(sg_plan_t *plan, apr_pool_t *pool)
{
    const sg_site_t *site = plan->site;
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        if (d->state == STP_VERSION_RETIRED)
            continue;
        for (int f = 0; f < d->srcfiles->nelts; f++) {
            const sg_srcfile_t *sf = &APR_ARRAY_IDX(d->srcfiles, f, sg_srcfile_t);
            sg_item_t *it =
                add_copy(plan, sf->src, apr_pstrcat(pool, STP_BUILD_FILES "/", sf->file.path, NULL), sf->file.sha256);
            set_group(it, STP_BUILD_FILES, pool);
        }
    }
}

/* Images that bodies show: beside the document's pages, in the same tree (public/docs/, or each
 * tenant's tenants/<tid>/docs/, never public/ for a tenant document), one copy per tree for all
 * locales (stp_paths_doc_image). */
static void plan_images(sg_plan_t *plan, apr_pool_t *pool)
{
    const sg_site_t *site = plan->site;
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        int tenant = d->cat.access == STP_ACCESS_TENANT;
        if (d->state == STP_VERSION_RETIRED || !d->images)
            continue;
        for (int t = 0; t < (tenant ? d->cat.tenants->nelts : 1); t++) {
            const char *tid = tenant ? APR_ARRAY_IDX(d->cat.tenants, t, const char *) : NULL;
            const char *parent =
                tid ? apr_pstrcat(pool, STP_BUILD_TENANTS "/", tid, "/docs", NULL) : STP_BUILD_PUBLIC "/docs";
            for (int m = 0; m < d->images->nelts; m++) {
                const sg_image_t *img = &APR_ARRAY_IDX(d->images, m, sg_image_t);
                int seen = 0; /* two files with the same bytes are one published image */
                for (int o = 0; o < m && !seen; o++)
                    seen = !strcmp(APR_ARRAY_IDX(d->images, o, sg_image_t).name, img->name);
                if (seen)
                    continue;
                const char *out = stp_paths_doc_image(tid, d->cat.id, img->name, pool);
                if (d->embargoed) { /* beside its pages under embargo/, served from its moment */
                    add_copy(plan, img->src, apr_pstrcat(pool, STP_BUILD_EMBARGO "/", out, NULL), img->sha256);
                    continue;
                }
                set_group(add_copy(plan, img->src, out, img->sha256), parent, pool);
            }
        }
    }
}

sg_plan_t *sg_plan_items(const sg_site_t *site, const char *global, apr_pool_t *pool)
{
    sg_plan_t *plan = apr_pcalloc(pool, sizeof *plan);
    plan->site = site;
    plan->global = global;
    plan->items = apr_array_make(pool, site->docs->nelts * (site->locales->nelts + 1) + 256, sizeof(sg_item_t));
    for (int l = 0; l < site->locales->nelts; l++) {
        const char *lang = APR_ARRAY_IDX(site->locales, l, sg_locale_t).id;
        const char *base = apr_pstrcat(pool, STP_BUILD_PUBLIC "/", lang, NULL);
        plan_listings(plan, lang, base, pool);
        plan_docs(plan, lang, base, pool);
    }
    add_page(plan, SG_PAGE_SITEMAP, site->default_locale, NULL, NULL, NULL, STP_BUILD_PUBLIC "/sitemap.xml", pool);
    plan_files(plan, pool);
    plan_images(plan, pool);
    return plan;
}

/* --- fingerprints -------------------------------------------------------------------------------- */

typedef struct {
    sg_plan_t *plan;
    const sg_summaries_t *sums;
} fp_job_t;

static void fingerprint_item(void *baton, int i, apr_pool_t *pool)
{
    fp_job_t *f = baton;
    sg_item_t *it = &APR_ARRAY_IDX(f->plan->items, i, sg_item_t);
    (void)pool;
    if (!it->src)
        sg_fingerprint_page(&it->page, f->sums, f->plan->site);
}

/* The build carries the page templates it was published with: the module renders its dynamic
 * pages through the same stylesheet as these static ones (libstp/stp_view.h). */
static void copy_templates(sg_plan_t *plan, const char *xslt_dir, apr_pool_t *pool)
{
    const char *src = apr_pstrcat(pool, xslt_dir, "/page.xsl", NULL);
    char hex[65];
    apr_uint64_t size;
    if (sg_file_sha256(hex, &size, src, pool) == APR_SUCCESS)
        add_copy(plan, src, STP_BUILD_PAGE_XSL, hex);
}

static void copy_assets(sg_plan_t *plan, const char *xslt_dir, apr_pool_t *pool)
{
    const char *dir = apr_pstrcat(pool, xslt_dir, "/assets", NULL);
    apr_dir_t *d;
    apr_finfo_t fi;
    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS)
        return;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d))) {
        if (fi.name[0] == '.' || fi.filetype != APR_REG)
            continue;
        const char *src = apr_pstrcat(pool, dir, "/", fi.name, NULL);
        char hex[65];
        apr_uint64_t size;
        if (sg_file_sha256(hex, &size, src, pool) != APR_SUCCESS)
            continue;
        add_copy(plan, src, apr_pstrcat(pool, STP_BUILD_PUBLIC "/assets/", fi.name, NULL), hex);
    }
    apr_dir_close(d);
}

void sg_plan_fingerprint(sg_plan_t *plan, const sg_summaries_t *sums, const char *xslt_dir, int jobs, apr_pool_t *pool)
{
    fp_job_t fpj = {plan, sums};
    sg_parallel_for(plan->items->nelts, jobs, fingerprint_item, &fpj, pool);
    copy_assets(plan, xslt_dir, pool);
    copy_templates(plan, xslt_dir, pool);
}

/* --- shards -------------------------------------------------------------------------------------- */

static int cmp_item_names(const void *a, const void *b)
{
    return strcmp((*(sg_item_t *const *)a)->name, (*(sg_item_t *const *)b)->name);
}

/* Puts each sharded item into its shard (in first-seen order), the others into singles. */
static void group_items(sg_plan_t *plan, apr_pool_t *pool)
{
    apr_hash_t *index = apr_hash_make(pool); /* shard path -> its position + 1 */
    plan->shards = apr_array_make(pool, 1024, sizeof(sg_shard_t));
    plan->singles = apr_array_make(pool, 256, sizeof(sg_item_t *));
    for (int i = 0; i < plan->items->nelts; i++) {
        sg_item_t *it = &APR_ARRAY_IDX(plan->items, i, sg_item_t);
        if (!it->group) {
            APR_ARRAY_PUSH(plan->singles, sg_item_t *) = it;
            continue;
        }
        apr_size_t pos = (apr_size_t)apr_hash_get(index, it->group, APR_HASH_KEY_STRING);
        if (!pos) {
            sg_shard_t *g = &APR_ARRAY_PUSH(plan->shards, sg_shard_t);
            g->path = it->group;
            g->items = apr_array_make(pool, 64, sizeof(sg_item_t *));
            pos = (apr_size_t)plan->shards->nelts;
            apr_hash_set(index, g->path, APR_HASH_KEY_STRING, (void *)pos);
        }
        sg_shard_t *g = &APR_ARRAY_IDX(plan->shards, (int)pos - 1, sg_shard_t);
        APR_ARRAY_PUSH(g->items, sg_item_t *) = it;
    }
}

/* A shard's fingerprint covers the names and fingerprints of its items, so equal fingerprints
 * mean equal bytes. */
void sg_plan_shards(sg_plan_t *plan, apr_pool_t *pool)
{
    group_items(plan, pool);
    for (int i = 0; i < plan->shards->nelts; i++) {
        sg_shard_t *g = &APR_ARRAY_IDX(plan->shards, i, sg_shard_t);
        sg_fp_t fp;
        qsort(g->items->elts, (size_t)g->items->nelts, sizeof(sg_item_t *), cmp_item_names);
        sg_fp_init(&fp);
        sg_fp_str(&fp, plan->global);
        for (int j = 0; j < g->items->nelts; j++) {
            const sg_item_t *it = APR_ARRAY_IDX(g->items, j, sg_item_t *);
            sg_fp_str(&fp, it->name);
            sg_fp_str(&fp, it->page.fp);
        }
        sg_fp_hex(g->fp, &fp);
        /* 128 bits name a shard well enough, and keep the link short enough for ext4 to store it
         * in the inode (a "fast" symlink: no block to allocate per link). */
        g->fp[32] = '\0';
    }
}
