/* GET and POST /stp/nda (mod_stp_nda.c): the agreement, its CSRF-checked acceptance, the
 * confirmation, and who may accept at all. */
#include <apr_file_io.h>
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
#include "stp_http.h"
#include "stp_hash.h"

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
    char bad[STP_HASH_HEX_LEN + 1];
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
    ck_assert_ptr_nonnull(strstr(html, "content=\"0;url=/download/t1-nda-pack?lang=de\""));
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

/* --- the agreement's page ---------------------------------------------------------------------- */

/* The agreement's part of a page: from the div sitegen's HTML is copied into to the form. */
static const char *agreement(const char *html)
{
    const char *from = strstr(html, "<div class=\"nda\""), *to = from ? strstr(from, "</div>") : NULL;
    ck_assert_msg(from && to, "no agreement in %s", html);
    return apr_pstrmemdup(pool, from, (apr_size_t)(to - from));
}

START_TEST(test_nda_anonymous_signin)
{
    request_rec *r = req("GET", "/stp/nda?lang=de");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fstp%2Fnda%3Flang%3Dde");
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
    assert_personal(r, "anonymous NDA page");
}
END_TEST

/* A personal account: 403 in the site layout and the reader's language, with a way to sign in
 * with another account (a sign-out form with the session's token). */
START_TEST(test_nda_personal_page)
{
    request_rec *r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    const char *html = stub_out(r);
    assert_has(html, "<h1>An organization account is needed</h1>");
    assert_has(html, "<button type=\"submit\">Sign in with another account</button>");
    assert_token_for(form_csrf(strstr(html, "<main"), "/stp/logout"), "alice", "logout");
    assert_lacks(html, "action=\"/stp/nda\"");

    r = req("GET", "/stp/nda?lang=de");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "de");
    assert_has(stub_out(r), "<h1>Ein Organisationskonto ist erforderlich</h1>");
    assert_has(stub_out(r), "<button type=\"submit\">Mit einem anderen Konto anmelden</button>");

    /* The download's own answer for a personal account is the same page. */
    r = req("GET", "/download/nda-pentest");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    assert_has(stub_out(r), "<button type=\"submit\">Sign in with another account</button>");
}
END_TEST

/* The agreement as sitegen rendered it from Markdown: elements, not text; its raw HTML and
 * javascript: link left out. */
/* A language without its own agreement shows the default one, marked as in that language. */
START_TEST(test_nda_untranslated_marked)
{
    request_rec *r = req("GET", "/stp/nda?lang=ar");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    const char *html = stub_out(r);
    assert_has(html, "<html lang=\"ar\" dir=\"rtl\">");
    assert_has(html, "<div class=\"nda\" lang=\"en\" dir=\"auto\">");
    r = req("GET", "/stp/nda?lang=de");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "<div class=\"nda\"><h2>Gate-NDA, Version eins</h2>");
}
END_TEST

START_TEST(test_nda_agreement_html)
{
    request_rec *r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *text = agreement(stub_out(r));
    /* Under the page's own h1 the agreement's headings shift by one, as document bodies' do: # is h2, ## h3. */
    assert_has(text, "<h2>Gate NDA, version one</h2>");
    assert_has(text, "<p>You keep what you download to yourself.</p>");
    assert_has(text, "<h3>1. What is confidential</h3>");
    assert_has(text, "<li>the reports you download</li>");
    assert_has(text, "<li>what they say about our controls</li>");
    assert_has(text, "<ul>");
    assert_lacks(text, "# Gate");
    assert_lacks(text, "## 1.");
    assert_lacks(text, "<script");
    assert_lacks(text, "alert(");
    assert_lacks(text, "onerror");
    assert_lacks(text, "javascript:");
    assert_lacks(text, "&lt;");
    /* The form that follows it. */
    assert_has(stub_out(r), "<p class=\"pending\">");
    assert_has(stub_out(r), "<button type=\"submit\">I accept the non-disclosure agreement</button>");

    /* In German, the German text. */
    r = req("GET", "/stp/nda?lang=de");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "de");
    text = agreement(stub_out(r));
    assert_has(text, "<h2>Gate-NDA, Version eins</h2>");
    assert_has(text, "<p>Was Sie herunterladen, behalten Sie für sich.</p>");
}
END_TEST

/* Accepted for a public NDA document, in German: the confirmation starts the download and leads
 * back to the document's page; a second visit says it is accepted. */
START_TEST(test_nda_confirmation)
{
    request_rec *r = post("/stp/nda?lang=de", nda_body(token_for("bob", "nda"), "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    const char *loc = out_hdr(r, "Location");
    ck_assert_str_eq(loc, "/stp/nda?accepted=1&lang=de&return=%2Fdownload%2Fnda-pentest");
    ck_assert_int_eq(nda_accepted("bob"), 1);

    r = req("GET", loc);
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "de");
    const char *html = stub_out(r);
    assert_has(html, "<meta http-equiv=\"refresh\" content=\"0;url=/download/nda-pentest\">");
    assert_has(html, "Sie haben die Geheimhaltungsvereinbarung akzeptiert (Version v1).");
    assert_has(html, "<a href=\"/download/nda-pentest\">");
    assert_has(html, "<a href=\"/de/docs/nda-pentest/\">Zurück zu ");
    assert_lacks(html, "action=\"/stp/nda\"");
    /* The agreement stays readable, folded away. */
    assert_has(html, "<summary>Vereinbarung lesen</summary>");

    /* A second visit: already accepted, no form, no refresh. */
    r = req("GET", "/stp/nda");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    assert_has(stub_out(r), "You have already accepted this version of the agreement.");
    assert_lacks(stub_out(r), "http-equiv=\"refresh\"");
    assert_lacks(stub_out(r), "action=\"/stp/nda\"");
    /* "accepted=1" of someone who has not accepted is no confirmation. */
    r = req("GET", loc);
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "http-equiv=\"refresh\"");
    assert_has(stub_out(r), "action=\"/stp/nda\"");
}
END_TEST

/* --- a new version of the agreement ------------------------------------------------------------- */

static const char *own_content, *own_site;

static void write_file(const char *path, const char *text)
{
    apr_file_t *f;
    ck_assert_int_eq(
        apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE, APR_OS_DEFAULT, pool),
        APR_SUCCESS);
    ck_assert_int_eq(apr_file_write_full(f, text, strlen(text), NULL), APR_SUCCESS);
    apr_file_close(f);
}

/* A site of this test's own (the shared one stays as main() published it), looked at on every
 * request so that a new build counts at once. */
static void setup_own_site(void)
{
    setup_configured();
    char *dir = apr_pstrcat(pool, tmp_root, "/nda-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    own_content = apr_pstrcat(pool, dir, "/content", NULL);
    own_site = apr_pstrcat(pool, dir, "/site", NULL);
    ck_assert_int_eq(system(apr_pstrcat(pool, "cp -R '", content_dir, "' '", own_content, "'", NULL)), 0);
    ck_assert_int_eq(publish_site(own_content, own_site, pool), 1);
    directive("StpSite", own_site, NULL);
    directive("StpSiteCheckInterval", "0", NULL);
    start();
}

/* The operator publishes version 2 of the agreement. */
static void publish_v2(void)
{
    const char *site_xml = apr_pstrcat(pool, own_content, "/site.xml", NULL);
    apr_size_t len;
    const char *text = content_file("site.xml", &len), *at = strstr(text, "<nda version=\"v1\"/>");
    ck_assert_ptr_nonnull(at);
    write_file(site_xml, apr_pstrcat(pool, apr_pstrmemdup(pool, text, (apr_size_t)(at - text)), "<nda version=\"v2\"/>",
                                     at + strlen("<nda version=\"v1\"/>"), NULL));
    write_file(apr_pstrcat(pool, own_content, "/nda/v2.en.md", NULL), "# Gate NDA, version two\n\nStricter now.\n");
    write_file(apr_pstrcat(pool, own_content, "/nda/v2.de.md", NULL), "# Gate-NDA, Version zwei\n\nStrenger.\n");
    ck_assert_int_eq(publish_site(own_content, own_site, pool), 1);
}

/* The page showed v1, v2 was published before the user accepted: nothing is recorded, and the
 * user is sent to read v2; an acceptance of v1 opens no download once v2 is current. */
START_TEST(test_nda_new_version)
{
    request_rec *r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "name=\"version\" value=\"v1\"");
    const char *token = form_token(stub_out(r));
    ck_assert_int_eq(stp_state_nda_accept(conf->state, user_key("carol"), "t1", "v1", apr_time_now()), APR_SUCCESS);

    publish_v2();

    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    ck_assert_int_eq(nda_accepted("bob"), 0);
    ck_assert_int_eq(stp_state_nda_accepted(conf->state, user_key("bob"), "t1", "v2"), 0);

    r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    assert_has(stub_out(r), "name=\"version\" value=\"v2\"");
    assert_has(agreement(stub_out(r)), "<h2>Gate NDA, version two</h2>");

    /* carol accepted v1: asked again for v2. */
    r = req("GET", "/download/nda-pentest");
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    r = req("GET", "/stp/account");
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "Not yet accepted (version v2)");

    /* Accepting v2 with the new page's form: recorded, and the download is served. */
    r = post("/stp/nda", nda_body(token_for("carol", "nda"), "v2", "/download/nda-pentest"));
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(stp_state_nda_accepted(conf->state, user_key("carol"), "t1", "v2"), 1);
    r = req("GET", "/download/nda-pentest");
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(env(r, "STP_DECISION"), "serve");
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
    tcase_add_test(tc, test_nda_anonymous_signin);
    tcase_add_test(tc, test_nda_personal_page);
    tcase_add_test(tc, test_nda_agreement_html);
    tcase_add_test(tc, test_nda_untranslated_marked);
    tcase_add_test(tc, test_nda_confirmation);
    suite_add_tcase(s, tc);

    tc = tcase_create("nda-version");
    tcase_add_checked_fixture(tc, setup_own_site, teardown);
    tcase_add_test(tc, test_nda_new_version);
    suite_add_tcase(s, tc);
    return s;
}
