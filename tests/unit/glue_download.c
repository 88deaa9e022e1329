/* GET /download/<doc-id>[/<version>] (mod_stp_download.c): the gated file, the sign-in and NDA
 * detours, 410 for retired versions, and 404 for what the reader may not know of. */
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
#include "stp_hash.h"

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
    char sha[STP_HASH_HEX_LEN + 1];
    stp_hash_sha256_hex(sha, data, len);
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

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_download_suite(void)
{
    Suite *s = suite_create("glue-download");
    TCase *tc;

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
    return s;
}
