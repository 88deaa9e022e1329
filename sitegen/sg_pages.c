#include "sg_pages.h"

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "sg_cache.h"
#include "sg_markdown.h"
#include "stp_validity.h"
#include "sg_media.h"
#include "stp_view.h"

struct sg_render_t {
    const sg_site_t *site;
    const sg_i18n_t *i18n;
    apr_pool_t *pool; /* the compiled stylesheets live as long as this */
    stp_view_t *page, *feed, *sitemap;
};

/* What stp:msg needs: the strings of the page's locale. */
typedef struct {
    const sg_i18n_t *i18n;
    const char *lang;
} render_ctx_t;

static stp_view_t *compile(const char *dir, const char *name, sg_errors_t *errs, apr_pool_t *pool)
{
    const char *path = apr_pstrcat(pool, dir, "/", name, NULL), *err = NULL;
    stp_view_t *v;
    if (stp_view_open(&v, path, &err, pool) != APR_SUCCESS) {
        sg_error(errs, path, 0, "the stylesheet does not compile");
        return NULL;
    }
    return v;
}

apr_status_t sg_render_open(sg_render_t **out, const sg_site_t *site, const sg_i18n_t *i18n, const char *xslt_dir,
                            sg_errors_t *errs, apr_pool_t *pool)
{
    sg_render_t *r = apr_pcalloc(pool, sizeof *r);
    r->site = site;
    r->i18n = i18n;
    apr_pool_create(&r->pool, pool);
    r->page = compile(xslt_dir, "page.xsl", errs, r->pool);
    r->feed = compile(xslt_dir, "feed.xsl", errs, r->pool);
    r->sitemap = compile(xslt_dir, "sitemap.xsl", errs, r->pool);
    if (!r->page || !r->feed || !r->sitemap)
        return APR_EGENERAL;
    *out = r;
    return APR_SUCCESS;
}

void sg_render_close(sg_render_t *r)
{
    if (r->pool)
        apr_pool_destroy(r->pool);
    r->pool = NULL;
    r->page = r->feed = r->sitemap = NULL;
}

/* --- URLs ------------------------------------------------------------------------------------- */

const char *sg_page_url(sg_page_kind_t kind, const char *lang, const sg_term_t *tile, const sg_doc_t *doc,
                        apr_pool_t *pool)
{
    switch (kind) {
    case SG_PAGE_TILE:
        return apr_pstrcat(pool, "/", lang, "/", tile->section->id, "/", tile->id, "/", NULL);
    case SG_PAGE_DOC:
        return apr_pstrcat(pool, "/", lang, "/docs/", doc->cat.id, "/", NULL);
    case SG_PAGE_ORG_HOME:
        return apr_pstrcat(pool, "/", lang, "/org/", NULL);
    case SG_PAGE_ORG_DOC:
        return apr_pstrcat(pool, "/", lang, "/org/docs/", doc->cat.id, "/", NULL);
    case SG_PAGE_FEED:
        return apr_pstrcat(pool, "/", lang, "/feed.xml", NULL);
    case SG_PAGE_SITEMAP:
        return "/sitemap.xml";
    case SG_PAGE_WHATSNEW:
        return apr_pstrcat(pool, "/", lang, "/whats-new/", NULL);
    default:
        return apr_pstrcat(pool, "/", lang, "/", NULL);
    }
}

/* A month of What's new: the newest is /<lang>/whats-new/ itself (always the latest news), each older
 * month has its own page. */
static const char *month_url(const char *lang, const sg_month_t *m, apr_pool_t *pool)
{
    if (!m || m->index == 0)
        return sg_page_url(SG_PAGE_WHATSNEW, lang, NULL, NULL, pool);
    return apr_pstrcat(pool, "/", lang, "/whats-new/", m->id, "/", NULL);
}

const char *sg_page_url_of(const sg_page_t *pg, const char *lang, apr_pool_t *pool)
{
    if (pg->kind == SG_PAGE_WHATSNEW)
        return month_url(lang, pg->month, pool);
    return sg_page_url(pg->kind, lang, pg->tile, pg->doc, pool);
}

/* --- building the input tree ------------------------------------------------------------------ */

static xmlNodePtr el(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static void at(xmlNodePtr n, const char *name, const char *value)
{
    if (value)
        xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

/* A localized text element, marking a fallback so the page can say so. */
static xmlNodePtr text_el(xmlNodePtr parent, const char *name, const apr_array_header_t *texts, const char *lang,
                          const char *fallback)
{
    const stp_text_t *t = stp_catalog_text_pick(texts, lang, fallback);
    if (!t)
        return NULL;
    xmlNodePtr n = el(parent, name, t->text);
    at(n, "lang", t->lang);
    if (strcmp(t->lang, lang))
        at(n, "fallback", "yes");
    return n;
}

static void terms_el(xmlNodePtr parent, const char *name, const apr_array_header_t *ids, apr_hash_t *index,
                     const sg_site_t *site, const char *lang)
{
    if (!ids || !ids->nelts)
        return;
    xmlNodePtr list = el(parent, name, NULL);
    for (int i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        const sg_term_t *t = index ? apr_hash_get(index, id, APR_HASH_KEY_STRING) : NULL;
        xmlNodePtr n = el(list, "term", t ? sg_text(t->labels, lang, site->default_locale) : id);
        at(n, "id", id);
    }
}

static void date_el(xmlNodePtr parent, const char *name, stp_day_t day, const sg_render_t *r, const char *lang,
                    apr_pool_t *pool)
{
    char iso[11];
    stp_date_format_iso(iso, day);
    xmlNodePtr n = el(parent, name, sg_date_format(r->i18n, lang, day, pool));
    at(n, "iso", iso);
}

/* Its validity (<validity state> with <from> and <until>, judged on the day of the build) and its
 * last review, as dates the site writes them. */
static void validity_el(xmlNodePtr parent, const sg_render_t *r, const stp_doc_t *c, const char *lang, apr_pool_t *pool)
{
    if (c->valid_from || c->valid_until) {
        xmlNodePtr v = el(parent, "validity", NULL);
        at(v, "state", stp_validity_name(stp_validity_on(c, r->site->today)));
        if (c->valid_from)
            date_el(v, "from", c->valid_from, r, lang, pool);
        if (c->valid_until)
            date_el(v, "until", c->valid_until, r, lang, pool);
    }
    if (c->reviewed)
        date_el(parent, "reviewed", c->reviewed, r, lang, pool);
}

/* A body's links and images on one page of its document (sg_media_url). */
typedef struct {
    const sg_doc_t *d;
    const char *lang;
    int org;
    apr_pool_t *pool;
} body_links_t;

static const char *body_link(void *baton, const char *url, int image)
{
    body_links_t *b = baton;
    return sg_media_url(b->d, url, image, b->lang, b->org, b->pool);
}

/* The portal's own words of site.xml in one locale, for stp_view_portal_el. */
typedef struct {
    const sg_site_t *site;
    const char *lang;
    apr_pool_t *pool;
} portal_words_t;

static const char *portal_word(void *baton, const char *key)
{
    portal_words_t *w = baton;
    return sg_site_portal(w->site, w->lang, key, w->pool);
}

/* A document as listings and pages show it; `full` adds body, files and versions. */
static xmlNodePtr doc_el(xmlNodePtr parent, const sg_render_t *r, const sg_doc_t *d, const char *lang, int org,
                         int full, apr_pool_t *pool)
{
    const sg_site_t *site = r->site;
    const char *def = site->default_locale;
    xmlNodePtr n = el(parent, "doc", NULL);
    at(n, "id", d->cat.id);
    at(n, "series", d->cat.series);
    at(n, "version", d->cat.version);
    at(n, "access", stp_catalog_access_name(d->cat.access));
    if (d->cat.nda)
        at(n, "nda", "yes");
    stp_view_requires_el(n, d->cat.requires);
    at(n, "state", stp_retention_version_state_name(d->state));
    at(n, "href", sg_page_url(org ? SG_PAGE_ORG_DOC : SG_PAGE_DOC, lang, NULL, d, pool));
    at(n, "download", apr_pstrcat(pool, "/download/", d->cat.id, NULL));
    text_el(n, "title", d->cat.titles, lang, def);
    text_el(n, "summary", d->cat.summaries, lang, def);
    text_el(n, "change", d->cat.changes, lang, def);
    date_el(n, "published", d->cat.published, r, lang, pool);
    validity_el(n, r, &d->cat, lang, pool);
    if (d->tile) {
        xmlNodePtr t = el(n, "tile", sg_text(d->tile->labels, lang, def));
        at(t, "id", d->tile->id);
        at(t, "href", sg_page_url(SG_PAGE_TILE, lang, d->tile, NULL, pool));
        at(t, "section", sg_text(d->tile->section->labels, lang, def));
    }
    if (!full)
        return n;
    /* A preview build's banner: what readers do not see yet. */
    if (d->preview & SG_PREVIEW_DRAFT)
        el(n, "draft", NULL);
    if (d->preview & SG_PREVIEW_EMBARGO) {
        char iso[21];
        apr_time_exp_t tm;
        stp_date_format_moment(iso, d->goes_live);
        apr_time_exp_gmt(&tm, d->goes_live);
        const char *when = sg_date_format(r->i18n, lang, stp_date_from_time(d->goes_live), pool);
        /* The time in a left-to-right isolate (LRI ... PDI): in Arabic "07:00 UTC" would else read "UTC 07:00". */
        if (tm.tm_hour || tm.tm_min)
            when = apr_psprintf(pool, "%s \u2066%02d:%02d UTC\u2069", when, tm.tm_hour, tm.tm_min);
        at(el(n, "embargo", when), "until", iso);
    }
    terms_el(n, "services", d->cat.services, site->service_index, site, lang);
    terms_el(n, "regions", d->cat.regions, site->region_index, site, lang);
    terms_el(n, "industries", d->cat.industries, site->industry_index, site, lang);

    const char *body_lang = apr_hash_get(d->bodies, lang, APR_HASH_KEY_STRING) ? lang : def;
    const char *md = sg_body_text(d, body_lang, pool);
    xmlNodePtr body = el(n, "body", NULL);
    at(body, "lang", body_lang);
    if (strcmp(body_lang, lang)) {
        at(body, "fallback", "yes");
        const sg_locale_t *bl = sg_site_locale(site, body_lang);
        at(body, "language", bl ? bl->name : body_lang);
    }
    if (md) {
        body_links_t b = {d, lang, org, pool};
        sg_markdown_links_t links = {body_link, &b};
        sg_markdown_append(body, md, strlen(md), site->unsafe_html, &links);
    }

    xmlNodePtr files = el(n, "files", NULL);
    for (int i = 0; i < d->cat.files->nelts; i++) {
        const stp_file_t *f = &APR_ARRAY_IDX(d->cat.files, i, stp_file_t);
        const sg_locale_t *fl = sg_site_locale(site, f->lang);
        xmlNodePtr fn = el(files, "file", NULL);
        at(fn, "lang", f->lang);
        at(fn, "language", fl ? fl->name : f->lang);
        at(fn, "name", f->name);
        at(fn, "type", f->media_type);
        at(fn, "size", apr_psprintf(pool, "%" APR_UINT64_T_FMT, f->size));
        at(fn, "size-label", sg_size_format(r->i18n, lang, f->size, pool));
        at(fn, "sha256", f->sha256);
        at(fn, "href", apr_pstrcat(pool, "/download/", d->cat.id, "?lang=", f->lang, NULL));
        if (!strcmp(f->lang, lang))
            at(fn, "mine", "yes");
    }
    if (d->state == STP_VERSION_CURRENT && d->older && d->older->nelts) {
        xmlNodePtr older = el(n, "older", NULL);
        for (int i = 0; i < d->older->nelts; i++)
            doc_el(older, r, APR_ARRAY_IDX(d->older, i, sg_doc_t *), lang, org, 0, pool);
    }
    if (d->state != STP_VERSION_CURRENT && d->current) {
        xmlNodePtr cur = el(n, "current", NULL);
        doc_el(cur, r, d->current, lang, org, 0, pool);
    }
    return n;
}

static void docs_el(xmlNodePtr parent, const char *name, const sg_render_t *r, const apr_array_header_t *docs,
                    int limit, const char *lang, int org, apr_pool_t *pool)
{
    xmlNodePtr list = el(parent, name, NULL);
    for (int i = 0; docs && i < docs->nelts && (limit <= 0 || i < limit); i++)
        doc_el(list, r, APR_ARRAY_IDX(docs, i, sg_doc_t *), lang, org, 0, pool);
}

/* The parts every page shares: site, locale, navigation and the language picker's targets. */
static xmlDocPtr page_doc(const sg_render_t *r, const sg_page_t *pg, apr_pool_t *pool)
{
    const sg_site_t *site = r->site;
    const char *lang = pg->lang, *def = site->default_locale;
    const sg_locale_t *loc = sg_site_locale(site, lang);
    static const char *const kinds[] = {"home", "tile", "doc", "org-home", "org-doc", "feed", "sitemap", "whats-new"};
    xmlDocPtr x = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
    xmlDocSetRootElement(x, page);
    at(page, "kind", kinds[pg->kind]);
    at(page, "lang", lang);
    at(page, "dir", loc && loc->rtl ? "rtl" : "ltr");
    at(page, "default-lang", def);
    at(page, "url", pg->url);
    at(page, "return", pg->url); /* where sign-in comes back to: a path of safe characters */
    at(page, "base-url", site->base_url);
    if (site->preview)
        at(page, "preview", "yes");
    el(page, "site-title", sg_text(site->labels, lang, def));
    portal_words_t words = {site, lang, pool};
    stp_view_portal_el(page, portal_word, &words, pool);

    xmlNodePtr locales = el(page, "locales", NULL);
    for (int i = 0; i < site->locales->nelts; i++) {
        const sg_locale_t *l = &APR_ARRAY_IDX(site->locales, i, sg_locale_t);
        xmlNodePtr n = el(locales, "locale", l->name);
        at(n, "id", l->id);
        at(n, "dir", l->rtl ? "rtl" : "ltr");
        if (!strcmp(l->id, lang))
            at(n, "current", "yes");
        /* The same page in that locale: the language picker keeps the page. */
        at(n, "href", sg_page_url_of(pg, l->id, pool));
    }
    xmlNodePtr nav = el(page, "nav", NULL);
    for (int i = 0; i < site->sections->nelts; i++) {
        const sg_term_t *s = APR_ARRAY_IDX(site->sections, i, sg_term_t *);
        xmlNodePtr sn = el(nav, "section", NULL);
        at(sn, "id", s->id);
        el(sn, "label", sg_text(s->labels, lang, def));
        const char *desc = sg_text(s->descriptions, lang, def);
        if (*desc)
            el(sn, "description", desc);
        for (int j = 0; j < s->tiles->nelts; j++) {
            const sg_term_t *t = APR_ARRAY_IDX(s->tiles, j, sg_term_t *);
            apr_array_header_t *docs = apr_hash_get(site->tile_docs, t->id, APR_HASH_KEY_STRING);
            xmlNodePtr tn = el(sn, "tile", NULL);
            at(tn, "id", t->id);
            at(tn, "href", sg_page_url(SG_PAGE_TILE, lang, t, NULL, pool));
            at(tn, "count", apr_itoa(pool, docs ? docs->nelts : 0));
            /* Its documents are organisations' own: it leads to the member's /<lang>/org/. */
            if (!docs && apr_hash_get(site->org_tiles, t->id, APR_HASH_KEY_STRING))
                at(tn, "org", "yes");
            if (pg->tile == t)
                at(tn, "current", "yes");
            el(tn, "label", sg_text(t->labels, lang, def));
            desc = sg_text(t->descriptions, lang, def);
            if (*desc)
                el(tn, "description", desc);
        }
    }
    return x;
}

/* --- What's new -------------------------------------------------------------------------------- */

static xmlNodePtr month_el(xmlNodePtr parent, const char *name, const sg_render_t *r, const sg_month_t *m,
                           const char *lang, apr_pool_t *pool)
{
    xmlNodePtr n = el(parent, name, sg_month_format(r->i18n, lang, m->year, m->month, pool));
    at(n, "id", m->id);
    return n;
}

/* One month of the site's What's new: its documents, the months before and after it, and every
 * month by year (the page's navigation). */
static void whatsnew_el(xmlNodePtr parent, const sg_render_t *r, const sg_page_t *pg, apr_pool_t *pool)
{
    const apr_array_header_t *months = r->site->months;
    const sg_month_t *m = pg->month;
    const char *lang = pg->lang;
    xmlNodePtr w = el(parent, "whatsnew", NULL);
    if (!m)
        return;
    at(w, "month", m->id);
    month_el(w, "label", r, m, lang, pool);
    if (m->index > 0) {
        const sg_month_t *newer = APR_ARRAY_IDX(months, m->index - 1, sg_month_t *);
        at(month_el(w, "newer", r, newer, lang, pool), "href", month_url(lang, newer, pool));
    }
    if (m->index + 1 < months->nelts) {
        const sg_month_t *older = APR_ARRAY_IDX(months, m->index + 1, sg_month_t *);
        at(month_el(w, "older", r, older, lang, pool), "href", month_url(lang, older, pool));
    }
    docs_el(w, "docs", r, m->docs, 0, lang, 0, pool);
    xmlNodePtr all = el(w, "months", NULL), year = NULL;
    int in_year = 0;
    for (int i = 0; i < months->nelts; i++) {
        const sg_month_t *o = APR_ARRAY_IDX(months, i, sg_month_t *);
        char key[16];
        if (!year || o->year != in_year) {
            year = el(all, "year", NULL);
            at(year, "id", apr_itoa(pool, o->year));
            in_year = o->year;
        }
        snprintf(key, sizeof key, "date.month.%d", o->month);
        xmlNodePtr n = el(year, "month", sg_msg(r->i18n, lang, key));
        at(n, "id", o->id);
        at(n, "href", month_url(lang, o, pool));
        at(n, "label", sg_month_format(r->i18n, lang, o->year, o->month, pool));
        if (o == m)
            at(n, "current", "yes");
    }
}

/* An organisation's documents by month, newest first (one page: organisations have few). */
static void org_months_el(xmlNodePtr parent, const sg_render_t *r, const apr_array_header_t *docs, const char *lang,
                          apr_pool_t *pool)
{
    const apr_array_header_t *months = sg_content_months(docs, pool);
    xmlNodePtr list = el(parent, "months", NULL);
    for (int i = 0; i < months->nelts; i++) {
        const sg_month_t *m = APR_ARRAY_IDX(months, i, sg_month_t *);
        xmlNodePtr n = el(list, "month", NULL);
        at(n, "id", m->id);
        el(n, "label", sg_month_format(r->i18n, lang, m->year, m->month, pool));
        docs_el(n, "docs", r, m->docs, 0, lang, 1, pool);
    }
}

static xmlDocPtr build_input(const sg_render_t *r, const sg_page_t *pg, apr_pool_t *pool)
{
    const sg_site_t *site = r->site;
    xmlDocPtr x = page_doc(r, pg, pool);
    xmlNodePtr page = xmlDocGetRootElement(x);
    switch (pg->kind) {
    case SG_PAGE_HOME:
        docs_el(page, "whatsnew", r, site->listed, 10, pg->lang, 0, pool);
        break;
    case SG_PAGE_FEED:
        docs_el(page, "whatsnew", r, site->listed, 50, pg->lang, 0, pool);
        break;
    case SG_PAGE_TILE: {
        xmlNodePtr t = el(page, "tile", NULL);
        at(t, "id", pg->tile->id);
        if (!apr_hash_get(site->tile_docs, pg->tile->id, APR_HASH_KEY_STRING) &&
            apr_hash_get(site->org_tiles, pg->tile->id, APR_HASH_KEY_STRING))
            at(t, "org", "yes");
        el(t, "label", sg_text(pg->tile->labels, pg->lang, site->default_locale));
        el(t, "section", sg_text(pg->tile->section->labels, pg->lang, site->default_locale));
        el(t, "description", sg_text(pg->tile->descriptions, pg->lang, site->default_locale));
        apr_array_header_t *docs = apr_hash_get(site->tile_docs, pg->tile->id, APR_HASH_KEY_STRING);
        if (docs && docs->nelts)
            date_el(t, "updated", APR_ARRAY_IDX(docs, 0, sg_doc_t *)->cat.published, r, pg->lang, pool);
        docs_el(t, "docs", r, docs, 0, pg->lang, 0, pool);
        break;
    }
    case SG_PAGE_DOC:
    case SG_PAGE_ORG_DOC:
        doc_el(page, r, pg->doc, pg->lang, pg->kind == SG_PAGE_ORG_DOC, 1, pool);
        break;
    case SG_PAGE_ORG_HOME: {
        const sg_term_t *t = apr_hash_get(site->tenant_index, pg->tenant, APR_HASH_KEY_STRING);
        xmlNodePtr o = el(page, "org", NULL);
        at(o, "id", pg->tenant);
        el(o, "name", t ? sg_text(t->labels, pg->lang, site->default_locale) : pg->tenant);
        org_months_el(o, r, apr_hash_get(site->tenant_docs, pg->tenant, APR_HASH_KEY_STRING), pg->lang, pool);
        break;
    }
    case SG_PAGE_WHATSNEW:
        whatsnew_el(page, r, pg, pool);
        break;
    case SG_PAGE_SITEMAP: {
        /* Every public page with its alternates. */
        xmlNodePtr urls = el(page, "urls", NULL);
        apr_array_header_t *targets = apr_array_make(pool, 64, sizeof(sg_page_t));
        sg_page_t home = {.kind = SG_PAGE_HOME};
        APR_ARRAY_PUSH(targets, sg_page_t) = home;
        /* What's new: the newest month (also when nothing is listed yet), then each older one. */
        for (int i = 0; i < (site->months->nelts ? site->months->nelts : 1); i++) {
            sg_page_t t = {.kind = SG_PAGE_WHATSNEW,
                           .month = site->months->nelts ? APR_ARRAY_IDX(site->months, i, sg_month_t *) : NULL};
            APR_ARRAY_PUSH(targets, sg_page_t) = t;
        }
        for (int i = 0; i < site->sections->nelts; i++) {
            const sg_term_t *s = APR_ARRAY_IDX(site->sections, i, sg_term_t *);
            for (int j = 0; j < s->tiles->nelts; j++) {
                sg_page_t t = {.kind = SG_PAGE_TILE, .tile = APR_ARRAY_IDX(s->tiles, j, sg_term_t *)};
                APR_ARRAY_PUSH(targets, sg_page_t) = t;
            }
        }
        for (int i = 0; i < site->docs->nelts; i++) {
            const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
            if (d->cat.access == STP_ACCESS_TENANT || d->state == STP_VERSION_RETIRED || d->embargoed)
                continue;
            sg_page_t t = {.kind = SG_PAGE_DOC, .doc = d};
            APR_ARRAY_PUSH(targets, sg_page_t) = t;
        }
        for (int i = 0; i < targets->nelts; i++) {
            const sg_page_t *t = &APR_ARRAY_IDX(targets, i, sg_page_t);
            for (int l = 0; l < site->locales->nelts; l++) {
                const char *lang = APR_ARRAY_IDX(site->locales, l, sg_locale_t).id;
                xmlNodePtr u = el(urls, "url", NULL);
                at(u, "href", sg_page_url_of(t, lang, pool));
                /* A document's date; a month's: its newest document's. */
                const sg_doc_t *dated = t->doc     ? t->doc
                                        : t->month ? APR_ARRAY_IDX(t->month->docs, 0, sg_doc_t *)
                                                   : NULL;
                if (dated) {
                    char iso[11];
                    stp_date_format_iso(iso, dated->cat.published);
                    at(u, "lastmod", iso);
                }
                for (int k = 0; k < site->locales->nelts; k++) {
                    const char *alt = APR_ARRAY_IDX(site->locales, k, sg_locale_t).id;
                    xmlNodePtr a = el(u, "alt", NULL);
                    at(a, "lang", alt);
                    at(a, "href", sg_page_url_of(t, alt, pool));
                }
            }
        }
        break;
    }
    }
    return x;
}

/* --- rendering -------------------------------------------------------------------------------- */

/* stp:msg's strings: the page's locale, then the default one (the key when neither has it). */
static const char *page_msg(void *baton, const char *key)
{
    const render_ctx_t *rc = baton;
    return sg_msg(rc->i18n, rc->lang, key);
}

apr_status_t sg_render_page(char **out, apr_size_t *len, sg_render_t *r, const sg_page_t *pg, apr_pool_t *pool)
{
    const stp_view_t *view = pg->kind == SG_PAGE_FEED ? r->feed : pg->kind == SG_PAGE_SITEMAP ? r->sitemap : r->page;
    render_ctx_t rc = {r->i18n, pg->lang};
    xmlDocPtr in = build_input(r, pg, pool);
    if (!in)
        return APR_ENOMEM;
    if (pg->model) {
        xmlChar *xml;
        int n;
        xmlDocDumpMemoryEnc(in, &xml, &n, "UTF-8");
        xmlFreeDoc(in);
        if (!xml)
            return APR_ENOMEM;
        *out = apr_pmemdup(pool, xml, (apr_size_t)n);
        *len = (apr_size_t)n;
        xmlFree(xml);
        return APR_SUCCESS;
    }
    apr_status_t rv = stp_view_render(out, len, view, in, view == r->page, page_msg, &rc, pool);
    xmlFreeDoc(in);
    return rv;
}
