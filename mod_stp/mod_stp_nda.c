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
    return asked && stp_identity_return_ok(asked) ? asked : apr_pstrcat(q->r->pool, "/", q->lang, "/", NULL);
}

/* The document a return target downloads, when this reader may know of it. */
static const stp_doc_t *pending_doc(stp_req_t *q, const char *target)
{
    apr_pool_t *p = q->r->pool;
    const char *id, *version;
    stp_doc_t *doc;
    if (stp_http_download_parse(&id, &version, apr_pstrndup(p, target, strcspn(target, "?")), p) != APR_SUCCESS ||
        !(doc = mod_stp_doc_get(q, id)) || !stp_access_visible(&q->user, doc))
        return NULL;
    return doc;
}

/* The agreement, or (accepted) the confirmation that starts the download it was accepted for. */
static int show(request_rec *r, stp_req_t *q, const char *target, int accepted, int just)
{
    apr_pool_t *p = r->pool;
    const char *text = stp_catalog_get_string(q->build->cat, q->lang, "nda.text", p), *text_lang = NULL;
    if (!text) { /* not translated: the default language's, marked as such */
        text = stp_catalog_get_string(q->build->cat, q->build->default_locale, "nda.text", p);
        text_lang = q->build->default_locale;
    }
    xmlNodePtr page = mod_stp_page_start(q, "nda", mod_stp_msg(q, "nda.title"));
    mod_stp_page_framed(q);
    xmlNodePtr nda = mod_stp_el(page, "nda", NULL);
    mod_stp_attr(nda, "version", q->build->nda_version);
    mod_stp_attr(nda, "return", target);
    mod_stp_attr(nda, "accepted", accepted ? "yes" : "no");
    mod_stp_attr(nda, "just", just ? "yes" : "no");
    if (!accepted)
        mod_stp_attr_slot(q, nda, "csrf", mod_stp_csrf_form_token(q, "nda"));
    const stp_doc_t *doc = pending_doc(q, target);
    if (doc) {
        const stp_text_t *t = stp_catalog_text_pick(doc->titles, q->lang, q->build->default_locale);
        xmlNodePtr d = mod_stp_el(nda, "document", t ? t->text : doc->id);
        mod_stp_attr(d, "download", target);
        mod_stp_attr(d, "href",
                     apr_pstrcat(p, "/", q->lang, doc->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/",
                                 stp_http_url_escape(doc->id, p), "/", NULL));
        if (accepted && just)
            mod_stp_attr(page, "refresh", target);
    }
    /* nda.text is HTML that sitegen rendered from Markdown under the bodies' rules. */
    xmlNodePtr body = mod_stp_el(nda, "text", NULL);
    mod_stp_attr(body, "lang", text_lang);
    mod_stp_page_html(q, body, text ? text : "");
    return mod_stp_page_send(r, q, HTTP_OK, page);
}

static int nda_post(request_rec *r, stp_req_t *q)
{
    apr_table_t *form;
    int rc = mod_stp_form_read(&form, r, NDA_FORM_LIMIT);
    if (rc != OK)
        return rc;
    if (!mod_stp_csrf_valid(r, q, form, "nda"))
        return mod_stp_forbidden(r, q);
    const char *target = return_target(q, apr_table_get(form, "return"));
    const char *version = apr_table_get(form, "version");
    if (!version || strcmp(version, q->build->nda_version))
        /* A new version was published after the page was shown: the user must read that one. */
        return mod_stp_redirect(r, HTTP_SEE_OTHER,
                                apr_pstrcat(r->pool, "/stp/nda?return=", stp_http_url_escape(target, r->pool), NULL));
    if (!mod_stp_state(q))
        return mod_stp_state_error(r, q, APR_EGENERAL, "recording the NDA acceptance");
    apr_status_t rv = stp_state_nda_accept(mod_stp_state(q), q->user.key, q->user.tenant, version, apr_time_now());
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "recording the NDA acceptance");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: %s (tenant %s) accepted NDA %s", q->user.key, q->user.tenant,
                  version);
    /* The confirmation, which starts the download the agreement was accepted for. */
    return mod_stp_redirect(r, HTTP_SEE_OTHER,
                            apr_pstrcat(r->pool, "/stp/nda?accepted=1&lang=", q->lang,
                                        "&return=", stp_http_url_escape(target, r->pool), NULL));
}

int mod_stp_nda_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (r->method_number != M_GET && r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!q->build || !q->build->nda_version[0])
        return HTTP_NOT_FOUND;
    if (!q->user.key)
        return r->method_number == M_GET
                   ? mod_stp_signin_redirect(r)
                   : mod_stp_error_page(r, q, HTTP_FORBIDDEN, "error.forbidden.title", "error.forbidden.body");
    if (!q->user.tenant)
        return mod_stp_personal_page(r, q);
    /* NDA documents are an organisation feature an unlisted member does not have (without state,
     * nobody's listing is known: the answer is the 503 below). */
    if (q->user.unlisted && mod_stp_state(q))
        return mod_stp_unlisted_page(r, q);
    if (r->method_number == M_POST)
        return nda_post(r, q);
    const char *target = return_target(q, apr_table_get(q->query, "return"));
    int accepted = mod_stp_state(q) &&
                   stp_state_nda_accepted(mod_stp_state(q), q->user.key, q->user.tenant, q->build->nda_version) == 1;
    if (accepted && apr_table_get(q->query, "accepted"))
        return show(r, q, target, 1, 1);
    if (accepted && apr_table_get(q->query, "return"))
        return mod_stp_redirect(r, HTTP_MOVED_TEMPORARILY, target);
    return show(r, q, target, accepted, 0);
}
