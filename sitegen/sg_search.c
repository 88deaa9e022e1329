#include "sg_search.h"

#include <apr_strings.h>

#include "sg_cache.h"
#include "sg_markdown.h"
#include "stp_search.h"

/* Bumped when what a row holds changes for the same document (the text extraction), so that an
 * incremental build re-indexes every row. */
#define SG_SEARCH_ROWS "1"

/* A document's row in one locale, unless the index already has it unchanged. */
static apr_status_t put_doc(stp_search_writer_t *w, const sg_site_t *site, const sg_doc_t *d, const char *lang,
                            const char **err, apr_pool_t *pool)
{
    const char *def = site->default_locale;
    /* The window the row is found in is part of it: a new embargo or a newer version re-indexes. */
    const char *fp = apr_psprintf(pool, "%s:" SG_SEARCH_ROWS ":%" APR_INT64_T_FMT ":%" APR_INT64_T_FMT, d->fp,
                                  (apr_int64_t)d->cat.live, (apr_int64_t)d->until);
    stp_search_row_t row = {0};
    row.doc = d->cat.id;
    row.lang = lang;
    row.fp = fp;
    if (stp_search_writer_keep(w, &row))
        return APR_SUCCESS;
    const char *body_lang = apr_hash_get(d->bodies, lang, APR_HASH_KEY_STRING) ? lang : def;
    const char *md = sg_body_text(d, body_lang, pool);
    const stp_text_t *title = stp_catalog_text_pick(d->cat.titles, lang, def);
    const stp_text_t *summary = stp_catalog_text_pick(d->cat.summaries, lang, def);
    const stp_text_t *note = stp_catalog_text_pick(d->cat.changes, lang, def);
    row.title = title ? title->text : d->cat.id;
    row.summary = summary ? summary->text : "";
    row.note = note ? note->text : "";
    row.body = md ? sg_markdown_text(md, strlen(md), pool) : "";
    row.tile = d->cat.tile;
    row.access = d->cat.access;
    row.nda = d->cat.nda;
    row.published = d->cat.published;
    row.tenants = d->cat.access == STP_ACCESS_TENANT ? d->cat.tenants : NULL;
    row.requires = d->cat.requires;
    row.services = d->cat.services;
    row.regions = d->cat.regions;
    row.industries = d->cat.industries;
    row.live = d->cat.live;
    row.until = d->until;
    return stp_search_writer_put(w, &row, err);
}

apr_status_t sg_search_write(const sg_site_t *site, const char *path, const char *previous, int *rows, const char **err,
                             apr_pool_t *pool)
{
    apr_array_header_t *locales = apr_array_make(pool, site->locales->nelts, sizeof(const char *));
    for (int i = 0; i < site->locales->nelts; i++)
        APR_ARRAY_PUSH(locales, const char *) = APR_ARRAY_IDX(site->locales, i, sg_locale_t).id;
    stp_search_writer_t *w;
    apr_status_t rv = stp_search_writer_open(&w, path, previous, locales, err, pool);
    apr_pool_t *iter;
    apr_pool_create(&iter, pool);
    for (int i = 0; rv == APR_SUCCESS && i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, const sg_doc_t *);
        if (d->state != STP_VERSION_CURRENT) /* embargoed: current at its moment, found from then */
            continue;
        for (int l = 0; rv == APR_SUCCESS && l < locales->nelts; l++) {
            apr_pool_clear(iter);
            rv = put_doc(w, site, d, APR_ARRAY_IDX(locales, l, const char *), err, iter);
            if (rv != APR_SUCCESS)
                *err = apr_pstrdup(pool, *err);
        }
    }
    apr_pool_destroy(iter);
    if (rv == APR_SUCCESS)
        rv = stp_search_writer_finish(w, rows, err);
    return rv;
}
