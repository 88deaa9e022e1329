/* mod_stp_request: turns a request_rec into the core's inputs (route, user, language, form) and
 * the core's answers into HTTP (redirects, pages in the site layout, log variables). */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_paths.h"
#include "stp_csrf.h"
#include "stp_hash.h"
#include "stp_http.h"
#include "stp_layout.h"

#define SESSION_COOKIE "stp_sid"
/* Marks the sign-in whose personal account was explained in the error log (note_personal). */
#define PERSONAL_COOKIE "stp_personal"

static void cookie_set(stp_req_t *q, const char *name, const char *value);

stp_conf_t *mod_stp_conf(const request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &stp_module);
}

stp_route_t mod_stp_route_of(const char *uri)
{
    static const struct {
        const char *path;
        stp_route_t route;
    } routes[] = {{"/stp/login", STP_ROUTE_LOGIN},
                  {"/stp/logout", STP_ROUTE_LOGOUT},
                  {"/stp/nda", STP_ROUTE_NDA},
                  {"/stp/library", STP_ROUTE_LIBRARY},
                  {"/stp/library/resume", STP_ROUTE_LIBRARY},
                  {"/stp/notifications", STP_ROUTE_NOTIFICATIONS},
                  {"/stp/whoami", STP_ROUTE_WHOAMI},
                  {"/stp/account", STP_ROUTE_ACCOUNT},
                  {"/stp/search", STP_ROUTE_SEARCH},
                  {"/stp/admin", STP_ROUTE_ADMIN},
                  {"/stp/feedback", STP_ROUTE_FEEDBACK},
                  {"/stp/error", STP_ROUTE_ERROR},
                  {"/stp/preview", STP_ROUTE_PREVIEW},
                  {"/stp/preview/status", STP_ROUTE_PREVIEW},
                  {"/stp/preview.js", STP_ROUTE_PREVIEW},
                  {"/stp/preview.css", STP_ROUTE_PREVIEW}};
    if (!uri)
        return STP_ROUTE_NONE;
    if (!strcmp(uri, "/"))
        return STP_ROUTE_ROOT;
    if (!strncmp(uri, "/download/", 10))
        return STP_ROUTE_DOWNLOAD;
    if (!strncmp(uri, "/stp/", 5)) {
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
            if (!strcmp(uri, routes[i].path))
                return routes[i].route;
        return STP_ROUTE_UNKNOWN;
    }
    return STP_ROUTE_NONE;
}

typedef struct {
    const stp_conf_t *conf;
    request_rec *r;
    const stp_preview_t *preview; /* StpPreview On: the bar's identity, whose claims replace the environment's */
} claim_baton_t;

/* Claims come from the environment mod_auth_openidc sets in its authentication hook, never from
 * request headers, which any client can send; in the editor's preview (StpPreview On, loopback
 * clients only) from the identity the preview bar chose, and from nowhere else then. */
static const char *claim_from_env(void *baton, const char *name)
{
    claim_baton_t *b = baton;
    if (!name)
        return NULL;
    if (b->preview)
        return stp_preview_claim(b->preview, &b->conf->claims, name);
    const char *var = apr_pstrcat(b->r->pool, b->conf->claim_prefix, name, NULL);
    const char *v = apr_table_get(b->r->subprocess_env, var);
    /* An error page (ErrorDocument) is an internal redirect: httpd renames the original request's
     * environment to REDIRECT_*, which is still what mod_auth_openidc set, never a header. */
    if (!v && b->r->prev)
        v = apr_table_get(b->r->subprocess_env, apr_pstrcat(b->r->pool, "REDIRECT_", var, NULL));
    return v;
}

void mod_stp_user_of(stp_user_t *user, const char **email, const stp_conf_t *conf, request_rec *r)
{
    claim_baton_t b = {conf, r, mod_stp_preview_of(r, conf)};
    stp_identity_from_claims(user, email, &conf->claims, claim_from_env, &b, r->pool);
}

/* Keeps state.mdb's record of the user's tenant and e-mail current, which digests and their
 * recipients are checked against. Every signed-in request reads it (no allocation, the thread's
 * cached transaction); only a change writes. A failed write is logged and the request goes on:
 * the user's own access is decided by the claims, not by this record. */
/* "NAME\tVALUE\n" for each claim the build's documents require that the user has: what digests
 * judge those documents by. A value with a control character could never match; it is not kept. */
static const char *required_claims(stp_req_t *q)
{
    const char *names = q->build ? q->build->require_claims : "", *out = "";
    char *copy = apr_pstrdup(q->r->pool, names), *last;
    for (char *name = apr_strtok(copy, " ", &last); name; name = apr_strtok(NULL, " ", &last)) {
        const char *v = q->user.claim ? q->user.claim(q->user.claim_baton, name) : NULL;
        if (v && *v && !strpbrk(v, "\t\n"))
            out = apr_pstrcat(q->r->pool, out, name, "\t", v, "\n", NULL);
    }
    return out;
}

static void note_user(stp_req_t *q)
{
    int wrote;
    stp_user_record_t rec = {.tenant = q->user.tenant ? q->user.tenant : "",
                             .email = q->email ? q->email : "",
                             .email_verified = q->email_verified,
                             .since = q->r->request_time,
                             .tenant_admin = q->user.tenant_admin,
                             .unlisted = q->user.unlisted,
                             .claims = required_claims(q)};
    apr_status_t rv = stp_state_user_note(mod_stp_state(q), q->user.key, &rec, &wrote);
    if (APR_STATUS_IS_EINVAL(rv)) /* a claim too long to keep: such a user is never mailed either */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, q->r, "stp: not recording %.64s...: a claim is too long",
                      q->user.key);
    else if (rv != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "stp: cannot record the tenant and e-mail of %s in state.mdb%s",
                      q->user.key, APR_STATUS_IS_ENOSPC(rv) ? ": it is full; raise StpStateMapSize" : "");
    else if (wrote)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, "stp: %s is now in tenant %s (e-mail %s, %s)", q->user.key,
                      *rec.tenant ? rec.tenant : "-", *rec.email ? rec.email : "-",
                      rec.email_verified ? "verified" : "not verified");
}

/* The organisation's view of a member (state.mdb): listed or not where it lists people, and whether
 * they administer it (the claim, or a portal admin it appointed). Listings go by the verified e-mail
 * address only. Keeps the administrators' listing true to the claim. When the state cannot be read,
 * an organisation that may be in assigned mode gives nothing beyond what the claims say. */
static void org_view(stp_req_t *q)
{
    stp_user_t *u = &q->user;
    const char *email = q->email_verified ? q->email : NULL;
    stp_org_member_t m = {q->conf->tenant_mode == STP_ORG_MODE_ASSIGNED ? STP_ORG_MODE_ASSIGNED : STP_ORG_MODE_OPEN,
                          u->tenant_admin ? STP_ROLE_ADMINISTRATOR : STP_ROLE_NONE};
    apr_status_t rv = mod_stp_state(q) ? stp_org_member(&m, mod_stp_state(q), u->tenant, email, u->tenant_admin,
                                                        (stp_org_mode_t)q->conf->tenant_mode)
                                       : APR_EGENERAL;
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r,
                      "stp: cannot read the settings of organisation %s for %s%s; treating them as not listed",
                      u->tenant, u->key, mod_stp_state(q) ? "" : " (state.mdb is not open)");
        m.mode = STP_ORG_MODE_ASSIGNED;
        q->org_unknown = 1;
    }
    q->org_role = m.role;
    u->tenant_admin = m.role >= STP_ROLE_ADMIN;
    u->unlisted = m.mode == STP_ORG_MODE_ASSIGNED && m.role == STP_ROLE_NONE;
    int changed = 0;
    if (rv == APR_SUCCESS && email &&
        (rv = stp_org_administrator_note(mod_stp_state(q), u->tenant, email, m.role == STP_ROLE_ADMINISTRATOR,
                                         q->r->request_time, &changed)) != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "stp: cannot list %s as an administrator of %s", email,
                      u->tenant);
    else if (changed)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, q->r, "stp: %s is %s an administrator of %s (the admin claim)",
                      email, m.role == STP_ROLE_ADMINISTRATOR ? "now listed as" : "no longer", u->tenant);
}

typedef struct {
    apr_pool_t *pool;
    const char *prefix;
    apr_size_t prefix_len;
    const char *names;
} claim_names_t;

static int add_claim_name(void *baton, const char *key, const char *value)
{
    claim_names_t *n = baton;
    const char *name = key + n->prefix_len;
    if (strncmp(key, n->prefix, n->prefix_len) || !*name || strlen(n->names) > 400)
        return 1;
    for (const char *c = name; *c; c++)
        if (!apr_isalnum(*c) && !strchr("_.-", *c))
            return 1; /* the provider's names; nothing odd goes into the log */
    n->names = *n->names ? apr_pstrcat(n->pool, n->names, " ", name, NULL) : name;
    return 1;
}

/* A signed-in user the claims make a personal account: says which claim decided it, once per
 * sign-in. The sign-in is the ID token's (issuer, subject, iat, nonce), which every
 * authentication renews; the browser keeps a digest of it in a cookie, so that no request and no
 * other process says it again. Only the claims' names are logged, never their values. */
static void note_personal(stp_req_t *q, const char *cookies)
{
    request_rec *r = q->r;
    claim_baton_t cb = {q->conf, r, mod_stp_preview_of(r, q->conf)};
    const char *reason = stp_identity_personal_reason(&q->conf->claims, claim_from_env, &cb, r->pool);
    if (!reason)
        return;
    const char *iat = claim_from_env(&cb, "iat"), *nonce = claim_from_env(&cb, "nonce");
    const char *id = apr_pstrcat(r->pool, q->user.key, "\n", iat ? iat : "", "\n", nonce ? nonce : "", NULL);
    char hex[STP_HASH_HEX_LEN + 1];
    stp_hash_sha256_hex(hex, id, strlen(id));
    hex[32] = '\0';
    const char *seen = stp_http_cookie_get(cookies, PERSONAL_COOKIE, r->pool);
    if (seen && !strcmp(seen, hex))
        return;
    claim_names_t names = {r->pool, q->conf->claim_prefix, strlen(q->conf->claim_prefix), ""};
    apr_table_do(add_claim_name, &names, r->subprocess_env, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "stp: %s is a personal account: %s; the claims that came (%s*): %s. If the user belongs to an "
                  "organisation, have the provider release that claim for a scope in OIDCScope or name the claim "
                  "it uses with StpTenantClaim (docs/operations.md, \"The claims the module needs\")",
                  q->user.key, reason, q->conf->claim_prefix, *names.names ? names.names : "none");
    cookie_set(q, PERSONAL_COOKIE, hex);
    mod_stp_headers_personal(r);
}

static const char *origin_of(const char *url, apr_pool_t *p);
static int origin_is_ours(request_rec *r, const stp_conf_t *conf, const char *origin);

/* The path of the page the reader came from: for an error page the URL that failed, else a
 * Referer of this site (Referrer-Policy: same-origin sends no other). */
static const char *came_from(request_rec *r, const stp_conf_t *conf)
{
    if (r->prev)
        return r->prev->uri;
    const char *referer = apr_table_get(r->headers_in, "Referer");
    const char *origin = origin_of(referer, r->pool);
    if (!origin || !origin_is_ours(r, conf, origin))
        return NULL;
    return referer + strlen(origin);
}

/* stp_http_lang_reader with this request's inputs; an explicit choice is remembered in the stp_lang
 * cookie, as the language picker's. A download's ?lang= is the file's language, not the reader's. */
static const char *reader_lang(stp_req_t *q, const char *cookie)
{
    request_rec *r = q->r;
    /* ?ui= names the page's language wherever ?lang= means something else (a download's file). */
    const char *asked = apr_table_get(q->query, "ui");
    if (!asked && !q->download)
        asked = apr_table_get(q->query, "lang");
    const char *lang =
        stp_http_lang_reader(asked, came_from(r, q->conf), cookie, apr_table_get(r->headers_in, "Accept-Language"),
                             q->build->locales, q->build->default_locale, r->pool);
    if (asked && !strcmp(asked, lang) && (!cookie || strcmp(cookie, lang)))
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       apr_pstrcat(r->pool, "stp_lang=", lang, "; Path=/; Max-Age=31536000; SameSite=Lax", NULL));
    return lang;
}

stp_req_t *mod_stp_req_get(request_rec *r)
{
    request_rec *main = r->main ? r->main : r;
    stp_req_t *q = ap_get_module_config(main->request_config, &stp_module);
    if (q)
        return q;
    q = apr_pcalloc(main->pool, sizeof *q);
    q->r = main;
    q->conf = mod_stp_conf(main);
    if (q->conf->site)
        stp_site_acquire(&q->build, q->conf->site, main->pool);
    mod_stp_user_of(&q->user, &q->email, q->conf, main);
    claim_baton_t cb = {q->conf, main, mod_stp_preview_of(main, q->conf)};
    q->email_verified = stp_identity_email_verified(&q->conf->claims, claim_from_env, &cb);
    q->name = q->user.key ? claim_from_env(&cb, "name") : NULL;
    if (q->user.key) { /* documents that require a claim ask it later */
        q->user.claim = claim_from_env;
        q->user.claim_baton = apr_pmemdup(main->pool, &cb, sizeof cb);
    }
    if (q->user.key && q->user.tenant)
        org_view(q);
    mod_stp_preview_nda(q, cb.preview);
    /* After the organisation's view: the record keeps the role and listing that digests judge by. */
    if (q->user.key && mod_stp_state(q))
        note_user(q);
    /* Search filters repeat their key (checkboxes); no other URL of ours has a reason to. */
    stp_route_t route = mod_stp_route_of(main->uri);
    const char *err = NULL;
    apr_status_t qrv = APR_SUCCESS;
    if (main->args)
        qrv = route == STP_ROUTE_SEARCH
                  ? stp_http_form_parse_multi(&q->query, &err, main->args, strlen(main->args),
                                              MOD_STP_SEARCH_MAX_FIELDS, main->pool)
                  : stp_http_form_parse(&q->query, &err, main->args, strlen(main->args), main->pool);
    if (!main->args || qrv != APR_SUCCESS)
        q->query = apr_table_make(main->pool, 1);
    q->query_error = qrv != APR_SUCCESS ? err : NULL;
    const char *cookies = apr_table_get(main->headers_in, "Cookie");
    q->lang_cookie = stp_http_cookie_get(cookies, "stp_lang", main->pool);
    const char *sid = stp_http_cookie_get(cookies, SESSION_COOKIE, main->pool);
    q->session = stp_csrf_session_ok(sid) ? sid : NULL;
    /* An error page's internal redirect belongs to the request that noted it already. */
    if (q->user.key && !q->user.tenant && !main->prev)
        note_personal(q, cookies);
    /* A download's ?ui= is still remembered (the stp_lang cookie) whether or not it is used. */
    q->download = route == STP_ROUTE_DOWNLOAD;
    if (!q->download || apr_table_get(q->query, "ui"))
        mod_stp_req_lang(q);
    ap_set_module_config(main->request_config, &stp_module, q);
    return q;
}

const char *mod_stp_display_name(const stp_req_t *q)
{
    /* The name claim, else the e-mail address, else the subject (never the issuer's URL). */
    const char *bar = q->user.key ? strchr(q->user.key, '|') : NULL;
    return q->name ? q->name : q->email ? q->email : bar ? bar + 1 : q->user.key;
}

const char *mod_stp_req_lang(stp_req_t *q)
{
    if (!q->lang)
        q->lang = q->build ? reader_lang(q, q->lang_cookie) : "en";
    return q->lang;
}

int mod_stp_redirect(request_rec *r, int status, const char *local_target)
{
    /* Only local paths: a Location never points off the site, and never comes from the Host header. */
    apr_table_setn(r->headers_out, "Location", stp_identity_return_ok(local_target) ? local_target : "/");
    mod_stp_headers_personal(r); /* err_headers_out: httpd drops headers_out's caching fields on a 3xx */
    return status;
}

void mod_stp_headers_secure(request_rec *r)
{
    /* Styles and scripts come only from the site's own files; nothing may frame a page with a
     * CSRF form in it. */
    apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
                   "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "same-origin");
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
}

void mod_stp_headers_personal(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_unset(r->headers_out, "Cache-Control");
    const char *vary = apr_table_get(r->err_headers_out, "Vary");
    if (!vary || !strstr(vary, "Cookie"))
        apr_table_mergen(r->err_headers_out, "Vary", "Cookie");
}

/* The origin ("scheme://host[:port]") a URL starts with, for comparing Referer with Origin. */
static const char *origin_of(const char *url, apr_pool_t *p)
{
    const char *authority = url ? strstr(url, "://") : NULL;
    if (!authority)
        return NULL;
    return apr_pstrmemdup(p, url, (apr_size_t)(authority + 3 - url) + strcspn(authority + 3, "/?#"));
}

/* 1 when `origin` is this server as the browser addressed it, or StpBaseURL. */
static int origin_is_ours(request_rec *r, const stp_conf_t *conf, const char *origin)
{
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *authority = origin ? strstr(origin, "://") : NULL;
    return (authority && host && !strcasecmp(authority + 3, host)) ||
           (origin && conf->base_url && !strcasecmp(origin, origin_of(conf->base_url, r->pool)));
}

int mod_stp_same_origin(request_rec *r, const stp_conf_t *conf)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    if (site) /* "none": typed, a bookmark; every browser of the last years sends it */
        return (!strcmp(site, "same-origin") || !strcmp(site, "none")) && (!origin || origin_is_ours(r, conf, origin));
    if (origin) /* "null" from sandboxed or privacy-sensitive contexts is not ours either */
        return origin_is_ours(r, conf, origin);
    const char *referer = apr_table_get(r->headers_in, "Referer");
    return !referer || origin_is_ours(r, conf, origin_of(referer, r->pool));
}

/* The module's browser-session cookies: HttpOnly (scripts never need them), SameSite=Lax, Secure
 * over https; NULL clears one. */
static void cookie_set(stp_req_t *q, const char *name, const char *value)
{
    request_rec *r = q->r;
    int https = !strcmp(ap_http_scheme(r), "https") || (q->conf->base_url && !strncmp(q->conf->base_url, "https:", 6));
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, name, "=", value ? value : "", "; Path=/; HttpOnly; SameSite=Lax",
                               value ? "" : "; Max-Age=0", https ? "; Secure" : "", NULL));
}

static void session_cookie(stp_req_t *q, const char *value)
{
    cookie_set(q, SESSION_COOKIE, value);
}

void mod_stp_session_reset(stp_req_t *q, int renew)
{
    const char *fresh = NULL;
    if (renew && stp_csrf_session_new(&fresh, q->r->pool) != APR_SUCCESS)
        fresh = NULL;
    q->session = fresh;
    session_cookie(q, fresh);
}

const char *mod_stp_csrf_form_token(stp_req_t *q, const char *purpose)
{
    if (!q->session) {
        if (stp_csrf_session_new(&q->session, q->r->pool) != APR_SUCCESS)
            return ""; /* no randomness: the form cannot be sent, which is what should happen */
        session_cookie(q, q->session);
    }
    return stp_csrf_token(q->conf->secret, sizeof q->conf->secret, q->user.key, q->session, purpose, apr_time_now(),
                          q->r->pool);
}

const char *mod_stp_this_url(request_rec *r)
{
    return r->args ? apr_pstrcat(r->pool, r->uri, "?", r->args, NULL) : r->uri;
}

int mod_stp_signin_redirect(request_rec *r)
{
    return mod_stp_redirect(
        r, HTTP_MOVED_TEMPORARILY,
        apr_pstrcat(r->pool, "/stp/login?return=", stp_http_url_escape(mod_stp_this_url(r), r->pool), NULL));
}

const char *mod_stp_msg(stp_req_t *q, const char *key)
{
    mod_stp_req_lang(q);
    const char *v = q->build ? stp_catalog_get_string(q->build->cat, q->lang, key, q->r->pool) : NULL;
    return v ? v : key;
}

int mod_stp_form_read(apr_table_t **form, request_rec *r, apr_size_t limit)
{
    return mod_stp_form_read_multi(form, r, limit, 0);
}

int mod_stp_form_read_multi(apr_table_t **form, request_rec *r, apr_size_t limit, int max_fields)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    /* The media type itself, then parameters at most: not a longer type that starts the same. */
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) || (ct[33] && !strchr("; \t", ct[33])))
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    int rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK)
        return rc;
    if (r->remaining > (apr_off_t)limit)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    char *buf = apr_palloc(r->pool, limit + 1);
    apr_size_t len = 0;
    if (ap_should_client_block(r)) {
        long n;
        while ((n = ap_get_client_block(r, buf + len, limit + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > limit)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        if (n < 0)
            return HTTP_BAD_REQUEST;
    }
    buf[len] = '\0';
    const char *err;
    if ((max_fields ? stp_http_form_parse_multi(form, &err, buf, len, max_fields, r->pool)
                    : stp_http_form_parse(form, &err, buf, len, r->pool)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: refused form: %s", err);
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

void mod_stp_set_env(request_rec *r, stp_req_t *q, const char *doc, const char *version, const char *decision)
{
    /* For the operator's CustomLog: the audit trail of every download decision. */
    apr_table_setn(r->subprocess_env, "STP_DOC", doc ? doc : "-");
    apr_table_setn(r->subprocess_env, "STP_VERSION", version ? version : "-");
    apr_table_setn(r->subprocess_env, "STP_USER", q->user.key ? q->user.key : "-");
    apr_table_setn(r->subprocess_env, "STP_TENANT", q->user.tenant ? q->user.tenant : "-");
    apr_table_setn(r->subprocess_env, "STP_DECISION", decision);
}

int mod_stp_error_page(request_rec *r, stp_req_t *q, int status, const char *title_key, const char *body_key)
{
    xmlNodePtr page = mod_stp_page_start(q, "error", mod_stp_msg(q, title_key));
    mod_stp_page_framed(q);
    xmlNodePtr e = mod_stp_el(page, "error", NULL);
    mod_stp_attr(e, "status", apr_itoa(r->pool, status));
    mod_stp_attr(e, "body", body_key);
    /* A page that asks for an organisation account offers to sign in with another one: signing
     * out first, with this session's token (error pages carry none otherwise). */
    if (!strcmp(body_key, "error.personal.body") || !strcmp(body_key, "error.denied.body")) {
        mod_stp_attr(e, "signout", "yes");
        for (xmlNodePtr u = page->children; u; u = u->next)
            if (u->type == XML_ELEMENT_NODE && !strcmp((const char *)u->name, "user"))
                mod_stp_attr_slot(q, u, "csrf", mod_stp_csrf_form_token(q, "logout"));
    }
    return mod_stp_page_send(r, q, status, page);
}

int mod_stp_json_send(request_rec *r, const char *json)
{
    ap_set_content_type(r, "application/json");
    mod_stp_headers_personal(r);
    ap_set_content_length(r, (apr_off_t)strlen(json));
    if (!r->header_only)
        ap_rputs(json, r);
    return OK;
}

int mod_stp_csrf_valid(request_rec *r, stp_req_t *q, apr_table_t *form, const char *purpose)
{
    if (stp_csrf_check(q->conf->secret, sizeof q->conf->secret, q->user.key, q->session, purpose,
                       apr_table_get(form, "csrf"), apr_time_now(), r->pool))
        return 1;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "stp: %s by %s refused: bad CSRF token (missing, expired, or not of this user's session)%s", purpose,
                  q->user.key ? q->user.key : "an anonymous user", q->session ? "" : " (no stp_sid cookie)");
    return 0;
}

int mod_stp_state_error(request_rec *r, stp_req_t *q, apr_status_t rv, const char *what)
{
    const char *who = q->user.key ? q->user.key : "an anonymous user";
    if (q->conf->store_dbd)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "stp: %s for %s failed: the PostgreSQL state store: %s", what, who,
                      mod_stp_state_problem(q) ? mod_stp_state_problem(q) : "no reason given");
    else if (!mod_stp_state(q))
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "stp: %s for %s refused: StpStateDir %s is not open in this process (%s)", what, who,
                      q->conf->state_dir, q->conf->state_problem ? q->conf->state_problem : "not configured");
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "stp: %s for %s failed%s", what, who,
                      APR_STATUS_IS_ENOSPC(rv) ? ": state.mdb is full; raise StpStateMapSize" : "");
    return mod_stp_error_page(r, q, HTTP_SERVICE_UNAVAILABLE, "error.unavailable.title", "error.unavailable.body");
}

int mod_stp_personal_page(request_rec *r, stp_req_t *q)
{
    return mod_stp_error_page(r, q, HTTP_FORBIDDEN, "error.personal.title", "error.personal.body");
}

int mod_stp_forbidden(request_rec *r, stp_req_t *q)
{
    return mod_stp_error_page(r, q, HTTP_FORBIDDEN, "error.forbidden.title", "error.forbidden.body");
}

apr_time_t mod_stp_now(request_rec *r)
{
    stp_conf_t *c = mod_stp_conf(r);
    if (!c->clock_file)
        return r->request_time ? r->request_time : apr_time_now();
    const char *note = apr_table_get(r->notes, "stp-now");
    if (note)
        return (apr_time_t)apr_atoi64(note);
    /* Tests only (StpTestClockFile): read once per request, so that one answer sees one moment. */
    char buf[64] = "";
    apr_size_t n = sizeof buf - 1;
    apr_file_t *f;
    apr_time_t t = r->request_time;
    stp_day_t day;
    if (apr_file_open(&f, c->clock_file, APR_FOPEN_READ, APR_OS_DEFAULT, r->pool) == APR_SUCCESS) {
        if (apr_file_read(f, buf, &n) == APR_SUCCESS || n > 0)
            buf[n] = '\0';
        apr_file_close(f);
    }
    buf[strcspn(buf, " \t\r\n")] = '\0';
    if (stp_date_parse_moment(&day, &t, buf) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "stp: StpTestClockFile %s holds no moment; using the clock",
                      c->clock_file);
        t = r->request_time;
    }
    apr_table_setn(r->notes, "stp-now", apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)t));
    return t;
}

stp_doc_t *mod_stp_doc_get(stp_req_t *q, const char *id)
{
    stp_doc_t *doc;
    if (!q->build || !id || stp_catalog_get_doc(&doc, q->build->cat, id, q->r->pool) != APR_SUCCESS ||
        !stp_catalog_live(doc, mod_stp_now(q->r)))
        return NULL;
    return doc;
}

const char *mod_stp_embargoed_page(const stp_build_t *b, const char *rel, apr_time_t now, apr_pool_t *pool)
{
    const char *name = strrchr(rel, '/'), *dot = name ? strrchr(name, '.') : NULL;
    stp_doc_t *doc;
    apr_finfo_t fi;
    if (!b || !dot || !strstr(rel, "/docs/"))
        return NULL;
    const char *id;
    if (stp_paths_image_type(rel)) { /* an image of its body: .../docs/<shard>/<id>/<digest>.<ext> */
        const char *start = name;
        while (start > rel && start[-1] != '/')
            start--;
        id = apr_pstrmemdup(pool, start, (apr_size_t)(name - start));
    } else if (!strcmp(dot, ".html")) {
        id = apr_pstrmemdup(pool, name + 1, (apr_size_t)(dot - name - 1));
    } else {
        return NULL;
    }
    if (stp_catalog_get_doc(&doc, b->cat, id, pool) != APR_SUCCESS || !stp_catalog_live(doc, now))
        return NULL;
    const char *path = apr_pstrcat(pool, b->root, "/" STP_BUILD_EMBARGO "/", rel, NULL);
    return apr_stat(&fi, path, APR_FINFO_TYPE, pool) == APR_SUCCESS && fi.filetype == APR_REG ? path : NULL;
}
