/* sg_plan: planning a build. Lists every page and copied file with the path it takes in the build
 * and a fingerprint of its bytes, then groups document pages and downloads into the shards that
 * builds share through SITE/store (libstp/stp_paths.h, docs/architecture.md). */
#ifndef SG_PLAN_H
#define SG_PLAN_H

#include "sg_content.h"
#include "sg_fingerprint.h"
#include "sg_pages.h"

/* One thing to write: a page or a copied file, with a fingerprint for reuse. */
typedef struct {
    sg_page_t page;    /* kind etc.; page.out (the path in the build) and page.fp for every item */
    const char *src;   /* files and assets: source to copy; NULL for pages */
    const char *group; /* sharded items: the shard directory (see stp_paths.h); NULL otherwise */
    const char *name;  /* sharded items: the path inside the shard */
} sg_item_t;

/* A shard: a directory of items stored once under SITE/store/<fp> and linked into each build. */
typedef struct {
    const char *path;          /* in the build, e.g. public/en/docs/3f */
    apr_array_header_t *items; /* sg_item_t * */
    char fp[65];
} sg_shard_t;

typedef struct {
    const sg_site_t *site;
    const char *global;          /* fingerprint of what every page shares (sg_fingerprint_global) */
    apr_array_header_t *items;   /* sg_item_t */
    apr_array_header_t *shards;  /* sg_shard_t, after sg_plan_shards */
    apr_array_header_t *singles; /* sg_item_t *: items outside any shard, after sg_plan_shards */
} sg_plan_t;

/* Lists the pages of every locale, the sitemap and the downloads (no fingerprints yet). */
sg_plan_t *sg_plan_items(const sg_site_t *site, const char *global, apr_pool_t *pool);
/* Fingerprints every page on `jobs` threads and adds the assets and the page stylesheet from
 * xslt_dir, fingerprinted by their bytes. */
void sg_plan_fingerprint(sg_plan_t *plan, const sg_summaries_t *sums, const char *xslt_dir, int jobs, apr_pool_t *pool);
/* Groups the sharded items into shards with their fingerprints; the rest become singles. */
void sg_plan_shards(sg_plan_t *plan, apr_pool_t *pool);

#endif
