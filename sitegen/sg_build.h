/* sg_build: one run of the generator, phase by phase (docs/architecture.md): load the site and
 * its documents (sg_content, sg_docload, sg_series), plan the pages with fingerprints (sg_plan),
 * render and store what changed, reusing unchanged pages of the previous build (sg_store), write
 * the catalog and the document cache (sg_catalog, sg_cache), publish (sg_publish). */
#ifndef SG_BUILD_H
#define SG_BUILD_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "sg_util.h"
#include "stp_date.h"

typedef struct {
    const char *content_dir;
    const char *site_dir; /* NULL with check_only */
    const char *xslt_dir; /* templates, i18n catalogs and schemas */
    int jobs;             /* rendering threads */
    int check_only;
    int progress;    /* print progress lines on stderr */
    int full;        /* ignore the previous build */
    int verbose;     /* print phase timings */
    stp_day_t today; /* the day retention is judged on */
    apr_time_t now;  /* the moment embargoes are judged at (0: the clock) */
    int preview;     /* --preview: drafts and embargoed documents as if live, with banners */
} sg_options_t;

typedef struct {
    int pages, rendered, reused, files;
    int docs, errors;         /* errors: content errors found */
    int indexed;              /* search index rows (re)written */
    apr_array_header_t *held; /* const char *: "path: embargoed until ..." / "path: draft ...", per document */
} sg_stats_t;

/* Returns the exit status: 0 published (or valid), 1 content errors, 2 system error. Every
 * message (each content error as path:line: message, or what failed) lands in `errs`, in order,
 * for the caller to print; nothing under site_dir changes unless it returns 0. */
int sg_build_run(const sg_options_t *opt, sg_stats_t *stats, sg_errors_t *errs, apr_pool_t *pool);

#endif
