/* mod_stp_request.c's plumbing: local-only redirects, the sign-in detour, and urlencoded forms. */
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

/* --- redirects ---------------------------------------------------------------------------------- */

START_TEST(test_redirect_local)
{
    request_rec *r = req("GET", "/stp/login");
    ck_assert_int_eq(mod_stp_redirect(r, HTTP_SEE_OTHER, "/en/docs/soc-2026/?x=1"), HTTP_SEE_OTHER);
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
        ck_assert_int_eq(mod_stp_redirect(r, HTTP_MOVED_TEMPORARILY, targets[i]), HTTP_MOVED_TEMPORARILY);
        ck_assert_msg(!strcmp(out_hdr(r, "Location"), "/"), "%s went to %s", targets[i], out_hdr(r, "Location"));
        ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    }
    request_rec *r = req("GET", "/stp/login");
    mod_stp_redirect(r, HTTP_MOVED_TEMPORARILY, NULL);
    ck_assert_str_eq(out_hdr(r, "Location"), "/");
}
END_TEST

START_TEST(test_signin_redirect_returns)
{
    request_rec *r = req("GET", "/download/signin-policy?lang=de&x=a b");
    ck_assert_int_eq(mod_stp_signin_redirect(r), HTTP_MOVED_TEMPORARILY);
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
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_int_eq(r->read_length, 0);

    r = req("POST", "/stp/nda");
    stub_set_body(r, NULL, "a=1", 0);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);

    r = req("POST", "/stp/nda");
    stub_set_body(r, "multipart/form-data; boundary=x", "a=1", 0);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_ptr_null(form);

    /* Another type that merely starts the same. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded-evil", "a=1", 0);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_ptr_null(form);

    /* Parameters and case do not matter. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "a=1", 0);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "1");
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded", "a=2", 0);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "2");
}
END_TEST

START_TEST(test_form_too_big)
{
    apr_table_t *form = NULL;
    /* Announced as too big: refused before a byte is read. */
    request_rec *r = post("/stp/nda", "a=0123456789abcd"); /* 16 bytes */
    ck_assert_int_eq(mod_stp_form_read(&form, r, 15), HTTP_REQUEST_ENTITY_TOO_LARGE);
    ck_assert_int_eq(r->read_length, 0);

    /* Chunked, with no length up front: refused once the limit is passed. */
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded", "a=0123456789abcd", 1);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 15), HTTP_REQUEST_ENTITY_TOO_LARGE);
    ck_assert_ptr_null(form);

    /* Exactly the limit is fine, either way. */
    r = post("/stp/nda", "a=0123456789abcd");
    ck_assert_int_eq(mod_stp_form_read(&form, r, 16), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "0123456789abcd");
    r = req("POST", "/stp/nda");
    stub_set_body(r, "application/x-www-form-urlencoded", "a=0123456789abcd", 1);
    ck_assert_int_eq(mod_stp_form_read(&form, r, 16), OK);
    ck_assert_str_eq(apr_table_get(form, "a"), "0123456789abcd");
}
END_TEST

START_TEST(test_form_bad_encoding)
{
    static const char *const bodies[] = {"a=%zz", "a=%f", "a=%ff", "a=%00", "a=1&a=2", "=1"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        apr_table_t *form = NULL;
        request_rec *r = post("/stp/nda", bodies[i]);
        ck_assert_msg(mod_stp_form_read(&form, r, 64) == HTTP_BAD_REQUEST, "%s accepted", bodies[i]);
        ck_assert_ptr_null(form);
        ck_assert_int_eq(stub_io(r)->log_count, 1);
        ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "refused form"));
    }
    /* A connection that breaks mid-body. */
    apr_table_t *form = NULL;
    request_rec *r = post("/stp/nda", "a=1");
    stub_io(r)->body_fail = 1;
    ck_assert_int_eq(mod_stp_form_read(&form, r, 64), HTTP_BAD_REQUEST);
    ck_assert_ptr_null(form);
}
END_TEST

START_TEST(test_form_good)
{
    apr_table_t *form = NULL;
    request_rec *r = post("/stp/nda", "csrf=abc&return=%2Fdownload%2Fnda-pentest%3Flang%3Dde&note=a+b%C3%A9&empty=");
    ck_assert_int_eq(mod_stp_form_read(&form, r, 4096), OK);
    ck_assert_str_eq(apr_table_get(form, "csrf"), "abc");
    ck_assert_str_eq(apr_table_get(form, "return"), "/download/nda-pentest?lang=de");
    ck_assert_str_eq(apr_table_get(form, "note"), "a b\xc3\xa9");
    ck_assert_str_eq(apr_table_get(form, "empty"), "");
    ck_assert_int_eq(apr_table_elts(form)->nelts, 4);

    /* No body at all: an empty form. */
    r = post("/stp/nda", "");
    ck_assert_int_eq(mod_stp_form_read(&form, r, 4096), OK);
    ck_assert_int_eq(apr_table_elts(form)->nelts, 0);
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_request_suite(void)
{
    Suite *s = suite_create("glue-request");
    TCase *tc;

    tc = tcase_create("redirect");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_redirect_local);
    tcase_add_test(tc, test_redirect_not_offsite);
    tcase_add_test(tc, test_signin_redirect_returns);
    suite_add_tcase(s, tc);

    tc = tcase_create("form");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_form_content_type);
    tcase_add_test(tc, test_form_too_big);
    tcase_add_test(tc, test_form_bad_encoding);
    tcase_add_test(tc, test_form_good);
    suite_add_tcase(s, tc);
    return s;
}
