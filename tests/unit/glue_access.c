/* Finer access over fabricated requests: documents that require a role or a claim (downloads,
 * My Library, search) and unlisted members of an `assigned` organisation (downloads, Require
 * stp-tenant, the organisation's pages, the error page they get). The decision table itself is in
 * test_access.c. */
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "glue_fixture.h"
#include "httpd_stub.h"
#include "mod_stp.h"
#include "stp_library.h"

/* A signed-in GET; `licence` is the licence claim as the provider passes it (NULL: none). */
static request_rec *get_as(const char *uri, const char *sub, const char *tid, const char *roles, const char *licence)
{
    request_rec *r = req("GET", uri);
    if (sub)
        sign_in(r, sub, tid, roles);
    if (licence)
        apr_table_setn(r->subprocess_env, "OIDC_CLAIM_licence", licence);
    return r;
}

/* The same, as a member of t1 whom nobody listed (what the organisation settings decide). */
static request_rec *unlisted(const char *uri)
{
    request_rec *r = get_as(uri, "dan", "t1", NULL, "e5");
    mod_stp_req_get(r)->user.unlisted = 1;
    return r;
}

START_TEST(test_requirement_downloads)
{
    const char *file = "The licence guide file.";
    request_rec *r = get_as("/download/licence-guide", NULL, NULL, NULL, NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY); /* anonymous: sign in first */
    ck_assert_ptr_nonnull(strstr(out_hdr(r, "Location"), "/stp/login?"));

    r = get_as("/download/licence-guide", "bob", "t1", NULL, "e55, xe5");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "Requires: licence e5");
    assert_lacks(stub_out(r), file);
    ck_assert_str_eq(env(r, "STP_DECISION"), "requirement");
    assert_personal(r, "requirement page");

    r = get_as("/download/licence-guide", "pat", NULL, NULL, NULL); /* personal accounts alike */
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);

    r = get_as("/download/licence-guide", "alice", "t1", NULL, "e3,e5");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    ck_assert_ptr_nonnull(strstr(stub_out(r), file));

    /* The tenant administrator's document: 403 for other members, 404 for other tenants. */
    r = get_as("/download/t1-admin-pack", "bob", "t1", "Reader", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "Requires: tenant administrator role");
    r = get_as("/download/t1-admin-pack", "carol", "t1", "Reader,GlobalAdmin", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    r = get_as("/download/t1-admin-pack", "erin", "t2", "GlobalAdmin", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);

    /* In German, with the same names. */
    r = get_as("/download/licence-guide", "bob", "t1", NULL, NULL);
    apr_table_setn(r->headers_in, "Accept-Language", "de");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "Erfordert: licence e5");
}
END_TEST

START_TEST(test_requirement_library_and_search)
{
    /* A saved document the user no longer meets is not listed; with the claim it is. */
    stp_saved_t e = {"licence-guide", "licence-guide", "x", "x", apr_time_now()};
    ck_assert_int_eq(stp_library_save(conf->state, user_key("bob"), &e), APR_SUCCESS);
    request_rec *r = get_as("/stp/library", "bob", "t1", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    assert_lacks(stub_out(r), "/download/licence-guide");
    r = get_as("/stp/library", "bob", "t1", NULL, "e5");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "/download/licence-guide");

    /* Saving one refuses with the page that says what is needed, before anything else. */
    r = post("/stp/library", "action=add&doc=licence-guide&lang=en&return=%2Fen%2F");
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "Requires: licence e5");

    /* Search: found only by those who meet it. */
    r = get_as("/stp/search", "bob", "t1", NULL, NULL);
    r->args = "lang=en&q=licence";
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "licence-guide");
    r = get_as("/stp/search", "bob", "t1", NULL, "e5");
    r->args = "lang=en&q=licence";
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"licence-guide\"");
}
END_TEST

START_TEST(test_unlisted_documents)
{
    request_rec *r = unlisted("/download/t1-pack");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND); /* as for outsiders */
    r = unlisted("/download/nda-pentest");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "have not given you access to your organization");
    ck_assert_str_eq(env(r, "STP_DECISION"), "unlisted");
    r = unlisted("/download/public-report");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    r = unlisted("/download/signin-policy");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    r = unlisted("/download/licence-guide"); /* his claims still count */
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    /* So does the NDA page: there is nothing for him to accept it for. */
    r = unlisted("/stp/nda");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "have not given you access to your organization");
    /* The organisation's pages refuse him with the same page (the fixup, for a <Location>
     * without Require stp-tenant). */
    r = unlisted("/en/org/");
    ck_assert_int_eq(stub_run(r), HTTP_FORBIDDEN);
    ck_assert_str_eq(apr_table_get(r->notes, MOD_STP_NOTE_UNLISTED), "1");
}
END_TEST

START_TEST(test_unlisted_authz_and_error_page)
{
    const authz_provider *p = stub_provider(AUTHZ_PROVIDER_GROUP, "stp-tenant", AUTHZ_PROVIDER_VERSION);
    const void *parsed = NULL;
    cmd_parms cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.pool = cmd.temp_pool = pool;
    cmd.server = srv;
    ck_assert_ptr_null(p->parse_require_line(&cmd, "", &parsed));
    request_rec *r = unlisted("/en/org/");
    ck_assert_int_eq(p->check_authorization(r, "", parsed), AUTHZ_DENIED);
    ck_assert_str_eq(apr_table_get(r->notes, MOD_STP_NOTE_UNLISTED), "1");
    /* A tenant the line does not admit is a plain refusal. */
    ck_assert_ptr_null(p->parse_require_line(&cmd, "t2", &parsed));
    r = unlisted("/en/org/");
    ck_assert_int_eq(p->check_authorization(r, "t2", parsed), AUTHZ_DENIED);
    ck_assert_ptr_null(apr_table_get(r->notes, MOD_STP_NOTE_UNLISTED));
    /* The ErrorDocument of that 403 is the unlisted page. */
    request_rec *prev = req("GET", "/en/org/");
    prev->status = HTTP_FORBIDDEN;
    apr_table_setn(prev->notes, MOD_STP_NOTE_UNLISTED, "1");
    r = req("GET", "/stp/error");
    r->prev = prev;
    prev->next = r;
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "Your organization has not given you access");
    /* Without the note, the ordinary 403 page. */
    prev = req("GET", "/en/org/");
    prev->status = HTTP_FORBIDDEN;
    r = req("GET", "/stp/error");
    r->prev = prev;
    prev->next = r;
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "Your organization has not given you access");
}
END_TEST

/* The user record keeps what digests judge requirements by: the role, and the values of the claims
 * the build's documents require (the gate fixture requires only "licence"), no other claim. */
START_TEST(test_record_keeps_role_and_required_claims)
{
    stp_user_record_t rec;
    request_rec *r = get_as("/stp/whoami", "alice", "t1", NULL, "e3,e5");
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_audience", "gov");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_str_eq(rec.claims, "licence\te3,e5\n");
    ck_assert_int_eq(rec.tenant_admin, 0);
    r = get_as("/stp/whoami", "alice", "t1", "GlobalAdmin", NULL); /* now an administrator, licence gone */
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_str_eq(rec.claims, "");
    ck_assert_int_eq(rec.tenant_admin, 1);
}
END_TEST

Suite *glue_access_suite(void)
{
    Suite *s = suite_create("glue-access");
    TCase *tc = tcase_create("access");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_requirement_downloads);
    tcase_add_test(tc, test_requirement_library_and_search);
    tcase_add_test(tc, test_unlisted_documents);
    tcase_add_test(tc, test_unlisted_authz_and_error_page);
    tcase_add_test(tc, test_record_keeps_role_and_required_claims);
    suite_add_tcase(s, tc);
    return s;
}
