/* mod_stp_search: GET /stp/search. Reads the query and the filters, asks the build's index
 * (libstp/stp_search.h) with the reader's tenant, and answers the results, facet counts and pages
 * as a page through the templates or, for Accept: application/json, as JSON. The index filters
 * everything by what the reader may see; this file only turns the request into a query and the
 * result into XML or JSON. */
#include <httpd.h>
#include <stdlib.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_date.h"
#include "stp_http.h"
#include "stp_search.h"
#include "stp_view.h"

#define TEXT_MAX 256    /* bytes of query text: more is no search anyone types */
#define ID_MAX 64       /* a filter value is a vocabulary id */
#define PAGE_MAX 100000 /* beyond it a page number is a mistake, not a page */
#define PER_PAGE 20

/* The request, once checked. */
typedef struct {
    const char *text;
    apr_array_header_t *filters[STP_FACET_COUNT];
    stp_search_sort_t sort;
    int page;
    int org;    /* the user's organisation chose industries or regions: URLs carry all=1 */
    int preset; /* no filter was asked for, so the organisation's are applied */
} ask_t;

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > ID_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '.'))
            return 0;
    return 1;
}

typedef struct {
    ask_t *ask;
    const char *bad; /* why the request is refused */
} read_t;

static int read_field(void *data, const char *key, const char *value)
{
    read_t *rd = data;
    ask_t *a = rd->ask;
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        if (strcmp(key, stp_search_facet_param((stp_facet_t)f)))
            continue;
        if (!*value)
            return 1; /* an empty choice is no choice */
        if (!id_ok(value)) {
            rd->bad = "a filter value that is no id";
            return 0;
        }
        for (int i = 0; i < a->filters[f]->nelts; i++)
            if (!strcmp(APR_ARRAY_IDX(a->filters[f], i, const char *), value))
                return 1;
        APR_ARRAY_PUSH(a->filters[f], const char *) = value;
        return 1;
    }
    return 1; /* q, sort, page, lang and anything else are read by name */
}

/* Checks the query string; NULL when it holds, else why not (a 400). */
static const char *read_ask(ask_t *a, stp_req_t *q, apr_pool_t *pool)
{
    if (q->query_error) /* not echoed: it may quote a field name the client chose */
        return "a query string no form sends (malformed, invalid UTF-8 or too many fields)";
    const apr_array_header_t *all = apr_table_elts(q->query);
    const char *names[] = {"q", "sort", "page", "lang"};
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        int seen = 0;
        for (int i = 0; i < all->nelts; i++)
            seen += !strcmp(APR_ARRAY_IDX(all, i, apr_table_entry_t).key, names[n]);
        if (seen > 1)
            return apr_pstrcat(pool, "repeated field ", names[n], NULL);
    }
    a->text = apr_table_get(q->query, "q");
    a->text = a->text ? a->text : "";
    if (strlen(a->text) > TEXT_MAX)
        return "query text too long";
    for (int f = 0; f < STP_FACET_COUNT; f++)
        a->filters[f] = apr_array_make(pool, 2, sizeof(const char *));
    read_t rd = {a, NULL};
    apr_table_do(read_field, &rd, q->query, NULL);
    if (rd.bad)
        return rd.bad;
    const char *sort = apr_table_get(q->query, "sort");
    if (!sort || !*sort || !strcmp(sort, "relevance"))
        a->sort = STP_SEARCH_SORT_RELEVANCE;
    else if (!strcmp(sort, "date"))
        a->sort = STP_SEARCH_SORT_DATE;
    else
        return "unknown sort";
    const char *page = apr_table_get(q->query, "page");
    a->page = 1;
    if (page && *page) {
        char *end;
        long p = strtol(page, &end, 10);
        if (*end || p < 1 || p > PAGE_MAX || page[0] == '+' || page[0] == ' ')
            return "page out of range";
        a->page = (int)p;
    }
    return NULL;
}

/* The search URL for `a`, with facet `f`'s value `id` toggled (f < 0: none) and page `page`. */
static const char *url_of(const stp_req_t *q, const ask_t *a, int f, const char *id, int page, apr_pool_t *pool)
{
    const char *u = apr_pstrcat(pool, "/stp/search?lang=", q->lang, NULL);
    if (*a->text)
        u = apr_pstrcat(pool, u, "&q=", stp_http_url_escape(a->text, pool), NULL);
    for (int k = 0; k < STP_FACET_COUNT; k++) {
        int present = 0;
        for (int i = 0; i < a->filters[k]->nelts; i++) {
            const char *v = APR_ARRAY_IDX(a->filters[k], i, const char *);
            if (k == f && !strcmp(v, id)) {
                present = 1;
                continue;
            }
            u = apr_pstrcat(pool, u, "&", stp_search_facet_param((stp_facet_t)k), "=", v, NULL);
        }
        if (k == f && !present)
            u = apr_pstrcat(pool, u, "&", stp_search_facet_param((stp_facet_t)k), "=", id, NULL);
    }
    if (a->sort == STP_SEARCH_SORT_DATE)
        u = apr_pstrcat(pool, u, "&sort=date", NULL);
    if (page > 1)
        u = apr_pstrcat(pool, u, "&page=", apr_itoa(pool, page), NULL);
    if (a->org) /* the user's own choice from here on, none included */
        u = apr_pstrcat(pool, u, "&all=1", NULL);
    return u;
}

/* A member whose organisation chose industries or regions starts with them selected: when the
 * URL asks for no filter and is not already the user's own choice (all=1, which every link and
 * form of the search page carries). */
static void org_preset(ask_t *a, stp_req_t *q)
{
    stp_org_settings_t s;
    if (!q->user.key || !q->user.tenant || q->user.unlisted || !mod_stp_state(q) ||
        stp_org_settings_get(&s, mod_stp_state(q), q->user.tenant, q->r->pool) != APR_SUCCESS ||
        (!s.industries->nelts && !s.regions->nelts))
        return;
    a->org = 1;
    for (int f = 0; f < STP_FACET_COUNT; f++)
        if (a->filters[f]->nelts)
            return;
    if (apr_table_get(q->query, "all"))
        return;
    a->preset = 1;
    a->filters[STP_FACET_INDUSTRY] = s.industries;
    a->filters[STP_FACET_REGION] = s.regions;
}

static const char *label_of(stp_req_t *q, stp_facet_t f, const char *id, apr_pool_t *pool)
{
    const char *key = apr_pstrcat(pool, "label.", stp_search_facet_param(f), ".", id, NULL);
    const char *l = mod_stp_msg(q, key);
    return strcmp(l, key) ? l : id;
}

static const char *doc_href(const stp_req_t *q, const stp_search_hit_t *h, apr_pool_t *pool)
{
    return apr_pstrcat(pool, "/", q->lang, h->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/", h->doc, "/", NULL);
}

/* A snippet's text between \x01 and \x02 marks as <m> elements. */
static void snippet_el(xmlNodePtr parent, const char *snippet, apr_pool_t *pool)
{
    xmlNodePtr s = mod_stp_el(parent, "snippet", NULL);
    const char *p = snippet;
    while (*p) {
        const char *open = strchr(p, '\001');
        const char *end = open ? open : p + strlen(p);
        if (end > p)
            xmlNodeAddContentLen(s, (const xmlChar *)p, (int)(end - p));
        if (!open)
            break;
        const char *close = strchr(open + 1, '\002');
        const char *word_end = close ? close : open + 1 + strlen(open + 1);
        mod_stp_el(s, "m", apr_pstrmemdup(pool, open + 1, (apr_size_t)(word_end - open - 1)));
        p = close ? close + 1 : word_end;
    }
}

/* A facet's values as shown: those the reader's matches carry (the index counts only what the
 * reader may see), then every chosen value that none carries, count 0, so that it can be removed.
 * A chosen id is listed the same whether it is unknown, unused or used only where the reader may
 * not look: its presence says nothing of another tenant's documents. */
static const apr_array_header_t *facet_values(const stp_search_result_t *res, const ask_t *a, stp_facet_t f,
                                              apr_pool_t *pool)
{
    apr_array_header_t *out = apr_array_copy(pool, res->facets[f]);
    for (int i = 0; i < a->filters[f]->nelts; i++) {
        const char *id = APR_ARRAY_IDX(a->filters[f], i, const char *);
        int listed = 0;
        for (int k = 0; k < out->nelts && !listed; k++)
            listed = !strcmp(APR_ARRAY_IDX(out, k, stp_search_facet_value_t).id, id);
        if (!listed) {
            stp_search_facet_value_t *v = apr_array_push(out);
            v->id = id;
            v->count = 0;
            v->selected = 1;
        }
    }
    return out;
}

static void facet_value(xmlNodePtr facet, stp_req_t *q, const ask_t *a, stp_facet_t f, const char *id, int count,
                        int selected, apr_pool_t *pool)
{
    xmlNodePtr ve = mod_stp_el(facet, "value", label_of(q, f, id, pool));
    mod_stp_attr(ve, "id", id);
    mod_stp_attr(ve, "count", apr_itoa(pool, count));
    if (selected) {
        mod_stp_attr(ve, "selected", "yes");
        mod_stp_attr(ve, "clear", url_of(q, a, (int)f, id, 1, pool));
    }
}

static void page_of(xmlNodePtr page, stp_req_t *q, const ask_t *a, const stp_search_result_t *res, apr_pool_t *pool)
{
    xmlNodePtr s = mod_stp_el(page, "search", NULL);
    mod_stp_attr(s, "q", a->text);
    mod_stp_attr(s, "sort", a->sort == STP_SEARCH_SORT_DATE ? "date" : "relevance");
    mod_stp_attr(s, "total", apr_itoa(pool, res->total));
    mod_stp_attr(s, "page", apr_itoa(pool, a->page));
    mod_stp_attr(s, "pages", apr_itoa(pool, res->pages));
    if (a->org)
        mod_stp_attr(s, "org", "yes");
    if (a->preset)
        mod_stp_attr(s, "preset", "yes");
    int filtered = 0;
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        xmlNodePtr fe = mod_stp_el(s, "facet", NULL);
        mod_stp_attr(fe, "name", stp_search_facet_param((stp_facet_t)f));
        const apr_array_header_t *values = facet_values(res, a, (stp_facet_t)f, pool);
        for (int i = 0; i < values->nelts; i++) {
            const stp_search_facet_value_t *v = &APR_ARRAY_IDX(values, i, stp_search_facet_value_t);
            facet_value(fe, q, a, (stp_facet_t)f, v->id, v->count, v->selected, pool);
        }
        filtered |= a->filters[f]->nelts > 0;
    }
    if (filtered) {
        ask_t none = *a;
        for (int f = 0; f < STP_FACET_COUNT; f++)
            none.filters[f] = apr_array_make(pool, 1, sizeof(const char *));
        mod_stp_attr(s, "clear", url_of(q, &none, -1, NULL, 1, pool));
    }
    xmlNodePtr results = mod_stp_el(s, "results", NULL);
    for (int i = 0; i < res->hits->nelts; i++) {
        const stp_search_hit_t *h = &APR_ARRAY_IDX(res->hits, i, stp_search_hit_t);
        xmlNodePtr d = mod_stp_el(results, "doc", NULL);
        char iso[11];
        stp_date_format_iso(iso, h->published);
        mod_stp_attr(d, "id", h->doc);
        mod_stp_attr(d, "href", doc_href(q, h, pool));
        mod_stp_attr(d, "download", apr_pstrcat(pool, "/download/", h->doc, NULL));
        mod_stp_attr(d, "access", stp_catalog_access_name(h->access));
        if (h->nda)
            mod_stp_attr(d, "nda", "yes");
        mod_stp_el(d, "title", h->title);
        mod_stp_attr(mod_stp_el(d, "published", mod_stp_date_text(q, h->published, pool)), "iso", iso);
        if (h->tile && *h->tile)
            mod_stp_el(d, "category", label_of(q, STP_FACET_CATEGORY, h->tile, pool));
        mod_stp_el(d, "summary", h->summary);
        if (h->snippet)
            snippet_el(d, h->snippet, pool);
    }
    xmlNodePtr pages = mod_stp_el(s, "pages", NULL);
    if (a->page > 1 && a->page <= res->pages)
        mod_stp_attr(pages, "prev", url_of(q, a, -1, NULL, a->page - 1, pool));
    if (a->page < res->pages)
        mod_stp_attr(pages, "next", url_of(q, a, -1, NULL, a->page + 1, pool));
    /* Page numbers around the current one: the first, the last, and two either side. */
    for (int p = 1; p <= res->pages; p++) {
        if (p != 1 && p != res->pages && abs(p - a->page) > 2)
            continue;
        xmlNodePtr pe = mod_stp_el(pages, "p", apr_itoa(pool, p));
        mod_stp_attr(pe, "href", url_of(q, a, -1, NULL, p, pool));
        if (p == a->page)
            mod_stp_attr(pe, "current", "yes");
    }
    if (a->sort == STP_SEARCH_SORT_DATE) {
        ask_t rel = *a;
        rel.sort = STP_SEARCH_SORT_RELEVANCE;
        mod_stp_attr(s, "by-relevance", url_of(q, &rel, -1, NULL, 1, pool));
    } else {
        ask_t date = *a;
        date.sort = STP_SEARCH_SORT_DATE;
        mod_stp_attr(s, "by-date", url_of(q, &date, -1, NULL, 1, pool));
    }
}

static const char *json_of(stp_req_t *q, const ask_t *a, const stp_search_result_t *res, apr_pool_t *pool)
{
    const char *j =
        apr_psprintf(pool,
                     "{\"query\":%s,\"lang\":%s,\"sort\":\"%s\",\"total\":%d,\"page\":%d,\"pages\":%d,"
                     "\"per_page\":%d,\"results\":[",
                     stp_http_json_string(a->text, pool), stp_http_json_string(q->lang, pool),
                     a->sort == STP_SEARCH_SORT_DATE ? "date" : "relevance", res->total, a->page, res->pages, PER_PAGE);
    for (int i = 0; i < res->hits->nelts; i++) {
        const stp_search_hit_t *h = &APR_ARRAY_IDX(res->hits, i, stp_search_hit_t);
        char iso[11];
        stp_date_format_iso(iso, h->published);
        const char *snip = "null";
        if (h->snippet) { /* segments: [text, matched, text, ...] as {"text","match"} pairs */
            snip = "[";
            const char *p = h->snippet;
            int first = 1;
            while (*p) {
                int match = *p == '\001';
                if (match)
                    p++;
                const char *end = p + strcspn(p, match ? "\002" : "\001");
                snip = apr_pstrcat(pool, snip, first ? "" : ",", "{\"text\":",
                                   stp_http_json_string(apr_pstrmemdup(pool, p, (apr_size_t)(end - p)), pool),
                                   ",\"match\":", match ? "true" : "false", "}", NULL);
                first = 0;
                p = (match && *end == '\002') ? end + 1 : end;
            }
            snip = apr_pstrcat(pool, snip, "]", NULL);
        }
        j = apr_pstrcat(pool, j, i ? "," : "", "{\"id\":", stp_http_json_string(h->doc, pool),
                        ",\"title\":", stp_http_json_string(h->title, pool),
                        ",\"summary\":", stp_http_json_string(h->summary, pool), ",\"snippet\":", snip,
                        ",\"url\":", stp_http_json_string(doc_href(q, h, pool), pool),
                        ",\"download\":", stp_http_json_string(apr_pstrcat(pool, "/download/", h->doc, NULL), pool),
                        ",\"category\":", stp_http_json_string(h->tile, pool), ",\"date\":\"", iso, "\",\"access\":\"",
                        stp_catalog_access_name(h->access),
                        "\",\"nda\":", h->nda || h->access == STP_ACCESS_NDA ? "true" : "false", "}", NULL);
    }
    j = apr_pstrcat(pool, j, "],\"facets\":{", NULL);
    for (int f = 0; f < STP_FACET_COUNT; f++) {
        j = apr_pstrcat(pool, j, f ? "," : "", "\"", stp_search_facet_param((stp_facet_t)f), "\":[", NULL);
        const apr_array_header_t *values = facet_values(res, a, (stp_facet_t)f, pool);
        for (int i = 0; i < values->nelts; i++) {
            const stp_search_facet_value_t *v = &APR_ARRAY_IDX(values, i, stp_search_facet_value_t);
            j = apr_pstrcat(pool, j, i ? "," : "", "{\"id\":", stp_http_json_string(v->id, pool),
                            ",\"label\":", stp_http_json_string(label_of(q, (stp_facet_t)f, v->id, pool), pool),
                            ",\"count\":", apr_itoa(pool, v->count), ",\"selected\":", v->selected ? "true" : "false",
                            "}", NULL);
        }
        j = apr_pstrcat(pool, j, "]", NULL);
    }
    return apr_pstrcat(pool, j, "}}", NULL);
}

int mod_stp_search_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    ask_t a;
    r->allowed |= AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    const char *bad = read_ask(&a, q, r->pool);
    if (bad) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: search refused: %s", bad);
        return mod_stp_error_page(r, q, HTTP_BAD_REQUEST, "error.badrequest.title", "error.badrequest.body");
    }
    if (!q->build || !q->build->search) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "stp: search: %s",
                      !q->build ? "nothing is published" : "the build has no search index (see the log at its start)");
        return mod_stp_error_page(r, q, HTTP_SERVICE_UNAVAILABLE, "error.unavailable.title", "search.unavailable");
    }
    a.org = a.preset = 0;
    org_preset(&a, q);
    stp_search_query_t sq = {0};
    sq.now = mod_stp_now(r); /* embargoed documents are found from their moment */
    stp_search_result_t res;
    const char *err = NULL;
    sq.lang = q->lang;
    sq.text = a.text;
    for (int f = 0; f < STP_FACET_COUNT; f++)
        sq.filters[f] = a.filters[f];
    sq.sort = a.sort;
    sq.page = a.page;
    sq.per_page = PER_PAGE;
    sq.tenant = q->user.key ? q->user.tenant : NULL;
    sq.user = &q->user;
    apr_status_t rv = stp_search_run(&res, q->build->search, &sq, &err, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "stp: search failed: %s", err ? err : "");
        return mod_stp_error_page(r, q, HTTP_SERVICE_UNAVAILABLE, "error.unavailable.title", "search.unavailable");
    }
    const char *accept = apr_table_get(r->headers_in, "Accept");
    if (accept && strstr(accept, "application/json")) {
        apr_table_mergen(r->headers_out, "Vary", "Accept");
        return mod_stp_json_send(r, json_of(q, &a, &res, r->pool));
    }
    xmlNodePtr page = mod_stp_page_start(q, "search", mod_stp_msg(q, "search.title"));
    page_of(page, q, &a, &res, r->pool);
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    return mod_stp_page_send(r, q, HTTP_OK, page);
}
