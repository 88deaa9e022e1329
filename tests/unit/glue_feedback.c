/* Feedback (mod_stp_feedback.c): the widget on every page, GET /stp/feedback (the form, and a
 * token for stp.js), and POST: same-origin only, a signed-in user's token, bad input as a 400
 * with nothing stored, the per-address limit of anonymous answers as a 429, JSON for stp.js. */
#include <apr_file_io.h>
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <http_protocol.h>
#include <httpd.h>

#include "glue_fixture.h"
#include "httpd_stub.h"
#include "stp_feedback.h"
#include "stp_http.h"

#define SAME_SITE "Sec-Fetch-Site"

static int collect(void *baton, const stp_feedback_t *e)
{
    const char **out = baton;
    *out = apr_psprintf(pool, "%s%" APR_UINT64_T_FMT " %s %s %s [%s] %s %" APR_UINT64_T_FMT "\n", *out, e->seq, e->page,
                        e->lang, *e->answer ? e->answer : "-", e->comment, *e->user_key ? e->user_key : "anonymous",
                        e->ref);
    return 0;
}

/* The stored feedback, one line per entry. */
static const char *stored(void)
{
    const char *out = "";
    ck_assert_int_eq(stp_feedback_each(conf->state, collect, &out, pool), APR_SUCCESS);
    return out;
}

/* A POST from one of our pages (Sec-Fetch-Site: same-origin) unless `site` says otherwise. */
static request_rec *fb_post(const char *body, const char *site, const char *sub, int json)
{
    request_rec *r = post("/stp/feedback", body);
    r->useragent_ip = "192.0.2.1";
    if (site)
        apr_table_setn(r->headers_in, SAME_SITE, site);
    if (sub)
        sign_in(r, sub, "t1", NULL);
    if (json)
        apr_table_setn(r->headers_in, "Accept", "application/json");
    return r;
}

START_TEST(test_feedback_widget)
{
    /* On a module page: about this page, in its language, with a link to the form. */
    request_rec *r = req("GET", "/stp/search?lang=de&q=soc");
    ck_assert_int_eq(stub_run(r), OK);
    const char *html = stub_out(r);
    assert_has(html, "<form class=\"feedback\" method=\"post\" action=\"/stp/feedback\"");
    assert_has(html, "<input type=\"hidden\" name=\"page\" value=\"/stp/search\">"); /* no query */
    assert_has(html, "<input type=\"hidden\" name=\"lang\" value=\"de\">");
    assert_has(html, "War diese Seite hilfreich?");
    assert_has(html, "<button type=\"submit\" name=\"answer\" value=\"yes\">Ja</button>");
    assert_has(html, "href=\"/stp/feedback?lang=de&amp;page=%2Fstp%2Fsearch\"");
    /* On a static page, from the same template. */
    apr_file_t *f;
    char buf[65536];
    apr_size_t n = sizeof buf - 1;
    ck_assert_int_eq(
        apr_file_open(&f, apr_pstrcat(pool, site_dir, "/current/public/en/index.html", NULL), APR_FOPEN_READ, 0, pool),
        APR_SUCCESS);
    apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    buf[n] = '\0';
    assert_has(buf, "<input type=\"hidden\" name=\"page\" value=\"/en/\">");
    assert_has(buf, "Was this page helpful?");
    assert_has(buf, "href=\"/stp/feedback?lang=en&amp;page=/en/\"");
    /* Not on the feedback page itself. */
    r = req("GET", "/stp/feedback?lang=en&page=/en/");
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "class=\"feedback\"");
}
END_TEST

START_TEST(test_feedback_form)
{
    request_rec *r = req("GET", "/stp/feedback?lang=ar&page=%2Far%2Fdocs%2Fsoc-2026%2F");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "ar");
    const char *html = stub_out(r);
    assert_has(html, "<body class=\"page-feedback\">");
    assert_has(html, "dir=\"rtl\"");
    assert_has(html, "name=\"page\" value=\"/ar/docs/soc-2026/\" maxlength=\"1024\"");
    assert_has(html, "maxlength=\"2000\"");
    assert_has(html, "aria-describedby=\"fb-privacy\"");
    assert_has(html, "يُرجى عدم تضمين بيانات شخصية");
    assert_lacks(html, "name=\"csrf\""); /* anonymous: nothing to bind a token to */
    assert_secure(r, "feedback form");
    /* Only local pages are pre-filled. */
    r = req("GET", "/stp/feedback?lang=en&page=%2F%2Fevil.example%2F");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "name=\"page\" value=\"\"");
    assert_lacks(stub_out(r), "value=\"//evil");
    /* A signed-in user's form carries their token; stp.js asks for it as JSON. */
    r = req("GET", "/stp/feedback?lang=en&page=/en/");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_token_for(form_csrf(stub_out(r), "/stp/feedback"), "bob", "feedback");
    r = req("GET", "/stp/feedback");
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(stub_out(r), "{\"token\":null}\n");
    r = req("GET", "/stp/feedback");
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    const char *json = stub_out(r);
    ck_assert_int_eq(strncmp(json, "{\"token\":\"", 10), 0);
    assert_token_for(apr_pstrndup(pool, json + 10, strcspn(json + 10, "\"")), "bob", "feedback");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    /* Other methods. */
    ck_assert_int_eq(stub_run(req("PUT", "/stp/feedback")), HTTP_METHOD_NOT_ALLOWED);
}
END_TEST

START_TEST(test_feedback_anonymous)
{
    /* The footer's Yes, then the thanks page's comment. */
    request_rec *r = fb_post("page=%2Fen%2Fdocs%2Fsoc-2026%2F&lang=en&answer=yes", "same-origin", NULL, 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    const char *loc = out_hdr(r, "Location");
    ck_assert_str_eq(loc, "/stp/feedback?thanks=1&lang=en&page=%2Fen%2Fdocs%2Fsoc-2026%2F&ref=1");
    ck_assert_str_eq(stored(), "1 /en/docs/soc-2026/ en yes [] anonymous 0\n");
    r = req("GET", loc);
    ck_assert_int_eq(stub_run(r), OK);
    const char *html = stub_out(r);
    assert_has(html, "<p class=\"notice\" role=\"status\">Thank you for your feedback.</p>");
    assert_has(html, "<input type=\"hidden\" name=\"ref\" value=\"1\">");
    assert_has(html, "href=\"/en/docs/soc-2026/\"");
    /* Text stays text: markup, quotes and a formula are stored as typed and shown escaped. */
    r = fb_post("page=%2Fen%2Fdocs%2Fsoc-2026%2F&lang=en&ref=1&comment=%3Cscript%3Ex%3C%2Fscript%3E+%3D1%2B1%0D%0Aok",
                "same-origin", NULL, 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/feedback?thanks=1&lang=en&page=%2Fen%2Fdocs%2Fsoc-2026%2F&ref=0");
    ck_assert_str_eq(stored(), "1 /en/docs/soc-2026/ en yes [] anonymous 0\n"
                               "2 /en/docs/soc-2026/ en - [<script>x</script> =1+1\nok] anonymous 1\n");
    r = req("GET", "/stp/feedback?thanks=1&lang=en&page=%2Fen%2F&ref=0");
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "<textarea"); /* nothing more to send */
    /* Without Fetch Metadata, an Origin of ours. */
    r = fb_post("page=%2Fde%2F&lang=de&answer=no", NULL, NULL, 1);
    apr_table_setn(r->headers_in, "Origin", "http://portal.test");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_str_eq(stub_out(r), "{\"stored\":true,\"seq\":3,\"comment\":true}\n");
}
END_TEST

START_TEST(test_feedback_cross_site)
{
    const char *body = "page=%2Fen%2F&lang=en&answer=no";
    const char *sites[] = {"cross-site", "same-site", "none"};
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        request_rec *r = fb_post(body, sites[i], NULL, 0);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_msg(r->status == HTTP_FORBIDDEN, "%s: %d", sites[i], r->status);
        assert_has(stub_out(r), "<body class=\"page-error\">");
    }
    /* Without Fetch Metadata: another Origin, "null", or nothing that says where it comes from. */
    const char *origins[] = {"http://evil.example", "null", "http://portal.test.evil.example", NULL};
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        request_rec *r = fb_post(body, NULL, NULL, 0);
        if (origins[i])
            apr_table_setn(r->headers_in, "Origin", origins[i]);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    }
    /* Same-origin by Fetch Metadata but another Origin header: refused. */
    request_rec *r = fb_post(body, "same-origin", NULL, 0);
    apr_table_setn(r->headers_in, "Origin", "http://evil.example");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    /* A signed-in user's valid token does not make a cross-site POST acceptable. */
    r = fb_post(apr_pstrcat(pool, body, "&csrf=", token_for("bob", "feedback"), NULL), "cross-site", "bob", 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_str_eq(stored(), "");
}
END_TEST

START_TEST(test_feedback_signed_in)
{
    const char *body = "page=%2Fen%2Fdocs%2Fsoc-2026%2F&lang=en&answer=no&comment=Too+short";
    /* A static page's form has no token: nothing stored, the form again with one (403). */
    request_rec *r = fb_post(body, "same-origin", "bob", 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    const char *html = stub_out(r);
    assert_has(html, "Please confirm");
    assert_has(html, "<input type=\"radio\" name=\"answer\" value=\"no\" checked>");
    assert_has(html, ">Too short</textarea>");
    const char *tok = form_csrf(html, "/stp/feedback");
    assert_token_for(tok, "bob", "feedback");
    ck_assert_str_eq(stored(), "");
    /* A wrong token, another user's, an expired-looking one: 403, nothing stored. */
    const char *bad[] = {"0123", token_for("carol", "feedback"), token_for("bob", "library"), ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = fb_post(apr_pstrcat(pool, body, "&csrf=", bad[i], NULL), "same-origin", "bob", i % 2);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_msg(r->status == HTTP_FORBIDDEN, "token %zu: %d", i, r->status);
    }
    /* The token is checked before the fields: a bad token with bad input is still 403. */
    r = fb_post("page=%2F%2Fevil&lang=en&answer=maybe&csrf=0123", "same-origin", "bob", 0);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    /* JSON without a token: 403 too (stp.js always sends one). */
    r = fb_post(body, "same-origin", "bob", 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_str_eq(stored(), "");
    /* The confirmation's token: stored, with the user. */
    r = fb_post(apr_pstrcat(pool, body, "&csrf=", tok, NULL), "same-origin", "bob", 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(stored(), "1 /en/docs/soc-2026/ en no [Too short] https://idp.test|bob 0\n");
}
END_TEST

START_TEST(test_feedback_bad_input)
{
    char *big = apr_palloc(pool, 2002);
    memset(big, 'a', 2001);
    big[2001] = '\0';
    const char *bad[] = {
        apr_pstrcat(pool, "page=%2Fen%2F&lang=en&comment=", big, NULL), /* 2,001 characters */
        "page=%2Fen%2F&lang=en&answer=yes&comment=%ff",                 /* invalid UTF-8 */
        "page=%2Fen%2F&lang=en&answer=yes&comment=%c0%af",              /* an overlong form */
        "page=%2Fen%2F&lang=en&answer=yes&comment=bell%07",             /* a control character */
        "page=%2F%2Fevil.example%2F&lang=en&answer=yes",                /* not a local page */
        "page=https%3A%2F%2Fevil.example%2F&lang=en&answer=yes",
        "lang=en&answer=yes",               /* no page */
        "page=%2Fen%2F&lang=fr&answer=yes", /* not a language of the site */
        "page=%2Fen%2F&lang=en&answer=maybe",
        "page=%2Fen%2F&lang=en",                      /* neither answer nor comment */
        "page=%2Fen%2F&lang=en&answer=yes&answer=no", /* a repeated field */
        "page=%2Fen%2F&lang=en&comment=x&ref=abc",
        "page=%2Fen%2F&lang=en&comment=x&ref=-1",
        "page=%2Fen%2F&lang=en&comment=x&ref=7", /* no such answer */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* A form that does not parse is httpd's 400 (the ErrorDocument page, /stp/error); a
         * field the core refuses, the handler's own 400 page. */
        request_rec *r = fb_post(bad[i], "same-origin", NULL, 0);
        int rc = stub_run(r);
        ck_assert_msg(rc == HTTP_BAD_REQUEST || (rc == OK && r->status == HTTP_BAD_REQUEST), "case %zu: %d %d", i, rc,
                      r->status);
        if (rc == OK)
            assert_has(stub_out(r), "<body class=\"page-error\">");
    }
    request_rec *r = fb_post(apr_pstrcat(pool, "page=%2Fen%2F&lang=en&comment=", big, NULL), "same-origin", NULL, 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "Your feedback was not stored");
    r = fb_post("page=%2Fen%2F&lang=en&answer=maybe", "same-origin", NULL, 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_BAD_REQUEST);
    assert_has(stub_out(r), "{\"error\":\"feedback.invalid\",\"message\":\"Your feedback was not stored");
    /* Far more than a comment can be: 413 before anything is parsed; not a form: 415. */
    char *huge = apr_palloc(pool, 40001);
    memset(huge, 'a', 40000);
    huge[40000] = '\0';
    r = fb_post(apr_pstrcat(pool, "page=%2Fen%2F&lang=en&comment=", huge, NULL), "same-origin", NULL, 0);
    ck_assert_int_eq(stub_run(r), HTTP_REQUEST_ENTITY_TOO_LARGE);
    r = req("POST", "/stp/feedback");
    apr_table_setn(r->headers_in, SAME_SITE, "same-origin");
    stub_set_body(r, "text/plain", "page=/en/&lang=en&answer=yes", 0);
    ck_assert_int_eq(stub_run(r), HTTP_UNSUPPORTED_MEDIA_TYPE);
    ck_assert_str_eq(stored(), "");
    /* 2,000 characters of three bytes each are fine. */
    const char *jp = "";
    for (int i = 0; i < 2000; i++)
        jp = apr_pstrcat(pool, jp, "%E3%81%82", NULL);
    r = fb_post(apr_pstrcat(pool, "page=%2Fja%2F&lang=ja&comment=", jp, NULL), "same-origin", NULL, 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
}
END_TEST

static void setup_rate(void)
{
    setup_configured();
    directive("StpFeedbackRate", "3", "600");
    start();
}

START_TEST(test_feedback_rate)
{
    const char *body = "page=%2Fen%2F&lang=en&answer=yes";
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(stub_run(fb_post(body, "same-origin", NULL, 0)), HTTP_SEE_OTHER);
    request_rec *r = fb_post(body, "same-origin", NULL, 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_TOO_MANY_REQUESTS, "en");
    assert_has(stub_out(r), "Too many requests");
    ck_assert_str_eq(out_hdr(r, "Retry-After"), "600");
    r = fb_post(body, "same-origin", NULL, 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_TOO_MANY_REQUESTS);
    assert_has(stub_out(r), "\"error\":\"error.ratelimit.body\"");
    /* Another address, and signed-in users, are not limited by it. */
    r = fb_post(body, "same-origin", NULL, 0);
    r->useragent_ip = "2001:db8::7";
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    r = fb_post(apr_pstrcat(pool, body, "&csrf=", token_for("bob", "feedback"), NULL), "same-origin", "bob", 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    const char *log = stored();
    int n = 0;
    for (const char *p = log; (p = strchr(p, '\n')); p++)
        n++;
    ck_assert_int_eq(n, 5);
    /* The directive's bounds. */
    const char *wrong[][2] = {{"-1", "600"}, {"x", NULL}, {"3", "0"}, {"3", "86401"}, {"3", "10m"}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        ck_assert_ptr_nonnull(stub_directive(&stp_module, srv, pool, "StpFeedbackRate", wrong[i][0], wrong[i][1]));
    ck_assert_ptr_null(stub_directive(&stp_module, srv, pool, "StpFeedbackRate", "0", NULL));
}
END_TEST

Suite *glue_feedback_suite(void)
{
    Suite *s = suite_create("glue-feedback");
    TCase *tc = tcase_create("feedback");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_feedback_widget);
    tcase_add_test(tc, test_feedback_form);
    tcase_add_test(tc, test_feedback_anonymous);
    tcase_add_test(tc, test_feedback_cross_site);
    tcase_add_test(tc, test_feedback_signed_in);
    tcase_add_test(tc, test_feedback_bad_input);
    suite_add_tcase(s, tc);
    TCase *rate = tcase_create("rate");
    tcase_add_checked_fixture(rate, setup_rate, teardown);
    tcase_add_test(rate, test_feedback_rate);
    suite_add_tcase(s, rate);
    return s;
}
