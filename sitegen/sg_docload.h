/* sg_docload: loading a site's document folders (doc.xml, bodies, files, fingerprints) in parallel. */
#ifndef SG_DOCLOAD_H
#define SG_DOCLOAD_H

#include "sg_cache.h"
#include "sg_content.h"

/* Loads every folder of content_dir/docs on `jobs` threads into site->docs and site->doc_index, in
 * folder order, refusing symbolic links. A folder whose signature in `cache` (NULL: none) still
 * holds comes from there; `salt` (NULL: sign nothing) is what every signature depends on. What the
 * next build's cache needs of each document lands in `notes`. */
void sg_docload_all(sg_site_t *site, sg_cache_notes_t *notes, int jobs, apr_hash_t *cache, const char *salt,
                    sg_errors_t *errs, apr_pool_t *pool);

#endif
