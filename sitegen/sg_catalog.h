/* sg_catalog: writing a build's catalog.mdb (libstp/stp_catalog.h): every document, every series,
 * the UI strings of every locale for the module's pages and stpctl's mails, and the site's
 * settings (docs/architecture.md). */
#ifndef SG_CATALOG_H
#define SG_CATALOG_H

#include <stdint.h>

#include "sg_content.h"
#include "sg_i18n.h"

/* Creates the catalog at `path` (it must not exist) for build `generation`. Not synced: the
 * caller syncs the whole build (sg_publish_commit). */
apr_status_t sg_catalog_write(const sg_site_t *site, const sg_i18n_t *i18n, const char *path, uint64_t generation,
                              apr_pool_t *pool);

#endif
