/* StpPreview On (mod_stp_preview.c): the loopback rule on the connection's own peer address, the
 * startup refusals, the identity from the preview bar going through the claims code, and the bar. */
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include <ap_listen.h>
#include <check.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "glue_fixture.h"
#include "httpd_stub.h"
#include "stp_csrf.h"
#include "stp_layout.h"
#include "stp_preview.h"

static void setup_preview(void)
{
    setup_configured();
    directive("StpPreview", "On", NULL);
    start();
}

static void teardown_preview(void)
{
    ap_listeners = NULL;
    stub_linked_module = NULL;
    teardown();
}

/* The request as if it came from `ip` over TCP: the connection's peer, not a header. */
static request_rec *from(const char *ip, const char *method, const char *uri)
{
    request_rec *r = req(method, uri);
    ck_assert_int_eq(apr_sockaddr_info_get(&r->connection->client_addr, ip, APR_UNSPEC, 50000, 0, r->pool),
                     APR_SUCCESS);
    r->connection->client_ip = apr_pstrdup(r->pool, ip);
    r->useragent_addr = r->connection->client_addr;
    r->useragent_ip = r->connection->client_ip;
    r->hostname = "127.0.0.1"; /* what the editor's browser sends for http://127.0.0.1:PORT/ */
    apr_table_setn(r->headers_in, "Host", "127.0.0.1");
    return r;
}

static request_rec *as(const char *who, const char *uri)
{
    request_rec *r = from("127.0.0.1", "GET", uri);
    apr_table_setn(r->headers_in, "Cookie", apr_pstrcat(r->pool, "stp_preview=", who, "; stp_sid=" SID, NULL));
    return r;
}

START_TEST(test_preview_refuses_other_hosts)
{
    static const char *const others[] = {"192.0.2.7", "10.0.0.1", "2001:db8::1", "::ffff:192.0.2.7", "0.0.0.0"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        request_rec *r = from(others[i], "GET", "/stp/whoami");
        /* What a proxy or a client may claim changes nothing: the TCP peer decides. */
        apr_table_setn(r->headers_in, "X-Forwarded-For", "127.0.0.1");
        r->useragent_ip = "127.0.0.1";
        int before = stub_io(r)->log_count;
        ck_assert_int_eq(stub_run(r), HTTP_FORBIDDEN);
        ck_assert_int_eq(stub_io(r)->log_count, before + 1);
        ck_assert_msg(strstr(stub_io(r)->log_msg, "not a loopback client"), "%s", stub_io(r)->log_msg);
        ck_assert_msg(strstr(stub_io(r)->log_msg, others[i]), "%s", stub_io(r)->log_msg);
        ck_assert_str_eq(stub_out(r), "");
    }
    /* A connection without a known peer is refused too. */
    request_rec *r = req("GET", "/stp/whoami");
    r->connection->client_addr = NULL;
    ck_assert_int_eq(stub_run(r), HTTP_FORBIDDEN);
    static const char *const loopback[] = {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof loopback / sizeof *loopback; i++) {
        r = from(loopback[i], "GET", "/stp/whoami");
        ck_assert_msg(stub_run(r) == OK, "%s refused", loopback[i]);
        assert_has(stub_out(r), "\"kind\":\"anonymous\"");
    }
}
END_TEST

/* DNS rebinding: a web page of another site whose name it then points at 127.0.0.1 reaches the
 * preview over loopback, from the editor's own browser. Only a loopback Host is answered, so that
 * such a page can read neither drafts, embargoed documents nor an organisation's pages. */
START_TEST(test_preview_refuses_other_host_names)
{
    static const char *const others[] = {"attacker.example",
                                         "127.0.0.1.attacker.example",
                                         "127.attacker.example",
                                         "localhost.attacker.example",
                                         "0.0.0.0",
                                         "192.0.2.7"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        request_rec *r = from("127.0.0.1", "GET", "/stp/whoami");
        r->hostname = others[i];
        apr_table_setn(r->headers_in, "Host", others[i]);
        ck_assert_msg(stub_run(r) == HTTP_FORBIDDEN, "Host %s answered", others[i]);
        ck_assert_msg(strstr(stub_io(r)->log_msg, "not a loopback name"), "%s", stub_io(r)->log_msg);
        ck_assert_str_eq(stub_out(r), "");
    }
    static const char *const names[] = {"127.0.0.1", "127.1.2.3", "localhost", "LocalHost", "[::1]", "::1"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        request_rec *r = from("127.0.0.1", "GET", "/stp/whoami");
        r->hostname = names[i];
        ck_assert_msg(stub_run(r) == OK, "Host %s refused", names[i]);
    }
    /* Through a proxy on this machine (whose Host may well be 127.0.0.1:PORT): refused too. */
    static const char *const proxied[] = {"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Via"};
    for (size_t i = 0; i < sizeof proxied / sizeof *proxied; i++) {
        request_rec *r = from("127.0.0.1", "GET", "/stp/whoami");
        apr_table_setn(r->headers_in, proxied[i], "for=192.0.2.7");
        ck_assert_msg(stub_run(r) == HTTP_FORBIDDEN, "%s answered", proxied[i]);
        ck_assert_msg(strstr(stub_io(r)->log_msg, "through a proxy"), "%s", stub_io(r)->log_msg);
        ck_assert_str_eq(stub_out(r), "");
    }
    ck_assert(!stp_preview_host_ok("attacker.example"));
    ck_assert(stp_preview_host_ok(NULL)); /* HTTP/1.0 without Host: no browser's request */
}
END_TEST

/* Outside the preview, nothing of it exists: the rule, the URLs, the bar, the cookie. */
START_TEST(test_preview_off)
{
    request_rec *r = from("192.0.2.7", "GET", "/stp/whoami");
    apr_table_setn(r->headers_in, "Cookie", "stp_preview=member.t1.nda");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"user\":null");
    static const char *const urls[] = {"/stp/preview", "/stp/preview/status", "/stp/preview.js", "/stp/preview.css"};
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
        ck_assert_int_eq(stub_run(req("GET", urls[i])), HTTP_NOT_FOUND);
    r = req("GET", "/en/");
    stub_hooks.insert_filter(r);
    ck_assert(!stub_filter_added(r));
}
END_TEST

START_TEST(test_preview_startup_refusals)
{
    /* A listener on another address: configtest fails, naming it. */
    apr_pool_t *p = pool;
    ap_listen_rec any = {0}, lo = {0};
    ck_assert_int_eq(apr_sockaddr_info_get(&lo.bind_addr, "127.0.0.1", APR_INET, 8080, 0, p), APR_SUCCESS);
    ck_assert_int_eq(apr_sockaddr_info_get(&any.bind_addr, "0.0.0.0", APR_INET, 8081, 0, p), APR_SUCCESS);
    ap_listeners = &lo;
    ck_assert_int_eq(stub_hooks.check_config(p, p, p, srv), OK);
    lo.next = &any;
    ck_assert_int_eq(stub_hooks.check_config(p, p, p, srv), HTTP_INTERNAL_SERVER_ERROR);
    ck_assert_msg(strstr(stub_server_log, "StpPreview On with Listen 0.0.0.0:8081"), "%s", stub_server_log);
    /* With mod_auth_openidc: a production setup. */
    lo.next = NULL;
    stub_linked_module = "mod_auth_openidc.c";
    ck_assert_int_eq(stub_hooks.check_config(p, p, p, srv), HTTP_INTERNAL_SERVER_ERROR);
    ck_assert_msg(strstr(stub_server_log, "mod_auth_openidc"), "%s", stub_server_log);
}
END_TEST

/* The bar's identity goes through the claims code: kind, tenant, NDA, tenant pages, downloads. */
START_TEST(test_preview_identity)
{
    request_rec *r = as("member.t1", "/stp/whoami");
    sign_in(r, "mallory", "t2", NULL); /* the environment does not count in the preview */
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"kind\":\"member\",\"tenant\":\"t1\"");
    assert_has(stub_out(r), "\"accepted\":false");
    assert_lacks(stub_out(r), "mallory");

    r = as("member.t1.nda", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"accepted\":true");
    r = as("admin.t2", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"kind\":\"tenant-admin\",\"tenant\":\"t2\"");
    r = as("personal", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"kind\":\"personal\"");
    r = as("member.Bad/../x", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "\"kind\":\"anonymous\"");

    /* Tenant pages: the member's own, 404 for another tenant's member. */
    r = as("member.t1", "/en/org/docs/t1-pack/");
    ck_assert_int_ne(stub_run(r), HTTP_NOT_FOUND);
    ck_assert_msg(strstr(r->filename, "/" STP_BUILD_TENANTS "/t1/en/docs/"), "%s", r->filename);
    ck_assert_int_eq(stub_run(as("member.t2", "/en/org/docs/t1-pack/")), HTTP_NOT_FOUND);
    ck_assert_int_eq(stub_run(as("anonymous", "/download/t1-pack")), HTTP_NOT_FOUND);

    /* The NDA: asked for without it, served with it. */
    ck_assert_int_eq(stub_run(as("member.t1", "/download/t1-nda-pack")), HTTP_MOVED_TEMPORARILY);
    r = as("member.t1.nda", "/download/t1-nda-pack");
    ck_assert_int_eq(stub_run(r), OK);
    apr_size_t len;
    content_file("docs/t1-nda-pack/t1-nda-pack.txt", &len);
    ck_assert_uint_eq(stub_io(r)->out_len, len);
    ck_assert_int_eq(stub_run(as("member.t2.nda", "/download/t1-nda-pack")), HTTP_NOT_FOUND);
}
END_TEST

static const char *bar_of(request_rec *r)
{
    stub_hooks.insert_filter(r);
    ck_assert(stub_filter_added(r));
    ck_assert_int_eq(
        stub_filter_run(r, "text/html; charset=utf-8",
                        "<!DOCTYPE html><html><head><title>x</title></head><body class=\"home\"><p>Page</p>"
                        "</body></html>"),
        APR_SUCCESS);
    return stub_out(r);
}

START_TEST(test_preview_bar)
{
    request_rec *r = as("admin.t2", "/en/docs/public-report/?x=<1>");
    const char *html = bar_of(r);
    assert_has(html, "<script src=\"/stp/preview.js\" defer></script></head>");
    assert_has(html, "<body class=\"home\"><div id=\"stp-preview\"");
    assert_has(html, "<option value=\"member.t1\">Member of Tenant One</option>");
    assert_has(html, "<option value=\"admin.t2\" selected>Administrator of Tenant Two</option>");
    assert_has(html, "<option value=\"personal\">");
    assert_has(html, "name=\"return\" value=\"/en/docs/public-report/?x=&lt;1&gt;\"");
    assert_has(html, "</div><p>Page</p>");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");

    /* Not HTML: untouched. */
    r = as("anonymous", "/assets/stp.css");
    stub_hooks.insert_filter(r);
    ck_assert_int_eq(stub_filter_run(r, "text/css", "body{}"), APR_SUCCESS);
    ck_assert_str_eq(stub_out(r), "body{}");
}
END_TEST

static request_rec *choose(const char *body)
{
    request_rec *r = from("127.0.0.1", "POST", "/stp/preview");
    apr_table_setn(r->headers_in, "Cookie", "stp_sid=" SID);
    stub_set_body(r, "application/x-www-form-urlencoded", body, 0);
    return r;
}

START_TEST(test_preview_choose)
{
    const char *html = bar_of(as("anonymous", "/en/"));
    const char *csrf = form_csrf(html, "/stp/preview");
    ck_assert_ptr_nonnull(csrf);
    request_rec *r = choose(
        apr_pstrcat(pool, "as=member.t1&nda=1&lang=de&return=%2Fen%2Fdocs%2Fpublic-report%2F&csrf=", csrf, NULL));
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/de/docs/public-report/");
    ck_assert_str_eq(set_cookie(r), "stp_preview=member.t1.nda; Path=/; HttpOnly; SameSite=Lax");

    /* Without the token, with another's, or for a tenant site.xml does not have: refused. */
    r = choose("as=member.t1&return=%2F");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    ck_assert_ptr_null(set_cookie(r));
    ck_assert_int_eq(stub_run(choose(apr_pstrcat(pool, "as=member.t9&return=%2F&csrf=", csrf, NULL))),
                     HTTP_BAD_REQUEST);
    ck_assert_int_eq(stub_run(choose(apr_pstrcat(pool, "as=member.t1.nda&return=%2F&csrf=", csrf, NULL))),
                     HTTP_BAD_REQUEST);
    /* Off-site returns go home. */
    r = choose(apr_pstrcat(pool, "as=personal&return=%2F%2Fevil.test%2F&csrf=", csrf, NULL));
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/");
}
END_TEST

/* The page's own sign-in and sign-out links work in the preview, without an identity provider. */
START_TEST(test_preview_sign_in_out)
{
    request_rec *r = as("anonymous", "/stp/login?return=%2Fen%2Fdocs%2Fpublic-report%2F");
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/docs/public-report/");
    ck_assert_str_eq(set_cookie(r), "stp_preview=personal; Path=/; HttpOnly; SameSite=Lax");

    r = as("member.t1", "/stp/logout");
    r->method = "POST";
    r->method_number = M_POST;
    stub_set_body(r, "application/x-www-form-urlencoded",
                  apr_pstrcat(pool, "csrf=",
                              stp_csrf_token(conf->secret, sizeof conf->secret, STP_PREVIEW_ISSUER "|preview-member-t1",
                                             SID, "logout", apr_time_now(), pool),
                              NULL),
                  0);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/en/");
    ck_assert_msg(strstr(headers_of(r), "stp_preview=anonymous"), "%s", headers_of(r));
}
END_TEST

START_TEST(test_preview_status)
{
    const char *path = apr_pstrcat(pool, site_dir, "/" STP_PREVIEW_STATUS, NULL);
    ck_assert_int_eq(stp_preview_status_write(path, "abc-2", 1, "doc.xml:6: unknown element <titel>\n", pool),
                     APR_SUCCESS);
    request_rec *r = as("anonymous", "/stp/preview/status");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(stub_out(r), "{\"build\":\"abc-2\",\"failed\":true,\"errors\":\"doc.xml:6: unknown element "
                                  "\\u003ctitel\\u003e\\u000a\"}\n");
    const char *html = bar_of(as("anonymous", "/en/"));
    assert_has(html, "data-build=\"abc-2\"");
    assert_has(html, "<pre>doc.xml:6: unknown element &lt;titel&gt;\n</pre>");
    unlink(path);
}
END_TEST

Suite *glue_preview_suite(void)
{
    Suite *s = suite_create("glue_preview");
    TCase *tc = tcase_create("preview");
    tcase_add_checked_fixture(tc, setup_preview, teardown_preview);
    tcase_add_test(tc, test_preview_refuses_other_hosts);
    tcase_add_test(tc, test_preview_refuses_other_host_names);
    tcase_add_test(tc, test_preview_startup_refusals);
    tcase_add_test(tc, test_preview_identity);
    tcase_add_test(tc, test_preview_bar);
    tcase_add_test(tc, test_preview_choose);
    tcase_add_test(tc, test_preview_status);
    tcase_add_test(tc, test_preview_sign_in_out);
    suite_add_tcase(s, tc);
    TCase *off = tcase_create("off");
    tcase_add_checked_fixture(off, setup, teardown);
    tcase_add_test(off, test_preview_off);
    suite_add_tcase(s, off);
    return s;
}
