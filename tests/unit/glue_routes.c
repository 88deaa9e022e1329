/* The glue's routes: which URLs are the module's (stp_route_of), how translate_name and the
 * handler hook dispatch them, and the organisation pages mapped into the published build. */
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
#include "stp_paths.h"

/* --- routes ------------------------------------------------------------------------------------- */

START_TEST(test_route_of)
{
    static const struct {
        const char *uri;
        stp_route_t route;
    } cases[] = {
        {"/", STP_ROUTE_ROOT},
        {"/download/soc-2026", STP_ROUTE_DOWNLOAD},
        {"/download/soc-2026/2025", STP_ROUTE_DOWNLOAD},
        {"/download/", STP_ROUTE_DOWNLOAD}, /* ours; the handler answers 404 */
        {"/stp/login", STP_ROUTE_LOGIN},
        {"/stp/logout", STP_ROUTE_LOGOUT},
        {"/stp/nda", STP_ROUTE_NDA},
        {"/stp/library", STP_ROUTE_LIBRARY},
        {"/stp/library/resume", STP_ROUTE_LIBRARY},
        {"/stp/notifications", STP_ROUTE_NOTIFICATIONS},
        {"/stp/whoami", STP_ROUTE_WHOAMI},
        /* near misses */
        {"/stp/ndax", STP_ROUTE_UNKNOWN},
        {"/stp/nda/", STP_ROUTE_UNKNOWN},
        {"/stp/whoami/", STP_ROUTE_UNKNOWN},
        {"/stp/library/resume/", STP_ROUTE_UNKNOWN},
        {"/stp/Login", STP_ROUTE_UNKNOWN},
        {"/stp/", STP_ROUTE_UNKNOWN},
        {"/stp", STP_ROUTE_NONE},
        {"/stpx/nda", STP_ROUTE_NONE},
        {"/download", STP_ROUTE_NONE},
        {"/downloadx/soc-2026", STP_ROUTE_NONE},
        {"/Download/soc-2026", STP_ROUTE_NONE},
        {"//download/soc-2026", STP_ROUTE_NONE},
        {"/en/docs/soc-2026/", STP_ROUTE_NONE},
        {"", STP_ROUTE_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(mod_stp_route_of(cases[i].uri) == cases[i].route, "%s: route %d, expected %d", cases[i].uri,
                      mod_stp_route_of(cases[i].uri), cases[i].route);
    ck_assert_int_eq(mod_stp_route_of(NULL), STP_ROUTE_NONE);
}
END_TEST

/* The routes through translate_name and the handler hook, as httpd dispatches them. */
START_TEST(test_route_dispatch)
{
    request_rec *r = req("GET", "/stp/ndax");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_str_eq(r->handler, "stp");
    ck_assert_str_eq(r->filename, "stp:/stp/ndax");

    r = req("GET", "/stp/whoami/");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_str_eq(stub_out(r), "");

    /* Not ours: left to httpd's own mapping and handlers. */
    r = req("GET", "/downloadx/soc-2026");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_null(r->handler);
    ck_assert_ptr_null(apr_table_get(r->notes, "stp-route"));
    r = req("GET", "/download");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_null(r->handler);

    r = req("GET", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");

    /* A document page maps into the published build; without its slash it redirects. */
    r = req("GET", "/en/docs/soc-2026/");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_str_eq(r->filename,
                     apr_pstrcat(pool, site_dir, "/current/", stp_paths_doc_page(NULL, "en", "soc-2026", pool), NULL));
    ck_assert_ptr_null(r->handler);
    r = req("GET", "/en/docs/soc-2026?x=1");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_PERMANENTLY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/docs/soc-2026/?x=1");
}
END_TEST

/* --- organisation pages ------------------------------------------------------------------------- */

START_TEST(test_org_pages)
{
    request_rec *r = req("GET", "/en/org/");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), DECLINED); /* httpd's default handler serves the mapped file */
    ck_assert_ptr_null(r->handler);
    ck_assert_str_eq(r->filename, apr_pstrcat(pool, site_dir, "/", build_name(), "/tenants/t1/en/index.html", NULL));
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");

    r = req("GET", "/en/org/");
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_nonnull(strstr(r->filename, "/tenants/t2/en/index.html"));

    r = req("GET", "/en/org/");
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    r = req("GET", "/en/org/");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);

    r = req("GET", "/en/org");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_PERMANENTLY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/org/");
}
END_TEST

/* An image of a body: the public tree's copy by its page URL, typed by the module; a tenant
 * document's only on its organisation's URL, for its members. The gate fixture's t1-pack shows
 * diagram.png (tests/fixtures/images/other.png), published under its digest. */
START_TEST(test_body_images)
{
    const char *name = "805924e65dff89ccbac4046a6995a736.png";
    char shard[3];
    apr_finfo_t fi;
    stp_paths_shard(shard, "t1-pack");

    request_rec *r = req("GET", apr_pstrcat(pool, "/en/org/docs/t1-pack/", name, NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), DECLINED); /* httpd's default handler sends the file */
    ck_assert_str_eq(r->filename, apr_pstrcat(pool, site_dir, "/", build_name(), "/tenants/t1/docs/", shard,
                                              "/t1-pack/", name, NULL));
    ck_assert_str_eq(r->content_type, "image/png");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");

    /* another tenant, anonymous: the unknown id's 404 */
    r = req("GET", apr_pstrcat(pool, "/en/org/docs/t1-pack/", name, NULL));
    sign_in(r, "carol", "t2", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);
    r = req("GET", apr_pstrcat(pool, "/de/org/docs/t1-pack/", name, NULL));
    ck_assert_int_eq(stub_run(r), HTTP_NOT_FOUND);

    /* the public URL maps into public/, where a tenant document's image never is */
    r = req("GET", apr_pstrcat(pool, "/en/docs/t1-pack/", name, NULL));
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_str_eq(r->filename, apr_pstrcat(pool, site_dir, "/current/public/docs/", shard, "/t1-pack/", name, NULL));
    ck_assert_int_ne(apr_stat(&fi, r->filename, APR_FINFO_MIN, pool), APR_SUCCESS);
    ck_assert_str_eq(r->content_type, "image/png");

    /* not an image name: not mapped */
    r = req("GET", "/en/docs/t1-pack/diagram.png");
    ck_assert_int_eq(stub_run(r), DECLINED);
    ck_assert_ptr_null(r->filename);
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_routes_suite(void)
{
    Suite *s = suite_create("glue-routes");
    TCase *tc;

    tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_route_of);
    tcase_add_test(tc, test_route_dispatch);
    tcase_add_test(tc, test_org_pages);
    tcase_add_test(tc, test_body_images);
    suite_add_tcase(s, tc);
    return s;
}
