/* GET /stp/search (mod_stp_search.c) on a fabricated request: the query string turned into a
 * query (400 for what no form sends), the reader's tenant handed to the index, the answer as a page
 * in the site layout or as JSON. The index itself is tested in test_search.c. */
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <http_protocol.h>
#include <httpd.h>

#include "glue_fixture.h"
#include "httpd_stub.h"

static request_rec *search(const char *args, const char *sub, const char *tid, int json)
{
    request_rec *r = req("GET", "/stp/search");
    r->args = args ? apr_pstrdup(pool, args) : NULL;
    if (sub)
        sign_in(r, sub, tid, NULL);
    if (json)
        apr_table_setn(r->headers_in, "Accept", "application/json");
    return r;
}

START_TEST(test_search_page)
{
    request_rec *r = search("lang=en&q=report", NULL, NULL, 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *html = stub_out(r);
    assert_has(html, "<body class=\"page-search\">");
    assert_has(html, "href=\"/en/docs/public-report/\"");
    assert_has(html, "<mark>report</mark>");
    /* The query stays in the form; the header's search box holds it too. */
    assert_has(html, "id=\"search-q\" type=\"search\" name=\"q\" value=\"report\"");
    assert_secure(r, "search");
    assert_personal(r, "search");
}
END_TEST

START_TEST(test_search_tenant)
{
    /* Tenant documents only for their members; the index answers by the user's tenant. */
    request_rec *r = search("lang=en&q=tenant", NULL, NULL, 1);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"total\":0,");
    r = search("lang=en&q=tenant", "bob", "t2", 1);
    ck_assert_int_eq(stub_run(r), OK);
    const char *json = stub_out(r);
    assert_has(json, "\"id\":\"t2-pack\"");
    assert_has(json, "\"url\":\"/en/org/docs/t2-pack/\"");
    assert_lacks(json, "t1-pack");
    r = search("lang=en&q=tenant", "pat", NULL, 1); /* a personal account: no tenant */
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"total\":0,");
}
END_TEST

START_TEST(test_search_bad_input)
{
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *bad[] = {
        "q=%ff",       "page=-1",       "page=0",  "page=1000000000", "page=2x",
        "sort=newest", "service=a%20b", "q=a&q=b", "region=%3Cx%3E",  apr_pstrcat(pool, "q=", big, NULL)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request_rec *r = search(bad[i], NULL, NULL, 0);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_msg(r->status == HTTP_BAD_REQUEST, "%s: %d", bad[i], r->status);
        assert_has(stub_out(r), "<body class=\"page-error\">");
    }
    /* Query syntax is text, never an error; an unknown filter finds nothing. */
    const char *fine[] = {"q=NEAR(a%20b)", "q=%22open", "q=*", "q=title%3Areport", "q=%5E", "region=nowhere"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        request_rec *r = search(fine[i], NULL, NULL, 1);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_msg(r->status == HTTP_OK, "%s: %d", fine[i], r->status);
    }
    request_rec *r = search("region=nowhere", NULL, NULL, 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "<p class=\"empty\">No documents match your search with these filters.");
    /* Only GET. */
    r = req("POST", "/stp/search");
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
}
END_TEST

START_TEST(test_search_filters_and_pages)
{
    /* Filters repeat their key; a chosen one shows with a link that removes it. */
    request_rec *r = search("lang=en&region=eu&region=eu&service=compute", NULL, NULL, 0);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    const char *html = stub_out(r);
    assert_has(html, "<input type=\"checkbox\" name=\"region\" value=\"eu\" checked>");
    assert_has(html, "href=\"/stp/search?lang=en&amp;service=compute\"");
    assert_has(html, "href=\"/stp/search?lang=en&amp;region=eu\"");
    /* Without text, every document the reader may see, newest first. */
    r = search("lang=en", NULL, NULL, 1);
    ck_assert_int_eq(stub_run(r), OK);
    const char *json = stub_out(r);
    assert_has(json, "\"sort\":\"relevance\"");
    const char *soc = strstr(json, "\"id\":\"soc-2026\""), *pub = strstr(json, "\"id\":\"public-report\"");
    ck_assert_ptr_nonnull(soc);
    ck_assert_ptr_nonnull(pub);
    assert_lacks(json, "soc-2024"); /* superseded versions are not found */
}
END_TEST

Suite *glue_search_suite(void)
{
    Suite *s = suite_create("glue-search");
    TCase *tc = tcase_create("search");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_search_page);
    tcase_add_test(tc, test_search_tenant);
    tcase_add_test(tc, test_search_bad_input);
    tcase_add_test(tc, test_search_filters_and_pages);
    suite_add_tcase(s, tc);
    return s;
}
