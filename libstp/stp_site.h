/* stp_site: the published site as one process sees it. Each request acquires the newest good
 * build (its directory and its opened catalog) and keeps it until the request ends, so a request
 * in flight finishes against the catalog it started with while the next one sees a new
 * publication. A build that cannot be opened is logged and the last good one keeps serving: the
 * other build directory with the highest catalog generation, the same in every process. */
#ifndef STP_SITE_H
#define STP_SITE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "stp_catalog.h"
#include "stp_search.h"
#include "stp_view.h"

typedef struct stp_site_t stp_site_t;

typedef struct {
    const char *root;   /* the build directory the `current` link pointed to, e.g. SITE/build-7 */
    stp_catalog_t *cat; /* its catalog, open read-only */
    const char *default_locale, *locales, *nda_version, *base_url; /* catalog meta, never NULL */
    const char *require_claims; /* the claims documents require, space-separated ("" for none) */
    int retention_months;
    int preview;            /* a preview build (sitegen --preview): drafts and embargoed documents are public */
    const stp_view_t *view; /* the build's page templates (templates/page.xsl), compiled once; NULL when it has none */
    stp_search_t *search;   /* its search index (search.db), opened once; NULL when it has none */
} stp_build_t;

/* `site_dir` holds the `current` link that sitegen switches. The link is read again once
 * `recheck` has passed since the last look (0: on every acquire). Thread-safe after creation. */
apr_status_t stp_site_create(stp_site_t **site, const char *site_dir, apr_interval_time_t recheck, apr_pool_t *pool);
/* The editor's preview (StpPreview): builds of sitegen --preview are expected, not logged as errors. */
void stp_site_previewing(stp_site_t *site);

/* The newest good build, held until `pool` (the request's) is cleared: one readlink at most once
 * per recheck interval, else the build of the last look. APR_NOTFOUND when no build was ever
 * good. */
apr_status_t stp_site_acquire(const stp_build_t **build, stp_site_t *site, apr_pool_t *pool);

#endif
