/* mod_stp_nda: GET /stp/nda shows the current agreement in the user's language with the pending
 * download named; POST /stp/nda (CSRF-checked) records the acceptance durably, then returns the
 * user to the download. */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_http.h"

#define NDA_FORM_LIMIT 4096

/* Where to go after accepting: a local path, else the home page. */
static const char *return_target(stp_req_t *q, const char *asked)
{
    return asked && stp_return_target_ok(asked) ? asked : apr_pstrcat(q->r->pool, "/", q->lang, "/", NULL);
}

/* "Accept the agreement below to download {document}." with the document's title, when the
 * return target is a download the user may know of. */
static const char *pending_note(stp_req_t *q, const char *target)
{
    apr_pool_t *p = q->r->pool;
    const char *id, *version;
    stp_doc_t *doc;
    if (stp_download_parse(&id, &version, apr_pstrndup(p, target, strcspn(target, "?")), p) != APR_SUCCESS ||
        stp_catalog_get_doc(&doc, q->build->cat, id, p) != APR_SUCCESS || !stp_access_visible(&q->user, doc))
        return "";
    const stp_text_t *t = stp_text_pick(doc->titles, q->lang, q->build->default_locale);
    const char *msg = stp_msg(q, "nda.pending"), *at = strstr(msg, "{document}");
    if (!t || !at)
        return "";
    return apr_pstrcat(p, "<p class=\"pending\">", stp_html_escape(apr_pstrmemdup(p, msg, (apr_size_t)(at - msg)), p),
                       "<strong>", stp_html_escape(t->text, p), "</strong>", stp_html_escape(at + 10, p), "</p>", NULL);
}

static int show(request_rec *r, stp_req_t *q, const char *target)
{
    apr_pool_t *p = r->pool;
    const char *text = stp_catalog_get_string(q->build->cat, q->lang, "nda.text", p);
    if (!text)
        text = stp_catalog_get_string(q->build->cat, q->build->default_locale, "nda.text", p);
    const char *token = stp_csrf_form_token(q, "nda");
    const char *title = stp_msg(q, "nda.title");
    /* nda.text is HTML that sitegen rendered from Markdown in safe mode; everything else is escaped here. */
    const char *main = apr_pstrcat(
        p, "<h1>", stp_html_escape(title, p), "</h1>", pending_note(q, target), "<p class=\"meta\">",
        stp_html_escape(stp_msg(q, "nda.version"), p), ": ", stp_html_escape(q->build->nda_version, p),
        "</p><div class=\"nda\">", text ? text : "", "</div>",
        "<form method=\"post\" action=\"/stp/nda\"><input type=\"hidden\" name=\"csrf\" value=\"", token,
        "\"><input type=\"hidden\" name=\"version\" value=\"", stp_html_escape(q->build->nda_version, p),
        "\"><input type=\"hidden\" name=\"return\" value=\"", stp_html_escape(target, p),
        "\"><input type=\"hidden\" name=\"lang\" value=\"", stp_html_escape(q->lang, p), "\"><button type=\"submit\">",
        stp_html_escape(stp_msg(q, "nda.accept"), p), "</button></form>", NULL);
    return stp_page_send(r, q, HTTP_OK, title, main);
}

static int nda_post(request_rec *r, stp_req_t *q)
{
    apr_table_t *form;
    int rc = stp_form_read(&form, r, NDA_FORM_LIMIT);
    if (rc != OK)
        return rc;
    if (!stp_csrf_valid(r, q, form, "nda"))
        return stp_forbidden(r, q);
    const char *target = return_target(q, apr_table_get(form, "return"));
    const char *version = apr_table_get(form, "version");
    if (!version || strcmp(version, q->build->nda_version))
        /* A new version was published after the page was shown: the user must read that one. */
        return stp_redirect(r, HTTP_SEE_OTHER,
                            apr_pstrcat(r->pool, "/stp/nda?return=", stp_url_escape(target, r->pool), NULL));
    if (!q->conf->state)
        return stp_state_error(r, q, APR_EGENERAL, "recording the NDA acceptance");
    apr_status_t rv = stp_state_nda_accept(q->conf->state, q->user.key, q->user.tenant, version, apr_time_now());
    if (rv != APR_SUCCESS)
        return stp_state_error(r, q, rv, "recording the NDA acceptance");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: %s (tenant %s) accepted NDA %s", q->user.key, q->user.tenant,
                  version);
    return stp_redirect(r, HTTP_SEE_OTHER, target);
}

int stp_nda_handler(request_rec *r)
{
    stp_req_t *q = stp_req_get(r);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (r->method_number != M_GET && r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!q->build || !q->build->nda_version[0])
        return HTTP_NOT_FOUND;
    if (!q->user.key)
        return r->method_number == M_GET
                   ? stp_signin_redirect(r)
                   : stp_error_page(r, q, HTTP_FORBIDDEN, "error.forbidden.title", "error.forbidden.body");
    if (!q->user.tenant)
        return stp_error_page(r, q, HTTP_FORBIDDEN, "error.personal.title", "error.personal.body");
    if (r->method_number == M_POST)
        return nda_post(r, q);
    const char *target = return_target(q, apr_table_get(q->query, "return"));
    if (q->conf->state &&
        stp_state_nda_accepted(q->conf->state, q->user.key, q->user.tenant, q->build->nda_version) == 1 &&
        apr_table_get(q->query, "return"))
        return stp_redirect(r, HTTP_MOVED_TEMPORARILY, target);
    return show(r, q, target);
}
