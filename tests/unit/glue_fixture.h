/* The shared fixture of the glue tests (glue_*.c, one Check suite per handler, all in
 * tests/unit/test_glue): the module's own files linked against stand-ins of the httpd functions
 * they call (httpd_stub.c), configured through its directive table, started through its
 * post_config and child_init hooks, and asked through its translate_name, fixups and handler
 * hooks: nothing of the module is replaced. The catalog is a real publication of
 * tests/fixtures/gate by the generator, made once in main() (glue_fixture.c); every test gets its
 * own state directory. */
#ifndef STP_GLUE_FIXTURE_H
#define STP_GLUE_FIXTURE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include <check.h>
#include <httpd.h>

#include "mod_stp.h"

#define ISS "https://idp.test"
/* The browser session of every signed-in request (the stp_sid cookie). */
#define SID "00112233445566778899aabbccddeeff"

/* Set by main() before the suites run (and fork): the published site and its source. */
extern const char *tmp_root, *site_dir, *content_dir;
extern stp_day_t today;

/* Set by the checked fixtures, per test. */
extern apr_pool_t *pool;
extern server_rec *srv;
extern stp_conf_t *conf;
extern const char *state_dir;

/* --- the server --------------------------------------------------------------------------------- */

/* One directive of the module, which must be accepted. */
void directive(const char *name, const char *arg1, const char *arg2);
/* A server with StpSite and StpStateDir, not started yet, for tests that add directives. */
void setup_configured(void);
/* A server for `site` with its own state directory, not started yet (the pool exists). */
void configure_site(const char *site);
/* httpd's start: check_config and post_config in the parent, then child_init in the child that serves. */
void start(void);
void setup(void);
void teardown(void);

/* --- requests ----------------------------------------------------------------------------------- */

request_rec *req(const char *method, const char *uri);
/* A fabricated urlencoded POST. */
request_rec *post(const char *uri, const char *body);
/* What mod_auth_openidc leaves in the environment after authentication. NULL leaves a claim out. */
void sign_in(request_rec *r, const char *sub, const char *tid, const char *roles);
/* A response header, wherever the module put it (err_headers_out survives errors and redirects). */
const char *out_hdr(const request_rec *r, const char *name);
const char *env(const request_rec *r, const char *name);
/* The first Set-Cookie of the answer. */
const char *set_cookie(const request_rec *r);
/* The headers of an answer as one string, to compare two answers. */
const char *headers_of(const request_rec *r);
/* Runs a GET of /stp/whoami and returns its JSON without the display part. */
const char *whoami(request_rec *r);

/* --- the site and the state --------------------------------------------------------------------- */

/* The version of a document without one of its own: its publication date, @TODAY-N@. */
const char *months_ago(int n);
const char *user_key(const char *sub);
/* The bytes of a fixture file, as published from the content directory. */
const char *content_file(const char *rel, apr_size_t *len);
/* The build directory `current` points to. */
const char *build_name(void);
/* Publishes a content directory (dated already) into a site directory with the generator, as
 * main() does the fixture; 1 on success. */
int publish_site(const char *content, const char *site, apr_pool_t *p);
/* Accepted in t1, where the tests sign bob in. */
int nda_accepted(const char *sub);
/* A token of SID's session for `sub` (NULL: anonymous). */
const char *token_for(const char *sub, const char *purpose);
/* Fails unless `token` is `sub`'s valid token for `purpose` in the fixture's session. */
void assert_token_for(const char *token, const char *sub, const char *purpose);

/* --- pages -------------------------------------------------------------------------------------- */

/* The csrf field's value of the first form posting to `action` in a page. */
const char *form_csrf(const char *html, const char *action);
/* The NDA form's token (not the header's sign-out form). */
const char *form_token(const char *html);
/* The NDA form's body. */
const char *nda_body(const char *csrf, const char *version, const char *target);
/* Security headers in err_headers_out (every status keeps them). */
void assert_secure(const request_rec *r, const char *what);
/* no-store and Vary: Cookie in err_headers_out. */
void assert_personal(const request_rec *r, const char *what);
/* A module page in the site layout: `status`, HTML in `lang` (<html lang>, Content-Language),
 * no-store, its Content-Length the body's. */
void assert_page(const request_rec *r, int status, const char *lang);
/* `needle` occurs (or not) in `html`; the message shows the page. */
void assert_has(const char *html, const char *needle);
void assert_lacks(const char *html, const char *needle);
/* The decoded value of query parameter `name` in a URL (NULL when absent). */
const char *url_param(const char *url, const char *name);

/* --- the suites --------------------------------------------------------------------------------- */

Suite *glue_routes_suite(void);
Suite *glue_config_suite(void);
Suite *glue_request_suite(void);
Suite *glue_download_suite(void);
Suite *glue_nda_suite(void);
Suite *glue_session_suite(void);
Suite *glue_library_suite(void);
Suite *glue_notifications_suite(void);
Suite *glue_authz_suite(void);
Suite *glue_access_suite(void);
Suite *glue_security_suite(void);
Suite *glue_search_suite(void);
Suite *glue_error_suite(void);
Suite *glue_admin_suite(void);
Suite *glue_feedback_suite(void);
Suite *glue_preview_suite(void);

#endif
