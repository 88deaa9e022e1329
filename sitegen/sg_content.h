/* sg_content: the content model (site.xml, documents, NDA texts), loaded and validated as a whole.
 * Loading never stops at the first problem: every error lands in sg_errors_t. The loader is in
 * phases, a file each: the site and the entry points (sg_content.c), the document folders
 * (sg_docload.c), series and listings (sg_series.c), over shared XML helpers (sg_xml.c). */
#ifndef SG_CONTENT_H
#define SG_CONTENT_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "sg_util.h"
#include "stp_catalog.h"
#include "stp_retention.h"

typedef struct {
    const char *id;
    const char *name; /* the locale's own name for itself */
    int rtl;
} sg_locale_t;

/* A taxonomy term: section, tile, service, region, industry or tenant. */
typedef struct sg_term_t {
    const char *id;
    apr_array_header_t *labels;       /* stp_text_t */
    apr_array_header_t *descriptions; /* stp_text_t */
    struct sg_term_t *section;        /* tiles: their section */
    apr_array_header_t *tiles;        /* sections: sg_term_t * */
    apr_array_header_t *domains;      /* tenants: const char *, their people's e-mail domains */
} sg_term_t;

/* A source file to publish. */
typedef struct {
    const char *src; /* absolute path in the content tree */
    int line;        /* of its <file> element, for messages */
    stp_file_t file; /* as published (path under files/) */
} sg_srcfile_t;

/* An image of the document folder that a body shows: published beside the document's pages
 * under a name made of its digest (sg_media.h). */
typedef struct {
    const char *rel;  /* its path in the document folder */
    const char *src;  /* absolute path in the content tree */
    const char *name; /* as published: <32 hex digits of its SHA-256>.<png|jpg|gif|webp> */
    char sha256[65];
    apr_uint64_t size;
} sg_image_t;

#define SG_PREVIEW_DRAFT 1
#define SG_PREVIEW_EMBARGO 2

typedef struct sg_doc_t {
    stp_doc_t cat;        /* the catalog record (files hashed by the document loader) */
    const char *root;     /* the content directory: files are opened below it, following no link */
    const char *dir;      /* the document's folder */
    const char *xml_path; /* for messages */
    int line;             /* of its root element */
    sg_term_t *tile;
    apr_hash_t *bodies;           /* lang -> Markdown source */
    apr_hash_t *body_fps;         /* lang -> fingerprint of that body */
    apr_array_header_t *srcfiles; /* sg_srcfile_t */
    apr_array_header_t *images;   /* sg_image_t: the folder's images its bodies show */
    stp_version_state_t state;
    int draft;                 /* <draft/>: only in preview builds */
    int embargoed;             /* live after this build's moment (cat.live): listed by no page of this build */
    int preview;               /* preview builds: SG_PREVIEW_DRAFT | SG_PREVIEW_EMBARGO, shown as live with a banner */
    apr_time_t goes_live;      /* cat.live as written (a preview build's catalog has 0) */
    apr_time_t until;          /* when a newer version of its series goes live (0: none yet) */
    struct sg_doc_t *current;  /* the current version of its series */
    apr_array_header_t *older; /* superseded versions still within retention, newest first (current only) */
    char meta_fp[65];          /* fingerprint of doc.xml: what listings show */
    char fp[65];               /* fingerprint of everything the document page shows of this document */
} sg_doc_t;

/* A month of What's new: the documents of a listing published in it, newest first. */
typedef struct {
    char id[16];              /* "YYYY-MM" */
    int year, month;          /* month 1-12 */
    int index;                /* its place in the listing's months, 0 for the newest */
    apr_array_header_t *docs; /* sg_doc_t * */
} sg_month_t;

typedef struct {
    const char *content_dir;
    const char *site_path;
    apr_array_header_t *labels;  /* stp_text_t: the site title */
    const char *base_url;        /* without a trailing slash */
    const char *editors;         /* <editors>: where stpctl report mails the validity report, or NULL */
    apr_array_header_t *locales; /* sg_locale_t; the first is the default */
    const char *default_locale;
    const char *nda_version; /* NULL: no NDA */
    int nda_line;            /* of <nda> in site.xml, for messages */
    apr_hash_t *nda_texts;   /* lang -> Markdown of the current NDA */
    int retention_months;
    int unsafe_html;
    /* The portal's own words (stp_view_portal_el): stp_text_t per locale. */
    apr_array_header_t *tagline, *footer;
    apr_array_header_t *link_texts[3], *link_hrefs[3]; /* privacy, contact, imprint (stp_view_portal_links) */
    apr_array_header_t *tenants, *sections, *services, *regions, *industries; /* sg_term_t * */
    apr_hash_t *tenant_index, *tile_index, *service_index, *region_index, *industry_index, *locale_index;
    apr_array_header_t *docs; /* sg_doc_t *, in id order */
    apr_hash_t *doc_index;
    apr_hash_t *series; /* series id -> apr_array_header_t of sg_doc_t *, newest first */
    char site_fp[65];   /* fingerprint of site.xml and the NDA texts */
    int preview;        /* a preview build (sitegen --preview): drafts and embargoed documents shown */
    struct sg_schema_t *doc_schema;
    /* Listings, worked out by sg_content_resolve: */
    apr_hash_t *tile_docs;      /* tile id -> sg_doc_t *: current, not tenant-restricted, newest first */
    apr_array_header_t *listed; /* every such document, newest first (What's New, feed, sitemap) */
    apr_hash_t *tenant_docs;    /* tenant id -> sg_doc_t *: its current tenant documents, newest first */
    apr_hash_t *org_tiles;      /* tile id -> itself: tiles whose documents are for organisations only */
    apr_array_header_t *months; /* sg_month_t *: `listed` by month of publication, newest first */
    stp_day_t today;            /* the day it was resolved for: what is expired (stp_validity.h) */
} sg_site_t;

/* Loads and validates CONTENT_DIR against the schemas in schema_dir, reading documents on `jobs`
 * threads. Returns APR_SUCCESS when it could read the tree (errors may still have been found:
 * check sg_errors_count); another status is a system error. */
apr_status_t sg_content_load(sg_site_t **site, sg_errors_t *errs, const char *content_dir, const char *schema_dir,
                             int jobs, apr_pool_t *pool);
/* The same, taking unchanged folders from the previous build's document cache (NULL: none), and
 * noting in *notes (when not NULL) what the next build's cache needs of each document. */
struct sg_cache_notes_t;
apr_status_t sg_content_load_cached(sg_site_t **site, struct sg_cache_notes_t **notes, sg_errors_t *errs,
                                    const char *content_dir, const char *schema_dir, int jobs, const char *cache_path,
                                    apr_pool_t *pool);

/* Works out series order, retention states for `today` and embargoes at `now`: drafts leave the
 * site, documents not live at `now` leave every listing (their pages and catalog records stay, as
 * they will be at their moment). `preview`: drafts and embargoed documents stay, as if live, marked
 * for a banner. */
void sg_content_resolve(sg_site_t *site, stp_day_t today, apr_time_t now, int preview);

/* Groups a listing (newest first) by month of publication: sg_month_t *, newest first, each with
 * its documents in the listing's order. Only months that have documents. */
apr_array_header_t *sg_content_months(const apr_array_header_t *docs, apr_pool_t *pool);

/* Parses, validates (against the site's doc schema) and checks one doc.xml from memory, without the
 * file checks: the metadata loader on its own, used by the loader, the tests and the fuzz target.
 * Returns NULL after recording errors. */
sg_doc_t *sg_doc_parse(const sg_site_t *site, const char *xml, apr_size_t len, const char *path, sg_errors_t *errs,
                       apr_pool_t *pool);

const char *sg_text(const apr_array_header_t *texts, const char *lang, const char *fallback);
/* A string of the portal's own words in `lang`, by its catalog key (portal.tagline,
 * portal.footer, portal.<link>.text, portal.<link>.href): the locale's, else the default
 * locale's; NULL when site.xml has none. */
const char *sg_site_portal(const sg_site_t *site, const char *lang, const char *key, apr_pool_t *pool);
const sg_locale_t *sg_site_locale(const sg_site_t *site, const char *id);

#endif
