/* mod_stp_download: /download/<doc-id>[/<version>][?lang=xx], the gated file. The core decides;
 * this file turns the decision into a response and lets httpd's own filters do conditional
 * requests (304), byte ranges (206) and sendfile. */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include <apr_buckets.h>
#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_view.h"
#include "stp_access.h"
#include "stp_retention.h"
#include "stp_http.h"
#include "stp_layout.h"

apr_status_t mod_stp_decide(stp_decision_t *d, stp_req_t *q, const stp_doc_t *doc)
{
    int accepted = 0;
    if (doc && !stp_catalog_live(doc, mod_stp_now(q->r)))
        doc = NULL; /* embargoed: an unknown id until its moment */
    if (doc && stp_access_needs_nda(doc) && q->user.key && q->user.tenant && mod_stp_state(q) &&
        q->build->nda_version[0]) {
        /* A failed read is neither answer: the caller says 503 rather than "accept again". */
        if ((accepted = stp_state_nda_accepted(mod_stp_state(q), q->user.key, q->user.tenant, q->build->nda_version)) <
            0)
            return APR_EGENERAL;
    }
    *d = stp_access_decide(&q->user, doc, stp_date_from_time(mod_stp_now(q->r)), accepted,
                           stp_retention_months_in_force(q->conf->retention_months));
    return APR_SUCCESS;
}

/* The 410 page links the current version only when this reader may know of it: sitegen refuses
 * a series whose versions differ in access, and this holds even for a catalog that has one. */
static int send_gone(request_rec *r, stp_req_t *q, const stp_doc_t *doc)
{
    apr_pool_t *p = r->pool;
    stp_doc_t *current = NULL;
    if (!doc->current || stp_catalog_get_doc(&current, q->build->cat, doc->current, p) != APR_SUCCESS ||
        !stp_access_visible(&q->user, current))
        current = NULL;
    xmlNodePtr page = mod_stp_page_start(q, "error", mod_stp_msg(q, "error.gone.title"));
    xmlNodePtr e = mod_stp_el(page, "error", NULL);
    mod_stp_attr(e, "status", "410");
    mod_stp_attr(e, "body", "error.gone.body");
    if (current) {
        const char *cur = stp_http_url_escape(current->id, p);
        mod_stp_attr(mod_stp_el(e, "link", NULL), "href",
                     apr_pstrcat(p, "/", q->lang, current->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/", cur,
                                 "/", NULL));
        mod_stp_attr(e->last, "key", "doc.current");
        mod_stp_attr(mod_stp_el(e, "link", NULL), "href", apr_pstrcat(p, "/download/", cur, NULL));
        mod_stp_attr(e->last, "key", "doc.download");
    }
    return mod_stp_page_send(r, q, HTTP_GONE, page);
}

int mod_stp_requirement_page(request_rec *r, stp_req_t *q, const stp_doc_t *doc)
{
    mod_stp_req_lang(q);
    xmlNodePtr page = mod_stp_page_start(q, "error", mod_stp_msg(q, "error.requirement.title"));
    xmlNodePtr e = mod_stp_el(page, "error", NULL);
    mod_stp_attr(e, "status", "403");
    mod_stp_attr(e, "body", "error.requirement.body");
    stp_view_requires_el(e, doc->requires);
    return mod_stp_page_send(r, q, HTTP_FORBIDDEN, page);
}

static int send_file(request_rec *r, stp_req_t *q, const stp_doc_t *doc)
{
    const char *asked = apr_table_get(q->query, "lang");
    /* A single file is the answer in any language: no need to work out the reader's. */
    int variants = doc->files && doc->files->nelts > 1;
    const stp_file_t *f = stp_catalog_file_pick(doc->files,
                                                asked      ? asked
                                                : variants ? mod_stp_req_lang(q)
                                                           : NULL,
                                                q->build->default_locale);
    apr_file_t *fd;
    apr_finfo_t finfo;
    if (!f)
        return HTTP_NOT_FOUND;
    const char *path = apr_pstrcat(r->pool, q->build->root, "/" STP_BUILD_FILES "/", f->path, NULL);
    apr_status_t rv = apr_file_open(&fd, path, APR_FOPEN_READ | APR_FOPEN_BINARY | APR_FOPEN_SENDFILE_ENABLED,
                                    APR_OS_DEFAULT, r->pool);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&finfo, APR_FINFO_SIZE | APR_FINFO_MTIME, fd);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "stp: %s: cannot open %s (the published build is damaged)", doc->id,
                      path);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, f->media_type);
    apr_table_setn(r->headers_out, "Content-Disposition", stp_http_content_disposition(f->name, r->pool));
    apr_table_setn(r->headers_out, "ETag", apr_pstrcat(r->pool, "\"", f->sha256, "\"", NULL));
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes"); /* as httpd says for static files */
    if (doc->access == STP_ACCESS_PUBLIC) {                   /* the same file for everyone: caches may keep it */
        apr_table_unset(r->err_headers_out, "Cache-Control");
        apr_table_unset(r->err_headers_out, "Vary");
    }
    if (!asked) /* the variant then follows the stp_lang cookie or Accept-Language */
        apr_table_mergen(r->headers_out, "Vary", "Accept-Language, Cookie");
    ap_update_mtime(r, finfo.mtime);
    ap_set_last_modified(r);
    ap_set_content_length(r, finfo.size);
    int rc = ap_meets_conditions(r);
    if (rc != OK)
        return rc;
    if (r->header_only)
        return OK;
    /* A file bucket: the core output filter sends it with sendfile where EnableSendfile allows,
     * and the byterange filter cuts it for Range requests. */
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_insert_file(bb, fd, 0, finfo.size, r->pool);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade_fchk(r, bb, "stp: sending %s", path);
}

int mod_stp_download_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    const char *id, *version;
    stp_doc_t *doc = NULL;
    r->allowed |= AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (stp_http_download_parse(&id, &version, r->uri, r->pool) != APR_SUCCESS || !q->build) {
        mod_stp_set_env(r, q, NULL, NULL, "not-found");
        return HTTP_NOT_FOUND;
    }
    doc = mod_stp_doc_get(q, id); /* NULL: unknown, or embargoed until its moment */
    /* The id must be one this reader may know of before its series is looked at: an outsider's
     * /download/<tenant-id>/<version> is an unknown id, whatever the version names. */
    if (doc && version)
        doc = stp_access_visible(&q->user, doc) &&
                      stp_catalog_get_version(&doc, q->build->cat, doc, version, r->pool) == APR_SUCCESS
                  ? doc
                  : NULL;
    stp_decision_t d;
    if (mod_stp_decide(&d, q, doc) != APR_SUCCESS) {
        mod_stp_set_env(r, q, id, version, "unavailable");
        mod_stp_req_lang(q);
        return mod_stp_state_error(r, q, APR_EGENERAL, "reading the NDA acceptance for a download");
    }
    /* One of the member's own organisation's documents while its settings cannot be read: whether
     * they are listed is unknown, so neither the file nor a 404 that would be a guess. */
    stp_user_t listed = q->user;
    listed.unlisted = 0;
    if (q->org_unknown && (d == STP_DECIDE_NOT_FOUND || d == STP_DECIDE_UNLISTED) && doc &&
        doc->access == STP_ACCESS_TENANT && stp_access_member(&listed, doc->tenants)) {
        mod_stp_set_env(r, q, id, version, "unavailable");
        mod_stp_req_lang(q);
        return mod_stp_state_error(r, q, APR_EGENERAL, "reading the organisation's settings for a download");
    }
    /* A hidden document's version is not the business of anyone reading the log for that user. */
    mod_stp_set_env(r, q, id, doc && d != STP_DECIDE_NOT_FOUND ? doc->version : version, stp_access_decision_name(d));
    switch (d) {
    case STP_DECIDE_SERVE:
        return send_file(r, q, doc);
    case STP_DECIDE_SIGNIN:
        return mod_stp_signin_redirect(r);
    case STP_DECIDE_ACCEPT_NDA:
        return mod_stp_redirect(
            r, HTTP_MOVED_TEMPORARILY,
            apr_pstrcat(r->pool, "/stp/nda?return=", stp_http_url_escape(mod_stp_this_url(r), r->pool), NULL));
    case STP_DECIDE_PERSONAL:
        mod_stp_req_lang(q);
        return mod_stp_personal_page(r, q);
    case STP_DECIDE_GONE:
        mod_stp_req_lang(q);
        return send_gone(r, q, doc);
    case STP_DECIDE_REQUIREMENT:
        return mod_stp_requirement_page(r, q, doc);
    case STP_DECIDE_UNLISTED:
        return mod_stp_unlisted_page(r, q);
    case STP_DECIDE_NOT_FOUND:
    default:
        return HTTP_NOT_FOUND;
    }
}
