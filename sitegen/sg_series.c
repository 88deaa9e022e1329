/* sg_series: series of a loaded site (versions, one access each) and what each listing shows (by
 * month too, for What's new). */
#include "sg_series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_newest(const void *a, const void *b)
{
    const sg_doc_t *x = *(sg_doc_t *const *)a, *y = *(sg_doc_t *const *)b;
    return stp_retention_version_newer_cmp(x->cat.published, x->cat.version, y->cat.published, y->cat.version);
}

static int cmp_listing(const void *a, const void *b)
{
    const sg_doc_t *x = *(sg_doc_t *const *)a, *y = *(sg_doc_t *const *)b;
    if (x->cat.published != y->cat.published)
        return x->cat.published > y->cat.published ? -1 : 1;
    return strcmp(x->cat.id, y->cat.id);
}

/* A document's tenants as a sorted set without repeats, joined with ", " (for comparing and for messages). */
static const char *tenant_set(const stp_doc_t *c, apr_pool_t *pool)
{
    apr_array_header_t *ids = apr_array_copy(pool, c->tenants);
    qsort(ids->elts, (size_t)ids->nelts, sizeof(const char *), cmp_str);
    const char *out = "";
    for (int i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        if (i && !strcmp(id, APR_ARRAY_IDX(ids, i - 1, const char *)))
            continue;
        out = apr_pstrcat(pool, out, *out ? ", " : "", id, NULL);
    }
    return out;
}

/* A document's requirements as a sorted set, " requiring ..." (for comparing and for messages). */
static const char *require_set(const stp_doc_t *c, apr_pool_t *pool)
{
    if (!c->requires || !c->requires->nelts)
        return "";
    apr_array_header_t *words = apr_array_make(pool, c->requires->nelts, sizeof(const char *));
    for (int i = 0; i < c->requires->nelts; i++) {
        const stp_require_t *q = &APR_ARRAY_IDX(c->requires, i, stp_require_t);
        APR_ARRAY_PUSH(words, const char *) = q->kind == STP_REQUIRE_ROLE
                                                  ? apr_pstrcat(pool, "role ", q->name, NULL)
                                                  : apr_pstrcat(pool, "claim ", q->name, "=", q->value, NULL);
    }
    qsort(words->elts, (size_t)words->nelts, sizeof(const char *), cmp_str);
    return apr_pstrcat(pool, " requiring ", apr_array_pstrcat(pool, words, ';'), NULL);
}

/* Who may see a document, in words: its level, for tenant documents the tenants and the NDA flag,
 * and its requirements. */
static const char *access_words(const stp_doc_t *c, apr_pool_t *pool)
{
    if (c->access != STP_ACCESS_TENANT)
        return apr_pstrcat(pool, stp_catalog_access_name(c->access), require_set(c, pool), NULL);
    return apr_psprintf(pool, "tenant (%s%s)%s", tenant_set(c, pool), c->nda ? "; NDA required" : "",
                        require_set(c, pool));
}

/* Versions of a series name each other on their pages, 410 answers and downloads: a version that
 * another version's readers may not see would leak through those links. So every version of a
 * series has the same access. */
static void check_series_access(const sg_doc_t *d, const sg_doc_t *first, sg_errors_t *errs, apr_pool_t *pool)
{
    const char *mine = access_words(&d->cat, pool), *theirs = access_words(&first->cat, pool);
    if (!strcmp(mine, theirs))
        return;
    sg_error(errs, d->xml_path, d->line,
             "series '%s': '%s' is %s but '%s' (%s) is %s; every version of a series must have the same "
             "access level, tenants, NDA requirement and <require> elements",
             d->cat.series, d->cat.id, mine, first->cat.id, first->xml_path, theirs);
}

void sg_series_group(sg_site_t *site, sg_errors_t *errs, apr_pool_t *pool)
{
    for (int i = 0; i < site->docs->nelts; i++) {
        sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        apr_array_header_t *list = apr_hash_get(site->series, d->cat.series, APR_HASH_KEY_STRING);
        if (!list) {
            list = apr_array_make(pool, 2, sizeof(sg_doc_t *));
            apr_hash_set(site->series, d->cat.series, APR_HASH_KEY_STRING, list);
        }
        for (int j = 0; j < list->nelts; j++) {
            sg_doc_t *o = APR_ARRAY_IDX(list, j, sg_doc_t *);
            if (!strcmp(o->cat.version, d->cat.version))
                sg_error(errs, d->xml_path, d->line, "series '%s' already has version '%s' (%s)", d->cat.series,
                         d->cat.version, o->xml_path);
        }
        if (list->nelts)
            check_series_access(d, APR_ARRAY_IDX(list, 0, sg_doc_t *), errs, pool);
        APR_ARRAY_PUSH(list, sg_doc_t *) = d;
    }
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        qsort(list->elts, (size_t)list->nelts, sizeof(sg_doc_t *), cmp_newest);
    }
}

static void push_to(apr_hash_t *h, const char *key, sg_doc_t *d, apr_pool_t *pool)
{
    apr_array_header_t *a = apr_hash_get(h, key, APR_HASH_KEY_STRING);
    if (!a) {
        a = apr_array_make(pool, 8, sizeof(sg_doc_t *));
        apr_hash_set(h, key, APR_HASH_KEY_STRING, a);
    }
    APR_ARRAY_PUSH(a, sg_doc_t *) = d;
}

/* Drafts leave a normal build; the others are marked embargoed (normal builds) or shown as live
 * with a banner (preview builds). */
static void sort_out(sg_site_t *site, apr_time_t now, int preview, apr_pool_t *pool)
{
    apr_array_header_t *docs = apr_array_make(pool, site->docs->nelts + 1, sizeof(sg_doc_t *));
    for (int i = 0; i < site->docs->nelts; i++) {
        sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        if (d->draft && !preview) {
            apr_hash_set(site->doc_index, d->cat.id, APR_HASH_KEY_STRING, NULL);
            continue;
        }
        d->embargoed = !preview && d->goes_live > now;
        d->preview = !preview ? 0 : (d->draft ? SG_PREVIEW_DRAFT : 0) | (d->goes_live > now ? SG_PREVIEW_EMBARGO : 0);
        d->cat.live = preview ? 0 : d->goes_live; /* a preview's module shows everything */
        APR_ARRAY_PUSH(docs, sg_doc_t *) = d;
    }
    site->docs = docs;
    site->preview = preview;
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        int n = 0;
        for (int j = 0; j < list->nelts; j++)
            if (!APR_ARRAY_IDX(list, j, sg_doc_t *)->draft || preview)
                APR_ARRAY_IDX(list, n++, sg_doc_t *) = APR_ARRAY_IDX(list, j, sg_doc_t *);
        list->nelts = n;
        if (!n)
            apr_hash_set(site->series, apr_hash_this_key(hi), APR_HASH_KEY_STRING, NULL);
    }
}

/* One version as its series stands at `t` (its newest version live then is current), with
 * retention judged on `today`. */
static void resolve_version(sg_doc_t *d, apr_array_header_t *list, int j, apr_time_t t, const sg_site_t *site,
                            stp_day_t today, apr_pool_t *pool)
{
    sg_doc_t *cur = NULL;
    for (int k = 0; k < list->nelts && !cur; k++)
        if (APR_ARRAY_IDX(list, k, sg_doc_t *)->cat.live <= t)
            cur = APR_ARRAY_IDX(list, k, sg_doc_t *);
    d->current = cur ? cur : d;
    d->cat.current = d->current->cat.id;
    d->state = stp_retention_state(d->current == d, d->cat.published, site->retention_months, today);
    d->cat.retired = d->current == d ? 0 : stp_retention_end(d->cat.published, site->retention_months);
    /* Until a newer version goes live; never current at all when one is live before it. */
    d->until = 0;
    for (int k = 0; k < j; k++) {
        apr_time_t l = APR_ARRAY_IDX(list, k, sg_doc_t *)->cat.live;
        if (!d->until || l < d->until)
            d->until = l;
    }
    if (d->current != d || (d->until && d->until <= d->cat.live))
        d->until = d->cat.live ? d->cat.live : 1; /* an empty window: never found */
    if (d->current != d || d->older)
        return;
    d->older = apr_array_make(pool, 2, sizeof(sg_doc_t *));
    for (int k = j + 1; k < list->nelts; k++) {
        sg_doc_t *o = APR_ARRAY_IDX(list, k, sg_doc_t *);
        if (o->cat.live <= t &&
            stp_retention_state(0, o->cat.published, site->retention_months, today) == STP_VERSION_SUPERSEDED)
            APR_ARRAY_PUSH(d->older, sg_doc_t *) = o;
    }
}

void sg_content_resolve(sg_site_t *site, stp_day_t today, apr_time_t now, int preview)
{
    apr_pool_t *pool = site->docs->pool;
    sort_out(site, now, preview, pool);
    apr_array_header_t *by_date = apr_array_copy(pool, site->docs);
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        /* What this build lists: the series now. An embargoed version's own page and record:
         * the series at its moment, so that it goes live as it will stand then. */
        for (int j = 0; j < list->nelts; j++) {
            sg_doc_t *d = APR_ARRAY_IDX(list, j, sg_doc_t *);
            d->older = NULL;
            if (d->embargoed) {
                stp_day_t then = stp_date_from_time(d->cat.live);
                resolve_version(d, list, j, d->cat.live, site, then > today ? then : today, pool);
            } else {
                resolve_version(d, list, j, now, site, today, pool);
            }
        }
    }
    /* Listings, newest first (ties by id, so that output is stable). */
    qsort(by_date->elts, (size_t)by_date->nelts, sizeof(sg_doc_t *), cmp_listing);
    site->tile_docs = apr_hash_make(pool);
    site->tenant_docs = apr_hash_make(pool);
    site->org_tiles = apr_hash_make(pool);
    site->listed = apr_array_make(pool, by_date->nelts, sizeof(sg_doc_t *));
    for (int i = 0; i < by_date->nelts; i++) {
        sg_doc_t *d = APR_ARRAY_IDX(by_date, i, sg_doc_t *);
        if (d->state != STP_VERSION_CURRENT || d->embargoed)
            continue;
        if (d->cat.access == STP_ACCESS_TENANT) {
            for (int t = 0; t < d->cat.tenants->nelts; t++)
                push_to(site->tenant_docs, APR_ARRAY_IDX(d->cat.tenants, t, const char *), d, pool);
            apr_hash_set(site->org_tiles, d->cat.tile, APR_HASH_KEY_STRING, d->cat.tile);
            continue;
        }
        APR_ARRAY_PUSH(site->listed, sg_doc_t *) = d;
        push_to(site->tile_docs, d->cat.tile, d, pool);
    }
    site->months = sg_content_months(site->listed, pool);
}

apr_array_header_t *sg_content_months(const apr_array_header_t *docs, apr_pool_t *pool)
{
    apr_array_header_t *months = apr_array_make(pool, 16, sizeof(sg_month_t *));
    sg_month_t *m = NULL;
    for (int i = 0; docs && i < docs->nelts; i++) {
        sg_doc_t *d = APR_ARRAY_IDX(docs, i, sg_doc_t *);
        int y, mo, day;
        stp_date_to_ymd(&y, &mo, &day, d->cat.published);
        if (!m || m->year != y || m->month != mo) {
            m = apr_pcalloc(pool, sizeof *m);
            m->year = y;
            m->month = mo;
            m->index = months->nelts;
            snprintf(m->id, sizeof m->id, "%04d-%02d", y % 10000, mo);
            m->docs = apr_array_make(pool, 8, sizeof(sg_doc_t *));
            APR_ARRAY_PUSH(months, sg_month_t *) = m;
        }
        APR_ARRAY_PUSH(m->docs, sg_doc_t *) = d;
    }
    return months;
}
