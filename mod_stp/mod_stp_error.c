/* mod_stp_error: /stp/error, the ErrorDocument that mod_stp installs for every error status the
 * portal's server answers (httpd's own 404 of a missing static page, Require's 403, the module's
 * 404 of an unknown or hidden document alike), so that no URL of the portal shows Apache's
 * default page: the site's layout, in the reader's language (the failed URL's /<lang>/ first). */
#include <httpd.h>
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

void stp_error_documents(server_rec *s, apr_pool_t *p)
{
    core_dir_config *cd = ap_get_core_module_config(s->lookup_defaults);
    char **codes = apr_pcalloc(p, sizeof(char *) * RESPONSE_CODES);
    if (!cd)
        return;
    if (cd->response_code_strings)
        memcpy(codes, cd->response_code_strings, sizeof(char *) * RESPONSE_CODES);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        int idx = ap_index_of_response(pages[i].status);
        if (!codes[idx]) /* the operator's own ErrorDocument wins */
            codes[idx] = "/stp/error";
    }
    cd->response_code_strings = codes;
}

int stp_error_handler(request_rec *r)
{
    stp_req_t *q = stp_req_get(r);
    int status = r->prev ? r->prev->status : HTTP_NOT_FOUND; /* asked for directly: nothing here */
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (pages[i].status == status)
            return stp_error_page(r, q, status, pages[i].title, pages[i].body);
    return stp_error_page(r, q, HTTP_NOT_FOUND, "error.notfound.title", "error.notfound.body");
}
