/* sg_search: the build's search index (libstp/stp_search.h) from the loaded site: every current
 * document in every locale (tenant documents with their tenants), a locale without its own title,
 * summary or body taking the default locale's. Starts from the previous build's index and
 * re-indexes only documents whose fingerprint changed. */
#ifndef SG_SEARCH_H
#define SG_SEARCH_H

#include <apr_pools.h>

#include "sg_content.h"

/* Writes the index to `path`, updating `previous` (the published build's index; NULL or absent:
 * a new one). `rows`: how many (document, locale) rows were (re)indexed. */
apr_status_t sg_search_write(const sg_site_t *site, const char *path, const char *previous, int *rows, const char **err,
                             apr_pool_t *pool);

#endif
