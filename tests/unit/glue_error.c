/* /stp/error (mod_stp_error.c), the ErrorDocument of every status the portal answers: reached by
 * httpd's internal redirect, with the failed request as r->prev; the status and the page in the
 * site layout and the reader's language (the failed URL's /<lang>/ first). */
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <httpd.h>
#include <http_protocol.h>

#include "glue_fixture.h"
#include "httpd_stub.h"

/* What ap_internal_redirect makes of an error answer for `uri`: a GET of /stp/error whose prev is
 * the failed request; its environment renamed to REDIRECT_*. */
static request_rec *error_for(const char *method, const char *uri, int status)
{
    request_rec *prev = req(method, uri);
    prev->status = status;
    request_rec *r = req("GET", "/stp/error");
    r->prev = prev;
    prev->next = r;
    return r;
}

static void sign_in_redirected(request_rec *r, const char *sub, const char *tid)
{
    sign_in(r->prev, sub, tid, NULL);
    const apr_array_header_t *vars = apr_table_elts(r->prev->subprocess_env);
    for (int i = 0; i < vars->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(vars, i, apr_table_entry_t);
        apr_table_setn(r->subprocess_env, apr_pstrcat(pool, "REDIRECT_", e->key, NULL), e->val);
    }
    apr_table_setn(r->headers_in, "Cookie", "stp_sid=" SID);
    r->user = r->prev->user;
}

START_TEST(test_error_statuses)
{
    static const struct {
        int status;
        const char *title, *body;
    } cases[] = {
        {HTTP_NOT_FOUND, "Page not found", "We could not find that page or document."},
        {HTTP_FORBIDDEN, "No access", "This part of the portal is for members of an organization."},
        {HTTP_GONE, "This version is no longer available", "This version has been retired."},
        {HTTP_INTERNAL_SERVER_ERROR, "Something went wrong", "The portal could not answer this request."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_rec *r = error_for("GET", "/en/docs/whatever/", cases[i].status);
        ck_assert_int_eq(stub_run(r), OK);
        assert_page(r, cases[i].status, "en");
        const char *html = stub_out(r);
        assert_has(html, apr_pstrcat(pool, "<title>", cases[i].title, " · Gate Test Portal</title>", NULL));
        assert_has(html, apr_pstrcat(pool, "<h1>", cases[i].title, "</h1>", NULL));
        assert_has(html, cases[i].body);
        assert_has(html, "<body class=\"page-error\">");
        assert_secure(r, cases[i].title);
        assert_personal(r, cases[i].title);
    }
    /* Asked for directly: nothing is here. */
    request_rec *r = req("GET", "/stp/error");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_NOT_FOUND, "en");
    assert_has(stub_out(r), "<h1>Page not found</h1>");
    /* A status without a page of its own: the 404 page. */
    r = error_for("GET", "/en/", HTTP_CONFLICT);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_NOT_FOUND, "en");
}
END_TEST

/* The language of the URL that failed, before Accept-Language. */
START_TEST(test_error_language)
{
    request_rec *r = error_for("GET", "/de/docs/gibt-es-nicht/", HTTP_NOT_FOUND);
    apr_table_setn(r->headers_in, "Accept-Language", "ja");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_NOT_FOUND, "de");
    assert_has(stub_out(r), "<h1>Seite nicht gefunden</h1>");
    assert_has(stub_out(r), "<html lang=\"de\" dir=\"ltr\">");

    r = error_for("GET", "/ar/docs/missing/", HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_NOT_FOUND, "ar");
    assert_has(stub_out(r), "<html lang=\"ar\" dir=\"rtl\">");
    assert_has(stub_out(r), "<h1>الصفحة غير موجودة</h1>");
    assert_has(stub_out(r), "<a href=\"/ar/\">");

    r = error_for("GET", "/ar/org/", HTTP_FORBIDDEN);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "ar");
    assert_has(stub_out(r), "<html lang=\"ar\" dir=\"rtl\">");
    assert_has(stub_out(r), "<h1>لا يوجد وصول</h1>");

    /* A URL without a language: Accept-Language. */
    r = error_for("GET", "/download/no-such-doc", HTTP_GONE);
    apr_table_setn(r->headers_in, "Accept-Language", "de");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_GONE, "de");
    assert_has(stub_out(r), "<h1>Diese Version ist nicht mehr verfügbar</h1>");
}
END_TEST

/* The module's pages show the portal's own words of site.xml from the build's catalog, in the
 * page's locale or else the default locale's, escaped (tests/fixtures/gate/site.xml). */
START_TEST(test_error_portal_words)
{
    request_rec *r = error_for("GET", "/de/docs/gibt-es-nicht/", HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "<p>Gate footer &amp; more &lt;b&gt;</p>");
    assert_has(stub_out(r), "<a href=\"https://gate.example/privacy?a=1&amp;b=2\" class=\"privacy\">Gate privacy</a>");
    assert_has(stub_out(r), "<a href=\"mailto:gate@example.com\" class=\"contact\">Write to us</a>");

    r = error_for("GET", "/ar/docs/missing/", HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "<p>تذييل البوابة</p>");
    assert_has(stub_out(r), "<a href=\"mailto:ar@example.com\" class=\"contact\">راسلنا</a>");
    assert_has(stub_out(r), "<a href=\"https://gate.example/privacy?a=1&amp;b=2\" class=\"privacy\">Gate privacy</a>");
    ck_assert_ptr_null(strstr(stub_out(r), "Gate footer"));
}
END_TEST

/* The failed request's user (its REDIRECT_ claims) is the page's: a personal account refused an
 * organisation's pages may sign in with another account from the page. */
START_TEST(test_error_signed_in)
{
    request_rec *r = error_for("GET", "/de/org/", HTTP_FORBIDDEN);
    sign_in_redirected(r, "alice", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "de");
    const char *main = strstr(stub_out(r), "<main");
    assert_has(stub_out(r), "<li class=\"who\"><a href=\"/stp/account?lang=de\">alice@example.com</a></li>");
    assert_has(main, "<button type=\"submit\">Mit einem anderen Konto anmelden</button>");
    assert_token_for(form_csrf(main, "/stp/logout"), "alice", "logout");

    /* Claims are not taken from the error request's own headers. */
    r = error_for("GET", "/en/org/", HTTP_FORBIDDEN);
    apr_table_setn(r->headers_in, "REDIRECT_OIDC_CLAIM_sub", "mallory");
    apr_table_setn(r->headers_in, "OIDC_CLAIM_sub", "mallory");
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "mallory");
    assert_lacks(stub_out(r), "<li class=\"who\">");
}
END_TEST

/* An outsider's 404 for another tenant's document is the unknown id's, page and headers alike. */
START_TEST(test_error_hidden_identical)
{
    request_rec *hidden = error_for("GET", "/download/t2-pack", HTTP_NOT_FOUND);
    request_rec *unknown = error_for("GET", "/download/no-such-doc", HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(hidden), OK);
    ck_assert_int_eq(stub_run(unknown), OK);
    ck_assert_int_eq(hidden->status, HTTP_NOT_FOUND);
    ck_assert_str_eq(stub_out(hidden), stub_out(unknown));
    ck_assert_str_eq(headers_of(hidden), headers_of(unknown));
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_error_suite(void)
{
    Suite *s = suite_create("glue-error");
    TCase *tc = tcase_create("error");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_error_statuses);
    tcase_add_test(tc, test_error_language);
    tcase_add_test(tc, test_error_portal_words);
    tcase_add_test(tc, test_error_signed_in);
    tcase_add_test(tc, test_error_hidden_identical);
    suite_add_tcase(s, tc);
    return s;
}
