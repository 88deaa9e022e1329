/* mod_stp_authz: `Require stp-tenant [tenant-id ...]`, an authz provider so that operators guard
 * per-tenant trees with ordinary <Location> blocks, and the mapping of /<lang>/org/ onto the
 * signed-in user's own tenant pages. */
#include <httpd.h>
#include <string.h>

#include <ap_provider.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_paths.h"

/* Granted to members of an organisation (of one of the listed tenants, when there is a list).
 * Anonymous users are "no user" so that httpd asks for authentication; personal accounts and
 * other tenants are denied. */
static authz_status tenant_check(request_rec *r, const char *require_line, const void *parsed)
{
    const apr_array_header_t *tenants = parsed;
    /* httpd first asks before authentication has run (and mod_auth_openidc has set the claims);
     * "no user" then makes it authenticate and ask again. The identity is only read, and
     * cached for the request, once there is an authenticated user. */
    if (!r->user || !*r->user)
        return AUTHZ_DENIED_NO_USER;
    stp_req_t *q = mod_stp_req_get(r);
    if (!q->user.key)
        return AUTHZ_DENIED_NO_USER;
    if (stp_access_member(&q->user, tenants))
        return AUTHZ_GRANTED;
    /* An unlisted member of a tenant this line admits is told why, not shown a bare 403. */
    stp_user_t listed = q->user;
    listed.unlisted = 0;
    if (q->user.unlisted && stp_access_member(&listed, tenants))
        apr_table_setn(r->notes, MOD_STP_NOTE_UNLISTED, "1");
    return AUTHZ_DENIED;
}

static const char *tenant_parse(cmd_parms *cmd, const char *require_line, const void **parsed)
{
    apr_array_header_t *tenants = apr_array_make(cmd->pool, 4, sizeof(const char *));
    const char *word;
    while (*(word = ap_getword_conf(cmd->pool, &require_line))) {
        if (stp_paths_tenant_len(word) != strlen(word))
            return apr_psprintf(cmd->pool, "Require stp-tenant: '%s' is not a tenant id ([A-Za-z0-9-]+)", word);
        APR_ARRAY_PUSH(tenants, const char *) = word;
    }
    *parsed = tenants;
    return NULL;
}

static const authz_provider tenant_provider = {tenant_check, tenant_parse};

void mod_stp_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "stp-tenant", AUTHZ_PROVIDER_VERSION, &tenant_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

/* Runs after authentication: only now are the claims known. Everything that is not the user's
 * own tenant page answers 404, the same as an unknown id. */
int mod_stp_org_fixup(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    const char *rel;
    if (!q->build || !q->user.key || !q->user.tenant ||
        stp_paths_from_org_url(&rel, q->user.tenant, r->uri, r->pool) != APR_SUCCESS)
        return HTTP_NOT_FOUND;
    /* Also where the operator's <Location> has no Require stp-tenant: the pages list the
     * organisation's documents, which an unlisted member does not get. */
    if (q->user.unlisted) {
        apr_table_setn(r->notes, MOD_STP_NOTE_UNLISTED, "1");
        return HTTP_FORBIDDEN;
    }
    r->filename = apr_pstrcat(r->pool, q->build->root, "/", rel, NULL);
    if (apr_stat(&r->finfo, r->filename, APR_FINFO_MIN, r->pool) != APR_SUCCESS) {
        r->finfo.filetype = APR_NOFILE;
        /* a document live since the build: its page is under embargo/ */
        const char *page = mod_stp_embargoed_page(q->build, rel, mod_stp_now(r), r->pool);
        if (page && apr_stat(&r->finfo, page, APR_FINFO_MIN, r->pool) == APR_SUCCESS)
            r->filename = apr_pstrdup(r->pool, page);
    }
    r->canonical_filename = r->filename;
    if (r->finfo.filetype != APR_REG)
        return HTTP_NOT_FOUND;
    /* a page, or an image of a document's body */
    ap_set_content_type(r, stp_paths_image_type(rel) ? stp_paths_image_type(rel) : "text/html; charset=utf-8");
    /* The organisation's pages are for its members only: no cache keeps them (set for the route). */
    mod_stp_headers_personal(r);
    return OK;
}
