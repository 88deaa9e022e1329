/* sg_manifest: what a build wrote, with fingerprints, so that the next build can reuse it.
 * A build's .manifest holds "<fp> <path>" for each item outside the shards, "<fp> @<shard dir>"
 * for each shard and "<fp> !global" for the inputs every page shares. Each store directory keeps
 * its own items' fingerprints in .fps ("<fp> <name>"), so that a build reads and writes a few
 * thousand lines, not one per page (docs/architecture.md). */
#ifndef SG_MANIFEST_H
#define SG_MANIFEST_H

#include <apr_hash.h>

#include "sg_plan.h"

typedef enum {
    SG_MANIFEST_ITEMS,      /* path -> fp (also: a shard's .fps, name -> fp) */
    SG_MANIFEST_SHARDS,     /* shard dir -> store name */
    SG_MANIFEST_STORE_NAMES /* store name -> itself */
} sg_manifest_what_t;

/* Reads the lines of `what` from a manifest or .fps file; an absent file (or NULL) is empty. */
apr_hash_t *sg_manifest_read_file(const char *path, sg_manifest_what_t what, apr_pool_t *pool);
/* The same from the .manifest of the build directory `build` (NULL: none). */
apr_hash_t *sg_manifest_read(const char *build, sg_manifest_what_t what, apr_pool_t *pool);
/* Writes the .manifest of the planned build into the build directory `dir`. */
apr_status_t sg_manifest_write(const sg_plan_t *plan, const char *dir, apr_pool_t *pool);

#endif
