/* sg_publish: atomic publication. A build is written into a staging directory beside the published
 * ones; only a complete build is renamed into place and made current by swapping the `current`
 * symlink with rename(2). Anything that fails before that leaves the published site untouched. */
#ifndef SG_PUBLISH_H
#define SG_PUBLISH_H

#include <apr_pools.h>
#include <stdint.h>

typedef struct {
    const char *site_dir;
    const char *staging;  /* where this build is written */
    const char *previous; /* the build `current` points to, or NULL */
    uint64_t generation;  /* of this build */
    int lock_fd;
} sg_publish_t;

/* Locks SITE against a concurrent run (APR_EBUSY when another holds it), clears stale staging
 * left by a killed run, makes staging. */
apr_status_t sg_publish_begin(sg_publish_t **pub, const char *site_dir, apr_pool_t *pool);
/* Syncs the staged tree, renames it to build-<generation> and points `current` at it; keeps the
 * previous build (requests in flight may still use it) and removes older ones. */
apr_status_t sg_publish_commit(sg_publish_t *pub, apr_pool_t *pool);
void sg_publish_abort(sg_publish_t *pub, apr_pool_t *pool);

#endif
