#include "sg_fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "sg_markdown.h"
#include "sg_util.h"
#include "stp_validity.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every file under the template directory, in a stable order. */
static void hash_tree(sg_fp_t *fp, const char *dir, apr_pool_t *pool)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_array_header_t *names = apr_array_make(pool, 16, sizeof(const char *));
    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS)
        return;
    while (SG_DIR_MORE(apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)))
        if (fi.name[0] != '.')
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(pool, fi.name);
    apr_dir_close(d);
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), cmp_str);
    for (int i = 0; i < names->nelts; i++) {
        const char *path = apr_pstrcat(pool, dir, "/", APR_ARRAY_IDX(names, i, const char *), NULL);
        char *data;
        apr_size_t len;
        if (apr_stat(&fi, path, APR_FINFO_TYPE, pool) == APR_SUCCESS && fi.filetype == APR_DIR) {
            hash_tree(fp, path, pool);
        } else if (sg_file_read(&data, &len, path, pool) == APR_SUCCESS) {
            sg_fp_str(fp, APR_ARRAY_IDX(names, i, const char *));
            sg_fp_add(fp, data, len);
        }
    }
}

void sg_fingerprint_global(char out[65], const sg_site_t *site, const char *xslt_dir, apr_pool_t *pool)
{
    sg_fp_t fp;
    sg_fp_init(&fp);
    sg_fp_str(&fp, PACKAGE_VERSION);
    sg_fp_str(&fp, sg_markdown_flavour());
    sg_fp_str(&fp, site->site_fp);
    sg_fp_str(&fp, site->preview ? "preview" : "published"); /* every page of a preview says so */
    hash_tree(&fp, xslt_dir, pool);
    sg_fp_hex(out, &fp);
}

/* What a listing shows of a document in one locale (see doc_el in sg_pages.c). */
static void fp_summary_compute(sg_fp_t *fp, const sg_doc_t *d, const char *lang, const char *def, stp_day_t today)
{
    char num[32];
    sg_fp_str(fp, d->cat.id);
    sg_fp_str(fp, d->cat.series);
    sg_fp_str(fp, d->cat.version);
    sg_fp_str(fp, stp_catalog_access_name(d->cat.access));
    sg_fp_str(fp, d->cat.nda ? "nda" : "");
    for (int i = 0; d->cat.requires && i < d->cat.requires->nelts; i++) {
        const stp_require_t *q = &APR_ARRAY_IDX(d->cat.requires, i, stp_require_t);
        sg_fp_str(fp, q->kind == STP_REQUIRE_ROLE ? "role" : "claim");
        sg_fp_str(fp, q->name);
        sg_fp_str(fp, q->value);
    }
    sg_fp_str(fp, stp_retention_version_state_name(d->state));
    sg_fp_str(fp, d->cat.tile);
    snprintf(num, sizeof num, "%ld", (long)d->cat.published);
    sg_fp_str(fp, num);
    /* Whether it is expired depends on the day of the build, not only on doc.xml. */
    char validity[80];
    snprintf(validity, sizeof validity, "%ld %ld %ld %s", (long)d->cat.valid_from, (long)d->cat.valid_until,
             (long)d->cat.reviewed, stp_validity_name(stp_validity_on(&d->cat, today)));
    sg_fp_str(fp, validity);
    const apr_array_header_t *texts[] = {d->cat.titles, d->cat.summaries, d->cat.changes};
    for (size_t i = 0; i < 3; i++) {
        const stp_text_t *t = stp_catalog_text_pick(texts[i], lang, def);
        sg_fp_str(fp, t ? t->lang : "");
        sg_fp_str(fp, t ? t->text : "");
    }
}

struct sg_summaries_t {
    apr_hash_t *by_doc; /* sg_doc_t * -> const char *[locales] */
};

typedef struct {
    const sg_site_t *site;
    const char ***fps; /* per document, in site order */
} summaries_job_t;

/* Works out one document's summary fingerprint in every locale. */
static void summary_compute(void *baton, int i, apr_pool_t *pool)
{
    summaries_job_t *job = baton;
    const sg_site_t *site = job->site;
    const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
    const char **fps = apr_palloc(pool, sizeof(const char *) * (apr_size_t)site->locales->nelts);
    for (int l = 0; l < site->locales->nelts; l++) {
        sg_fp_t fp;
        char *hex = apr_palloc(pool, 65);
        sg_fp_init(&fp);
        fp_summary_compute(&fp, d, APR_ARRAY_IDX(site->locales, l, sg_locale_t).id, site->default_locale, site->today);
        sg_fp_hex(hex, &fp);
        fps[l] = hex;
    }
    job->fps[i] = fps;
}

sg_summaries_t *sg_fingerprint_summaries(const sg_site_t *site, int jobs, apr_pool_t *pool)
{
    sg_summaries_t *sums = apr_palloc(pool, sizeof *sums);
    int n = site->docs->nelts;
    summaries_job_t job = {site, apr_pcalloc(pool, sizeof(const char **) * (apr_size_t)(n ? n : 1))};
    sg_parallel_for(n, jobs, summary_compute, &job, pool);
    sums->by_doc = apr_hash_make(pool);
    for (int i = 0; i < n; i++)
        apr_hash_set(sums->by_doc, &APR_ARRAY_IDX(site->docs, i, sg_doc_t *), sizeof(sg_doc_t *), job.fps[i]);
    return sums;
}

static int locale_index(const sg_site_t *site, const char *lang)
{
    for (int l = 0; l < site->locales->nelts; l++)
        if (!strcmp(APR_ARRAY_IDX(site->locales, l, sg_locale_t).id, lang))
            return l;
    return 0;
}

static void fp_summary(sg_fp_t *fp, const sg_summaries_t *sums, const sg_doc_t *d, int li)
{
    const char **fps = apr_hash_get(sums->by_doc, &d, sizeof d);
    sg_fp_add(fp, fps[li], 64);
}

static void fp_listing(sg_fp_t *fp, const sg_summaries_t *sums, const apr_array_header_t *docs, int limit, int li)
{
    for (int i = 0; docs && i < docs->nelts && (limit <= 0 || i < limit); i++)
        fp_summary(fp, sums, APR_ARRAY_IDX(docs, i, sg_doc_t *), li);
}

static void fp_ids(sg_fp_t *fp, const apr_array_header_t *ids)
{
    for (int i = 0; ids && i < ids->nelts; i++)
        sg_fp_str(fp, APR_ARRAY_IDX(ids, i, const char *));
    sg_fp_str(fp, "|");
}

/* Which tiles lead to the organisation's pages (in the taxonomy's order, which is stable). */
static void fp_org_tiles(sg_fp_t *fp, const sg_site_t *site)
{
    for (int i = 0; i < site->sections->nelts; i++) {
        const sg_term_t *sec = APR_ARRAY_IDX(site->sections, i, sg_term_t *);
        for (int j = 0; j < sec->tiles->nelts; j++)
            sg_fp_str(fp,
                      apr_hash_get(site->org_tiles, APR_ARRAY_IDX(sec->tiles, j, sg_term_t *)->id, APR_HASH_KEY_STRING)
                          ? "o"
                          : "-");
    }
}

/* A document page: its summary, terms, body, files, and the versions it links to. */
static void fp_doc_page(sg_fp_t *fp, const sg_summaries_t *sums, const sg_doc_t *d, const char *lang, const char *def,
                        int li)
{
    fp_summary(fp, sums, d, li);
    fp_ids(fp, d->cat.services);
    fp_ids(fp, d->cat.regions);
    fp_ids(fp, d->cat.industries);
    const char *body = apr_hash_get(d->body_fps, lang, APR_HASH_KEY_STRING);
    sg_fp_str(fp, body ? lang : def);
    sg_fp_str(fp, body ? body : apr_hash_get(d->body_fps, def, APR_HASH_KEY_STRING));
    for (int i = 0; d->images && i < d->images->nelts; i++) { /* the body shows them by these names */
        sg_fp_str(fp, APR_ARRAY_IDX(d->images, i, sg_image_t).rel);
        sg_fp_str(fp, APR_ARRAY_IDX(d->images, i, sg_image_t).name);
    }
    for (int i = 0; i < d->cat.files->nelts; i++) {
        const stp_file_t *f = &APR_ARRAY_IDX(d->cat.files, i, stp_file_t);
        char size[32];
        snprintf(size, sizeof size, "%" APR_UINT64_T_FMT, f->size);
        sg_fp_str(fp, f->lang);
        sg_fp_str(fp, f->name);
        sg_fp_str(fp, f->media_type);
        sg_fp_str(fp, f->sha256);
        sg_fp_str(fp, size);
    }
    fp_listing(fp, sums, d->older, 0, li);
    if (d->current && d->current != d)
        fp_summary(fp, sums, d->current, li);
    char banner[48]; /* a preview's banner */
    snprintf(banner, sizeof banner, "%d:%" APR_INT64_T_FMT, d->preview, (apr_int64_t)d->goes_live);
    sg_fp_str(fp, banner);
}

/* The months of What's new, which every one of its pages and the sitemap name. */
static void fp_months(sg_fp_t *fp, const sg_site_t *site)
{
    for (int i = 0; i < site->months->nelts; i++)
        sg_fp_str(fp, APR_ARRAY_IDX(site->months, i, sg_month_t *)->id);
    sg_fp_str(fp, "|");
}

/* The sitemap: every public, served document and its date, and the months of What's new (whose
 * dates are their newest documents'). */
static void fp_sitemap(sg_fp_t *fp, const sg_site_t *site)
{
    fp_months(fp, site);
    for (int i = 0; i < site->months->nelts; i++) {
        const sg_month_t *m = APR_ARRAY_IDX(site->months, i, sg_month_t *);
        char num[32];
        snprintf(num, sizeof num, "%ld", (long)APR_ARRAY_IDX(m->docs, 0, sg_doc_t *)->cat.published);
        sg_fp_str(fp, num);
    }
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        char num[32];
        if (d->cat.access == STP_ACCESS_TENANT || d->state == STP_VERSION_RETIRED || d->embargoed)
            continue;
        snprintf(num, sizeof num, "%ld", (long)d->cat.published);
        sg_fp_str(fp, d->cat.id);
        sg_fp_str(fp, num);
    }
}

/* The global inputs are left out: the manifest's and every shard's fingerprint include them. */
void sg_fingerprint_page(sg_page_t *pg, const sg_summaries_t *sums, const sg_site_t *site)
{
    int li = locale_index(site, pg->lang);
    sg_fp_t fp;
    sg_fp_init(&fp);
    sg_fp_str(&fp, pg->out); /* the path names the kind, the locale and the tenant: all change the page */
    switch (pg->kind) {
    case SG_PAGE_HOME:
        fp_listing(&fp, sums, site->listed, 10, li);
        fp_org_tiles(&fp, site);
        break;
    case SG_PAGE_FEED:
        fp_listing(&fp, sums, site->listed, 50, li);
        break;
    case SG_PAGE_TILE:
        fp_listing(&fp, sums, apr_hash_get(site->tile_docs, pg->tile->id, APR_HASH_KEY_STRING), 0, li);
        sg_fp_str(&fp, apr_hash_get(site->org_tiles, pg->tile->id, APR_HASH_KEY_STRING) ? "o" : "-");
        break;
    case SG_PAGE_ORG_HOME:
        fp_listing(&fp, sums, apr_hash_get(site->tenant_docs, pg->tenant, APR_HASH_KEY_STRING), 0, li);
        break;
    case SG_PAGE_DOC:
    case SG_PAGE_ORG_DOC:
        fp_doc_page(&fp, sums, pg->doc, pg->lang, site->default_locale, li);
        break;
    case SG_PAGE_SITEMAP:
        fp_sitemap(&fp, site);
        break;
    case SG_PAGE_WHATSNEW:
        /* Its month's documents (their dates among them), and every month for the navigation:
         * the path names the month, and the index names none. */
        sg_fp_str(&fp, pg->month ? pg->month->id : "");
        fp_months(&fp, site);
        if (pg->month)
            fp_listing(&fp, sums, pg->month->docs, 0, li);
        break;
    }
    sg_fp_hex(pg->fp, &fp);
}
