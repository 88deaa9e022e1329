/* sg_pages: one page = one XML input (built here from the model) through one XSLT stylesheet. */
#ifndef SG_PAGES_H
#define SG_PAGES_H

#include "sg_content.h"
#include "sg_i18n.h"

typedef enum {
    SG_PAGE_HOME,
    SG_PAGE_TILE,
    SG_PAGE_DOC,
    SG_PAGE_ORG_HOME,
    SG_PAGE_ORG_DOC,
    SG_PAGE_FEED,
    SG_PAGE_SITEMAP,
    SG_PAGE_WHATSNEW /* one month of What's new; the newest at /<lang>/whats-new/ */
} sg_page_kind_t;

typedef struct {
    sg_page_kind_t kind;
    const char *lang;
    const char *out; /* output path relative to the build root */
    const char *url; /* the path it is served at, e.g. /de/docs/x/ */
    const sg_term_t *tile;
    const sg_doc_t *doc;
    const char *tenant;
    const sg_month_t *month; /* What's new: its month (NULL when nothing is listed) */
    int model;               /* the page's input XML rather than the page, for the module to personalise */
    char fp[65];             /* fingerprint of everything the page shows */
} sg_page_t;

typedef struct sg_render_t sg_render_t;

/* Compiles the stylesheets in xslt_dir through the one page system (libstp/stp_view.h), whose
 * security preferences (no file or network access) apply to every transformation. */
apr_status_t sg_render_open(sg_render_t **r, const sg_site_t *site, const sg_i18n_t *i18n, const char *xslt_dir,
                            sg_errors_t *errs, apr_pool_t *pool);
/* Renders one page into memory. Thread-safe: many pages may render at once. */
apr_status_t sg_render_page(char **out, apr_size_t *len, sg_render_t *r, const sg_page_t *page, apr_pool_t *pool);
/* The public URL of a page kind for a locale (used by links and the language picker); for
 * SG_PAGE_WHATSNEW, the newest month's. */
const char *sg_page_url(sg_page_kind_t kind, const char *lang, const sg_term_t *tile, const sg_doc_t *doc,
                        apr_pool_t *pool);
/* The URL of page `pg` in locale `lang`: sg_page_url, and What's new's month. */
const char *sg_page_url_of(const sg_page_t *pg, const char *lang, apr_pool_t *pool);
void sg_render_close(sg_render_t *r);

#endif
