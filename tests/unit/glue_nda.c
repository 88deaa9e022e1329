/* GET and POST /stp/nda (mod_stp_nda.c): the agreement, its CSRF-checked acceptance, the
 * confirmation, and who may accept at all. */
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
#include "stp_csrf.h"
#include "stp_sha256.h"

/* --- the NDA ------------------------------------------------------------------------------------ */

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

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_nda_suite(void)
{
    Suite *s = suite_create("glue-nda");
    TCase *tc;

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
    suite_add_tcase(s, tc);
    return s;
}
