/* sg_store: writing a planned build. Each shard is made once under SITE/store/<fp> (written under
 * a temporary name, renamed when whole) and linked into the build; each single item is written
 * into the build. An item whose fingerprint the previous build already wrote is hard-linked from
 * there, else it is rendered (sg_pages.h) or copied (docs/architecture.md). */
#ifndef SG_STORE_H
#define SG_STORE_H

#include "sg_pages.h"
#include "sg_plan.h"

typedef struct {
    const char *staging; /* the build directory being written */
    const char *store;   /* SITE/store */
    const char *prev;    /* the previous build to reuse from, or NULL */
    int full;            /* make every shard afresh */
    int jobs;            /* writing threads */
    int progress;        /* print progress lines on stderr */
} sg_store_where_t;

typedef struct {
    int rendered, reused;
    const char *failure; /* what failed, for the message; NULL when it is the status alone */
} sg_store_result_t;

/* Writes every item of the plan (its shards made by sg_plan_shards) on `jobs` threads. */
apr_status_t sg_store_write(sg_store_result_t *res, const sg_plan_t *plan, sg_render_t *render,
                            const sg_store_where_t *where, apr_pool_t *pool);
/* Removes store directories that neither the published build nor `kept_build` uses. */
void sg_store_collect(const char *store, const char *site_dir, const char *kept_build, apr_pool_t *pool);

#endif
