/* Properties of every answer: security and caching headers, an outsider's 404 equal to an unknown
 * id's, session-bound CSRF tokens, refused foreign sign-outs, a state that could not be opened, and
 * a hand-written series that mixes access levels. */
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
#include "stp_catalog.h"
#include "stp_csrf.h"

/* --- security: headers, sessions, sign-out ------------------------------------------------------ */

/* Every answer of the module, redirects and errors included, carries the security headers in
 * err_headers_out (httpd sends those on every status), and the user-dependent ones no-store. */
START_TEST(test_headers_every_answer)
{
    static const struct {
        const char *uri, *sub, *tid;
        int rc, personal;
    } cases[] = {
        {"/download/public-report", NULL, NULL, OK, 0},
        {"/download/nda-pentest", NULL, NULL, HTTP_MOVED_TEMPORARILY, 1},
        {"/download/nda-pentest", "bob", "t1", HTTP_MOVED_TEMPORARILY, 1},
        {"/download/t2-pack", "bob", "t1", HTTP_NOT_FOUND, 1},
        {"/download/no-such-doc", NULL, NULL, HTTP_NOT_FOUND, 1},
        {"/download/soc-2024", NULL, NULL, OK, 1},
        {"/download/signin-policy", "alice", NULL, OK, 1},
        {"/stp/nda", NULL, NULL, HTTP_MOVED_TEMPORARILY, 1},
        {"/stp/nda", "bob", "t1", OK, 1},
        {"/stp/library", "bob", "t1", OK, 1},
        {"/stp/whoami", "bob", "t1", OK, 1},
        {"/stp/nothing-here", NULL, NULL, HTTP_NOT_FOUND, 1},
        {"/", NULL, NULL, HTTP_MOVED_TEMPORARILY, 1},
        {"/en/org/", "pat", NULL, HTTP_NOT_FOUND, 1},
        {"/en/org/", "bob", "t1", DECLINED, 1},
        {"/en/docs/public-report", NULL, NULL, HTTP_MOVED_PERMANENTLY, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_rec *r = req("GET", cases[i].uri);
        if (cases[i].sub)
            sign_in(r, cases[i].sub, cases[i].tid, NULL);
        const char *what = apr_psprintf(pool, "%s as %s", cases[i].uri, cases[i].sub ? cases[i].sub : "anonymous");
        ck_assert_msg(stub_run(r) == cases[i].rc, "%s: status", what);
        assert_secure(r, what);
        if (cases[i].personal)
            assert_personal(r, what);
        else
            ck_assert_msg(!out_hdr(r, "Cache-Control") || strcmp(out_hdr(r, "Cache-Control"), "no-store"),
                          "%s: a public file may be cached", what);
    }
    /* A static page the module only maps is not personal, but secured all the same. */
    request_rec *r = req("GET", "/en/docs/public-report/");
    ck_assert_int_eq(stub_run(r), DECLINED);
    assert_secure(r, "a static document page");
    ck_assert_ptr_null(apr_table_get(r->err_headers_out, "Cache-Control"));
}
END_TEST

/* An outsider's 404 for another tenant's document is the unknown id's, headers and all. */
START_TEST(test_not_found_identical)
{
    request_rec *hidden = req("GET", "/download/t2-pack");
    sign_in(hidden, "bob", "t1", NULL);
    request_rec *unknown = req("GET", "/download/no-such-doc");
    sign_in(unknown, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(hidden), HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(unknown), HTTP_NOT_FOUND);
    ck_assert_str_eq(headers_of(hidden), headers_of(unknown));
}
END_TEST

/* Tokens belong to the browser session: the stp_sid cookie is set with the first form, renewed
 * at sign-in, cleared at sign-out; a token from another session, or none, is refused. */
START_TEST(test_csrf_session_bound)
{
    /* A browser without the cookie gets one with the form, and the token is bound to it. */
    request_rec *r = req("GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest");
    sign_in(r, "bob", "t1", NULL);
    apr_table_unset(r->headers_in, "Cookie");
    ck_assert_int_eq(stub_run(r), OK);
    const char *cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    ck_assert_ptr_nonnull(strstr(cookie, "HttpOnly"));
    ck_assert_ptr_nonnull(strstr(cookie, "SameSite=Lax"));
    ck_assert_int_eq(strncmp(cookie, "stp_sid=", 8), 0);
    const char *sid = apr_pstrndup(pool, cookie + 8, strcspn(cookie + 8, ";"));
    ck_assert_int_eq(stp_csrf_session_ok(sid), 1);
    const char *token = form_token(stub_out(r));

    /* Posted from the fixture's session (another browser): refused. */
    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    ck_assert_int_eq(nda_accepted("bob"), 0);

    /* Without any session cookie: refused. */
    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    apr_table_unset(r->headers_in, "Cookie");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);

    /* From the session it was issued for: accepted. */
    r = post("/stp/nda", nda_body(token, "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    apr_table_set(r->headers_in, "Cookie", apr_pstrcat(pool, "stp_lang=en; stp_sid=", sid, NULL));
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(nda_accepted("bob"), 1);

    /* Signing in starts a new session. */
    r = req("GET", "/stp/login?return=%2Fen%2F");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    ck_assert_int_eq(stp_csrf_session_ok(apr_pstrndup(pool, cookie + 8, strcspn(cookie + 8, ";"))), 1);
    ck_assert_ptr_null(strstr(cookie, SID));

    /* Signing out (a POST with the session's token) clears it. */
    r = post("/stp/logout", apr_pstrcat(pool, "csrf=", token_for("bob", "logout"), NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    cookie = set_cookie(r);
    ck_assert_ptr_nonnull(cookie);
    ck_assert_ptr_nonnull(strstr(cookie, "stp_sid=;"));
    ck_assert_ptr_nonnull(strstr(cookie, "Max-Age=0"));
    assert_personal(r, "sign-out");

    /* A GET never signs out. */
    r = req("GET", apr_pstrcat(pool, "/stp/logout?csrf=", token_for("bob", "logout"), NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);
    ck_assert_ptr_null(out_hdr(r, "Location"));
}
END_TEST

/* mod_auth_openidc signs out on a GET of its redirect URI with `logout`: the module lets only
 * our own pages (and a typed URL) through, before authentication runs. */
START_TEST(test_foreign_logout_refused)
{
    static const struct {
        const char *query, *site, *origin, *referer;
        int refused;
    } cases[] = {
        {"logout=http%3A%2F%2Fevil.test%2F", "cross-site", NULL, NULL, 1},
        {"logout=http%3A%2F%2Flocalhost%2Fen%2F", "same-site", NULL, NULL, 1},
        {"logout=", "cross-site", NULL, "http://evil.test/page", 1},
        {"%6cogout=x", "cross-site", NULL, NULL, 1},
        {"logout=x", NULL, NULL, "http://evil.test/page", 1},
        {"logout=x", NULL, "null", NULL, 1},
        {"logout=x", "same-origin", "http://evil.test", NULL, 1},
        {"logout=http%3A%2F%2Flocalhost%2Fen%2F", "same-origin", NULL, NULL, 0},
        {"logout=x", "none", NULL, NULL, 0},
        {"logout=x", NULL, NULL, "http://localhost/stp/logout", 0},
        {"logout=x", NULL, NULL, NULL, 0},
        {"code=abc&state=def", "cross-site", NULL, NULL, 0}, /* the provider's answer to a sign-in */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_rec *r = req("GET", apr_pstrcat(pool, "/stp/oidc-callback?", cases[i].query, NULL));
        apr_table_setn(r->headers_in, "Host", "localhost");
        if (cases[i].site)
            apr_table_setn(r->headers_in, "Sec-Fetch-Site", cases[i].site);
        if (cases[i].origin)
            apr_table_setn(r->headers_in, "Origin", cases[i].origin);
        if (cases[i].referer)
            apr_table_setn(r->headers_in, "Referer", cases[i].referer);
        int rc = stub_hooks.translate_name(r);
        ck_assert_msg(cases[i].refused ? rc == DONE && r->status == HTTP_FORBIDDEN
                                       : rc != DONE && r->status != HTTP_FORBIDDEN && !stub_io(r)->out_len,
                      "case %zu (%s, %s): rc %d status %d", i, cases[i].query, cases[i].site ? cases[i].site : "-", rc,
                      r->status);
    }
}
END_TEST

/* A state that this process could not open: every refused change is logged with the cause. */
START_TEST(test_state_unavailable_logged)
{
    conf->state = NULL;
    conf->state_problem = "Permission denied";
    request_rec *r = post("/stp/nda", nda_body(token_for("bob", "nda"), "v1", "/download/nda-pentest"));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_SERVICE_UNAVAILABLE);
    ck_assert_int_eq(stub_io(r)->log_level, APLOG_ERR);
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "Permission denied"));
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, state_dir));
}
END_TEST

/* --- a series that mixes access levels ---------------------------------------------------------- */

/* sitegen refuses such a series; the module must not leak through one all the same. This site is
 * written by hand: series "mix" has a current version for tenant t2 only (mix-2026), a public
 * superseded one still available (mix-2025) and a public one past retention (mix-2020). */
static const char *mixed_site;

static stp_doc_t *mixed_doc(const char *id, const char *version, stp_access_t access, stp_day_t retired)
{
    stp_doc_t *d = apr_pcalloc(pool, sizeof *d);
    d->id = id;
    d->series = "mix";
    d->version = version;
    d->section = "reports";
    d->tile = "soc";
    d->access = access;
    d->tenants = apr_array_make(pool, 1, sizeof(const char *));
    if (access == STP_ACCESS_TENANT)
        APR_ARRAY_PUSH(d->tenants, const char *) = "t2";
    d->published = stp_date_add_months(today, -1);
    d->retired = retired;
    d->current = "mix-2026";
    d->titles = apr_array_make(pool, 1, sizeof(stp_text_t));
    stp_text_t *t = apr_array_push(d->titles);
    t->lang = "en";
    t->text = apr_pstrcat(pool, "Secret title of ", id, NULL);
    d->summaries = apr_array_make(pool, 1, sizeof(stp_text_t));
    d->changes = apr_array_make(pool, 1, sizeof(stp_text_t));
    d->services = apr_array_make(pool, 1, sizeof(const char *));
    d->regions = apr_array_make(pool, 1, sizeof(const char *));
    d->industries = apr_array_make(pool, 1, sizeof(const char *));
    d->files = apr_array_make(pool, 1, sizeof(stp_file_t));
    stp_file_t *f = apr_array_push(d->files);
    f->lang = "en";
    f->path = apr_pstrcat(pool, id, ".txt", NULL);
    f->name = f->path;
    f->media_type = "text/plain";
    f->size = 3;
    memset(f->sha256, 'a', 64);
    return d;
}

static void setup_mixed(void)
{
    apr_pool_create(&pool, NULL);
    const char *site = apr_pstrcat(pool, tmp_root, "/mixed-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp((char *)site));
    mixed_site = site;
    const char *build = apr_pstrcat(pool, site, "/build-1", NULL);
    ck_assert_int_eq(apr_dir_make_recursive(apr_pstrcat(pool, build, "/files", NULL), APR_OS_DEFAULT, pool),
                     APR_SUCCESS);
    stp_catalog_t *cat;
    ck_assert_int_eq(stp_catalog_create(&cat, apr_pstrcat(pool, build, "/catalog.mdb", NULL), pool), APR_SUCCESS);
    stp_doc_t *docs[] = {mixed_doc("mix-2026", "2026", STP_ACCESS_TENANT, 0),
                         mixed_doc("mix-2025", "2025", STP_ACCESS_PUBLIC, stp_date_add_months(today, 6)),
                         mixed_doc("mix-2020", "2020", STP_ACCESS_PUBLIC, stp_date_add_months(today, -6))};
    apr_array_header_t *ids = apr_array_make(pool, 3, sizeof(const char *));
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(stp_catalog_put_doc(cat, docs[i], pool), APR_SUCCESS);
        APR_ARRAY_PUSH(ids, const char *) = docs[i]->id;
        apr_file_t *f;
        ck_assert_int_eq(apr_file_open(&f, apr_pstrcat(pool, build, "/files/", docs[i]->id, ".txt", NULL),
                                       APR_FOPEN_WRITE | APR_FOPEN_CREATE, APR_OS_DEFAULT, pool),
                         APR_SUCCESS);
        ck_assert_int_eq(apr_file_write_full(f, "abc", 3, NULL), APR_SUCCESS);
        apr_file_close(f);
    }
    ck_assert_int_eq(stp_catalog_put_series(cat, "mix", ids, pool), APR_SUCCESS);
    const char *meta[][2] = {{"generation", "1"},   {"default-locale", "en"},   {"locales", "en"},
                             {"nda-version", "v1"}, {"retention-months", "12"}, {"base-url", "http://localhost"}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        ck_assert_int_eq(stp_catalog_put_meta(cat, meta[i][0], meta[i][1]), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_commit(cat, 1), APR_SUCCESS);
    stp_catalog_close(cat);
    ck_assert_int_eq(apr_dir_make(apr_pstrcat(pool, build, "/templates", NULL), APR_OS_DEFAULT, pool), APR_SUCCESS);
    ck_assert_int_eq(symlink(TEST_SRCDIR "/xslt/page.xsl", apr_pstrcat(pool, build, "/templates/page.xsl", NULL)), 0);
    ck_assert_int_eq(symlink("build-1", apr_pstrcat(pool, site, "/current", NULL)), 0);

    configure_site(mixed_site);
    start();
}

static void teardown_mixed(void)
{
    teardown();
}

static int mentions_tenant_version(const request_rec *r)
{
    const char *all = apr_pstrcat(pool, stub_out(r) ? stub_out(r) : "", headers_of(r), NULL);
    return strstr(all, "mix-2026") != NULL || strstr(all, "Secret title of mix-2026") != NULL;
}

START_TEST(test_mixed_series_no_leak)
{
    const char *who[][2] = {{NULL, NULL}, {"pat", NULL}, {"bob", "t1"}};
    for (size_t i = 0; i < 3; i++) {
        const char *what = who[i][0] ? who[i][0] : "anonymous";
        /* The retired public version: gone, without a link to the tenant's version. */
        request_rec *r = req("GET", "/download/mix-2020");
        if (who[i][0])
            sign_in(r, who[i][0], who[i][1], NULL);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_int_eq(r->status, HTTP_GONE);
        ck_assert_msg(!mentions_tenant_version(r), "%s: the 410 page names the tenant version", what);

        /* The tenant id with a public version: the unknown id's answer. */
        r = req("GET", "/download/mix-2026/2025");
        request_rec *u = req("GET", "/download/no-such-doc/2025");
        if (who[i][0]) {
            sign_in(r, who[i][0], who[i][1], NULL);
            sign_in(u, who[i][0], who[i][1], NULL);
        }
        ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
        ck_assert_int_eq(stub_run(u), HTTP_NOT_FOUND);
        ck_assert_str_eq(headers_of(r), headers_of(u));
        ck_assert_str_eq(env(r, "STP_VERSION"), env(u, "STP_VERSION"));

        /* The public version by its own id is still served. */
        r = req("GET", "/download/mix-2025");
        if (who[i][0])
            sign_in(r, who[i][0], who[i][1], NULL);
        ck_assert_int_eq(stub_run(r), OK);
        ck_assert_int_eq(r->status, HTTP_OK);
    }
    /* A member of t2 may follow the series to its current version. */
    request_rec *r = req("GET", "/download/mix-2020");
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_GONE);
    ck_assert_ptr_nonnull(strstr(stub_out(r), "/en/org/docs/mix-2026/"));
    r = req("GET", "/download/mix-2026/2025");
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_OK);

    /* My Library of an outsider who saved the public version: the tenant version is not named. */
    r = post("/stp/library", apr_pstrcat(pool, "csrf=", token_for("bob", "library"), "&action=add&doc=mix-2025", NULL));
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->headers_in, "Accept", "application/json");
    stub_run(r);
    r = req("GET", "/stp/library");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_msg(!mentions_tenant_version(r), "the library names the tenant version");
    r = req("GET", "/stp/library");
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->headers_in, "Accept", "application/json");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_msg(!mentions_tenant_version(r), "the library's JSON names the tenant version");
    /* The NDA page's note about the pending download. */
    r = req("GET", "/stp/nda?return=%2Fdownload%2Fmix-2026");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_msg(!mentions_tenant_version(r) || !strstr(stub_out(r), "Secret title"),
                  "the NDA page names the tenant version");
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_security_suite(void)
{
    Suite *s = suite_create("glue-security");
    TCase *tc;

    tc = tcase_create("security");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_headers_every_answer);
    tcase_add_test(tc, test_not_found_identical);
    tcase_add_test(tc, test_csrf_session_bound);
    tcase_add_test(tc, test_foreign_logout_refused);
    tcase_add_test(tc, test_state_unavailable_logged);
    suite_add_tcase(s, tc);

    tc = tcase_create("mixed-series");
    tcase_add_checked_fixture(tc, setup_mixed, teardown_mixed);
    tcase_add_test(tc, test_mixed_series_no_leak);
    suite_add_tcase(s, tc);
    return s;
}
