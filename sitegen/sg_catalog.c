#include "sg_catalog.h"

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "sg_markdown.h"
#include "stp_catalog.h"
#include "stp_view.h"

static apr_status_t put_docs(stp_catalog_t *cat, const sg_site_t *site, apr_pool_t *scratch)
{
    apr_status_t rv = APR_SUCCESS;
    for (int i = 0; i < site->docs->nelts && rv == APR_SUCCESS; i++) {
        rv = stp_catalog_put_doc(cat, &APR_ARRAY_IDX(site->docs, i, sg_doc_t *)->cat, scratch);
        apr_pool_clear(scratch);
    }
    return rv;
}

static apr_status_t put_series(stp_catalog_t *cat, const sg_site_t *site, apr_pool_t *pool, apr_pool_t *scratch)
{
    apr_status_t rv = APR_SUCCESS;
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi && rv == APR_SUCCESS; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        apr_array_header_t *ids = apr_array_make(scratch, list->nelts, sizeof(const char *));
        for (int j = 0; j < list->nelts; j++)
            APR_ARRAY_PUSH(ids, const char *) = APR_ARRAY_IDX(list, j, sg_doc_t *)->cat.id;
        rv = stp_catalog_put_series(cat, apr_hash_this_key(hi), ids, scratch);
        apr_pool_clear(scratch);
    }
    return rv;
}

/* The site's own strings of a locale: its name and the locale's, the organisations' names (for
 * the header of a member's pages) and the NDA text rendered under the bodies' rules. */
static apr_status_t put_site_strings(stp_catalog_t *cat, const sg_site_t *site, const sg_locale_t *loc,
                                     apr_pool_t *scratch)
{
    const char *def = site->default_locale;
    apr_status_t rv = stp_catalog_put_string(cat, loc->id, "site.title", sg_text(site->labels, loc->id, def), scratch);
    if (rv == APR_SUCCESS)
        rv = stp_catalog_put_string(cat, loc->id, "locale.name", loc->name, scratch);
    if (rv == APR_SUCCESS)
        rv = stp_catalog_put_string(cat, loc->id, "locale.dir", loc->rtl ? "rtl" : "ltr", scratch);
    for (int t = 0; t < site->tenants->nelts && rv == APR_SUCCESS; t++) {
        const sg_term_t *tn = APR_ARRAY_IDX(site->tenants, t, sg_term_t *);
        rv = stp_catalog_put_string(cat, loc->id, apr_pstrcat(scratch, "org.name.", tn->id, NULL),
                                    sg_text(tn->labels, loc->id, def), scratch);
    }
    /* The labels of the search filters. */
    const struct {
        const char *prefix;
        const apr_array_header_t *terms;
    } vocab[] = {
        {"label.service.", site->services}, {"label.region.", site->regions}, {"label.industry.", site->industries}};
    for (size_t v = 0; v < sizeof vocab / sizeof vocab[0]; v++)
        for (int t = 0; t < vocab[v].terms->nelts && rv == APR_SUCCESS; t++) {
            const sg_term_t *tm = APR_ARRAY_IDX(vocab[v].terms, t, sg_term_t *);
            rv = stp_catalog_put_string(cat, loc->id, apr_pstrcat(scratch, vocab[v].prefix, tm->id, NULL),
                                        sg_text(tm->labels, loc->id, def), scratch);
        }
    for (int si = 0; si < site->sections->nelts && rv == APR_SUCCESS; si++) {
        const sg_term_t *sec = APR_ARRAY_IDX(site->sections, si, sg_term_t *);
        for (int t = 0; t < sec->tiles->nelts && rv == APR_SUCCESS; t++) {
            const sg_term_t *tile = APR_ARRAY_IDX(sec->tiles, t, sg_term_t *);
            rv = stp_catalog_put_string(cat, loc->id, apr_pstrcat(scratch, "label.category.", tile->id, NULL),
                                        sg_text(tile->labels, loc->id, def), scratch);
        }
    }
    /* The portal's own words, resolved to this locale, for the module's pages (stp_view_portal_el). */
    const char *own[] = {"portal.tagline", "portal.footer", NULL, NULL, NULL, NULL, NULL, NULL};
    for (int k = 0; stp_view_portal_links[k]; k++) {
        own[2 + 2 * k] = apr_pstrcat(scratch, "portal.", stp_view_portal_links[k], ".text", NULL);
        own[3 + 2 * k] = apr_pstrcat(scratch, "portal.", stp_view_portal_links[k], ".href", NULL);
    }
    for (size_t i = 0; i < sizeof own / sizeof *own && own[i] && rv == APR_SUCCESS; i++) {
        const char *v = sg_site_portal(site, loc->id, own[i], scratch);
        if (v)
            rv = stp_catalog_put_string(cat, loc->id, own[i], v, scratch);
    }
    const char *nda = apr_hash_get(site->nda_texts, loc->id, APR_HASH_KEY_STRING);
    if (nda && rv == APR_SUCCESS) {
        const char *html = sg_markdown_html(nda, strlen(nda), site->unsafe_html, scratch);
        rv = html ? stp_catalog_put_string(cat, loc->id, "nda.text", html, scratch) : APR_ENOMEM;
    }
    return rv;
}

/* Every UI string in every locale, then the site's own. */
static apr_status_t put_strings(stp_catalog_t *cat, const sg_site_t *site, const sg_i18n_t *i18n, apr_pool_t *scratch)
{
    const apr_array_header_t *keys = sg_i18n_keys(i18n);
    apr_status_t rv = APR_SUCCESS;
    for (int l = 0; l < site->locales->nelts && rv == APR_SUCCESS; l++) {
        const sg_locale_t *loc = &APR_ARRAY_IDX(site->locales, l, sg_locale_t);
        for (int k = 0; k < keys->nelts && rv == APR_SUCCESS; k++) {
            const char *key = APR_ARRAY_IDX(keys, k, const char *);
            rv = stp_catalog_put_string(cat, loc->id, key, sg_msg(i18n, loc->id, key), scratch);
        }
        if (rv == APR_SUCCESS)
            rv = put_site_strings(cat, site, loc, scratch);
        apr_pool_clear(scratch);
    }
    return rv;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The claims any document requires, sorted, space-separated: the module keeps these of each user
 * in state.mdb for the digests (docs/architecture.md). */
static const char *require_claims(const sg_site_t *site, apr_pool_t *pool)
{
    apr_hash_t *names = apr_hash_make(pool);
    for (int i = 0; i < site->docs->nelts; i++) {
        const apr_array_header_t *reqs = APR_ARRAY_IDX(site->docs, i, sg_doc_t *)->cat.requires;
        for (int j = 0; reqs && j < reqs->nelts; j++)
            if (APR_ARRAY_IDX(reqs, j, stp_require_t).kind == STP_REQUIRE_CLAIM)
                apr_hash_set(names, APR_ARRAY_IDX(reqs, j, stp_require_t).name, APR_HASH_KEY_STRING, "");
    }
    apr_array_header_t *sorted = apr_array_make(pool, (int)apr_hash_count(names) + 1, sizeof(const char *));
    for (apr_hash_index_t *hi = apr_hash_first(pool, names); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(sorted, const char *) = apr_hash_this_key(hi);
    qsort(sorted->elts, (size_t)sorted->nelts, sizeof(const char *), cmp_name);
    return apr_array_pstrcat(pool, sorted, ' ');
}

/* The ids of terms, space-separated. */
static const char *terms_join(const apr_array_header_t *terms, apr_pool_t *pool)
{
    const char *s = "";
    for (int i = 0; i < terms->nelts; i++)
        s = apr_pstrcat(pool, s, i ? " " : "", APR_ARRAY_IDX(terms, i, const sg_term_t *)->id, NULL);
    return s;
}

static apr_status_t put_meta(stp_catalog_t *cat, const sg_site_t *site, uint64_t generation, apr_pool_t *pool)
{
    const char *locales = "";
    for (int l = 0; l < site->locales->nelts; l++)
        locales = apr_pstrcat(pool, locales, l ? "," : "", APR_ARRAY_IDX(site->locales, l, sg_locale_t).id, NULL);
    struct {
        const char *k, *v;
    } meta[] = {
        {"generation", apr_psprintf(pool, "%" APR_UINT64_T_FMT, generation)},
        {"default-locale", site->default_locale},
        {"locales", locales},
        {"nda-version", site->nda_version ? site->nda_version : ""},
        {"retention-months", apr_itoa(pool, site->retention_months)},
        {"base-url", site->base_url},
        {"require-claims", require_claims(site, pool)},
        {"preview", site->preview ? "yes" : "no"},
        {"editors", site->editors ? site->editors : ""},
    };
    apr_status_t rv = APR_SUCCESS;
    for (size_t i = 0; i < sizeof meta / sizeof meta[0] && rv == APR_SUCCESS; i++)
        rv = stp_catalog_put_meta(cat, meta[i].k, meta[i].v);
    /* What organisation settings offer: the vocabularies, the tenants and their domains. */
    const struct {
        const char *key;
        const apr_array_header_t *terms;
    } lists[] = {{"vocab.industries", site->industries}, {"vocab.regions", site->regions}, {"tenants", site->tenants}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0] && rv == APR_SUCCESS; i++)
        rv = stp_catalog_put_meta(cat, lists[i].key, terms_join(lists[i].terms, pool));
    for (int t = 0; t < site->tenants->nelts && rv == APR_SUCCESS; t++) {
        const sg_term_t *tn = APR_ARRAY_IDX(site->tenants, t, sg_term_t *);
        if (tn->domains->nelts)
            rv = stp_catalog_put_meta(cat, apr_pstrcat(pool, "domains.", tn->id, NULL),
                                      apr_array_pstrcat(pool, tn->domains, ' '));
    }
    return rv;
}

apr_status_t sg_catalog_write(const sg_site_t *site, const sg_i18n_t *i18n, const char *path, uint64_t generation,
                              apr_pool_t *pool)
{
    stp_catalog_t *cat;
    apr_pool_t *scratch;
    apr_status_t rv = stp_catalog_create(&cat, path, pool);
    if (rv != APR_SUCCESS)
        return rv;
    apr_pool_create(&scratch, pool);
    if ((rv = put_docs(cat, site, scratch)) == APR_SUCCESS &&
        (rv = put_series(cat, site, pool, scratch)) == APR_SUCCESS &&
        (rv = put_strings(cat, site, i18n, scratch)) == APR_SUCCESS &&
        (rv = put_meta(cat, site, generation, pool)) == APR_SUCCESS)
        rv = stp_catalog_commit(cat, 0); /* sg_publish_commit syncs the whole build */
    stp_catalog_close(cat);
    return rv;
}
