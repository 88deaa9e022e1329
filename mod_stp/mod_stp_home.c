/* mod_stp_home: "Recommended for your organization". A member whose organisation chose industries
 * or regions (/stp/admin) gets the home page and the organisation page with the current documents
 * tagged with them that the member may see, newest first. Both pages are static for everyone
 * else; for such a member the module renders them from the same input sitegen rendered them from
 * (the page models in the build), with the recommendations and the signed-in header added, through
 * the same templates. */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_strings.h>
#include <libxml/parser.h>

#include "mod_stp.h"
#include "stp_date.h"
#include "stp_http.h"
#include "stp_layout.h"
#include "stp_search.h"
#include "stp_view.h"

#define SHOWN 6

static apr_status_t free_doc(void *data)
{
    xmlFreeDoc(data);
    return APR_SUCCESS;
}

/* The language of a home page URL, /<lang>/index.html (mod_dir turns /<lang>/ into it), when it
 * is one of the build's; else NULL. */
static const char *home_lang(const stp_build_t *b, const char *uri, apr_pool_t *pool)
{
    const char *end = uri && uri[0] == '/' ? strchr(uri + 1, '/') : NULL;
    if (!end || end - uri > 16 || strcmp(end, "/index.html"))
        return NULL;
    const char *lang = apr_pstrmemdup(pool, uri + 1, (apr_size_t)(end - uri - 1));
    return stp_http_locale_listed(b->locales, lang) ? lang : NULL;
}

/* The organisation's choice when the member gets recommendations: listed (or in an open
 * organisation) and something chosen. */
static int wanted(stp_org_settings_t *s, stp_req_t *q)
{
    return q->build && q->build->search && q->user.key && q->user.tenant && !q->user.unlisted && mod_stp_state(q) &&
           stp_org_settings_get(s, mod_stp_state(q), q->user.tenant, q->r->pool) == APR_SUCCESS &&
           (s->industries->nelts || s->regions->nelts);
}

/* The model of this request's page: the organisation page's index.xml beside its index.html, or
 * the build's models/<lang>/home.xml. NULL when there is none (a build from before models). `r` is the
 * request for the page: mod_dir's subrequest for /<lang>/index.html, not the main request for /<lang>/. */
static const char *model_of(request_rec *r, stp_req_t *q, int org)
{
    const char *path = NULL;
    if (org) {
        apr_size_t n = r->filename ? strlen(r->filename) : 0;
        const char *dir = apr_pstrcat(r->pool, q->build->root, "/" STP_BUILD_TENANTS "/", q->user.tenant, "/", NULL);
        /* the organisation's home page only (<lang>/index.html), not its document pages */
        const char *slash = !strncmp(r->filename, dir, strlen(dir)) ? strchr(r->filename + strlen(dir), '/') : NULL;
        if (slash && !strcmp(slash, "/index.html"))
            path = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, r->filename, n - 5), ".xml", NULL);
    } else {
        const char *lang = home_lang(q->build, r->uri, r->pool);
        if (lang)
            path = apr_pstrcat(r->pool, q->build->root, "/" STP_BUILD_MODELS "/", lang, "/home.xml", NULL);
    }
    apr_finfo_t fi;
    return path && apr_stat(&fi, path, APR_FINFO_MIN, r->pool) == APR_SUCCESS && fi.filetype == APR_REG ? path : NULL;
}

int mod_stp_home_fixup(request_rec *r, int org)
{
    /* Every static page passes here: only home pages go further. */
    if (!org && (!r->uri || strlen(r->uri) > 30 || !strstr(r->uri, "/index.html")))
        return DECLINED;
    stp_req_t *q = mod_stp_req_get(r);
    stp_org_settings_t s;
    if (!q->build || (!org && !home_lang(q->build, r->uri, r->pool)) || !wanted(&s, q) || !model_of(r, q, org))
        return DECLINED;
    r->handler = "stp";
    mod_stp_headers_personal(r);
    return OK;
}

static const char *terms_text(stp_req_t *q, const stp_org_settings_t *s)
{
    const char *t = "";
    const struct {
        const apr_array_header_t *ids;
        const char *prefix;
    } lists[] = {{s->industries, "label.industry."}, {s->regions, "label.region."}};
    for (size_t l = 0; l < 2; l++)
        for (int i = 0; i < lists[l].ids->nelts; i++)
            t = apr_pstrcat(q->r->pool, t, *t ? ", " : "",
                            mod_stp_msg(q, apr_pstrcat(q->r->pool, lists[l].prefix,
                                                       APR_ARRAY_IDX(lists[l].ids, i, const char *), NULL)),
                            NULL);
    return t;
}

static void recommended(xmlNodePtr page, stp_req_t *q, const stp_org_settings_t *s)
{
    request_rec *r = q->r;
    stp_search_query_t sq = {0};
    sq.now = mod_stp_now(r); /* embargoed documents are found from their moment */
    stp_search_result_t res;
    const char *err = NULL;
    sq.lang = q->lang;
    sq.filters[STP_FACET_INDUSTRY] = s->industries;
    sq.filters[STP_FACET_REGION] = s->regions;
    sq.any_facet = 1;
    sq.sort = STP_SEARCH_SORT_DATE;
    sq.page = 1;
    sq.per_page = SHOWN;
    sq.tenant = q->user.tenant;
    sq.user = &q->user; /* documents with requirements only for those who meet them */
    xmlNodePtr rec = mod_stp_el(page, "recommended", NULL);
    mod_stp_attr(rec, "terms", terms_text(q, s));
    if (stp_search_run(&res, q->build->search, &sq, &err, r->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "stp: recommendations for %s: %s", q->user.tenant, err ? err : "");
        return;
    }
    mod_stp_attr(rec, "total", apr_itoa(r->pool, res.total));
    for (int i = 0; i < res.hits->nelts; i++) {
        const stp_search_hit_t *h = &APR_ARRAY_IDX(res.hits, i, stp_search_hit_t);
        xmlNodePtr d = mod_stp_el(rec, "doc", NULL);
        char iso[11];
        stp_date_format_iso(iso, h->published);
        mod_stp_attr(d, "id", h->doc);
        mod_stp_attr(d, "href",
                     apr_pstrcat(r->pool, "/", q->lang, h->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/",
                                 h->doc, "/", NULL));
        mod_stp_attr(d, "access", stp_catalog_access_name(h->access));
        if (h->nda)
            mod_stp_attr(d, "nda", "yes");
        mod_stp_attr(d, "date", iso);
        mod_stp_attr(d, "date-text", mod_stp_date_text(q, h->published, r->pool));
        mod_stp_el(d, "title", h->title);
        mod_stp_el(d, "summary", h->summary);
    }
}

int mod_stp_home_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    stp_org_settings_t s;
    r->allowed |= AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    int org = !q->build || !home_lang(q->build, r->uri, r->pool);
    const char *path = q->build && wanted(&s, q) ? model_of(r, q, org) : NULL;
    xmlDocPtr doc = path ? xmlReadFile(path, "UTF-8", XML_PARSE_NONET) : NULL;
    if (!doc) { /* the organisation changed its mind, or the build moved on, since the fixup */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: no page model for %s", r->uri);
        return HTTP_NOT_FOUND;
    }
    apr_pool_cleanup_register(r->pool, doc, free_doc, apr_pool_cleanup_null);
    xmlNodePtr page = xmlDocGetRootElement(doc);
    const xmlChar *lang = xmlGetProp(page, (const xmlChar *)"lang");
    q->lang = lang ? apr_pstrdup(r->pool, (const char *)lang) : q->lang; /* the page's, not a cookie's */
    xmlFree((void *)lang);
    mod_stp_page_user(q, page, 1);
    recommended(page, q, &s);
    return mod_stp_page_send(r, q, HTTP_OK, page);
}
