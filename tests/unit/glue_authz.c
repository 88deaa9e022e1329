/* `Require stp-tenant` (mod_stp_authz.c): parsing the Require line and checking the user's tenant. */
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
#include <mod_auth.h>

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

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_authz_suite(void)
{
    Suite *s = suite_create("glue-authz");
    TCase *tc;

    tc = tcase_create("authz");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_authz_parse);
    tcase_add_test(tc, test_authz_check);
    suite_add_tcase(s, tc);

    tc = tcase_create("configured");
    tcase_add_checked_fixture(tc, setup_configured, teardown);
    tcase_add_test(tc, test_authz_consumer_tenant);
    suite_add_tcase(s, tc);
    return s;
}
