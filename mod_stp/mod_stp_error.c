/* mod_stp_error: /stp/error, the ErrorDocument that mod_stp installs for every error status the
 * portal's server answers (httpd's own 404 of a missing static page, Require's 403, the module's
 * 404 of an unknown or hidden document alike), so that no URL of the portal shows Apache's
 * default page: the site's layout, in the reader's language (the failed URL's /<lang>/ first). */
#include <httpd.h>
#include <ap_expr.h>
#include <apr_hash.h>
#include <string.h>

#include <http_core.h>
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

/* httpd 2.4 reads ErrorDocument from the per-directory response_code_exprs (its
 * response_code_strings is no longer used): one string expression "/stp/error" per status,
 * in a copy of the table so that a virtual host without StpSite keeps its own. */
void stp_error_documents(server_rec *s, apr_pool_t *p)
{
    core_dir_config *cd = ap_get_core_module_config(s->lookup_defaults);
    ap_expr_info_t *expr = apr_pcalloc(p, sizeof *expr);
    if (!cd)
        return;
    expr->flags = AP_EXPR_FLAG_STRING_RESULT;
    expr->module_index = stp_module.module_index;
    if (ap_expr_parse(p, p, expr, "/stp/error", NULL) != NULL)
        return;
    apr_hash_t *codes = cd->response_code_exprs ? apr_hash_copy(p, cd->response_code_exprs) : apr_hash_make(p);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        int *idx = apr_palloc(p, sizeof *idx);
        *idx = ap_index_of_response(pages[i].status);
        if (!apr_hash_get(codes, idx, sizeof *idx)) /* the operator's own ErrorDocument wins */
            apr_hash_set(codes, idx, sizeof *idx, expr);
    }
    cd->response_code_exprs = codes;
}

/* The audit trail: httpd renames the failed request's environment REDIRECT_* for its error page,
 * and logs the error page's; the operator's LogFormat names STP_DOC, STP_DECISION and the rest. */
static int keep_stp_env(void *rec, const char *key, const char *value)
{
    if (!strncmp(key, "STP_", 4))
        apr_table_set(((request_rec *)rec)->subprocess_env, key, value);
    return 1;
}

int stp_error_handler(request_rec *r)
{
    stp_req_t *q = stp_req_get(r);
    int status = r->prev ? r->prev->status : HTTP_NOT_FOUND; /* asked for directly: nothing here */
    if (r->prev)
        apr_table_do(keep_stp_env, r, r->prev->subprocess_env, NULL);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (pages[i].status == status)
            return stp_error_page(r, q, status, pages[i].title, pages[i].body);
    return stp_error_page(r, q, HTTP_NOT_FOUND, "error.notfound.title", "error.notfound.body");
}
