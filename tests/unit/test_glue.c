/* The httpd glue (mod_stp.c, mod_stp_*.c) on request_recs built by hand. The module's own files
 * are linked against stand-ins of the httpd functions they call (httpd_stub.c), configured through
 * its directive table, started through its post_config and child_init hooks, and asked through its
 * translate_name, fixups and handler hooks: nothing of the module is replaced. The catalog is a
 * real publication of tests/fixtures/gate by the generator, made once in main(); every test gets
 * its own state directory. */
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxslt/xslt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "httpd_stub.h"
#include "mod_stp.h"
#include "sg_build.h"
#include "stp_csrf.h"
#include "stp_http.h"
#include "stp_library.h"
#include "stp_log.h"
#include "stp_paths.h"
#include "stp_sha256.h"
#include "test_util.h"

#define ISS "https://idp.test"
/* The browser session of every signed-in request (the stp_sid cookie). */
#define SID "00112233445566778899aabbccddeeff"

/* Set by main() before the suites run (and fork): the published site and its source. */
static const char *tmp_root, *site_dir, *content_dir;
static stp_day_t today;

static apr_pool_t *pool;
static server_rec *srv;
static stp_conf_t *conf;
static const char *state_dir;

/* --- the server --------------------------------------------------------------------------------- */

static void directive(const char *name, const char *arg1, const char *arg2)
{
    const char *err = stub_directive(&stp_module, srv, pool, name, arg1, arg2);
    ck_assert_msg(err == NULL, "%s: %s", name, err);
}

/* A server with StpSite and StpStateDir, not started yet, for tests that add directives. */
static void setup_configured(void)
{
    apr_pool_create(&pool, NULL);
    /* Under main()'s directory, so that even a test that dies leaves nothing behind. */
    char *dir = apr_pstrcat(pool, tmp_root, "/state-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    state_dir = dir;
    srv = stub_server(pool);
    stub_load_module(&stp_module, srv, pool);
    directive("StpSite", site_dir, NULL);
    directive("StpStateDir", state_dir, NULL);
}

/* httpd's start: check_config and post_config in the parent, then child_init in the child that serves. */
static void start(void)
{
    ck_assert_ptr_nonnull(stub_hooks.post_config);
    ck_assert_ptr_nonnull(stub_hooks.child_init);
    ck_assert_int_eq(stub_hooks.check_config(pool, pool, pool, srv), OK);
    ck_assert_int_eq(stub_hooks.post_config(pool, pool, pool, srv), OK);
    stub_hooks.child_init(pool, srv);
    conf = ap_get_module_config(srv->module_config, &stp_module);
    ck_assert_ptr_nonnull(conf->site);
    ck_assert_ptr_nonnull(conf->state);
}

static void setup(void)
{
    setup_configured();
    start();
}

static void teardown(void)
{
    stp_log_set(NULL, NULL); /* the server it logs to goes with the pool */
    test_rmtree(state_dir);
    apr_pool_destroy(pool);
}

/* --- requests ----------------------------------------------------------------------------------- */

static request_rec *req(const char *method, const char *uri)
{
    return stub_request(srv, pool, method, uri);
}

/* What mod_auth_openidc leaves in the environment after authentication. NULL leaves a claim out. */
static void sign_in(request_rec *r, const char *sub, const char *tid, const char *roles)
{
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_iss", ISS);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_sub", sub);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email", apr_pstrcat(r->pool, sub, "@example.com", NULL));
    if (tid)
        apr_table_setn(r->subprocess_env, "OIDC_CLAIM_tid", tid);
    if (roles)
        apr_table_setn(r->subprocess_env, "OIDC_CLAIM_roles", roles);
    apr_table_mergen(r->headers_in, "Cookie", "stp_sid=" SID);
    r->user = (char *)sub;
    r->ap_auth_type = "openid-connect";
}

/* A response header, wherever the module put it (err_headers_out survives errors and redirects). */
static const char *out_hdr(const request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->headers_out, name);
    return v ? v : apr_table_get(r->err_headers_out, name);
}

static const char *env(const request_rec *r, const char *name)
{
    return apr_table_get(r->subprocess_env, name);
}

/* The version of a document without one of its own: its publication date, @TODAY-N@. */
static const char *months_ago(int n)
{
    char day[11];
    stp_date_format_iso(day, stp_date_add_months(today, -n));
    return apr_pstrdup(pool, day);
}

static const char *user_key(const char *sub)
{
    return apr_pstrcat(pool, ISS, "|", sub, NULL);
}

/* The bytes of a fixture file, as published from the content directory. */
static const char *content_file(const char *rel, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    const char *path = apr_pstrcat(pool, content_dir, "/", rel, NULL);
    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    char *buf = apr_palloc(pool, (apr_size_t)fi.size + 1);
    ck_assert_int_eq(apr_file_read_full(f, buf, (apr_size_t)fi.size, len), APR_SUCCESS);
    buf[*len] = '\0';
    apr_file_close(f);
    return buf;
}

/* A fabricated urlencoded POST. */
static request_rec *post(const char *uri, const char *body)
{
    request_rec *r = req("POST", uri);
    stub_set_body(r, "application/x-www-form-urlencoded", body, 0);
    return r;
}

/* Accepted in t1, where the tests sign bob in. */
static int nda_accepted(const char *sub)
{
    return stp_state_nda_accepted(conf->state, user_key(sub), "t1", "v1");
}

static const char *token_for(const char *sub, const char *purpose)
{
    return stp_csrf_token(conf->secret, sizeof conf->secret, user_key(sub), SID, purpose, apr_time_now(), pool);
}

/* --- routes ------------------------------------------------------------------------------------- */

START_TEST(test_route_of)
{
    static const struct {
        const char *uri;
        stp_route_t route;
    } cases[] = {
        {"/", STP_ROUTE_ROOT},
        {"/download/soc-2026", STP_ROUTE_DOWNLOAD},
        {"/download/soc-2026/2025", STP_ROUTE_DOWNLOAD},
        {"/download/", STP_ROUTE_DOWNLOAD}, /* ours; the handler answers 404 */
        {"/stp/login", STP_ROUTE_LOGIN},
        {"/stp/logout", STP_ROUTE_LOGOUT},
        {"/stp/nda", STP_ROUTE_NDA},
        {"/stp/library", STP_ROUTE_LIBRARY},
        {"/stp/library/resume", STP_ROUTE_LIBRARY},
        {"/stp/notifications", STP_ROUTE_NOTIFICATIONS},
        {"/stp/whoami", STP_ROUTE_WHOAMI},
        /* near misses */
        {"/stp/ndax", STP_ROUTE_UNKNOWN},
        {"/stp/nda/", STP_ROUTE_UNKNOWN},
        {"/stp/whoami/", STP_ROUTE_UNKNOWN},
        {"/stp/library/resume/", STP_ROUTE_UNKNOWN},
        {"/stp/Login", STP_ROUTE_UNKNOWN},
        {"/stp/", STP_ROUTE_UNKNOWN},
        {"/stp", STP_ROUTE_NONE},
        {"/stpx/nda", STP_ROUTE_NONE},
        {"/download", STP_ROUTE_NONE},
        {"/downloadx/soc-2026", STP_ROUTE_NONE},
        {"/Download/soc-2026", STP_ROUTE_NONE},
        {"//download/soc-2026", STP_ROUTE_NONE},
        {"/en/docs/soc-2026/", STP_ROUTE_NONE},
        {"", STP_ROUTE_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(stp_route_of(cases[i].uri) == cases[i].route, "%s: route %d, expected %d", cases[i].uri,
                      stp_route_of(cases[i].uri), cases[i].route);
    ck_assert_int_eq(stp_route_of(NULL), STP_ROUTE_NONE);
}
END_TEST

/* The routes through translate_name and the handler hook, as httpd dispatches them. */
START_TEST(test_route_dispatch)
{
    request_rec *r = req("GET", "/stp/ndax");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_str_eq(r->handler, "stp");
    ck_assert_str_eq(r->filename, "stp:/stp/ndax");

    r = req("GET", "/stp/whoami/");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_str_eq(stub_out(r), "");

    /* Not ours: left to httpd's own mapping and handlers. */
    r = req("GET", "/downloadx/soc-2026");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_null(r->handler);
    ck_assert_ptr_null(apr_table_get(r->notes, "stp-route"));
    r = req("GET", "/download");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_null(r->handler);

    r = req("GET", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");

    /* A document page maps into the published build; without its slash it redirects. */
    r = req("GET", "/en/docs/soc-2026/");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_str_eq(r->filename,
                     apr_pstrcat(pool, site_dir, "/current/", stp_path_doc_page(NULL, "en", "soc-2026", pool), NULL));
    ck_assert_ptr_null(r->handler);
    r = req("GET", "/en/docs/soc-2026?x=1");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_PERMANENTLY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/docs/soc-2026/?x=1");
}
END_TEST

/* --- configuration ------------------------------------------------------------------------------ */

/* post_config filled in the defaults of every directive left unset, and made the CSRF key. */
START_TEST(test_config_defaults)
{
    ck_assert_str_eq(conf->claim_prefix, "OIDC_CLAIM_");
    ck_assert_str_eq(conf->claims.user_claim, "sub");
    ck_assert_str_eq(conf->claims.issuer_claim, "iss");
    ck_assert_str_eq(conf->claims.tenant_claim, "tid");
    ck_assert_str_eq(conf->claims.email_claim, "email");
    ck_assert_str_eq(conf->claims.admin_claim, "roles");
    ck_assert_str_eq(conf->claims.admin_value, "GlobalAdmin");
    ck_assert_ptr_null(conf->claims.consumer_tenants);
    ck_assert_int_eq(conf->tenant_mode, STP_MODE_OPEN);
    ck_assert_int_eq(conf->retention_months, 0);
    ck_assert_str_eq(conf->oidc_redirect_uri, "/stp/oidc-callback");
    ck_assert_uint_eq(conf->map_size, (apr_size_t)1 << 30);
    ck_assert_int_eq(conf->have_secret, 1);
    apr_finfo_t fi;
    ck_assert_int_eq(apr_stat(&fi, apr_pstrcat(pool, state_dir, "/csrf.key", NULL), APR_FINFO_SIZE, pool), APR_SUCCESS);
    ck_assert_int_eq(fi.size, 32);
}
END_TEST

START_TEST(test_config_refuses)
{
    ck_assert_ptr_nonnull(stub_directive(&stp_module, srv, pool, "StpClaimPrefix", "A B", NULL));
    ck_assert_ptr_nonnull(stub_directive(&stp_module, srv, pool, "StpOIDCRedirectURI", "//evil.test/cb", NULL));
    ck_assert_ptr_nonnull(stub_directive(&stp_module, srv, pool, "StpStateMapSize", "10K", NULL));
    ck_assert_ptr_nonnull(stub_directive(&stp_module, srv, pool, "StpTenantAccessDefault", "closed", NULL));
}
END_TEST

/* --- claims ------------------------------------------------------------------------------------- */

/* A client can send any header: claims are read from the environment only. */
START_TEST(test_claims_not_from_headers)
{
    request_rec *r = req("GET", "/stp/whoami");
    apr_table_setn(r->headers_in, "OIDC_CLAIM_sub", "mallory");
    apr_table_setn(r->headers_in, "OIDC_CLAIM_iss", ISS);
    apr_table_setn(r->headers_in, "OIDC_CLAIM_tid", "t1");
    apr_table_setn(r->headers_in, "OIDC-CLAIM-sub", "mallory");
    stp_req_t *q = stp_req_get(r);
    ck_assert_ptr_null(q->user.key);
    ck_assert_ptr_null(q->user.tenant);
    ck_assert_ptr_null(q->email);
}
END_TEST

/* Only variables with the prefix are claims: a bare "sub" from another module is not one. */
START_TEST(test_claims_need_prefix)
{
    request_rec *r = req("GET", "/stp/whoami");
    apr_table_setn(r->subprocess_env, "sub", "mallory");
    apr_table_setn(r->subprocess_env, "iss", ISS);
    apr_table_setn(r->subprocess_env, "tid", "t1");
    apr_table_setn(r->subprocess_env, "CLAIM_sub", "mallory");
    ck_assert_ptr_null(stp_req_get(r)->user.key);
}
END_TEST

START_TEST(test_claims_kinds)
{
    request_rec *r = req("GET", "/");
    sign_in(r, "alice", NULL, NULL);
    stp_req_t *q = stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("alice"));
    ck_assert_ptr_null(q->user.tenant);
    ck_assert_int_eq(q->user.tenant_admin, 0);
    ck_assert_str_eq(q->email, "alice@example.com");

    r = req("GET", "/");
    sign_in(r, "bob", "t1", "Reader");
    q = stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("bob"));
    ck_assert_str_eq(q->user.tenant, "t1");
    ck_assert_int_eq(q->user.tenant_admin, 0);

    r = req("GET", "/");
    sign_in(r, "carol", "t1", "Reader, GlobalAdmin");
    q = stp_req_get(r);
    ck_assert_str_eq(q->user.tenant, "t1");
    ck_assert_int_eq(q->user.tenant_admin, 1);

    /* The admin value is a whole list item, not a prefix. */
    r = req("GET", "/");
    sign_in(r, "dave", "t1", "GlobalAdministrator");
    ck_assert_int_eq(stp_req_get(r)->user.tenant_admin, 0);

    /* A personal account is no administrator of anything. */
    r = req("GET", "/");
    sign_in(r, "erin", NULL, "GlobalAdmin");
    ck_assert_int_eq(stp_req_get(r)->user.tenant_admin, 0);

    /* The same subject at another issuer is another user. */
    r = req("GET", "/");
    sign_in(r, "alice", NULL, NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_iss", "https://other.test");
    ck_assert_str_eq(stp_req_get(r)->user.key, "https://other.test|alice");
}
END_TEST

/* The request's view is computed once; a subrequest shares its main request's. */
START_TEST(test_claims_cached_per_request)
{
    request_rec *r = req("GET", "/stp/whoami");
    sign_in(r, "bob", "t1", NULL);
    stp_req_t *q = stp_req_get(r);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_tid", "t2");
    ck_assert_ptr_eq(stp_req_get(r), q);
    ck_assert_str_eq(q->user.tenant, "t1");

    request_rec *sub = req("GET", "/en/");
    sub->main = r;
    ck_assert_ptr_eq(stp_req_get(sub), q);
}
END_TEST

START_TEST(test_claims_consumer_tenants)
{
    directive("StpConsumerTenants", "9188040d-6c67-4c5b-b112-36a304b66dad consumers", NULL);
    start();
    request_rec *r = req("GET", "/");
    sign_in(r, "alice", "9188040d-6c67-4c5b-b112-36a304b66dad", "GlobalAdmin");
    stp_req_t *q = stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("alice"));
    ck_assert_ptr_null(q->user.tenant);
    ck_assert_int_eq(q->user.tenant_admin, 0);

    r = req("GET", "/");
    sign_in(r, "alice", "consumers", NULL);
    ck_assert_ptr_null(stp_req_get(r)->user.tenant);

    r = req("GET", "/");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_str_eq(stp_req_get(r)->user.tenant, "t1");
}
END_TEST

START_TEST(test_claims_configured_names)
{
    directive("StpClaimPrefix", "X_", NULL);
    directive("StpUserClaim", "oid", NULL);
    directive("StpTenantClaim", "org", NULL);
    directive("StpAdminClaim", "groups", "admins");
    start();
    request_rec *r = req("GET", "/");
    sign_in(r, "alice", "t1", "GlobalAdmin"); /* the default names: no longer claims */
    ck_assert_ptr_null(stp_req_get(r)->user.key);

    r = req("GET", "/");
    apr_table_setn(r->subprocess_env, "X_iss", ISS);
    apr_table_setn(r->subprocess_env, "X_oid", "bob");
    apr_table_setn(r->subprocess_env, "X_org", "t2");
    apr_table_setn(r->subprocess_env, "X_groups", "staff,admins");
    stp_req_t *q = stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("bob"));
    ck_assert_str_eq(q->user.tenant, "t2");
    ck_assert_int_eq(q->user.tenant_admin, 1);
}
END_TEST

/* --- redirects ---------------------------------------------------------------------------------- */

START_TEST(test_redirect_local)
{
    request_rec *r = req("GET", "/stp/login");
    ck_assert_int_eq(stp_redirect(r, HTTP_SEE_OTHER, "/en/docs/soc-2026/?x=1"), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/docs/soc-2026/?x=1");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
}
END_TEST

START_TEST(test_redirect_not_offsite)
{
    static const char *const targets[] = {
        "//evil.test/", "https://evil.test/", "/\\evil.test", "evil.test/x", "", "/a\r\nSet-Cookie: x=1", "/\x7f",
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        request_rec *r = req("GET", "/stp/login");
        ck_assert_int_eq(stp_redirect(r, HTTP_MOVED_TEMPORARILY, targets[i]), HTTP_MOVED_TEMPORARILY);
        ck_assert_msg(!strcmp(out_hdr(r, "Location"), "/"), "%s went to %s", targets[i], out_hdr(r, "Location"));
        ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    }
    request_rec *r = req("GET", "/stp/login");
    stp_redirect(r, HTTP_MOVED_TEMPORARILY, NULL);
    ck_assert_str_eq(out_hdr(r, "Location"), "/");
}
END_TEST

START_TEST(test_signin_redirect_returns)
{
    request_rec *r = req("GET", "/download/signin-policy?lang=de&x=a b");
    ck_assert_int_eq(stp_signin_redirect(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fdownload%2Fsignin-policy%3Flang%3Dde%26x%3Da%20b");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
}
END_TEST

/* --- forms -------------------------------------------------------------------------------------- */

START_TEST(test_form_content_type)
{
    apr_table_t *form = NULL;
    request_rec *r = req("POST", "/stp/nda");
    stub_set_body(r, "text/plain", "a=1", 0);
    ck_assert_int_eq(stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_int_eq(r->read_length, 0);

    r = req("POST", "/stp/nda");
    stub_set_body(r, NULL, "a=1", 0);
    ck_assert_int_eq(stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);

    r = req("POST", "/stp/nda");
    stub_set_body(r, "multipart/form-data; boundary=x", "a=1", 0);
    ck_assert_int_eq(stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_ptr_null(form);

    /* Another type that merely starts the same. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded-evil", "a=1", 0);
    ck_assert_int_eq(stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_ptr_null(form);

    /* Parameters and case do not matter. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "a=1", 0);
    ck_assert_int_eq(stp_form_read(&form, r, 64), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "1");
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded", "a=2", 0);
    ck_assert_int_eq(stp_form_read(&form, r, 64), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "2");
}
END_TEST

START_TEST(test_form_too_big)
{
    apr_table_t *form = NULL;
    /* Announced as too big: refused before a byte is read. */
    request_rec *r = post("/stp/nda", "a=0123456789abcd"); /* 16 bytes */
    ck_assert_int_eq(stp_form_read(&form, r, 15), HTTP_REQUEST_ENTITY_TOO_LARGE);
    ck_assert_int_eq(r->read_length, 0);

    /* Chunked, with no length up front: refused once the limit is passed. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded", "a=0123456789abcd", 1);
    ck_assert_int_eq(stp_form_read(&form, r, 15), HTTP_REQUEST_ENTITY_TOO_LARGE);
    ck_assert_ptr_null(form);

    /* Exactly the limit is fine, either way. */
    r = post("/stp/nda", "a=0123456789abcd");
    ck_assert_int_eq(stp_form_read(&form, r, 16), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "0123456789abcd");
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded", "a=0123456789abcd", 1);
    ck_assert_int_eq(stp_form_read(&form, r, 16), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "0123456789abcd");
}
END_TEST

START_TEST(test_form_bad_encoding)
{
    static const char *const bodies[] = {"a=%zz", "a=%f", "a=%ff", "a=%00", "a=1&a=2", "=1"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        apr_table_t *form = NULL;
        request_rec *r = post("/stp/nda", bodies[i]);
        ck_assert_msg(stp_form_read(&form, r, 64) == HTTP_BAD_REQUEST, "%s accepted", bodies[i]);
        ck_assert_ptr_null(form);
        ck_assert_int_eq(stub_io(r)->log_count, 1);
        ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "refused form"));
    }
    /* A connection that breaks mid-body. */
    apr_table_t *form = NULL;
    request_rec *r = post("/stp/nda", "a=1");
    stub_io(r)->body_fail = 1;
    ck_assert_int_eq(stp_form_read(&form, r, 64), HTTP_BAD_REQUEST);
    ck_assert_ptr_null(form);
}
END_TEST

START_TEST(test_form_good)
{
    apr_table_t *form = NULL;
    request_rec *r = post("/stp/nda", "csrf=abc&return=%2Fdownload%2Fnda-pentest%3Flang%3Dde&note=a+b%C3%A9&empty=");
    ck_assert_int_eq(stp_form_read(&form, r, 4096), OK);
    ck_assert_str_eq(apr_table_get(form, "csrf"), "abc");
    ck_assert_str_eq(apr_table_get(form, "return"), "/download/nda-pentest?lang=de");
    ck_assert_str_eq(apr_table_get(form, "note"), "a b\xc3\xa9");
    ck_assert_str_eq(apr_table_get(form, "empty"), "");
    ck_assert_int_eq(apr_table_elts(form)->nelts, 4);

    /* No body at all: an empty form. */
    r = post("/stp/nda", "");
    ck_assert_int_eq(stp_form_read(&form, r, 4096), OK);
    ck_assert_int_eq(apr_table_elts(form)->nelts, 0);
}
END_TEST

/* --- downloads ---------------------------------------------------------------------------------- */

static void assert_env(const request_rec *r, const char *doc, const char *version, const char *user, const char *tenant,
                       const char *decision)
{
    ck_assert_str_eq(env(r, "STP_DOC"), doc);
    ck_assert_str_eq(env(r, "STP_VERSION"), version);
    ck_assert_str_eq(env(r, "STP_USER"), user);
    ck_assert_str_eq(env(r, "STP_TENANT"), tenant);
    ck_assert_str_eq(env(r, "STP_DECISION"), decision);
}

/* The response carries exactly the published file `rel` of the content directory. */
static void assert_served(const request_rec *r, const char *rel)
{
    apr_size_t len;
    const char *data = content_file(rel, &len);
    char sha[STP_SHA256_HEX_LEN + 1];
    stp_sha256_hex(sha, data, len);
    ck_assert_str_eq(out_hdr(r, "Content-Length"), apr_psprintf(pool, "%" APR_SIZE_T_FMT, len));
    ck_assert_str_eq(out_hdr(r, "ETag"), apr_pstrcat(pool, "\"", sha, "\"", NULL));
    ck_assert_str_eq(out_hdr(r, "X-Content-Type-Options"), "nosniff");
    ck_assert_ptr_nonnull(out_hdr(r, "Last-Modified"));
    if (r->header_only) {
        ck_assert_uint_eq(stub_io(r)->out_len, 0);
        return;
    }
    ck_assert_uint_eq(stub_io(r)->out_len, len);
    ck_assert_int_eq(memcmp(stub_out(r), data, len), 0);
}

START_TEST(test_download_public)
{
    request_rec *r = req("GET", "/download/public-report");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    ck_assert_str_eq(r->content_type, "text/plain");
    assert_served(r, "docs/public-report/public-report.txt");
    ck_assert_str_eq(out_hdr(r, "Content-Disposition"), "attachment; filename=\"public-report.txt\"");
    /* Anyone's: shared caches may keep it. */
    ck_assert_ptr_null(out_hdr(r, "Cache-Control"));
    ck_assert_str_eq(out_hdr(r, "Vary"), "Accept-Language, Cookie");
    ck_assert_int_eq(stub_io(r)->brigades, 1);
    assert_env(r, "public-report", months_ago(2), "-", "-", "serve");
}
END_TEST

START_TEST(test_download_gated_private)
{
    request_rec *r = req("GET", "/download/signin-policy");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/signin-policy/signin-policy.txt");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    assert_env(r, "signin-policy", months_ago(2), user_key("alice"), "-", "serve");

    r = req("GET", "/download/t1-pack");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/t1-pack/t1-pack.txt");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    assert_env(r, "t1-pack", months_ago(2), user_key("bob"), "t1", "serve");
}
END_TEST

START_TEST(test_download_signin)
{
    request_rec *r = req("GET", "/download/signin-policy?lang=de");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fdownload%2Fsignin-policy%3Flang%3Dde");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
    assert_env(r, "signin-policy", months_ago(2), "-", "-", "signin");

    /* The NDA document asks an anonymous user to sign in first, too. */
    r = req("GET", "/download/nda-pentest");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fdownload%2Fnda-pentest");
}
END_TEST

START_TEST(test_download_nda)
{
    request_rec *r = req("GET", "/download/nda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    assert_env(r, "nda-pentest", months_ago(2), user_key("bob"), "t1", "accept-nda");

    /* The return keeps the query, so the user gets the variant they asked for. */
    r = req("GET", "/download/t1-nda-pack?lang=de");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?return=%2Fdownload%2Ft1-nda-pack%3Flang%3Dde");

    /* Accepted: both are served (the NDA document is 111000 bytes, several file buckets). */
    ck_assert_int_eq(stp_state_nda_accept(conf->state, user_key("bob"), "t1", "v1", apr_time_now()), APR_SUCCESS);
    r = req("GET", "/download/nda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/nda-pentest/nda-pentest.txt");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    assert_env(r, "nda-pentest", months_ago(2), user_key("bob"), "t1", "serve");
    r = req("GET", "/download/t1-nda-pack");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/t1-nda-pack/t1-nda-pack.txt");

    /* A personal account cannot accept an NDA: it is told to use an organisation account. */
    r = req("GET", "/download/nda-pentest");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "An organization account is needed"));
    assert_env(r, "nda-pentest", months_ago(2), user_key("alice"), "-", "personal");
}
END_TEST

/* Another tenant's document answers exactly as an unknown one, and its version stays out of the log. */
START_TEST(test_download_other_tenant)
{
    request_rec *r = req("GET", "/download/t2-pack");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
    ck_assert_ptr_null(out_hdr(r, "Location"));
    ck_assert_ptr_null(out_hdr(r, "Content-Type"));
    assert_env(r, "t2-pack", "-", user_key("bob"), "t1", "not-found");

    request_rec *unknown = req("GET", "/download/no-such-doc");
    sign_in(unknown, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(unknown), HTTP_NOT_FOUND);
    ck_assert_int_eq(apr_table_elts(unknown->headers_out)->nelts, apr_table_elts(r->headers_out)->nelts);
    assert_env(unknown, "no-such-doc", "-", user_key("bob"), "t1", "not-found");

    /* Not even "sign in" for an anonymous user: tenant documents do not exist for them. */
    r = req("GET", "/download/t2-pack");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_ptr_null(out_hdr(r, "Location"));

    /* Malformed: not even looked up. */
    r = req("GET", "/download/");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    assert_env(r, "-", "-", "-", "-", "not-found");
}
END_TEST

START_TEST(test_download_gone)
{
    request_rec *r = req("GET", "/download/soc-2024");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_GONE);
    ck_assert_str_eq(r->content_type, "text/html; charset=utf-8");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    const char *body = stub_out(r);
    ck_assert_ptr_nonnull(strstr(body, "This version is no longer available"));
    ck_assert_ptr_nonnull(strstr(body, "<a href=\"/en/docs/soc-2026/\">"));
    ck_assert_ptr_nonnull(strstr(body, "<a href=\"/download/soc-2026\">"));
    ck_assert_str_eq(out_hdr(r, "Content-Length"), apr_psprintf(pool, "%" APR_SIZE_T_FMT, strlen(body)));
    ck_assert_ptr_null(out_hdr(r, "ETag"));
    assert_env(r, "soc-2024", "2024", "-", "-", "gone");

    /* The same version asked for through the series' current id. */
    r = req("GET", "/download/soc-2026/2024");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_GONE);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "<a href=\"/download/soc-2026\">"));
    assert_env(r, "soc-2026", "2024", "-", "-", "gone");

    /* In the reader's language: the page they came from, not the file's ?lang=. */
    r = req("GET", "/download/soc-2024?lang=de");
    apr_table_setn(r->headers_in, "Host", "portal.test");
    apr_table_setn(r->headers_in, "Referer", "http://portal.test/de/docs/soc-2024/");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_GONE);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "<a href=\"/de/docs/soc-2026/\">"));
    ck_assert_str_eq(out_hdr(r, "Content-Language"), "de");
    ck_assert_ptr_nonnull(strstr(stub_out(r), "lang=\"de\""));
    r = req("GET", "/download/soc-2024?lang=de");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(out_hdr(r, "Content-Language"), "en");
}
END_TEST

START_TEST(test_download_versions)
{
    /* A superseded version within retention is served. */
    request_rec *r = req("GET", "/download/soc-2026/2025");
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/soc-2025/soc-2025.txt");
    assert_env(r, "soc-2026", "2025", "-", "-", "serve");

    r = req("GET", "/download/soc-2026/2026");
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/soc-2026/soc-2026.txt");

    r = req("GET", "/download/soc-2026/1999");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    assert_env(r, "soc-2026", "1999", "-", "-", "not-found");
}
END_TEST

START_TEST(test_download_head)
{
    request_rec *r = req("HEAD", "/download/public-report");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "text/plain");
    assert_served(r, "docs/public-report/public-report.txt");
    ck_assert_int_eq(stub_io(r)->brigades, 0);

    /* HEAD decides as GET does. */
    r = req("HEAD", "/download/signin-policy");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
}
END_TEST

START_TEST(test_download_lang)
{
    request_rec *r = req("GET", "/download/public-report?lang=de");
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/public-report/bericht.txt");
    ck_assert_str_eq(out_hdr(r, "Content-Disposition"), "attachment; filename=\"bericht.txt\"");
    /* Asked for by URL: the response does not vary with the headers. */
    ck_assert_ptr_null(out_hdr(r, "Vary"));

    r = req("GET", "/download/public-report?lang=ja");
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/public-report/報告書.txt");
    ck_assert_str_eq(out_hdr(r, "Content-Disposition"),
                     "attachment; filename=\"___.txt\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.txt");

    /* Without ?lang: Accept-Language picks, and says so. */
    r = req("GET", "/download/public-report");
    apr_table_setn(r->headers_in, "Accept-Language", "de-CH, de;q=0.9, en;q=0.5");
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/public-report/bericht.txt");
    ck_assert_str_eq(out_hdr(r, "Vary"), "Accept-Language, Cookie");

    /* A language without a variant of its own gets the default one. */
    r = req("GET", "/download/public-report?lang=ar");
    ck_assert_int_eq(stub_run(r), OK);
    assert_served(r, "docs/public-report/public-report.txt");
}
END_TEST

START_TEST(test_download_conditional)
{
    request_rec *r = req("GET", "/download/public-report");
    ck_assert_int_eq(stub_run(r), OK);
    const char *etag = apr_pstrdup(pool, out_hdr(r, "ETag"));

    r = req("GET", "/download/public-report");
    apr_table_setn(r->headers_in, "If-None-Match", etag);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_MODIFIED);
    ck_assert_int_eq(stub_io(r)->conditions, 1);
    ck_assert_int_eq(stub_io(r)->brigades, 0);
    ck_assert_str_eq(out_hdr(r, "ETag"), etag);

    /* The German variant is another entity. */
    r = req("GET", "/download/public-report?lang=de");
    apr_table_setn(r->headers_in, "If-None-Match", etag);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stub_io(r)->brigades, 1);
}
END_TEST

START_TEST(test_download_methods)
{
    request_rec *r = req("POST", "/download/public-report");
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
    ck_assert(r->allowed & (AP_METHOD_BIT << M_GET));
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
}
END_TEST

/* --- the NDA ------------------------------------------------------------------------------------ */

/* The csrf field's value in a page. */
static const char *form_token(const char *html)
{
    /* The agreement's form, not the header's sign-out form. */
    const char *form = strstr(html, "action=\"/stp/nda\"");
    ck_assert_ptr_nonnull(form);
    const char *at = strstr(form, "name=\"csrf\" value=\"");
    ck_assert_ptr_nonnull(at);
    at += strlen("name=\"csrf\" value=\"");
    return apr_pstrndup(pool, at, strcspn(at, "\""));
}

static const char *nda_body(const char *csrf, const char *version, const char *target)
{
    return apr_pstrcat(pool, "csrf=", csrf ? csrf : "", "&version=", version, "&return=", stp_url_escape(target, pool),
                       "&lang=en", NULL);
}

/* The page's own form, posted back, records the acceptance and returns to the download. */
START_TEST(test_nda_round_trip)
{
    request_rec *r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    const char *html = stub_out(r);
    ck_assert_ptr_nonnull(strstr(html, "You keep what you download to yourself."));
    ck_assert_ptr_nonnull(strstr(html, "download NDA pentest."));
    ck_assert_ptr_nonnull(strstr(html, "name=\"return\" value=\"/download/nda-pentest\""));
    ck_assert_ptr_nonnull(strstr(html, "name=\"version\" value=\"v1\""));
    const char *token = form_token(html);

    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?accepted=1&lang=en&return=%2Fdownload%2Fnda-pentest");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    ck_assert_int_eq(nda_accepted("bob"), 1);
    ck_assert_int_eq(stub_io(r)->log_level, APLOG_INFO);
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "accepted NDA v1"));

    r = req("GET", "/download/nda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(env(r, "STP_DECISION"), "serve");

    /* Once accepted, the agreement page sends the user straight on. */
    r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/download/nda-pentest");
    /* ... unless it was opened to read the agreement again. */
    r = req("GET", "/stp/nda");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "You keep what you download to yourself."));
    ck_assert_ptr_nonnull(strstr(stub_out(r), "already accepted"));
}
END_TEST

/* A refused token: 403 in the site layout, a log line, and nothing stored. */
static void assert_refused(const char *sub, const char *tid, const char *body)
{
    request_rec *r = post("/stp/nda", body);
    sign_in(r, sub, tid, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "Request refused"));
    ck_assert_ptr_null(out_hdr(r, "Location"));
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "bad CSRF token"));
    ck_assert_int_eq(nda_accepted(sub), 0);
}

START_TEST(test_nda_csrf_missing)
{
    assert_refused("bob", "t1", "version=v1&return=%2Fdownload%2Fnda-pentest");
    assert_refused("bob", "t1", nda_body(NULL, "v1", "/download/nda-pentest"));
}
END_TEST

START_TEST(test_nda_csrf_wrong)
{
    const char *good = token_for("bob", "nda");
    char bad[STP_SHA256_HEX_LEN + 1];
    apr_cpystrn(bad, good, sizeof bad);
    bad[0] = bad[0] == '0' ? '1' : '0';
    assert_refused("bob", "t1", nda_body(bad, "v1", "/download/nda-pentest"));
    assert_refused("bob", "t1", nda_body("not-a-token", "v1", "/download/nda-pentest"));
    /* A token for another purpose of the same user. */
    assert_refused("bob", "t1", nda_body(token_for("bob", "logout"), "v1", "/download/nda-pentest"));
}
END_TEST

START_TEST(test_nda_csrf_other_user)
{
    assert_refused("bob", "t1", nda_body(token_for("carol", "nda"), "v1", "/download/nda-pentest"));
    /* ... also when the other user shares the subject at another issuer. */
    request_rec *r = post("/stp/nda", nda_body(token_for("bob", "nda"), "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_iss", "https://other.test");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_int_eq(stp_state_nda_accepted(conf->state, "https://other.test|bob", "t1", "v1"), 0);
}
END_TEST

START_TEST(test_nda_good_token)
{
    request_rec *r = post("/stp/nda", nda_body(token_for("bob", "nda"), "v1", "/download/t1-nda-pack?lang=de"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"),
                     "/stp/nda?accepted=1&lang=en&return=%2Fdownload%2Ft1-nda-pack%3Flang%3Dde");
    ck_assert_int_eq(nda_accepted("bob"), 1);
    /* The confirmation: says so, starts the download, links back to the document. */
    r = req("GET", "/stp/nda?accepted=1&lang=en&return=%2Fdownload%2Ft1-nda-pack%3Flang%3Dde");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    const char *html = stub_out(r);
    ck_assert_ptr_nonnull(strstr(html, "content=\"1;url=/download/t1-nda-pack?lang=de\""));
    ck_assert_ptr_nonnull(strstr(html, "href=\"/en/org/docs/t1-nda-pack/\""));
    ck_assert_ptr_null(strstr(html, "action=\"/stp/nda\""));
    /* A second visit without a download to go to says it is accepted, with no form. */
    r = req("GET", "/stp/nda");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_ptr_null(strstr(stub_out(r), "action=\"/stp/nda\""));
    ck_assert_ptr_nonnull(strstr(stub_out(r), "already accepted"));
    /* Bound to the user, not to the tenant: another member of t1 has not accepted. */
    ck_assert_int_eq(nda_accepted("carol"), 0);
}
END_TEST

START_TEST(test_nda_offsite_return)
{
    request_rec *r = post("/stp/nda", nda_body(token_for("bob", "nda"), "v1", "//evil.test/x"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?accepted=1&lang=en&return=%2Fen%2F");
    ck_assert_int_eq(nda_accepted("bob"), 1);
}
END_TEST

/* The page showed another version than the current one: nothing is recorded, the user reads again. */
START_TEST(test_nda_version_mismatch)
{
    request_rec *r = post("/stp/nda", nda_body(token_for("bob", "nda"), "v0", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    ck_assert_int_eq(nda_accepted("bob"), 0);
    ck_assert_int_eq(stp_state_nda_accepted(conf->state, user_key("bob"), "t1", "v0"), 0);

    r = post("/stp/nda",
             apr_pstrcat(pool, "csrf=", token_for("bob", "nda"), "&return=%2Fdownload%2Fnda-pentest", NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(nda_accepted("bob"), 0);
}
END_TEST

START_TEST(test_nda_who_may)
{
    /* Anonymous: a token bound to no user gets nothing stored. */
    request_rec *r = post("/stp/nda", nda_body(token_for(NULL, "nda"), "v1", "/download/nda-pentest"));
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);

    /* A personal account with its own valid token. */
    r = post("/stp/nda", nda_body(token_for("alice", "nda"), "v1", "/download/nda-pentest"));
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "An organization account is needed"));
    ck_assert_int_eq(nda_accepted("alice"), 0);

    /* The wrong body type, with a valid token. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "text/plain", nda_body(token_for("bob", "nda"), "v1", "/download/nda-pentest"), 0);
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_int_eq(nda_accepted("bob"), 0);

    r = req("PUT", "/stp/nda");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
    ck_assert(r->allowed & (AP_METHOD_BIT << M_POST));

    /* Anonymous GET: sign in, then come back. */
    r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fstp%2Fnda%3Freturn%3D%252Fdownload%252Fnda-pentest");
}
END_TEST

/* --- whoami ------------------------------------------------------------------------------------- */

/* The build directory `current` points to. */
static const char *build_name(void)
{
    char buf[256];
    ssize_t n = readlink(apr_pstrcat(pool, site_dir, "/current", NULL), buf, sizeof buf - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    const char *slash = strrchr(buf, '/');
    return apr_pstrdup(pool, slash ? slash + 1 : buf);
}

static const char *whoami(request_rec *r)
{
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    ck_assert_str_eq(out_hdr(r, "X-Content-Type-Options"), "nosniff");
    ck_assert_str_eq(out_hdr(r, "Content-Length"), apr_psprintf(pool, "%" APR_SIZE_T_FMT, strlen(stub_out(r))));
    /* The display part (name, organisation, a sign-out token that changes each second) is checked
     * on its own: without it, the answer is exactly known. */
    const char *json = stub_out(r), *display = strstr(json, ",\"display\":{");
    if (!display)
        return json;
    ck_assert_ptr_nonnull(strstr(display, "\"signout\":\""));
    return apr_pstrcat(pool, apr_pstrmemdup(pool, json, (apr_size_t)(display - json)), "}\n", NULL);
}

static const char *expected_json(const char *user, const char *kind, const char *tenant, const char *email,
                                 int accepted)
{
    return apr_psprintf(pool,
                        "{\"user\":%s,\"kind\":\"%s\",\"tenant\":%s,\"email\":%s,\"lang\":\"en\","
                        "\"nda\":{\"version\":\"v1\",\"accepted\":%s},"
                        "\"catalog\":{\"generation\":1,\"build\":\"%s\"}}\n",
                        user, kind, tenant, email, accepted ? "true" : "false", build_name());
}

/* Every signed-in request keeps the user record current: the tenant and e-mail that
 * digests are checked against, with the provider's email_verified. */
START_TEST(test_user_record_follows_sign_in)
{
    stp_user_record_t rec;
    request_rec *r = req("GET", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK); /* anonymous: nothing recorded */
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_NOTFOUND);
    r = req("GET", "/stp/whoami");
    sign_in(r, "alice", "contoso", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_str_eq(rec.tenant, "contoso");
    ck_assert_str_eq(rec.email, "alice@example.com");
    ck_assert_int_eq(rec.email_verified, 1);
    apr_time_t first = rec.since;
    /* Moved to fabrikam, with an address the provider has not verified; a download records it too. */
    r = req("GET", "/download/public-report");
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "false");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_str_eq(rec.tenant, "fabrikam");
    ck_assert_int_eq(rec.email_verified, 0);
    ck_assert(rec.since >= first);
    /* The settings page neither suggests nor accepts an address from an unverified claim. */
    r = req("GET", "/stp/notifications");
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "0");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_ptr_null(strstr(stub_out(r), "value=\"alice@example.com\""));
    r = post("/stp/notifications", apr_pstrcat(pool, "csrf=", token_for("alice", "notifications"),
                                               "&frequency=daily&address=alice%40example.com&locale=en", NULL));
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "0");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_BAD_REQUEST);
    stp_notify_t n;
    ck_assert_int_eq(stp_notify_get(&n, conf->state, user_key("alice"), pool), APR_NOTFOUND);
    /* Verified again ("1", as mod_auth_openidc may pass a JSON true): accepted and recorded. */
    r = post("/stp/notifications", apr_pstrcat(pool, "csrf=", token_for("alice", "notifications"),
                                               "&frequency=daily&address=alice%40example.com&locale=en", NULL));
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "1");
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_int_eq(rec.email_verified, 1);
}
END_TEST

/* An NDA accepted in one organisation does not open downloads in another. */
START_TEST(test_nda_bound_to_tenant)
{
    ck_assert_int_eq(stp_state_nda_accept(conf->state, user_key("bob"), "t1", "v1", apr_time_now()), APR_SUCCESS);
    request_rec *r = req("GET", "/download/nda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    r = req("GET", "/download/nda-pentest");
    sign_in(r, "bob", "t2", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    r = req("GET", "/stp/whoami");
    sign_in(r, "bob", "t2", NULL);
    ck_assert_ptr_nonnull(strstr(whoami(r), "\"accepted\":false"));
}
END_TEST

START_TEST(test_whoami_kinds)
{
    request_rec *r = req("GET", "/stp/whoami");
    ck_assert_str_eq(whoami(r), expected_json("null", "anonymous", "null", "null", 0));

    r = req("GET", "/stp/whoami");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_str_eq(whoami(r), expected_json("\"" ISS "|alice\"", "personal", "null", "\"alice@example.com\"", 0));

    r = req("GET", "/stp/whoami");
    sign_in(r, "bob", "t1", "Reader");
    ck_assert_str_eq(whoami(r), expected_json("\"" ISS "|bob\"", "member", "\"t1\"", "\"bob@example.com\"", 0));

    ck_assert_int_eq(stp_state_nda_accept(conf->state, user_key("carol"), "t2", "v1", apr_time_now()), APR_SUCCESS);
    r = req("GET", "/stp/whoami");
    sign_in(r, "carol", "t2", "GlobalAdmin");
    ck_assert_str_eq(whoami(r),
                     expected_json("\"" ISS "|carol\"", "tenant-admin", "\"t2\"", "\"carol@example.com\"", 1));
}
END_TEST

START_TEST(test_whoami_escapes)
{
    request_rec *r = req("GET", "/stp/whoami?lang=de");
    sign_in(r, "x\"</script><script>alert(1)</script>", "t1", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email", "a\\\"</script>&\n@example.com");
    const char *json = whoami(r);
    ck_assert_ptr_null(strstr(json, "</script>"));
    ck_assert_ptr_null(strchr(json, '<'));
    ck_assert_ptr_nonnull(strstr(
        json, "\"user\":\"" ISS "|x\\\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\","));
    ck_assert_ptr_nonnull(strstr(json, "\"email\":\"a\\\\\\\"\\u003c/script\\u003e\\u0026\\u000a@example.com\","));
    ck_assert_ptr_nonnull(strstr(json, "\"lang\":\"de\""));
    /* One line: the only newline is the last byte. */
    ck_assert_ptr_eq(strchr(json, '\n'), json + strlen(json) - 1);
}
END_TEST

START_TEST(test_whoami_methods)
{
    request_rec *r = req("HEAD", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_ptr_nonnull(out_hdr(r, "Content-Length"));
    ck_assert_uint_eq(stub_io(r)->out_len, 0);

    r = post("/stp/whoami", "a=1");
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
}
END_TEST

/* --- the authz provider ------------------------------------------------------------------------- */

static const authz_provider *tenant_provider(void)
{
    const authz_provider *p = stub_provider(AUTHZ_PROVIDER_GROUP, "stp-tenant", AUTHZ_PROVIDER_VERSION);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(p->check_authorization);
    ck_assert_ptr_nonnull(p->parse_require_line);
    return p;
}

/* `Require stp-tenant LINE`, parsed as httpd does when it reads the configuration. */
static const void *require_line(const char *line, const char **err)
{
    cmd_parms cmd;
    const void *parsed = NULL;
    memset(&cmd, 0, sizeof cmd);
    cmd.pool = cmd.temp_pool = pool;
    cmd.server = srv;
    *err = tenant_provider()->parse_require_line(&cmd, line, &parsed);
    return parsed;
}

START_TEST(test_authz_parse)
{
    const char *err;
    const apr_array_header_t *t = require_line("t1 \"t2\"  Tenant-3", &err);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(t->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(t, 0, const char *), "t1");
    ck_assert_str_eq(APR_ARRAY_IDX(t, 1, const char *), "t2");
    ck_assert_str_eq(APR_ARRAY_IDX(t, 2, const char *), "Tenant-3");

    t = require_line("", &err);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(t->nelts, 0);

    require_line("t1 t_2", &err);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "'t_2' is not a tenant id"));
    require_line("-t1", &err);
    ck_assert_ptr_nonnull(err);
}
END_TEST

static authz_status check(request_rec *r, const char *line)
{
    const char *err;
    const void *parsed = require_line(line, &err);
    ck_assert_ptr_null(err);
    return tenant_provider()->check_authorization(r, line, parsed);
}

START_TEST(test_authz_check)
{
    /* Before authentication: "no user" makes httpd authenticate, and nothing is cached yet. */
    request_rec *r = req("GET", "/t1/");
    ck_assert_int_eq(check(r, ""), AUTHZ_DENIED_NO_USER);
    ck_assert_ptr_null(ap_get_module_config(r->request_config, &stp_module));
    /* Claims without an authenticated user are not trusted yet either. */
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_sub", "bob");
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_tid", "t1");
    ck_assert_int_eq(check(r, ""), AUTHZ_DENIED_NO_USER);

    /* An authenticated user without a subject claim. */
    r = req("GET", "/t1/");
    r->user = "someone";
    ck_assert_int_eq(check(r, ""), AUTHZ_DENIED_NO_USER);

    r = req("GET", "/t1/");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(check(r, ""), AUTHZ_DENIED);
    ck_assert_int_eq(check(r, "t1"), AUTHZ_DENIED);

    r = req("GET", "/t1/");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(check(r, ""), AUTHZ_GRANTED);
    ck_assert_int_eq(check(r, "t1 t2"), AUTHZ_GRANTED);
    ck_assert_int_eq(check(r, "t2 t1"), AUTHZ_GRANTED);
    ck_assert_int_eq(check(r, "t2"), AUTHZ_DENIED);
    ck_assert_int_eq(check(r, "T1"), AUTHZ_DENIED); /* tenant ids are compared exactly */

    r = req("GET", "/t1/");
    sign_in(r, "dave", "t3", "GlobalAdmin");
    ck_assert_int_eq(check(r, "t1 t2"), AUTHZ_DENIED);
    ck_assert_int_eq(check(r, ""), AUTHZ_GRANTED);
}
END_TEST

START_TEST(test_authz_consumer_tenant)
{
    directive("StpConsumerTenants", "consumers", NULL);
    start();
    request_rec *r = req("GET", "/t1/");
    sign_in(r, "alice", "consumers", NULL);
    ck_assert_int_eq(check(r, ""), AUTHZ_DENIED);
    ck_assert_int_eq(check(r, "consumers"), AUTHZ_DENIED);
}
END_TEST

/* --- organisation pages ------------------------------------------------------------------------- */

START_TEST(test_org_pages)
{
    request_rec *r = req("GET", "/en/org/");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), DECLINED); /* httpd's default handler serves the mapped file */
    ck_assert_ptr_null(r->handler);
    ck_assert_str_eq(r->filename, apr_pstrcat(pool, site_dir, "/", build_name(), "/tenants/t1/en/index.html", NULL));
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");

    r = req("GET", "/en/org/");
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_nonnull(strstr(r->filename, "/tenants/t2/en/index.html"));

    r = req("GET", "/en/org/");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    r = req("GET", "/en/org/");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);

    r = req("GET", "/en/org");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_PERMANENTLY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/org/");
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

/* --- security: headers, sessions, sign-out, series ---------------------------------------------- */

/* The headers of a table as one sorted string, to compare two answers. */
static int header_line(void *baton, const char *k, const char *v)
{
    char **acc = baton;
    *acc = apr_pstrcat(pool, *acc, k, ": ", v, "\n", NULL);
    return 1;
}

static const char *headers_of(const request_rec *r)
{
    char *acc = "";
    apr_table_do(header_line, &acc, r->headers_out, NULL);
    acc = apr_pstrcat(pool, acc, "--\n", NULL);
    apr_table_do(header_line, &acc, r->err_headers_out, NULL);
    return acc;
}

static void assert_secure(const request_rec *r, const char *what)
{
    const char *csp = apr_table_get(r->err_headers_out, "Content-Security-Policy");
    ck_assert_msg(csp && strstr(csp, "frame-ancestors 'none'") && strstr(csp, "script-src 'self'") &&
                      !strstr(csp, "unsafe-inline"),
                  "%s: CSP %s", what, csp ? csp : "(none)");
    ck_assert_msg(apr_table_get(r->err_headers_out, "Referrer-Policy") &&
                      !strcmp(apr_table_get(r->err_headers_out, "Referrer-Policy"), "same-origin"),
                  "%s: Referrer-Policy", what);
    ck_assert_msg(apr_table_get(r->err_headers_out, "X-Content-Type-Options") != NULL, "%s: nosniff", what);
}

static void assert_personal(const request_rec *r, const char *what)
{
    const char *cc = apr_table_get(r->err_headers_out, "Cache-Control");
    const char *vary = apr_table_get(r->err_headers_out, "Vary");
    ck_assert_msg(cc && !strcmp(cc, "no-store"), "%s: Cache-Control %s in err_headers_out", what, cc ? cc : "(none)");
    ck_assert_msg(vary && strstr(vary, "Cookie"), "%s: Vary %s", what, vary ? vary : "(none)");
}

/* Every answer of the module, redirects and errors included, carries the security headers in
 * err_headers_out (httpd sends those on every status), and the user-dependent ones no-store. */
START_TEST(test_headers_every_answer)
{
    static const struct {
        const char *uri, *sub, *tid;
        int rc, personal;
    } cases[] = {
        {"/download/public-report", NULL, NULL, OK, 0},
        {"/download/nda-pentest", NULL, NULL, HTTP_MOVED_TEMPORARILY, 1},
        {"/download/nda-pentest", "bob", "t1", HTTP_MOVED_TEMPORARILY, 1},
        {"/download/t2-pack", "bob", "t1", HTTP_NOT_FOUND, 1},
        {"/download/no-such-doc", NULL, NULL, HTTP_NOT_FOUND, 1},
        {"/download/soc-2024", NULL, NULL, OK, 1},
        {"/download/signin-policy", "alice", NULL, OK, 1},
        {"/stp/nda", NULL, NULL, HTTP_MOVED_TEMPORARILY, 1},
        {"/stp/nda", "bob", "t1", OK, 1},
        {"/stp/library", "bob", "t1", OK, 1},
        {"/stp/whoami", "bob", "t1", OK, 1},
        {"/stp/nothing-here", NULL, NULL, HTTP_NOT_FOUND, 1},
        {"/", NULL, NULL, HTTP_MOVED_TEMPORARILY, 1},
        {"/en/org/", "pat", NULL, HTTP_NOT_FOUND, 1},
        {"/en/org/", "bob", "t1", DECLINED, 1},
        {"/en/docs/public-report", NULL, NULL, HTTP_MOVED_PERMANENTLY, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_rec *r = req("GET", cases[i].uri);
        if (cases[i].sub)
            sign_in(r, cases[i].sub, cases[i].tid, NULL);
        const char *what = apr_psprintf(pool, "%s as %s", cases[i].uri, cases[i].sub ? cases[i].sub : "anonymous");
        ck_assert_msg(stub_run(r) == cases[i].rc, "%s: status", what);
        assert_secure(r, what);
        if (cases[i].personal)
            assert_personal(r, what);
        else
            ck_assert_msg(!out_hdr(r, "Cache-Control") || strcmp(out_hdr(r, "Cache-Control"), "no-store"),
                          "%s: a public file may be cached", what);
    }
    /* A static page the module only maps is not personal, but secured all the same. */
    request_rec *r = req("GET", "/en/docs/public-report/");
    ck_assert_int_eq(stub_run(r), DECLINED);
    assert_secure(r, "a static document page");
    ck_assert_ptr_null(apr_table_get(r->err_headers_out, "Cache-Control"));
}
END_TEST

/* An outsider's 404 for another tenant's document is the unknown id's, headers and all. */
START_TEST(test_not_found_identical)
{
    request_rec *hidden = req("GET", "/download/t2-pack");
    sign_in(hidden, "bob", "t1", NULL);
    request_rec *unknown = req("GET", "/download/no-such-doc");
    sign_in(unknown, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(hidden), HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(unknown), HTTP_NOT_FOUND);
    ck_assert_str_eq(headers_of(hidden), headers_of(unknown));
}
END_TEST

static const char *set_cookie(const request_rec *r)
{
    return apr_table_get(r->err_headers_out, "Set-Cookie");
}

/* Tokens belong to the browser session: the stp_sid cookie is set with the first form, renewed
 * at sign-in, cleared at sign-out; a token from another session, or none, is refused. */
START_TEST(test_csrf_session_bound)
{
    /* A browser without the cookie gets one with the form, and the token is bound to it. */
    request_rec *r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    apr_table_unset(r->headers_in, "Cookie");
    ck_assert_int_eq(stub_run(r), OK);
    const char *cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    ck_assert_ptr_nonnull(strstr(cookie, "HttpOnly"));
    ck_assert_ptr_nonnull(strstr(cookie, "SameSite=Lax"));
    ck_assert_int_eq(strncmp(cookie, "stp_sid=", 8), 0);
    const char *sid = apr_pstrndup(pool, cookie + 8, strcspn(cookie + 8, ";"));
    ck_assert_int_eq(stp_csrf_session_ok(sid), 1);
    const char *token = form_token(stub_out(r));

    /* Posted from the fixture's session (another browser): refused. */
    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_int_eq(nda_accepted("bob"), 0);

    /* Without any session cookie: refused. */
    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    apr_table_unset(r->headers_in, "Cookie");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);

    /* From the session it was issued for: accepted. */
    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    apr_table_set(r->headers_in, "Cookie", apr_pstrcat(pool, "stp_lang=en; stp_sid=", sid, NULL));
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(nda_accepted("bob"), 1);

    /* Signing in starts a new session. */
    r = req("GET", "/stp/login?return=%2Fen%2F");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    ck_assert_int_eq(stp_csrf_session_ok(apr_pstrndup(pool, cookie + 8, strcspn(cookie + 8, ";"))), 1);
    ck_assert_ptr_null(strstr(cookie, SID));

    /* Signing out (a POST with the session's token) clears it. */
    r = post("/stp/logout", apr_pstrcat(pool, "csrf=", token_for("bob", "logout"), NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    ck_assert_ptr_nonnull(strstr(cookie, "stp_sid=;"));
    ck_assert_ptr_nonnull(strstr(cookie, "Max-Age=0"));
    assert_personal(r, "sign-out");

    /* A GET never signs out. */
    r = req("GET", apr_pstrcat(pool, "/stp/logout?csrf=", token_for("bob", "logout"), NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    ck_assert_ptr_null(out_hdr(r, "Location"));
}
END_TEST

/* mod_auth_openidc signs out on a GET of its redirect URI with `logout`: the module lets only
 * our own pages (and a typed URL) through, before authentication runs. */
START_TEST(test_foreign_logout_refused)
{
    static const struct {
        const char *query, *site, *origin, *referer;
        int refused;
    } cases[] = {
        {"logout=http%3A%2F%2Fevil.test%2F", "cross-site", NULL, NULL, 1},
        {"logout=http%3A%2F%2Flocalhost%2Fen%2F", "same-site", NULL, NULL, 1},
        {"logout=", "cross-site", NULL, "http://evil.test/page", 1},
        {"%6cogout=x", "cross-site", NULL, NULL, 1},
        {"logout=x", NULL, NULL, "http://evil.test/page", 1},
        {"logout=x", NULL, "null", NULL, 1},
        {"logout=x", "same-origin", "http://evil.test", NULL, 1},
        {"logout=http%3A%2F%2Flocalhost%2Fen%2F", "same-origin", NULL, NULL, 0},
        {"logout=x", "none", NULL, NULL, 0},
        {"logout=x", NULL, NULL, "http://localhost/stp/logout", 0},
        {"logout=x", NULL, NULL, NULL, 0},
        {"code=abc&state=def", "cross-site", NULL, NULL, 0}, /* the provider's answer to a sign-in */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_rec *r = req("GET", apr_pstrcat(pool, "/stp/oidc-callback?", cases[i].query, NULL));
        apr_table_setn(r->headers_in, "Host", "localhost");
        if (cases[i].site)
            apr_table_setn(r->headers_in, "Sec-Fetch-Site", cases[i].site);
        if (cases[i].origin)
            apr_table_setn(r->headers_in, "Origin", cases[i].origin);
        if (cases[i].referer)
            apr_table_setn(r->headers_in, "Referer", cases[i].referer);
        int rc = stub_hooks.translate_name(r);
        ck_assert_msg(cases[i].refused ? rc == DONE && r->status == HTTP_FORBIDDEN
                                       : rc != DONE && r->status != HTTP_FORBIDDEN && !stub_io(r)->out_len,
                      "case %zu (%s, %s): rc %d status %d", i, cases[i].query, cases[i].site ? cases[i].site : "-", rc,
                      r->status);
    }
}
END_TEST

/* A state that this process could not open: every refused change is logged with the cause. */
START_TEST(test_state_unavailable_logged)
{
    conf->state = NULL;
    conf->state_problem = "Permission denied";
    request_rec *r = post("/stp/nda", nda_body(token_for("bob", "nda"), "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_SERVICE_UNAVAILABLE);
    ck_assert_int_eq(stub_io(r)->log_level, APLOG_ERR);
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "Permission denied"));
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, state_dir));
}
END_TEST

/* --- a series that mixes access levels ---------------------------------------------------------- */

/* sitegen refuses such a series; the module must not leak through one all the same. This site is
 * written by hand: series "mix" has a current version for tenant t2 only (mix-2026), a public
 * superseded one still available (mix-2025) and a public one past retention (mix-2020). */
static const char *mixed_site;

static stp_doc_t *mixed_doc(const char *id, const char *version, stp_access_t access, stp_day_t retired)
{
    stp_doc_t *d = apr_pcalloc(pool, sizeof *d);
    d->id = id;
    d->series = "mix";
    d->version = version;
    d->section = "reports";
    d->tile = "soc";
    d->access = access;
    d->tenants = apr_array_make(pool, 1, sizeof(const char *));
    if (access == STP_ACCESS_TENANT)
        APR_ARRAY_PUSH(d->tenants, const char *) = "t2";
    d->published = stp_date_add_months(today, -1);
    d->retired = retired;
    d->current = "mix-2026";
    d->titles = apr_array_make(pool, 1, sizeof(stp_text_t));
    stp_text_t *t = apr_array_push(d->titles);
    t->lang = "en";
    t->text = apr_pstrcat(pool, "Secret title of ", id, NULL);
    d->summaries = apr_array_make(pool, 1, sizeof(stp_text_t));
    d->changes = apr_array_make(pool, 1, sizeof(stp_text_t));
    d->services = apr_array_make(pool, 1, sizeof(const char *));
    d->regions = apr_array_make(pool, 1, sizeof(const char *));
    d->industries = apr_array_make(pool, 1, sizeof(const char *));
    d->files = apr_array_make(pool, 1, sizeof(stp_file_t));
    stp_file_t *f = apr_array_push(d->files);
    f->lang = "en";
    f->path = apr_pstrcat(pool, id, ".txt", NULL);
    f->name = f->path;
    f->media_type = "text/plain";
    f->size = 3;
    memset(f->sha256, 'a', 64);
    return d;
}

static void setup_mixed(void)
{
    apr_pool_create(&pool, NULL);
    const char *site = apr_pstrcat(pool, tmp_root, "/mixed-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp((char *)site));
    mixed_site = site;
    const char *build = apr_pstrcat(pool, site, "/build-1", NULL);
    ck_assert_int_eq(apr_dir_make_recursive(apr_pstrcat(pool, build, "/files", NULL), APR_OS_DEFAULT, pool),
                     APR_SUCCESS);
    stp_catalog_t *cat;
    ck_assert_int_eq(stp_catalog_create(&cat, apr_pstrcat(pool, build, "/catalog.mdb", NULL), pool), APR_SUCCESS);
    stp_doc_t *docs[] = {mixed_doc("mix-2026", "2026", STP_ACCESS_TENANT, 0),
                         mixed_doc("mix-2025", "2025", STP_ACCESS_PUBLIC, stp_date_add_months(today, 6)),
                         mixed_doc("mix-2020", "2020", STP_ACCESS_PUBLIC, stp_date_add_months(today, -6))};
    apr_array_header_t *ids = apr_array_make(pool, 3, sizeof(const char *));
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(stp_catalog_put_doc(cat, docs[i], pool), APR_SUCCESS);
        APR_ARRAY_PUSH(ids, const char *) = docs[i]->id;
        apr_file_t *f;
        ck_assert_int_eq(apr_file_open(&f, apr_pstrcat(pool, build, "/files/", docs[i]->id, ".txt", NULL),
                                       APR_FOPEN_WRITE | APR_FOPEN_CREATE, APR_OS_DEFAULT, pool),
                         APR_SUCCESS);
        ck_assert_int_eq(apr_file_write_full(f, "abc", 3, NULL), APR_SUCCESS);
        apr_file_close(f);
    }
    ck_assert_int_eq(stp_catalog_put_series(cat, "mix", ids, pool), APR_SUCCESS);
    const char *meta[][2] = {{"generation", "1"},   {"default-locale", "en"},   {"locales", "en"},
                             {"nda-version", "v1"}, {"retention-months", "12"}, {"base-url", "http://localhost"}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        ck_assert_int_eq(stp_catalog_put_meta(cat, meta[i][0], meta[i][1]), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_commit(cat, 1), APR_SUCCESS);
    stp_catalog_close(cat);
    ck_assert_int_eq(apr_dir_make(apr_pstrcat(pool, build, "/templates", NULL), APR_OS_DEFAULT, pool), APR_SUCCESS);
    ck_assert_int_eq(symlink(TEST_SRCDIR "/xslt/page.xsl", apr_pstrcat(pool, build, "/templates/page.xsl", NULL)), 0);
    ck_assert_int_eq(symlink("build-1", apr_pstrcat(pool, site, "/current", NULL)), 0);

    char *dir = apr_pstrcat(pool, tmp_root, "/state-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    state_dir = dir;
    srv = stub_server(pool);
    stub_load_module(&stp_module, srv, pool);
    directive("StpSite", mixed_site, NULL);
    directive("StpStateDir", state_dir, NULL);
    start();
}

static void teardown_mixed(void)
{
    teardown();
}

static int mentions_tenant_version(const request_rec *r)
{
    const char *all = apr_pstrcat(pool, stub_out(r) ? stub_out(r) : "", headers_of(r), NULL);
    return strstr(all, "mix-2026") != NULL || strstr(all, "Secret title of mix-2026") != NULL;
}

START_TEST(test_mixed_series_no_leak)
{
    const char *who[][2] = {{NULL, NULL}, {"pat", NULL}, {"bob", "t1"}};
    for (size_t i = 0; i < 3; i++) {
        const char *what = who[i][0] ? who[i][0] : "anonymous";
        /* The retired public version: gone, without a link to the tenant's version. */
        request_rec *r = req("GET", "/download/mix-2020");
        if (who[i][0])
            sign_in(r, who[i][0], who[i][1], NULL);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_int_eq(r->status, HTTP_GONE);
        ck_assert_msg(!mentions_tenant_version(r), "%s: the 410 page names the tenant version", what);

        /* The tenant id with a public version: the unknown id's answer. */
        r = req("GET", "/download/mix-2026/2025");
        request_rec *u = req("GET", "/download/no-such-doc/2025");
        if (who[i][0]) {
            sign_in(r, who[i][0], who[i][1], NULL);
            sign_in(u, who[i][0], who[i][1], NULL);
        }
        ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
        ck_assert_int_eq(stub_run(u), HTTP_NOT_FOUND);
        ck_assert_str_eq(headers_of(r), headers_of(u));
        ck_assert_str_eq(env(r, "STP_VERSION"), env(u, "STP_VERSION"));

        /* The public version by its own id is still served. */
        r = req("GET", "/download/mix-2025");
        if (who[i][0])
            sign_in(r, who[i][0], who[i][1], NULL);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_int_eq(r->status, HTTP_OK);
    }
    /* A member of t2 may follow the series to its current version. */
    request_rec *r = req("GET", "/download/mix-2020");
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_GONE);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "/en/org/docs/mix-2026/"));
    r = req("GET", "/download/mix-2026/2025");
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);

    /* My Library of an outsider who saved the public version: the tenant version is not named. */
    r = post("/stp/library", apr_pstrcat(pool, "csrf=", token_for("bob", "library"), "&action=add&doc=mix-2025", NULL));
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->headers_in, "Accept", "application/json");
    stub_run(r);
    r = req("GET", "/stp/library");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_msg(!mentions_tenant_version(r), "the library names the tenant version");
    r = req("GET", "/stp/library");
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_msg(!mentions_tenant_version(r), "the library's JSON names the tenant version");
    /* The NDA page's note about the pending download. */
    r = req("GET", "/stp/nda?return=%2Fdownload%2Fmix-2026");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_msg(!mentions_tenant_version(r) || !strstr(stub_out(r), "Secret title"),
                  "the NDA page names the tenant version");
}
END_TEST

static Suite *glue_suite(void)
{
    Suite *s = suite_create("glue");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_route_of);
    tcase_add_test(tc, test_route_dispatch);
    tcase_add_test(tc, test_org_pages);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_config_defaults);
    suite_add_tcase(s, tc);

    tc = tcase_create("configured");
    tcase_add_checked_fixture(tc, setup_configured, teardown);
    tcase_add_test(tc, test_config_refuses);
    tcase_add_test(tc, test_claims_consumer_tenants);
    tcase_add_test(tc, test_claims_configured_names);
    tcase_add_test(tc, test_authz_consumer_tenant);
    suite_add_tcase(s, tc);

    tc = tcase_create("claims");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_claims_not_from_headers);
    tcase_add_test(tc, test_claims_need_prefix);
    tcase_add_test(tc, test_claims_kinds);
    tcase_add_test(tc, test_claims_cached_per_request);
    suite_add_tcase(s, tc);

    tc = tcase_create("redirect");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_redirect_local);
    tcase_add_test(tc, test_redirect_not_offsite);
    tcase_add_test(tc, test_signin_redirect_returns);
    suite_add_tcase(s, tc);

    tc = tcase_create("security");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_headers_every_answer);
    tcase_add_test(tc, test_not_found_identical);
    tcase_add_test(tc, test_csrf_session_bound);
    tcase_add_test(tc, test_foreign_logout_refused);
    tcase_add_test(tc, test_state_unavailable_logged);
    suite_add_tcase(s, tc);

    tc = tcase_create("mixed-series");
    tcase_add_checked_fixture(tc, setup_mixed, teardown_mixed);
    tcase_add_test(tc, test_mixed_series_no_leak);
    suite_add_tcase(s, tc);

    tc = tcase_create("form");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_form_content_type);
    tcase_add_test(tc, test_form_too_big);
    tcase_add_test(tc, test_form_bad_encoding);
    tcase_add_test(tc, test_form_good);
    suite_add_tcase(s, tc);

    tc = tcase_create("download");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_download_public);
    tcase_add_test(tc, test_download_gated_private);
    tcase_add_test(tc, test_download_signin);
    tcase_add_test(tc, test_download_nda);
    tcase_add_test(tc, test_download_other_tenant);
    tcase_add_test(tc, test_download_gone);
    tcase_add_test(tc, test_download_versions);
    tcase_add_test(tc, test_download_head);
    tcase_add_test(tc, test_download_lang);
    tcase_add_test(tc, test_download_conditional);
    tcase_add_test(tc, test_download_methods);
    suite_add_tcase(s, tc);

    tc = tcase_create("nda");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nda_round_trip);
    tcase_add_test(tc, test_nda_csrf_missing);
    tcase_add_test(tc, test_nda_csrf_wrong);
    tcase_add_test(tc, test_nda_csrf_other_user);
    tcase_add_test(tc, test_nda_good_token);
    tcase_add_test(tc, test_nda_offsite_return);
    tcase_add_test(tc, test_nda_version_mismatch);
    tcase_add_test(tc, test_nda_who_may);
    tcase_add_test(tc, test_nda_bound_to_tenant);
    tcase_add_test(tc, test_user_record_follows_sign_in);
    suite_add_tcase(s, tc);

    tc = tcase_create("whoami");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_whoami_kinds);
    tcase_add_test(tc, test_whoami_escapes);
    tcase_add_test(tc, test_whoami_methods);
    suite_add_tcase(s, tc);

    tc = tcase_create("authz");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_authz_parse);
    tcase_add_test(tc, test_authz_check);
    suite_add_tcase(s, tc);
    return s;
}

/* --- the published site ------------------------------------------------------------------------- */

static int setup_failed(const char *what, const char *detail)
{
    fprintf(stderr, "test_glue: %s: %s\n", what, detail);
    return 0;
}

/* Rewrites @TODAY-N@ in one file to the date N months before today, as tests/lib/harness.py does. */
static int fill_dates(const char *path, stp_day_t day0, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) || apr_file_info_get(&fi, APR_FINFO_SIZE, f))
        return setup_failed("cannot read", path);
    char *text = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_status_t rv = apr_file_read_full(f, text, (apr_size_t)fi.size, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return setup_failed("cannot read", path);
    text[len] = '\0';
    const char *out = "", *s = text, *at;
    while ((at = strstr(s, "@TODAY-"))) {
        char day[11];
        apr_size_t digits = strspn(at + 7, "0123456789");
        if (!digits || at[7 + digits] != '@') { /* not a placeholder (the fixture's comment names one) */
            out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(at + 7 - s)), NULL);
            s = at + 7;
            continue;
        }
        stp_date_format_iso(day, stp_date_add_months(day0, -atoi(at + 7)));
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(at - s)), day, NULL);
        s = at + 7 + digits + 1;
    }
    out = apr_pstrcat(p, out, s, NULL);
    if (apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE, 0, p) ||
        apr_file_write_full(f, out, strlen(out), NULL) || apr_file_close(f))
        return setup_failed("cannot write", path);
    return 1;
}

static int fill_dates_tree(const char *dir, stp_day_t day0, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int ok = 1;
    if (apr_dir_open(&d, dir, p) != APR_SUCCESS)
        return setup_failed("cannot list", dir);
    while (ok && apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *path = apr_pstrcat(p, dir, "/", fi.name, NULL);
        apr_size_t n = strlen(fi.name);
        if (fi.filetype == APR_DIR && strcmp(fi.name, ".") && strcmp(fi.name, ".."))
            ok = fill_dates_tree(path, day0, p);
        else if (fi.filetype == APR_REG && n > 4 && !strcmp(fi.name + n - 4, ".xml"))
            ok = fill_dates(path, day0, p);
    }
    apr_dir_close(d);
    return ok;
}

/* Publishes the gate fixture, dated relative to today, with the generator itself. */
static int publish(const char *tmp, apr_pool_t *p)
{
    char cmd[1024];
    content_dir = apr_pstrcat(p, tmp, "/content", NULL);
    site_dir = apr_pstrcat(p, tmp, "/site", NULL);
    snprintf(cmd, sizeof cmd, "cp -R '%s/tests/fixtures/gate' '%s'", TEST_SRCDIR, content_dir);
    if (system(cmd) != 0)
        return setup_failed("cannot copy the fixture", cmd);
    today = stp_date_from_time(apr_time_now());
    if (!fill_dates_tree(content_dir, today, p))
        return 0;
    sg_options_t opt;
    sg_stats_t stats;
    memset(&opt, 0, sizeof opt);
    opt.content_dir = content_dir;
    opt.site_dir = site_dir;
    opt.xslt_dir = TEST_SRCDIR "/xslt";
    opt.jobs = 1;
    opt.today = today;
    if (sg_build_run(&opt, &stats, sg_errors_make(p), p) != 0)
        return setup_failed("sitegen failed on", content_dir);
    return 1;
}

int main(void)
{
    apr_pool_t *p;
    char tmp[] = "/tmp/stp-test-glue-XXXXXX", cmd[64];
    apr_initialize();
    xmlInitParser();
    xsltInit();
    apr_pool_create(&p, NULL);
    if (!mkdtemp(tmp)) {
        perror("test_glue: mkdtemp");
        return EXIT_FAILURE;
    }
    tmp_root = tmp;
    int ok = publish(tmp, p);
    int failed = 1;
    if (ok) {
        SRunner *sr = srunner_create(glue_suite());
        srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=silent: only the TAP log */
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "test_glue: cannot remove %s\n", tmp);
    apr_pool_destroy(p);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
