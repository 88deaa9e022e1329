/* My Library (mod_stp_library.c): GET and POST /stp/library, the confirmation of a save from a
 * static page without a token, an anonymous user's pending save through sign-in, and
 * /stp/library/resume. */
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>

#include "glue_fixture.h"
#include "httpd_stub.h"
#include "stp_csrf.h"
#include "stp_http.h"
#include "stp_library.h"

/* The series in a user's library, comma-separated, in the store's order. */
static const char *saved_series(const char *sub)
{
    apr_array_header_t *entries;
    const char *list = "";
    ck_assert_int_eq(stp_library_list(&entries, conf->state, user_key(sub), pool), APR_SUCCESS);
    for (int i = 0; i < entries->nelts; i++)
        list = apr_pstrcat(pool, list, i ? "," : "", APR_ARRAY_IDX(entries, i, stp_saved_t).series, NULL);
    return list;
}

static request_rec *library_post(const char *sub, const char *tid, const char *body, int json)
{
    request_rec *r = post("/stp/library", body);
    if (sub)
        sign_in(r, sub, tid, NULL);
    if (json)
        apr_table_setn(r->headers_in, "Accept", "application/json");
    return r;
}

static const char *add_body(const char *csrf, const char *doc, const char *back)
{
    return apr_pstrcat(pool, csrf ? "csrf=" : "", csrf ? csrf : "", csrf ? "&" : "", "action=add&doc=", doc,
                       back ? "&return=" : "", back ? stp_http_url_escape(back, pool) : "", NULL);
}

START_TEST(test_library_anonymous)
{
    /* The page needs a user: sign in, then come back to it. */
    request_rec *r = req("GET", "/stp/library?lang=de");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fstp%2Flibrary%3Flang%3Dde");
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
    assert_personal(r, "anonymous library");

    /* stp.js asks anonymously too: no token, nothing saved. */
    r = req("GET", "/stp/library");
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_str_eq(stub_out(r), "{\"token\":null,\"series\":[]}\n");

    /* Removing needs a user as well: sign in, nothing else. */
    r = library_post(NULL, NULL, "action=remove&doc=public-report", 0);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_int_eq(strncmp(out_hdr(r, "Location"), "/stp/login?return=", 18), 0);
}
END_TEST

START_TEST(test_library_json)
{
    ck_assert_int_eq(stub_run(library_post("bob", "t1", add_body(token_for("bob", "library"), "soc-2025", NULL), 1)),
                     OK);
    ck_assert_int_eq(stub_run(library_post("bob", "t1", add_body(token_for("bob", "library"), "t1-pack", NULL), 1)),
                     OK);
    request_rec *r = req("GET", "/stp/library");
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    const char *json = stub_out(r);
    /* Both series (their order is the page's: newest update first). */
    const char *series = strstr(json, ",\"series\":[");
    ck_assert_ptr_nonnull(series);
    ck_assert_msg(!strcmp(series, ",\"series\":[\"soc\",\"t1-pack\"]}\n") ||
                      !strcmp(series, ",\"series\":[\"t1-pack\",\"soc\"]}\n"),
                  "%s", json);
    /* The token is bob's for this session, and it works. */
    ck_assert_int_eq(strncmp(json, "{\"token\":\"", 10), 0);
    const char *token = apr_pstrndup(pool, json + 10, strcspn(json + 10, "\""));
    ck_assert_int_eq(
        stp_csrf_check(conf->secret, sizeof conf->secret, user_key("bob"), SID, "library", token, apr_time_now(), pool),
        1);
    r = library_post("bob", "t1", apr_pstrcat(pool, "csrf=", token, "&action=remove&doc=soc-2026", NULL), 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(stub_out(r), "{\"series\":\"soc\",\"saved\":false}\n");
    ck_assert_str_eq(saved_series("bob"), "t1-pack");
}
END_TEST

START_TEST(test_library_add_remove)
{
    /* Saved from a document page: back to it. */
    request_rec *r =
        library_post("bob", "t1", add_body(token_for("bob", "library"), "public-report", "/en/docs/public-report/"), 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/docs/public-report/");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    ck_assert_str_eq(saved_series("bob"), "public-report");
    /* A superseded version saves its series. */
    r = library_post("bob", "t1", add_body(token_for("bob", "library"), "soc-2025", NULL), 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_str_eq(stub_out(r), "{\"series\":\"soc\",\"saved\":true}\n");
    ck_assert_ptr_nonnull(strstr(saved_series("bob"), "soc"));

    /* The page lists both in one form, each with a remove button that names its entry. */
    r = req("GET", "/stp/library");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *html = stub_out(r);
    assert_has(html, "<a class=\"title\" href=\"/en/docs/public-report/\">Public report</a>");
    assert_has(html, "href=\"/en/docs/soc-2026/\"");
    /* public-report's validity ended a month ago (the fixture's <valid>): marked, as of this request */
    assert_has(html, "<a class=\"title\" href=\"/en/docs/public-report/\">Public report</a> <span class=\"badge "
                     "badge-expired\">Expired</span>");
    const char *first = strstr(html, "badge-expired");
    ck_assert_ptr_null(strstr(first + 1, "badge-expired")); /* soc-2026 has no validity */
    assert_has(html, "<input type=\"hidden\" name=\"action\" value=\"remove\">");
    assert_has(html, "<button type=\"submit\" name=\"doc\" value=\"public-report\" aria-pressed=\"true\">Remove from "
                     "library</button>");
    assert_has(html, "data-add=\"Save to library\" data-remove=\"Remove from library\"");
    const char *token = form_csrf(html, "/stp/library");
    ck_assert_int_eq(
        stp_csrf_check(conf->secret, sizeof conf->secret, user_key("bob"), SID, "library", token, apr_time_now(), pool),
        1);

    /* Removed with the page's token; an off-site return goes back to the library instead. */
    r = library_post(
        "bob", "t1",
        apr_pstrcat(pool, "csrf=", token, "&action=remove&doc=public-report&return=%2F%2Fevil.test%2F", NULL), 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/library?lang=en");
    ck_assert_str_eq(saved_series("bob"), "soc");

    /* Neither add nor remove. */
    r = library_post("bob", "t1", apr_pstrcat(pool, "csrf=", token, "&action=drop&doc=soc-2026", NULL), 0);
    ck_assert_int_eq(stub_run(r), HTTP_BAD_REQUEST);
    ck_assert_str_eq(saved_series("bob"), "soc");
}
END_TEST

/* The entries are rendered once per build, language and variant and kept (mod_stp_library.c):
 * the page from kept entries is the page of the first request, each language has its own, and a
 * removed entry is gone from the next page. */
static const char *library_page(const char *sub, const char *lang)
{
    request_rec *r = req("GET", lang ? apr_pstrcat(pool, "/stp/library?lang=", lang, NULL) : "/stp/library");
    sign_in(r, sub, "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, lang ? lang : "en");
    const char *html = stub_out(r), *token = form_csrf(html, "/stp/library");
    assert_token_for(token, sub, "library");
    /* Tokens carry their second: the same page may carry others a moment later (the form's and
     * the sign-out's): each run of a token's length in hex becomes TOKEN. */
    apr_size_t tl = strlen(token);
    char *out = apr_palloc(pool, strlen(html) + 1), *o = out;
    for (const char *p = html; *p;) {
        apr_size_t n = strspn(p, "0123456789abcdef");
        if (n == tl) {
            memcpy(o, "TOKEN", 5);
            o += 5;
        } else {
            memcpy(o, p, n ? n : 1);
            o += n ? n : 1;
        }
        p += n ? n : 1;
    }
    *o = '\0';
    return out;
}

static const char *library_page_empty(const char *sub)
{
    request_rec *r = req("GET", "/stp/library");
    sign_in(r, sub, "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    return stub_out(r);
}

START_TEST(test_library_entries_kept)
{
    ck_assert_int_eq(
        stub_run(library_post("bob", "t1", add_body(token_for("bob", "library"), "public-report", NULL), 1)), OK);
    ck_assert_int_eq(stub_run(library_post("bob", "t1", add_body(token_for("bob", "library"), "soc-2025", NULL), 1)),
                     OK);
    const char *first = library_page("bob", NULL), *again = library_page("bob", NULL);
    ck_assert_str_eq(again, first);
    assert_has(first, "<a class=\"title\" href=\"/en/docs/public-report/\">Public report</a>");
    assert_has(first, "href=\"/download/public-report?lang=en\"");
    assert_has(first, "<ol class=\"docs library\"><li class=\"doc\">");
    assert_lacks(first, "stp-items");
    const char *de = library_page("bob", "de");
    assert_has(de, "href=\"/de/docs/public-report/\"");
    assert_has(de, "href=\"/download/public-report?lang=de\"");
    assert_lacks(de, "/download/public-report?lang=en");
    ck_assert_str_eq(library_page("bob", "de"), de);

    /* Another user with the same documents sees the same entries, in a form with their token. */
    ck_assert_int_eq(
        stub_run(library_post("carol", "t1", add_body(token_for("carol", "library"), "public-report", NULL), 1)), OK);
    const char *carol = library_page("carol", NULL);
    assert_has(carol, "<a class=\"title\" href=\"/en/docs/public-report/\">Public report</a>");
    assert_lacks(carol, "/en/docs/soc-");

    /* Removed: gone from the next page; the last one removed: the empty library. */
    ck_assert_int_eq(
        stub_run(library_post(
            "bob", "t1", apr_pstrcat(pool, "csrf=", token_for("bob", "library"), "&action=remove&doc=soc-2025", NULL),
            1)),
        OK);
    const char *after = library_page("bob", NULL);
    assert_has(after, "/en/docs/public-report/");
    assert_lacks(after, "/en/docs/soc-");
    ck_assert_int_eq(
        stub_run(library_post(
            "bob", "t1",
            apr_pstrcat(pool, "csrf=", token_for("bob", "library"), "&action=remove&doc=public-report", NULL), 1)),
        OK);
    const char *none = library_page_empty("bob");
    assert_has(none, "<p class=\"empty\">");
}
END_TEST

/* A signed-in user's "Save" from a static page (no token): a page that asks once more, with one. */
START_TEST(test_library_confirm)
{
    request_rec *r = library_post("bob", "t1", add_body(NULL, "t1-pack", "/en/org/docs/t1-pack/"), 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    ck_assert_str_eq(saved_series("bob"), ""); /* nothing saved yet */
    const char *html = stub_out(r);
    assert_has(html, "<form method=\"post\" action=\"/stp/library\">");
    assert_has(html, "<input type=\"hidden\" name=\"doc\" value=\"t1-pack\">");
    assert_has(html, "<input type=\"hidden\" name=\"action\" value=\"add\">");
    assert_has(html, "<input type=\"hidden\" name=\"return\" value=\"/en/org/docs/t1-pack/\">");
    const char *token = form_csrf(html, "/stp/library");
    ck_assert_int_gt(strlen(token), 0);

    /* The confirmation's own form saves and goes back. */
    r = library_post("bob", "t1", add_body(token, "t1-pack", "/en/org/docs/t1-pack/"), 0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/org/docs/t1-pack/");
    ck_assert_str_eq(saved_series("bob"), "t1-pack");

    /* An empty token is a wrong one, not a missing one: refused. */
    r = library_post("bob", "t1", add_body("", "soc-2026", NULL), 0);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_str_eq(saved_series("bob"), "t1-pack");
}
END_TEST

START_TEST(test_library_other_users_token)
{
    request_rec *r = library_post("bob", "t1", add_body(token_for("carol", "library"), "public-report", NULL), 0);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    ck_assert_ptr_null(out_hdr(r, "Location"));
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "bad CSRF token"));
    ck_assert_str_eq(saved_series("bob"), "");
    /* JSON asks the same. */
    r = library_post("bob", "t1", add_body(token_for("carol", "library"), "public-report", NULL), 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    /* Another purpose's token of bob's own. */
    r = library_post("bob", "t1", add_body(token_for("bob", "notifications"), "public-report", NULL), 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_str_eq(saved_series("bob"), "");
}
END_TEST

/* Another tenant's document is an unknown one, for every kind of user and either action. */
START_TEST(test_library_hidden_doc)
{
    static const char *const who[][2] = {{NULL, NULL}, {"pat", NULL}, {"bob", "t1"}};
    static const char *const actions[] = {"add", "remove"};
    for (size_t i = 0; i < 3; i++)
        for (size_t a = 0; a < 2; a++) {
            const char *sub = who[i][0], *tid = who[i][1];
            const char *tok = sub ? token_for(sub, "library") : "";
            request_rec *hidden = library_post(
                sub, tid, apr_pstrcat(pool, "csrf=", tok, "&action=", actions[a], "&doc=t2-pack", NULL), 0);
            request_rec *unknown = library_post(
                sub, tid, apr_pstrcat(pool, "csrf=", tok, "&action=", actions[a], "&doc=no-such-doc", NULL), 0);
            apr_table_setn(hidden->headers_in, "Sec-Fetch-Site", "same-origin");
            apr_table_setn(unknown->headers_in, "Sec-Fetch-Site", "same-origin");
            ck_assert_int_eq(stub_run(hidden), HTTP_NOT_FOUND);
            ck_assert_int_eq(stub_run(unknown), HTTP_NOT_FOUND);
            ck_assert_str_eq(headers_of(hidden), headers_of(unknown));
            ck_assert_str_eq(stub_out(hidden), stub_out(unknown));
            ck_assert_ptr_null(strstr(headers_of(hidden), "stp_pending")); /* no pending save for it either */
        }
    /* A malformed id is unknown too. */
    request_rec *r = library_post("bob", "t1", add_body(token_for("bob", "library"), "..%2Fsoc-2026", NULL), 0);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_str_eq(saved_series("bob"), "");
    /* The owner may save it. */
    r = library_post("carol", "t2", add_body(token_for("carol", "library"), "t2-pack", NULL), 1);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(saved_series("carol"), "t2-pack");
}
END_TEST

/* An anonymous "Save": the intent is remembered in a cookie only for a POST from our own pages. */
START_TEST(test_library_pending_same_origin_only)
{
    static const struct {
        const char *site, *origin;
        int remembered;
    } cases[] = {
        {"same-origin", NULL, 1},
        {"same-origin", "http://portal.test", 1},
        {NULL, "http://portal.test", 1},
        {"cross-site", NULL, 0},
        {"same-site", NULL, 0},
        {"none", NULL, 0}, /* a POST is never typed */
        {"same-origin", "http://evil.test", 0},
        {NULL, "http://evil.test", 0},
        {NULL, "null", 0},
        {NULL, NULL, 0}, /* says nothing of where it comes from */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_rec *r = library_post(NULL, NULL, add_body(NULL, "public-report", "/en/docs/public-report/"), 0);
        if (cases[i].site)
            apr_table_setn(r->headers_in, "Sec-Fetch-Site", cases[i].site);
        if (cases[i].origin)
            apr_table_setn(r->headers_in, "Origin", cases[i].origin);
        ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
        const char *loc = out_hdr(r, "Location"), *cookie = set_cookie(r);
        ck_assert_int_eq(strncmp(loc, "/stp/login?return=", 18), 0);
        const char *back = url_param(loc, "return");
        if (cases[i].remembered) {
            ck_assert_msg(cookie && !strncmp(cookie, "stp_pending=", 12), "case %zu: cookie %s", i,
                          cookie ? cookie : "(none)");
            assert_has(cookie, "; Path=/stp/library; Max-Age=1800; HttpOnly; SameSite=Lax");
            ck_assert_int_eq(strncmp(back, "/stp/library/resume?", 20), 0);
            ck_assert_str_eq(url_param(back, "doc"), "public-report");
            ck_assert_str_eq(url_param(back, "return"), "/en/docs/public-report/");
            ck_assert_ptr_nonnull(url_param(back, "intent"));
        } else {
            ck_assert_msg(!cookie || !strstr(cookie, "stp_pending"), "case %zu: cookie %s", i, cookie);
            ck_assert_msg(!strcmp(back, "/en/docs/public-report/"), "case %zu: back to %s", i, back);
        }
    }
}
END_TEST

/* The pending save of an anonymous same-origin POST: the cookie's nonce and the resume URL. */
static const char *pending(const char **nonce)
{
    request_rec *r = library_post(NULL, NULL, add_body(NULL, "soc-2026", "/en/docs/soc-2026/"), 0);
    apr_table_setn(r->headers_in, "Sec-Fetch-Site", "same-origin");
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    const char *cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    *nonce = apr_pstrndup(pool, cookie + 12, strcspn(cookie + 12, ";"));
    return url_param(out_hdr(r, "Location"), "return");
}

static request_rec *resume(const char *url, const char *nonce)
{
    request_rec *r = req("GET", url);
    sign_in(r, "bob", "t1", NULL);
    if (nonce)
        apr_table_set(r->headers_in, "Cookie", apr_pstrcat(pool, "stp_sid=" SID "; stp_pending=", nonce, NULL));
    return r;
}

static void assert_resume_refused(request_rec *r)
{
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "no matching intent"));
    ck_assert_str_eq(saved_series("bob"), "");
}

START_TEST(test_library_resume)
{
    const char *nonce, *url = pending(&nonce);
    /* Anonymous still: sign in first. */
    request_rec *r = req("GET", url);
    apr_table_setn(r->headers_in, "Cookie", apr_pstrcat(pool, "stp_pending=", nonce, NULL));
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_int_eq(strncmp(out_hdr(r, "Location"), "/stp/login?return=", 18), 0);

    /* Wrong intents, another cookie, none, another document or return: refused, nothing saved. */
    const char *intent = url_param(url, "intent");
    char *bad = apr_pstrdup(pool, intent);
    bad[0] = bad[0] == '0' ? '1' : '0';
    const char *base = apr_pstrcat(pool, "/stp/library/resume?doc=soc-2026&return=%2Fen%2Fdocs%2Fsoc-2026%2F", NULL);
    assert_resume_refused(resume(apr_pstrcat(pool, base, "&intent=", bad, NULL), nonce));
    assert_resume_refused(resume(apr_pstrcat(pool, base, "&intent=", NULL), nonce));
    assert_resume_refused(resume(base, nonce));
    assert_resume_refused(resume(url, "0123456789abcdef0123456789abcdef"));
    assert_resume_refused(resume(url, NULL));
    assert_resume_refused(resume(
        apr_pstrcat(pool, "/stp/library/resume?doc=public-report&return=%2Fen%2Fdocs%2Fsoc-2026%2F&intent=", intent,
                    NULL),
        nonce));
    assert_resume_refused(
        resume(apr_pstrcat(pool, "/stp/library/resume?doc=soc-2026&return=%2Fen%2F&intent=", intent, NULL), nonce));

    /* The matching intent: saved, the cookie cleared, back to the document. */
    r = resume(url, nonce);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/docs/soc-2026/");
    assert_has(set_cookie(r), "stp_pending=; Path=/stp/library; Max-Age=0");
    ck_assert_str_eq(saved_series("bob"), "soc");

    /* Only GET. */
    r = post(url, "");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
}
END_TEST

/* A save asked for without a return target comes back to the library. */
START_TEST(test_library_resume_default_return)
{
    request_rec *r = library_post(NULL, NULL, add_body(NULL, "public-report", NULL), 0);
    apr_table_setn(r->headers_in, "Sec-Fetch-Site", "same-origin");
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    const char *cookie = set_cookie(r), *url = url_param(out_hdr(r, "Location"), "return");
    const char *nonce = apr_pstrndup(pool, cookie + 12, strcspn(cookie + 12, ";"));
    r = resume(url, nonce);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/library?lang=en");
    ck_assert_str_eq(saved_series("bob"), "public-report");
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_library_suite(void)
{
    Suite *s = suite_create("glue-library");
    TCase *tc = tcase_create("library");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_library_anonymous);
    tcase_add_test(tc, test_library_json);
    tcase_add_test(tc, test_library_add_remove);
    tcase_add_test(tc, test_library_entries_kept);
    tcase_add_test(tc, test_library_confirm);
    tcase_add_test(tc, test_library_other_users_token);
    tcase_add_test(tc, test_library_hidden_doc);
    tcase_add_test(tc, test_library_pending_same_origin_only);
    tcase_add_test(tc, test_library_resume);
    tcase_add_test(tc, test_library_resume_default_return);
    suite_add_tcase(s, tc);
    return s;
}
