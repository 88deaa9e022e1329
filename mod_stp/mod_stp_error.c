/* mod_stp_error: /stp/error, the ErrorDocument that mod_stp installs for every error status the
 * portal's server answers (httpd's own 404 of a missing static page, Require's 403, the module's
 * 404 of an unknown or hidden document alike), so that no URL of the portal shows Apache's
 * default page: the site's layout, in the reader's language (the failed URL's /<lang>/ first). */
#include <httpd.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include <ap_expr.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_stp.h"

/* The statuses with a page, and their UI strings. 401 keeps httpd's answer: it carries the
 * challenge of the authentication that asked for it. */
static const struct {
    int status;
    const char *title, *body;
} pages[] = {
    {HTTP_BAD_REQUEST, "error.badrequest.title", "error.badrequest.body"},
    {HTTP_FORBIDDEN, "error.denied.title", "error.denied.body"},
    {HTTP_NOT_FOUND, "error.notfound.title", "error.notfound.body"},
    {HTTP_METHOD_NOT_ALLOWED, "error.method.title", "error.method.body"},
    {HTTP_GONE, "error.gone.title", "error.gone.body"},
    {HTTP_REQUEST_ENTITY_TOO_LARGE, "error.badrequest.title", "error.badrequest.body"},
    {HTTP_UNSUPPORTED_MEDIA_TYPE, "error.badrequest.title", "error.badrequest.body"},
    {HTTP_INTERNAL_SERVER_ERROR, "error.internal.title", "error.internal.body"},
    {HTTP_SERVICE_UNAVAILABLE, "error.unavailable.title", "error.unavailable.body"},
};

void mod_stp_error_documents(server_rec *s, apr_pool_t *p, apr_pool_t *ptemp)
{
    core_dir_config *cd = ap_get_core_module_config(s->lookup_defaults);
    if (!cd)
        return;
    /* ErrorDocument keeps expressions by status index; a copy, since a virtual host may share
     * the main server's table and a server without StpSite must keep its own pages. */
    apr_hash_t *exprs = cd->response_code_exprs ? apr_hash_copy(p, cd->response_code_exprs) : apr_hash_make(p);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        int idx = ap_index_of_response(pages[i].status);
        if (apr_hash_get(exprs, &idx, sizeof idx)) /* the operator's own ErrorDocument wins */
            continue;
        ap_expr_info_t *expr = apr_pcalloc(p, sizeof *expr);
        expr->filename = "mod_stp";
        expr->flags = AP_EXPR_FLAG_STRING_RESULT;
        expr->module_index = APLOG_MODULE_INDEX;
        if (ap_expr_parse(p, ptemp, expr, "/stp/error", ap_expr_lookup_default))
            continue; /* a constant string always parses */
        apr_hash_set(exprs, apr_pmemdup(p, &idx, sizeof idx), sizeof idx, expr);
    }
    cd->response_code_exprs = exprs;
}

int mod_stp_error_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    int status = r->prev ? r->prev->status : HTTP_NOT_FOUND; /* asked for directly: nothing here */
    /* The access log reads the last request's environment: keep the audit trail of the refusal. */
    static const char *const audit[] = {"STP_DOC", "STP_VERSION", "STP_USER", "STP_TENANT", "STP_DECISION"};
    for (size_t i = 0; r->prev && i < sizeof audit / sizeof audit[0]; i++) {
        const char *v = apr_table_get(r->prev->subprocess_env, audit[i]);
        if (v)
            apr_table_setn(r->subprocess_env, audit[i], v);
    }
    /* A 405 names the methods the refused URL takes (RFC 9110): httpd's own page would, but an
     * ErrorDocument answers in its place. */
    if (status == HTTP_METHOD_NOT_ALLOWED && r->prev) {
        apr_int64_t m = r->prev->allowed;
        const char *allow = apr_pstrcat(r->pool, (m & (AP_METHOD_BIT << M_GET)) ? "GET, HEAD" : "",
                                        (m & (AP_METHOD_BIT << M_GET)) && (m & (AP_METHOD_BIT << M_POST)) ? ", " : "",
                                        (m & (AP_METHOD_BIT << M_POST)) ? "POST" : "", NULL);
        if (*allow)
            apr_table_setn(r->err_headers_out, "Allow", allow);
    }
    if (status == HTTP_FORBIDDEN && r->prev && apr_table_get(r->prev->notes, MOD_STP_NOTE_UNLISTED))
        return mod_stp_unlisted_page(r, q);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (pages[i].status == status)
            return mod_stp_error_page(r, q, status, pages[i].title, pages[i].body);
    return mod_stp_error_page(r, q, HTTP_NOT_FOUND, "error.notfound.title", "error.notfound.body");
}
