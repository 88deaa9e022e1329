/* The glue tests' shared fixture (glue_fixture.h): the server, the request helpers, and main(),
 * which publishes tests/fixtures/gate with the generator once and runs every glue_*.c suite. */
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxslt/xslt.h>
#include <stdio.h>
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
#include "mod_stp.h"
#include "sg_build.h"
#include "stp_csrf.h"
#include "stp_http.h"
#include "stp_log.h"
#include "test_util.h"

const char *tmp_root, *site_dir, *content_dir;
stp_day_t today;

apr_pool_t *pool;
server_rec *srv;
stp_conf_t *conf;
const char *state_dir;

/* --- the server --------------------------------------------------------------------------------- */

void directive(const char *name, const char *arg1, const char *arg2)
{
    const char *err = stub_directive(&stp_module, srv, pool, name, arg1, arg2);
    ck_assert_msg(err == NULL, "%s: %s", name, err);
}

void configure_site(const char *site)
{
    /* Under main()'s directory, so that even a test that dies leaves nothing behind. */
    char *dir = apr_pstrcat(pool, tmp_root, "/state-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    state_dir = dir;
    srv = stub_server(pool);
    stub_load_module(&stp_module, srv, pool);
    directive("StpSite", site, NULL);
    directive("StpStateDir", state_dir, NULL);
}

/* A server with StpSite and StpStateDir, not started yet, for tests that add directives. */
void setup_configured(void)
{
    apr_pool_create(&pool, NULL);
    configure_site(site_dir);
}

/* httpd's start: check_config and post_config in the parent, then child_init in the child that serves. */
void start(void)
{
    ck_assert_ptr_nonnull(stub_hooks.post_config);
    ck_assert_ptr_nonnull(stub_hooks.child_init);
    ck_assert_int_eq(stub_hooks.check_config(pool, pool, pool, srv), OK);
    ck_assert_int_eq(stub_hooks.post_config(pool, pool, pool, srv), OK);
    stub_hooks.child_init(pool, srv);
    conf = ap_get_module_config(srv->module_config, &stp_module);
    ck_assert_ptr_nonnull(conf->site);
    ck_assert_ptr_nonnull(conf->state);
}

void setup(void)
{
    setup_configured();
    start();
}

void teardown(void)
{
    stp_log_set(NULL, NULL); /* the server it logs to goes with the pool */
    test_rmtree(state_dir);
    apr_pool_destroy(pool);
}

/* --- requests ----------------------------------------------------------------------------------- */

request_rec *req(const char *method, const char *uri)
{
    return stub_request(srv, pool, method, uri);
}

/* What mod_auth_openidc leaves in the environment after authentication. NULL leaves a claim out. */
void sign_in(request_rec *r, const char *sub, const char *tid, const char *roles)
{
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_iss", ISS);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_sub", sub);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email", apr_pstrcat(r->pool, sub, "@example.com", NULL));
    if (tid)
        apr_table_setn(r->subprocess_env, "OIDC_CLAIM_tid", tid);
    if (roles)
        apr_table_setn(r->subprocess_env, "OIDC_CLAIM_roles", roles);
    apr_table_mergen(r->headers_in, "Cookie", "stp_sid=" SID);
    r->user = (char *)sub;
    r->ap_auth_type = "openid-connect";
}

/* A response header, wherever the module put it (err_headers_out survives errors and redirects). */
const char *out_hdr(const request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->headers_out, name);
    return v ? v : apr_table_get(r->err_headers_out, name);
}

const char *env(const request_rec *r, const char *name)
{
    return apr_table_get(r->subprocess_env, name);
}

/* The version of a document without one of its own: its publication date, @TODAY-N@. */
const char *months_ago(int n)
{
    char day[11];
    stp_date_format_iso(day, stp_date_add_months(today, -n));
    return apr_pstrdup(pool, day);
}

const char *user_key(const char *sub)
{
    return apr_pstrcat(pool, ISS, "|", sub, NULL);
}

/* The bytes of a fixture file, as published from the content directory. */
const char *content_file(const char *rel, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    const char *path = apr_pstrcat(pool, content_dir, "/", rel, NULL);
    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    char *buf = apr_palloc(pool, (apr_size_t)fi.size + 1);
    ck_assert_int_eq(apr_file_read_full(f, buf, (apr_size_t)fi.size, len), APR_SUCCESS);
    buf[*len] = '\0';
    apr_file_close(f);
    return buf;
}

/* A fabricated urlencoded POST. */
request_rec *post(const char *uri, const char *body)
{
    request_rec *r = req("POST", uri);
    stub_set_body(r, "application/x-www-form-urlencoded", body, 0);
    return r;
}

/* Accepted in t1, where the tests sign bob in. */
int nda_accepted(const char *sub)
{
    return stp_state_nda_accepted(conf->state, user_key(sub), "t1", "v1");
}

const char *token_for(const char *sub, const char *purpose)
{
    return stp_csrf_token(conf->secret, sizeof conf->secret, user_key(sub), SID, purpose, apr_time_now(), pool);
}

void assert_token_for(const char *token, const char *sub, const char *purpose)
{
    /* Checked, not compared: a token carries its issue time, so one minted a second later differs. */
    ck_assert_ptr_nonnull(token);
    ck_assert_msg(stp_csrf_check(conf->secret, sizeof conf->secret, user_key(sub), SID, purpose, token, apr_time_now(),
                                 pool) == 1,
                  "not %s's %s token: %s", sub, purpose, token);
}

/* The build directory `current` points to. */
const char *build_name(void)
{
    char buf[256];
    ssize_t n = readlink(apr_pstrcat(pool, site_dir, "/current", NULL), buf, sizeof buf - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    const char *slash = strrchr(buf, '/');
    return apr_pstrdup(pool, slash ? slash + 1 : buf);
}

/* --- answers ------------------------------------------------------------------------------------ */

/* The headers of a table as one sorted string, to compare two answers. */
static int header_line(void *baton, const char *k, const char *v)
{
    char **acc = baton;
    *acc = apr_pstrcat(pool, *acc, k, ": ", v, "\n", NULL);
    return 1;
}

const char *headers_of(const request_rec *r)
{
    char *acc = "";
    apr_table_do(header_line, &acc, r->headers_out, NULL);
    acc = apr_pstrcat(pool, acc, "--\n", NULL);
    apr_table_do(header_line, &acc, r->err_headers_out, NULL);
    return acc;
}

const char *set_cookie(const request_rec *r)
{
    return apr_table_get(r->err_headers_out, "Set-Cookie");
}

void assert_secure(const request_rec *r, const char *what)
{
    const char *csp = apr_table_get(r->err_headers_out, "Content-Security-Policy");
    ck_assert_msg(csp && strstr(csp, "frame-ancestors 'none'") && strstr(csp, "script-src 'self'") &&
                      !strstr(csp, "unsafe-inline"),
                  "%s: CSP %s", what, csp ? csp : "(none)");
    ck_assert_msg(apr_table_get(r->err_headers_out, "Referrer-Policy") &&
                      !strcmp(apr_table_get(r->err_headers_out, "Referrer-Policy"), "same-origin"),
                  "%s: Referrer-Policy", what);
    ck_assert_msg(apr_table_get(r->err_headers_out, "X-Content-Type-Options") != NULL, "%s: nosniff", what);
}

void assert_personal(const request_rec *r, const char *what)
{
    const char *cc = apr_table_get(r->err_headers_out, "Cache-Control");
    const char *vary = apr_table_get(r->err_headers_out, "Vary");
    ck_assert_msg(cc && !strcmp(cc, "no-store"), "%s: Cache-Control %s in err_headers_out", what, cc ? cc : "(none)");
    ck_assert_msg(vary && strstr(vary, "Cookie"), "%s: Vary %s", what, vary ? vary : "(none)");
}

/* /stp/whoami's answer, checked for what every answer has; without its display part (name,
 * organisation, a sign-out token that changes each second), which is checked on its own, the
 * answer is exactly known. */
const char *whoami(request_rec *r)
{
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    ck_assert_str_eq(out_hdr(r, "X-Content-Type-Options"), "nosniff");
    ck_assert_str_eq(out_hdr(r, "Content-Length"), apr_psprintf(pool, "%" APR_SIZE_T_FMT, strlen(stub_out(r))));
    const char *json = stub_out(r), *display = strstr(json, ",\"display\":{");
    if (!display)
        return json;
    ck_assert_ptr_nonnull(strstr(display, "\"signout\":\""));
    return apr_pstrcat(pool, apr_pstrmemdup(pool, json, (apr_size_t)(display - json)), "}\n", NULL);
}

void assert_page(const request_rec *r, int status, const char *lang)
{
    const char *html = stub_out(r);
    ck_assert_int_eq(r->status, status);
    ck_assert_str_eq(r->content_type, "text/html; charset=utf-8");
    ck_assert_str_eq(out_hdr(r, "Content-Language"), lang);
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    ck_assert_str_eq(out_hdr(r, "Content-Length"), apr_psprintf(pool, "%" APR_SIZE_T_FMT, strlen(html)));
    assert_has(html, apr_pstrcat(pool, "<html lang=\"", lang, "\"", NULL));
    assert_has(html, "<header class=\"top\">"); /* the site's layout, not httpd's default page */
}

void assert_has(const char *html, const char *needle)
{
    ck_assert_msg(html && strstr(html, needle), "no %s in: %s", needle, html ? html : "(nothing)");
}

void assert_lacks(const char *html, const char *needle)
{
    ck_assert_msg(html && !strstr(html, needle), "%s in: %s", needle, html ? html : "(nothing)");
}

const char *url_param(const char *url, const char *name)
{
    const char *q = strchr(url, '?'), *err;
    apr_table_t *args;
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(stp_http_form_parse(&args, &err, q + 1, strlen(q + 1), pool), APR_SUCCESS);
    return apr_table_get(args, name);
}

/* --- forms in pages ----------------------------------------------------------------------------- */

const char *form_csrf(const char *html, const char *action)
{
    const char *form = strstr(html, apr_pstrcat(pool, "action=\"", action, "\"", NULL));
    ck_assert_msg(form != NULL, "no form posting to %s in %s", action, html);
    const char *at = strstr(form, "name=\"csrf\" value=\"");
    ck_assert_ptr_nonnull(at);
    at += strlen("name=\"csrf\" value=\"");
    return apr_pstrndup(pool, at, strcspn(at, "\""));
}

const char *form_token(const char *html)
{
    /* The agreement's form, not the header's sign-out form. */
    return form_csrf(html, "/stp/nda");
}

const char *nda_body(const char *csrf, const char *version, const char *target)
{
    return apr_pstrcat(pool, "csrf=", csrf ? csrf : "", "&version=", version,
                       "&return=", stp_http_url_escape(target, pool), "&lang=en", NULL);
}

/* --- the published site ------------------------------------------------------------------------- */

int publish_site(const char *content, const char *site, apr_pool_t *p)
{
    sg_options_t opt;
    sg_stats_t stats;
    memset(&opt, 0, sizeof opt);
    opt.content_dir = content;
    opt.site_dir = site;
    opt.xslt_dir = TEST_SRCDIR "/xslt";
    opt.jobs = 1;
    opt.today = today;
    return sg_build_run(&opt, &stats, sg_errors_make(p), p) == 0;
}

/* --- publishing the fixture -------------------------------------------------------------------- */

static int setup_failed(const char *what, const char *detail)
{
    fprintf(stderr, "test_glue: %s: %s\n", what, detail);
    return 0;
}

/* Rewrites @TODAY-N@ in one file to the date N months before today, as tests/lib/harness.py does. */
static int fill_dates(const char *path, stp_day_t day0, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) || apr_file_info_get(&fi, APR_FINFO_SIZE, f))
        return setup_failed("cannot read", path);
    char *text = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_status_t rv = apr_file_read_full(f, text, (apr_size_t)fi.size, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return setup_failed("cannot read", path);
    text[len] = '\0';
    const char *out = "", *s = text, *at;
    while ((at = strstr(s, "@TODAY-"))) {
        char day[11];
        apr_size_t digits = strspn(at + 7, "0123456789");
        if (!digits || at[7 + digits] != '@') { /* not a placeholder (the fixture's comment names one) */
            out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(at + 7 - s)), NULL);
            s = at + 7;
            continue;
        }
        stp_date_format_iso(day, stp_date_add_months(day0, -atoi(at + 7)));
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(at - s)), day, NULL);
        s = at + 7 + digits + 1;
    }
    out = apr_pstrcat(p, out, s, NULL);
    if (apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE, 0, p) ||
        apr_file_write_full(f, out, strlen(out), NULL) || apr_file_close(f))
        return setup_failed("cannot write", path);
    return 1;
}

static int fill_dates_tree(const char *dir, stp_day_t day0, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int ok = 1;
    if (apr_dir_open(&d, dir, p) != APR_SUCCESS)
        return setup_failed("cannot list", dir);
    while (ok && apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *path = apr_pstrcat(p, dir, "/", fi.name, NULL);
        apr_size_t n = strlen(fi.name);
        if (fi.filetype == APR_DIR && strcmp(fi.name, ".") && strcmp(fi.name, ".."))
            ok = fill_dates_tree(path, day0, p);
        else if (fi.filetype == APR_REG && n > 4 && !strcmp(fi.name + n - 4, ".xml"))
            ok = fill_dates(path, day0, p);
    }
    apr_dir_close(d);
    return ok;
}

/* Publishes the gate fixture, dated relative to today, with the generator itself. */
static int publish(const char *tmp, apr_pool_t *p)
{
    char cmd[1024];
    content_dir = apr_pstrcat(p, tmp, "/content", NULL);
    site_dir = apr_pstrcat(p, tmp, "/site", NULL);
    snprintf(cmd, sizeof cmd, "cp -R '%s/tests/fixtures/gate' '%s'", TEST_SRCDIR, content_dir);
    if (system(cmd) != 0)
        return setup_failed("cannot copy the fixture", cmd);
    today = stp_date_from_time(apr_time_now());
    if (!fill_dates_tree(content_dir, today, p))
        return 0;
    return publish_site(content_dir, site_dir, p) || setup_failed("sitegen failed on", content_dir);
}

int main(void)
{
    apr_pool_t *p;
    char tmp[] = "/tmp/stp-test-glue-XXXXXX", cmd[64];
    apr_initialize();
    xmlInitParser();
    xsltInit();
    apr_pool_create(&p, NULL);
    if (!mkdtemp(tmp)) {
        perror("test_glue: mkdtemp");
        return EXIT_FAILURE;
    }
    tmp_root = tmp;
    int ok = publish(tmp, p);
    int failed = 1;
    if (ok) {
        /* One suite per handler (glue_*.c). */
        SRunner *sr = srunner_create(glue_routes_suite());
        Suite *(*const more[])(void) = {
            glue_config_suite,  glue_request_suite,       glue_download_suite, glue_nda_suite,      glue_session_suite,
            glue_library_suite, glue_notifications_suite, glue_authz_suite,    glue_security_suite, glue_error_suite,
            glue_search_suite,  glue_admin_suite,         glue_feedback_suite, glue_access_suite,   glue_preview_suite,
        };
        for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
            srunner_add_suite(sr, more[i]());
        srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=silent: only the TAP log */
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "test_glue: cannot remove %s\n", tmp);
    apr_pool_destroy(p);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
