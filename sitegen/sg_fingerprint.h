/* sg_fingerprint: what a page shows, as a fingerprint, so that an incremental build rewrites the
 * pages a change shows on and no others (docs/architecture.md). */
#ifndef SG_FINGERPRINT_H
#define SG_FINGERPRINT_H

#include "sg_content.h"
#include "sg_pages.h"

/* What listings show of each document, per site locale: worked out once, listings repeat it. */
typedef struct sg_summaries_t sg_summaries_t;

/* The inputs every page shares: the generator's version, site.xml and the templates. */
void sg_fingerprint_global(char out[65], const sg_site_t *site, const char *xslt_dir, apr_pool_t *pool);
/* The listing fingerprints of every document of the site, on `jobs` threads. */
sg_summaries_t *sg_fingerprint_summaries(const sg_site_t *site, int jobs, apr_pool_t *pool);
/* Sets pg->fp: exactly what the page shows (the global inputs are covered once per build). */
void sg_fingerprint_page(sg_page_t *pg, const sg_summaries_t *sums, const sg_site_t *site);

#endif
