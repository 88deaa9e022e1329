/* mod_stp_session: /stp/login, /stp/logout and /stp/whoami, the module's view of the session
 * that mod_auth_openidc keeps. */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_core.h>
#include <http_protocol.h>

#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_http.h"

#define LOGOUT_FORM_LIMIT 1024

/* The operator protects /stp/login with `AuthType openid-connect` and `Require valid-user`, so a
 * request that reaches this handler has signed in; it only sends the user back. */
int mod_stp_login_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    const char *target = apr_table_get(q->query, "return");
    if (!q->user.key && mod_stp_preview_of(r, q->conf))
        return mod_stp_preview_sign(r, q, 1, target);
    if (!q->user.key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "stp: /stp/login reached without a signed-in user; protect it with AuthType openid-connect, "
                      "OIDCUnAuthAction auth and Require valid-user (see conf/stp.conf)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* A sign-in starts a new browser session: forms shown before it no longer count. */
    mod_stp_session_reset(q, 1);
    return mod_stp_redirect(r, HTTP_MOVED_TEMPORARILY,
                            target && stp_identity_return_ok(target) ? target
                                                                     : apr_pstrcat(r->pool, "/", q->lang, "/", NULL));
}

/* "/" goes to the home page in the user's language: ?lang, the stp_lang cookie, Accept-Language. */
int mod_stp_root_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    apr_table_mergen(r->headers_out, "Vary", "Accept-Language, Cookie");
    return mod_stp_redirect(r, HTTP_MOVED_TEMPORARILY, apr_pstrcat(r->pool, "/", q->lang, "/", NULL));
}

/* Signing out changes state, so it is a POST with a token; GET shows the button. */
int mod_stp_logout_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    apr_pool_t *p = r->pool;
    const char *home = apr_pstrcat(p, "/", q->lang, "/", NULL);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (!q->user.key)
        return mod_stp_redirect(r, HTTP_SEE_OTHER, home);
    if (r->method_number == M_POST) {
        apr_table_t *form;
        int rc = mod_stp_form_read(&form, r, LOGOUT_FORM_LIMIT);
        if (rc != OK)
            return rc;
        if (!mod_stp_csrf_valid(r, q, form, "logout"))
            return mod_stp_forbidden(r, q);
        if (mod_stp_preview_of(r, q->conf)) {
            mod_stp_session_reset(q, 0);
            return mod_stp_preview_sign(r, q, 0, home);
        }
        /* mod_auth_openidc ends the session at its redirect URI and passes `logout` on to the
         * provider as post_logout_redirect_uri, which must be absolute (and registered there):
         * StpBaseURL, else this server's own URL. */
        const char *back =
            q->conf->base_url ? apr_pstrcat(p, q->conf->base_url, home, NULL) : ap_construct_url(p, home, r);
        mod_stp_session_reset(q, 0); /* every token of this session dies with it */
        mod_stp_headers_personal(r);
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(p, q->conf->oidc_redirect_uri, "?logout=", stp_http_url_escape(back, p), NULL));
        return HTTP_SEE_OTHER;
    }
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    return mod_stp_account_handler(r); /* who is signed in, with the sign-out button */
}

/* GET /stp/account: who you are, your organisation, your NDA status, sign out; all of it without
 * JavaScript. */
int mod_stp_account_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    r->allowed |= AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    xmlNodePtr page = mod_stp_page_start(q, "account", mod_stp_msg(q, "account.title"));
    xmlNodePtr a = mod_stp_el(page, "account", NULL);
    if (q->user.key) {
        mod_stp_attr(a, "email", q->email);
        const char *nda = q->build && q->build->nda_version[0] ? q->build->nda_version : NULL;
        if (nda) {
            mod_stp_attr(a, "nda-version", nda);
            mod_stp_attr(a, "nda-accepted",
                         q->user.tenant && mod_stp_state(q) &&
                                 stp_state_nda_accepted(mod_stp_state(q), q->user.key, q->user.tenant, nda) == 1
                             ? "yes"
                             : "no");
        }
    }
    return mod_stp_page_send(r, q, HTTP_OK, page);
}

/* The build's directory name, not its path: the server's layout is nobody's business. */
static const char *build_name(const char *root)
{
    const char *slash = strrchr(root, '/');
    return slash ? slash + 1 : root;
}

int mod_stp_whoami_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    apr_pool_t *p = r->pool;
    r->allowed |= AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    const char *nda = q->build && q->build->nda_version[0] ? q->build->nda_version : NULL;
    int accepted = nda && q->user.key && mod_stp_state(q) &&
                   stp_state_nda_accepted(mod_stp_state(q), q->user.key, q->user.tenant, nda) == 1;
    const char *org = q->user.tenant ? mod_stp_msg(q, apr_pstrcat(p, "org.name.", q->user.tenant, NULL)) : NULL;
    if (org && !strncmp(org, "org.name.", 9))
        org = q->user.tenant;
    /* For stp.js, which shows who is signed in on the static pages, with a sign-out button. */
    const char *who =
        q->user.key
            ? apr_pstrcat(p, ",\"display\":{\"name\":", stp_http_json_string(mod_stp_display_name(q), p),
                          ",\"org\":", stp_http_json_string(org, p),
                          ",\"signout\":", stp_http_json_string(mod_stp_csrf_form_token(q, "logout"), p), "}", NULL)
            : "";
    const char *json = apr_pstrcat(
        p, "{\"user\":", stp_http_json_string(q->user.key, p), ",\"kind\":\"", stp_access_user_kind(&q->user),
        "\",\"tenant\":", stp_http_json_string(q->user.tenant, p), ",\"email\":", stp_http_json_string(q->email, p),
        ",\"lang\":", stp_http_json_string(q->lang, p), ",\"nda\":{\"version\":", stp_http_json_string(nda, p),
        ",\"accepted\":", accepted ? "true" : "false", "},\"catalog\":{\"generation\":",
        q->build ? apr_psprintf(p, "%" APR_UINT64_T_FMT, stp_catalog_generation(q->build->cat)) : "null",
        ",\"build\":", stp_http_json_string(q->build ? build_name(q->build->root) : NULL, p), "}", who, "}\n", NULL);
    return mod_stp_json_send(r, json);
}
