#include "sg_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "sg_cache.h"
#include "sg_catalog.h"
#include "sg_content.h"
#include "sg_fingerprint.h"
#include "sg_i18n.h"
#include "sg_manifest.h"
#include "sg_pages.h"
#include "sg_plan.h"
#include "sg_publish.h"
#include "sg_search.h"
#include "sg_store.h"
#include "stp_layout.h"

/* One run: the options, what was loaded, and where it goes. */
typedef struct {
    const sg_options_t *opt;
    sg_errors_t *errs;
    sg_site_t *site;
    sg_i18n_t *i18n;
    sg_publish_t *pub;
    sg_cache_notes_t *notes; /* what the next build's document cache needs */
    apr_time_t t;            /* when the current phase began */
} run_t;

/* Phase timings for --verbose: where a build spends its time. */
static void phase(run_t *run, const char *what)
{
    apr_time_t now = apr_time_now();
    if (run->opt->verbose)
        fprintf(stderr, "sitegen: %-10s %7.3f s\n", what, (double)(now - run->t) / APR_USEC_PER_SEC);
    run->t = now;
}

/* Locks the site and makes the staging directory. Returns 0, or 2 after noting why not. */
static int begin(run_t *run, apr_pool_t *pool)
{
    const char *site_dir = run->opt->site_dir;
    char err[256];
    apr_status_t rv = sg_publish_begin(&run->pub, site_dir, pool);
    if (rv == APR_EBUSY)
        sg_error_note(run->errs, "sitegen: another sitegen is publishing to %s", site_dir);
    else if (rv != APR_SUCCESS)
        sg_error_note(run->errs, "sitegen: cannot prepare %s: %s", site_dir, apr_strerror(rv, err, sizeof err));
    return rv == APR_SUCCESS ? 0 : 2;
}

/* --- loading ------------------------------------------------------------------------------------ */

/* Loads and validates the site and its documents, taking unchanged document folders from the
 * published build's document cache. Returns 0, or the exit status. */
static int load(run_t *run, apr_pool_t *pool)
{
    const sg_options_t *opt = run->opt;
    const char *schema_dir = apr_pstrcat(pool, opt->xslt_dir, "/schema", NULL);
    const char *cache = NULL;
    char real[4096];
    if (!opt->full && opt->site_dir && realpath(apr_pstrcat(pool, opt->site_dir, "/" STP_SITE_CURRENT, NULL), real))
        cache = apr_pstrcat(pool, real, "/" STP_BUILD_DOCCACHE, NULL);
    apr_status_t rv = sg_content_load_cached(&run->site, &run->notes, run->errs, opt->content_dir, schema_dir,
                                             opt->jobs, cache, pool);
    phase(run, "load");
    if (rv == APR_ENOENT) {
        sg_error_note(run->errs, "sitegen: %s is not a content directory", opt->content_dir);
        return 2;
    }
    if (rv != APR_SUCCESS) {
        sg_error_note(run->errs, "sitegen: cannot load the schemas from %s", schema_dir);
        return 2;
    }
    if (run->site->locale_index)
        sg_i18n_load(&run->i18n, run->site, opt->xslt_dir, run->errs, pool);
    return sg_errors_count(run->errs) ? 1 : 0;
}

/* What this run holds back from readers, one line per document (sitegen --check prints them). */
static apr_array_header_t *held_back(const sg_site_t *site, apr_time_t now, apr_pool_t *pool)
{
    apr_array_header_t *lines = apr_array_make(pool, 4, sizeof(const char *));
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        char at[21];
        stp_date_format_moment(at, d->goes_live);
        if (d->draft)
            APR_ARRAY_PUSH(lines, const char *) =
                apr_pstrcat(pool, d->xml_path, ": draft: only in preview builds (sitegen --preview)", NULL);
        else if (d->goes_live > now)
            APR_ARRAY_PUSH(lines, const char *) = apr_pstrcat(pool, d->xml_path, ": embargoed until ", at, NULL);
    }
    return lines;
}

/* A preview build shows drafts and embargoed documents to everyone: it never replaces a
 * published site that is not itself a preview. Returns 0, or 2 after noting why not. */
static int check_preview(run_t *run, apr_pool_t *pool)
{
    apr_finfo_t fi;
    const char *cur = apr_pstrcat(pool, run->opt->site_dir, "/" STP_SITE_CURRENT, NULL);
    if (!run->opt->preview || apr_stat(&fi, cur, APR_FINFO_TYPE, pool) != APR_SUCCESS ||
        apr_stat(&fi, apr_pstrcat(pool, cur, "/" STP_BUILD_PREVIEW, NULL), APR_FINFO_TYPE, pool) == APR_SUCCESS)
        return 0;
    sg_error_note(run->errs,
                  "sitegen: %s holds a published build that is not a preview; a preview build (--preview) shows "
                  "drafts and embargoed documents, so it is never published over it: preview into another "
                  "directory",
                  run->opt->site_dir);
    return 2;
}

/* The mark of a preview build, in the build (the catalog says so too: meta "preview"). */
static apr_status_t mark_preview(run_t *run, apr_pool_t *pool)
{
    apr_file_t *f;
    if (!run->opt->preview)
        return APR_SUCCESS;
    apr_status_t rv =
        apr_file_open(&f, apr_pstrcat(pool, run->pub->staging, "/" STP_BUILD_PREVIEW, NULL),
                      APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, pool);
    if (rv == APR_SUCCESS) {
        apr_file_puts("a preview build: drafts and embargoed documents are shown (sitegen --preview)\n", f);
        rv = apr_file_close(f);
    }
    return rv;
}

/* --- the catalog and the document cache, beside the pages ---------------------------------------- */

/* They depend only on the loaded site, not on the pages: one thread writes them while the others
 * plan, fingerprint and render. */
typedef struct {
    run_t *run;
    apr_pool_t *pool; /* this thread's own */
    apr_thread_t *thread;
    apr_status_t rv;
    const char *what; /* what failed */
    int indexed;      /* search index rows (re)written */
} side_t;

static void *APR_THREAD_FUNC side_writer(apr_thread_t *thread, void *data)
{
    side_t *w = data;
    const run_t *run = w->run;
    const char *staging = run->pub->staging;
    (void)thread;
    w->rv = sg_catalog_write(run->site, run->i18n, apr_pstrcat(w->pool, staging, "/" STP_BUILD_CATALOG, NULL),
                             run->pub->generation, w->pool);
    if (w->rv != APR_SUCCESS) {
        w->what = "cannot write the catalog";
        return NULL;
    }
    w->rv = sg_cache_write(run->site, run->notes, apr_pstrcat(w->pool, staging, "/" STP_BUILD_DOCCACHE, NULL), w->pool);
    if (w->rv != APR_SUCCESS) {
        w->what = "cannot write the document cache";
        return NULL;
    }
    const char *prev = run->opt->full || !run->pub->previous
                           ? NULL
                           : apr_pstrcat(w->pool, run->pub->previous, "/" STP_BUILD_SEARCH, NULL);
    const char *err = NULL;
    w->rv = sg_search_write(run->site, apr_pstrcat(w->pool, staging, "/" STP_BUILD_SEARCH, NULL), prev, &w->indexed,
                            &err, w->pool);
    if (w->rv != APR_SUCCESS)
        w->what = apr_pstrcat(w->pool, "cannot write the search index: ", err ? err : "", NULL);
    return NULL;
}

static void side_start(side_t *side, run_t *run, apr_pool_t *pool)
{
    memset(side, 0, sizeof *side);
    side->run = run;
    apr_pool_create(&side->pool, pool);
    if (apr_thread_create(&side->thread, NULL, side_writer, side, pool) != APR_SUCCESS) {
        side->thread = NULL;
        side_writer(NULL, side); /* no thread to spare: write them here and now */
    }
}

static void side_join(side_t *side)
{
    apr_status_t ignored;
    if (side->thread)
        apr_thread_join(&ignored, side->thread);
}

/* --- planning ------------------------------------------------------------------------------------- */

static sg_plan_t *plan(run_t *run, apr_pool_t *pool)
{
    const sg_options_t *opt = run->opt;
    char *global = apr_palloc(pool, 65);
    sg_fingerprint_global(global, run->site, opt->xslt_dir, pool);
    phase(run, "templates");
    sg_summaries_t *sums = sg_fingerprint_summaries(run->site, opt->jobs, pool);
    phase(run, "summaries");
    sg_plan_t *p = sg_plan_items(run->site, global, pool);
    phase(run, "items");
    sg_plan_fingerprint(p, sums, opt->xslt_dir, opt->jobs, pool);
    phase(run, "pages");
    sg_plan_shards(p, pool);
    phase(run, "plan");
    return p;
}

/* --- the run ---------------------------------------------------------------------------------------- */

/* Renders and stores the planned build beside the catalog writer, then writes the manifest and
 * publishes. Returns 0, or 2 with the published site unchanged. */
static int write_and_publish(run_t *run, const sg_plan_t *p, sg_render_t *render, side_t *side, sg_stats_t *stats,
                             apr_pool_t *pool)
{
    const sg_options_t *opt = run->opt;
    sg_store_where_t where = {run->pub->staging,
                              apr_pstrcat(pool, opt->site_dir, "/" STP_SITE_STORE, NULL),
                              opt->full ? NULL : run->pub->previous,
                              opt->full,
                              opt->jobs,
                              opt->progress};
    sg_store_result_t res = {0, 0, NULL};
    char err[256];
    if (opt->progress)
        fprintf(stderr, "sitegen: %d documents, %d locales, %d files to write (%s)\n", run->site->docs->nelts,
                run->site->locales->nelts, p->items->nelts, where.prev ? "incremental" : "full");
    apr_status_t rv = sg_store_write(&res, p, render, &where, pool);
    phase(run, "write");
    side_join(side);
    phase(run, "catalog");
    if (rv == APR_SUCCESS && side->rv != APR_SUCCESS) {
        rv = side->rv;
        res.failure = apr_psprintf(pool, "%s: %s", side->what, apr_strerror(rv, err, sizeof err));
    }
    if (rv != APR_SUCCESS || (rv = mark_preview(run, pool)) != APR_SUCCESS ||
        (rv = sg_manifest_write(p, run->pub->staging, pool)) != APR_SUCCESS ||
        (phase(run, "manifest"), (rv = sg_publish_commit(run->pub, pool)) != APR_SUCCESS)) {
        sg_error_note(run->errs, "sitegen: build failed: %s; the published site is unchanged",
                      res.failure ? res.failure : apr_strerror(rv, err, sizeof err));
        sg_publish_abort(run->pub, pool);
        return 2;
    }
    phase(run, "publish");
    sg_store_collect(where.store, opt->site_dir, run->pub->previous, pool);
    phase(run, "cleanup");
    stats->pages = p->items->nelts;
    stats->rendered = res.rendered;
    stats->reused = res.reused;
    stats->indexed = side->indexed;
    return 0;
}

int sg_build_run(const sg_options_t *opt, sg_stats_t *stats, sg_errors_t *errs, apr_pool_t *pool)
{
    run_t run = {opt, errs, NULL, NULL, NULL, NULL, apr_time_now()};
    sg_render_t *render;
    side_t side;

    apr_time_t now = opt->now ? opt->now : apr_time_now(); /* what embargoes are judged at */
    memset(stats, 0, sizeof *stats);
    int status = load(&run, pool);
    if (run.site) {
        stats->docs = run.site->docs->nelts;
        stats->errors = sg_errors_count(errs);
        stats->held = held_back(run.site, now, pool);
    }
    if (status || opt->check_only)
        return status;
    if ((status = check_preview(&run, pool)) != 0)
        return status;

    sg_content_resolve(run.site, opt->today, now, opt->preview);
    if (sg_render_open(&render, run.site, run.i18n, opt->xslt_dir, errs, pool) != APR_SUCCESS)
        return 2;
    if ((status = begin(&run, pool)) != 0)
        return status;
    side_start(&side, &run, pool);
    sg_plan_t *p = plan(&run, pool);
    return write_and_publish(&run, p, render, &side, stats, pool);
}
