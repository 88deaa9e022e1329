/* mod_stp_page: the module's pages through the build's templates (libstp/stp_view.h). A handler
 * starts a page, adds its data as XML elements and attributes (libxml2 escapes every text) and
 * sends it; the header (site title, language picker that keeps this page, who is signed in) is
 * the same for every page and comes from here. No HTML is written in C. */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_strings.h>
#include <libxml/tree.h>

#include "mod_stp.h"
#include "stp_http.h"
#include "stp_date.h"
#include "stp_layout.h"
#include "stp_view.h"

static apr_status_t free_doc(void *data)
{
    xmlFreeDoc(data);
    return APR_SUCCESS;
}

xmlNodePtr mod_stp_el(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

void mod_stp_attr(xmlNodePtr node, const char *name, const char *value)
{
    if (value)
        xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

void mod_stp_attr_slot(stp_req_t *q, xmlNodePtr node, const char *name, const char *value)
{
    if (!value || !*value || !q->build || !q->build->view || q->nslots == STP_VIEW_SLOTS) {
        mod_stp_attr(node, name, value); /* the value itself: part of what a frame is kept by */
        return;
    }
    mod_stp_attr(node, name, stp_view_slot(q->build->view, q->nslots));
    q->slot[q->nslots].node = node;
    q->slot[q->nslots].name = name;
    q->slot[q->nslots].value = value;
    q->nslots++;
}

void mod_stp_page_framed(stp_req_t *q)
{
    q->framed = 1;
}

/* The values back in place of their placeholders, for a page rendered as a whole. */
static void slots_fill(stp_req_t *q)
{
    for (int i = 0; i < q->nslots; i++)
        mod_stp_attr(q->slot[i].node, q->slot[i].name, q->slot[i].value);
    q->nslots = 0;
}

/* A frame is kept for a URL without a query, or whose query only names the page's language: any
 * other query could add a kept frame per request (the language picker's links hold it). */
static int frame_query_ok(const request_rec *r, const stp_req_t *q)
{
    return !r->args || (q->lang && !strncmp(r->args, "lang=", 5) && !strcmp(r->args + 5, q->lang));
}

/* This page's URL in another language: the same path and query with lang= (ui= on a download,
 * whose lang= is the file's) replaced. */
static const char *url_in(stp_req_t *q, const char *lang)
{
    request_rec *r = q->r;
    const char *param = q->download ? "ui" : "lang";
    const char *query = "";
    const apr_array_header_t *args = apr_table_elts(q->query);
    for (int i = 0; i < args->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(args, i, apr_table_entry_t);
        if (!strcmp(e->key, param) || !strcmp(e->key, "csrf"))
            continue;
        query = apr_pstrcat(r->pool, query, "&", stp_http_url_escape(e->key, r->pool), "=",
                            stp_http_url_escape(e->val, r->pool), NULL);
    }
    return apr_pstrcat(r->pool, r->uri, "?", param, "=", lang, query, NULL);
}

/* A catalog string of the build in the reader's locale, or NULL (stp_view_portal_el). */
static const char *catalog_word(void *baton, const char *key)
{
    stp_req_t *q = baton;
    return q->build ? stp_catalog_get_string(q->build->cat, q->lang, key, q->r->pool) : NULL;
}

xmlNodePtr mod_stp_page_start(stp_req_t *q, const char *kind, const char *title)
{
    request_rec *r = q->r;
    mod_stp_req_lang(q); /* a download works it out only when it answers with a page */
    /* An error page says nothing of the URL that failed, and carries no token: the 404 of another
     * tenant's document must be the 404 of an unknown id, byte for byte. Its language picker and
     * sign-in lead to the home pages. */
    int error = !strcmp(kind, "error");
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
    apr_pool_cleanup_register(r->pool, doc, free_doc, apr_pool_cleanup_null);
    xmlDocSetRootElement(doc, page);
    mod_stp_attr(page, "kind", kind);
    mod_stp_attr(page, "lang", q->lang);
    mod_stp_attr(page, "dir", mod_stp_msg(q, "locale.dir"));
    mod_stp_attr(page, "url", error ? apr_pstrcat(r->pool, "/", q->lang, "/", NULL) : mod_stp_this_url(r));
    mod_stp_attr(page, "return",
                 error ? apr_pstrcat(r->pool, "%2F", q->lang, "%2F", NULL)
                       : stp_http_url_escape(mod_stp_this_url(r), r->pool));
    mod_stp_attr(page, "base-url", q->build ? q->build->base_url : "");
    mod_stp_el(page, "site-title", mod_stp_msg(q, "site.title"));
    mod_stp_el(page, "title", title);
    stp_view_portal_el(page, catalog_word, q, r->pool);
    xmlNodePtr locales = mod_stp_el(page, "locales", NULL);
    char *list = apr_pstrdup(r->pool, q->build ? q->build->locales : q->lang), *state;
    for (const char *l = apr_strtok(list, ",", &state); l; l = apr_strtok(NULL, ",", &state)) {
        const char *name = q->build ? stp_catalog_get_string(q->build->cat, l, "locale.name", r->pool) : NULL;
        const char *dir = q->build ? stp_catalog_get_string(q->build->cat, l, "locale.dir", r->pool) : NULL;
        xmlNodePtr n = mod_stp_el(locales, "locale", name ? name : l);
        mod_stp_attr(n, "id", l);
        mod_stp_attr(n, "dir", dir ? dir : "ltr");
        mod_stp_attr(n, "href", error ? apr_pstrcat(r->pool, "/", l, "/", NULL) : url_in(q, l));
        if (!strcmp(l, q->lang))
            mod_stp_attr(n, "current", "yes");
    }
    mod_stp_page_user(q, page, !error);
    return page;
}

void mod_stp_page_user(stp_req_t *q, xmlNodePtr page, int signout)
{
    request_rec *r = q->r;
    if (q->user.key) {
        xmlNodePtr u = mod_stp_el(page, "user", NULL);
        mod_stp_attr(u, "kind", stp_access_user_kind(&q->user));
        if (q->user.staff)
            mod_stp_attr(u, "staff", "yes");
        mod_stp_attr_slot(q, u, "name", mod_stp_display_name(q));
        if (q->user.tenant) {
            const char *org = mod_stp_msg(q, apr_pstrcat(r->pool, "org.name.", q->user.tenant, NULL));
            mod_stp_attr(u, "org", strncmp(org, "org.name.", 9) ? org : q->user.tenant);
        }
        if (signout)
            mod_stp_attr_slot(q, u, "csrf", mod_stp_csrf_form_token(q, "logout"));
    }
}

const char *mod_stp_date_text(stp_req_t *q, stp_day_t day, apr_pool_t *pool)
{
    int y, m, d;
    stp_date_to_ymd(&y, &m, &d, day);
    return stp_view_date(mod_stp_msg(q, "date.format"), mod_stp_msg(q, apr_psprintf(pool, "date.month.%d", m)), day,
                         pool);
}

/* The UI strings of the page's language, else the default language's, for stp:msg(). */
static const char *page_msg(void *baton, const char *key)
{
    stp_req_t *q = baton;
    const char *v = q->build ? stp_catalog_get_string(q->build->cat, q->lang, key, q->r->pool) : NULL;
    if (!v && q->build)
        v = stp_catalog_get_string(q->build->cat, q->build->default_locale, key, q->r->pool);
    return v;
}

static int page_send(request_rec *r, stp_req_t *q, int status, xmlNodePtr page, const stp_view_item_t *items)
{
    char *html = NULL;
    apr_size_t len = 0;
    r->status = status;
    mod_stp_headers_personal(r);
    apr_table_setn(r->headers_out, "Content-Language", q->lang);
    apr_status_t rv = APR_EAGAIN;
    if (q->framed && q->build && q->build->view && frame_query_ok(r, q)) {
        const char *values[STP_VIEW_SLOTS];
        for (int i = 0; i < q->nslots; i++)
            values[i] = q->slot[i].value;
        rv = stp_view_render_framed(&html, &len, q->build->view, page->doc, values, q->nslots, items, page_msg, q,
                                    r->pool);
    }
    if (rv != APR_SUCCESS)
        slots_fill(q);
    if (rv == APR_SUCCESS) {
        ap_set_content_type(r, "text/html; charset=utf-8");
    } else if (!q->build || !q->build->view ||
               (items ? stp_view_render_spliced(&html, &len, q->build->view, page->doc, page_msg, q, items->html,
                                                items->len, r->pool)
                      : stp_view_render(&html, &len, q->build->view, page->doc, 1, page_msg, q, r->pool)) !=
                   APR_SUCCESS) {
        /* Nothing to render with (no build, or one without templates): say so plainly. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "stp: cannot render the %s page: %s",
                      (const char *)xmlGetProp(page, (const xmlChar *)"kind"),
                      !q->build ? "nothing is published" : "the build's " STP_BUILD_PAGE_XSL " is missing or broken");
        html = apr_psprintf(r->pool, "%d\n", status);
        len = strlen(html);
        ap_set_content_type(r, "text/plain; charset=utf-8");
    } else {
        ap_set_content_type(r, "text/html; charset=utf-8");
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only)
        ap_rwrite(html, (int)len, r);
    return OK;
}

int mod_stp_page_send(request_rec *r, stp_req_t *q, int status, xmlNodePtr page)
{
    return page_send(r, q, status, page, NULL);
}

int mod_stp_page_send_spliced(request_rec *r, stp_req_t *q, int status, xmlNodePtr page, const stp_view_item_t *items)
{
    return page_send(r, q, status, page, items);
}

xmlNodePtr mod_stp_items_start(stp_req_t *q)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
    apr_pool_cleanup_register(q->r->pool, doc, free_doc, apr_pool_cleanup_null);
    xmlDocSetRootElement(doc, page);
    mod_stp_attr(page, "kind", "items");
    mod_stp_attr(page, "lang", mod_stp_req_lang(q));
    return page;
}

apr_status_t mod_stp_items_render(apr_array_header_t **items, stp_req_t *q, xmlNodePtr page)
{
    if (!q->build || !q->build->view)
        return APR_EGENERAL;
    return stp_view_render_items(items, q->build->view, page->doc, page_msg, q, q->r->pool);
}

void mod_stp_page_html(stp_req_t *q, xmlNodePtr parent, const char *html)
{
    /* HTML that sitegen rendered from Markdown under the content rules (the NDA text): parsed
     * into nodes (once per build and text), so that the page is built as a tree like everything
     * else. */
    stp_view_add_html(q->build ? q->build->view : NULL, parent, html);
}
