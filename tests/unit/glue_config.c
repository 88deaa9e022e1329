/* The module's configuration (mod_stp.c: directives, defaults, refusals) and the claims it reads
 * from mod_auth_openidc's environment (mod_stp_request.c). */
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "glue_fixture.h"
#include "httpd_stub.h"

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
    ck_assert_int_eq(conf->tenant_mode, STP_ORG_MODE_OPEN);
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
    stp_req_t *q = mod_stp_req_get(r);
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
    ck_assert_ptr_null(mod_stp_req_get(r)->user.key);
}
END_TEST

START_TEST(test_claims_kinds)
{
    request_rec *r = req("GET", "/");
    sign_in(r, "alice", NULL, NULL);
    stp_req_t *q = mod_stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("alice"));
    ck_assert_ptr_null(q->user.tenant);
    ck_assert_int_eq(q->user.tenant_admin, 0);
    ck_assert_str_eq(q->email, "alice@example.com");

    r = req("GET", "/");
    sign_in(r, "bob", "t1", "Reader");
    q = mod_stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("bob"));
    ck_assert_str_eq(q->user.tenant, "t1");
    ck_assert_int_eq(q->user.tenant_admin, 0);

    r = req("GET", "/");
    sign_in(r, "carol", "t1", "Reader, GlobalAdmin");
    q = mod_stp_req_get(r);
    ck_assert_str_eq(q->user.tenant, "t1");
    ck_assert_int_eq(q->user.tenant_admin, 1);

    /* The admin value is a whole list item, not a prefix. */
    r = req("GET", "/");
    sign_in(r, "dave", "t1", "GlobalAdministrator");
    ck_assert_int_eq(mod_stp_req_get(r)->user.tenant_admin, 0);

    /* A personal account is no administrator of anything. */
    r = req("GET", "/");
    sign_in(r, "erin", NULL, "GlobalAdmin");
    ck_assert_int_eq(mod_stp_req_get(r)->user.tenant_admin, 0);

    /* The same subject at another issuer is another user. */
    r = req("GET", "/");
    sign_in(r, "alice", NULL, NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_iss", "https://other.test");
    ck_assert_str_eq(mod_stp_req_get(r)->user.key, "https://other.test|alice");
}
END_TEST

/* The request's view is computed once; a subrequest shares its main request's. */
START_TEST(test_claims_cached_per_request)
{
    request_rec *r = req("GET", "/stp/whoami");
    sign_in(r, "bob", "t1", NULL);
    stp_req_t *q = mod_stp_req_get(r);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_tid", "t2");
    ck_assert_ptr_eq(mod_stp_req_get(r), q);
    ck_assert_str_eq(q->user.tenant, "t1");

    request_rec *sub = req("GET", "/en/");
    sub->main = r;
    ck_assert_ptr_eq(mod_stp_req_get(sub), q);
}
END_TEST

START_TEST(test_claims_consumer_tenants)
{
    directive("StpConsumerTenants", "9188040d-6c67-4c5b-b112-36a304b66dad consumers", NULL);
    start();
    request_rec *r = req("GET", "/");
    sign_in(r, "alice", "9188040d-6c67-4c5b-b112-36a304b66dad", "GlobalAdmin");
    stp_req_t *q = mod_stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("alice"));
    ck_assert_ptr_null(q->user.tenant);
    ck_assert_int_eq(q->user.tenant_admin, 0);

    r = req("GET", "/");
    sign_in(r, "alice", "consumers", NULL);
    ck_assert_ptr_null(mod_stp_req_get(r)->user.tenant);

    r = req("GET", "/");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_str_eq(mod_stp_req_get(r)->user.tenant, "t1");
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
    ck_assert_ptr_null(mod_stp_req_get(r)->user.key);

    r = req("GET", "/");
    apr_table_setn(r->subprocess_env, "X_iss", ISS);
    apr_table_setn(r->subprocess_env, "X_oid", "bob");
    apr_table_setn(r->subprocess_env, "X_org", "t2");
    apr_table_setn(r->subprocess_env, "X_groups", "staff,admins");
    stp_req_t *q = mod_stp_req_get(r);
    ck_assert_str_eq(q->user.key, user_key("bob"));
    ck_assert_str_eq(q->user.tenant, "t2");
    ck_assert_int_eq(q->user.tenant_admin, 1);
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_config_suite(void)
{
    Suite *s = suite_create("glue-config");
    TCase *tc;

    tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_config_defaults);
    suite_add_tcase(s, tc);

    tc = tcase_create("configured");
    tcase_add_checked_fixture(tc, setup_configured, teardown);
    tcase_add_test(tc, test_config_refuses);
    tcase_add_test(tc, test_claims_consumer_tenants);
    tcase_add_test(tc, test_claims_configured_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("claims");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_claims_not_from_headers);
    tcase_add_test(tc, test_claims_need_prefix);
    tcase_add_test(tc, test_claims_kinds);
    tcase_add_test(tc, test_claims_cached_per_request);
    suite_add_tcase(s, tc);
    return s;
}
