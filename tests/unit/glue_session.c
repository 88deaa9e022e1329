/* The session endpoints (mod_stp_session.c): /stp/whoami, /stp/login, /stp/logout, /stp/account,
 * and the user record every signed-in request keeps current. */
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
#include "stp_library.h"
#include "stp_notify.h"

/* --- whoami ------------------------------------------------------------------------------------- */

static const char *expected_json(const char *user, const char *kind, const char *tenant, const char *email,
                                 int accepted)
{
    return apr_psprintf(pool,
                        "{\"user\":%s,\"kind\":\"%s\",\"tenant\":%s,\"email\":%s,\"lang\":\"en\","
                        "\"nda\":{\"version\":\"v1\",\"accepted\":%s},"
                        "\"catalog\":{\"generation\":1,\"build\":\"%s\"}}\n",
                        user, kind, tenant, email, accepted ? "true" : "false", build_name());
}

/* Every signed-in request keeps the user record current (issue #10): the tenant and e-mail that
 * digests are checked against, with the provider's email_verified. */
START_TEST(test_user_record_follows_sign_in)
{
    stp_user_record_t rec;
    request_rec *r = req("GET", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK); /* anonymous: nothing recorded */
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_NOTFOUND);
    r = req("GET", "/stp/whoami");
    sign_in(r, "alice", "contoso", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_str_eq(rec.tenant, "contoso");
    ck_assert_str_eq(rec.email, "alice@example.com");
    ck_assert_int_eq(rec.email_verified, 1);
    apr_time_t first = rec.since;
    /* Moved to fabrikam, with an address the provider has not verified; a download records it too. */
    r = req("GET", "/download/public-report");
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "false");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_str_eq(rec.tenant, "fabrikam");
    ck_assert_int_eq(rec.email_verified, 0);
    ck_assert(rec.since >= first);
    /* The settings page neither suggests nor accepts an address from an unverified claim. */
    r = req("GET", "/stp/notifications");
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "0");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_ptr_null(strstr(stub_out(r), "value=\"alice@example.com\""));
    r = post("/stp/notifications", apr_pstrcat(pool, "csrf=", token_for("alice", "notifications"),
                                               "&frequency=daily&address=alice%40example.com&locale=en", NULL));
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "0");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_BAD_REQUEST);
    stp_notify_t n;
    ck_assert_int_eq(stp_notify_get(&n, conf->state, user_key("alice"), pool), APR_NOTFOUND);
    /* Verified again ("1", as mod_auth_openidc may pass a JSON true): accepted and recorded. */
    r = post("/stp/notifications", apr_pstrcat(pool, "csrf=", token_for("alice", "notifications"),
                                               "&frequency=daily&address=alice%40example.com&locale=en", NULL));
    sign_in(r, "alice", "fabrikam", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "1");
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(stp_state_user_get(&rec, conf->state, user_key("alice"), pool), APR_SUCCESS);
    ck_assert_int_eq(rec.email_verified, 1);
}
END_TEST

START_TEST(test_whoami_kinds)
{
    request_rec *r = req("GET", "/stp/whoami");
    ck_assert_str_eq(whoami(r), expected_json("null", "anonymous", "null", "null", 0));

    r = req("GET", "/stp/whoami");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_str_eq(whoami(r), expected_json("\"" ISS "|alice\"", "personal", "null", "\"alice@example.com\"", 0));

    r = req("GET", "/stp/whoami");
    sign_in(r, "bob", "t1", "Reader");
    ck_assert_str_eq(whoami(r), expected_json("\"" ISS "|bob\"", "member", "\"t1\"", "\"bob@example.com\"", 0));

    ck_assert_int_eq(stp_state_nda_accept(conf->state, user_key("carol"), "t2", "v1", apr_time_now()), APR_SUCCESS);
    r = req("GET", "/stp/whoami");
    sign_in(r, "carol", "t2", "GlobalAdmin");
    ck_assert_str_eq(whoami(r),
                     expected_json("\"" ISS "|carol\"", "tenant-admin", "\"t2\"", "\"carol@example.com\"", 1));
}
END_TEST

START_TEST(test_whoami_escapes)
{
    request_rec *r = req("GET", "/stp/whoami?lang=de");
    sign_in(r, "x\"</script><script>alert(1)</script>", "t1", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email", "a\\\"</script>&\n@example.com");
    const char *json = whoami(r);
    ck_assert_ptr_null(strstr(json, "</script>"));
    ck_assert_ptr_null(strchr(json, '<'));
    ck_assert_ptr_nonnull(strstr(
        json, "\"user\":\"" ISS "|x\\\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\","));
    ck_assert_ptr_nonnull(strstr(json, "\"email\":\"a\\\\\\\"\\u003c/script\\u003e\\u0026\\u000a@example.com\","));
    ck_assert_ptr_nonnull(strstr(json, "\"lang\":\"de\""));
    /* One line: the only newline is the last byte. */
    ck_assert_ptr_eq(strchr(json, '\n'), json + strlen(json) - 1);
}
END_TEST

START_TEST(test_whoami_methods)
{
    request_rec *r = req("HEAD", "/stp/whoami");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_ptr_nonnull(out_hdr(r, "Content-Length"));
    ck_assert_uint_eq(stub_io(r)->out_len, 0);

    r = post("/stp/whoami", "a=1");
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
    ck_assert_uint_eq(stub_io(r)->out_len, 0);
}
END_TEST

/* --- /stp/account ------------------------------------------------------------------------------ */

START_TEST(test_account_anonymous)
{
    request_rec *r = req("GET", "/stp/account?lang=de");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "de");
    const char *html = stub_out(r);
    assert_has(html, "<h1>Ihr Konto</h1>");
    assert_has(html, "Sie sind nicht angemeldet.");
    assert_has(html, "href=\"/stp/login?lang=de&amp;return=%2Fstp%2Faccount%3Flang%3Dde\"");
    assert_lacks(html, "action=\"/stp/logout\"");
    assert_personal(r, "anonymous account page");

    r = post("/stp/account", "a=1");
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
    ck_assert(r->allowed & (AP_METHOD_BIT << M_GET));
}
END_TEST

/* The detail list's value for a term. */
static const char *detail(const char *html, const char *term)
{
    const char *dt = strstr(html, apr_pstrcat(pool, "<dt>", term, "</dt><dd>", NULL));
    ck_assert_msg(dt != NULL, "no %s in %s", term, html);
    dt += strlen(term) + strlen("<dt></dt><dd>");
    return apr_pstrndup(pool, dt, (apr_size_t)(strstr(dt, "</dd>") - dt));
}

START_TEST(test_account_signed_in)
{
    request_rec *r = req("GET", "/stp/account");
    sign_in(r, "bob", "t1", NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_name", "Bob <Builder>");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *html = stub_out(r);
    ck_assert_str_eq(detail(html, "Signed in as"), "Bob &lt;Builder&gt;");
    ck_assert_str_eq(detail(html, "E-mail address"), "bob@example.com");
    ck_assert_str_eq(detail(html, "Organization"), "Tenant One");
    ck_assert_str_eq(detail(html, "Account"), "Organization member");
    ck_assert_str_eq(detail(html, "Non-disclosure agreement"),
                     "<a href=\"/stp/nda?lang=en\">Not yet accepted (version v1): read and accept</a>");
    assert_has(strstr(html, "<main"), "<a href=\"/en/org/\">");
    /* The sign-out button, with the session's token, which signs out. */
    const char *token = form_csrf(strstr(html, "<main"), "/stp/logout");
    assert_token_for(token, "bob", "logout");
    r = post("/stp/logout", apr_pstrcat(pool, "csrf=", token, NULL));
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/oidc-callback?logout=http%3A%2F%2Fportal.test%2Fen%2F");

    /* Accepted, in German. */
    ck_assert_int_eq(stp_state_nda_accept(conf->state, user_key("bob"), "t1", "v1", apr_time_now()), APR_SUCCESS);
    r = req("GET", "/stp/account?lang=de");
    sign_in(r, "bob", "t1", "GlobalAdmin");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "de");
    html = stub_out(r);
    ck_assert_str_eq(detail(html, "Angemeldet als"), "bob@example.com"); /* no name claim: the address */
    ck_assert_str_eq(detail(html, "Konto"), "Administrator der Organisation");
    ck_assert_str_eq(detail(html, "Geheimhaltungsvereinbarung"), "Akzeptiert (Version v1)");

    /* A personal account: no organisation, and the NDA is not for it. */
    r = req("GET", "/stp/account");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    html = stub_out(r);
    ck_assert_str_eq(detail(html, "Organization"), "None (a personal account)");
    ck_assert_str_eq(detail(html, "Account"), "Personal account");
    ck_assert_str_eq(detail(html, "Non-disclosure agreement"), "Needs an organization account");
    assert_lacks(strstr(html, "<main"), "<a href=\"/en/org/\">");
    assert_has(strstr(html, "<main"), "action=\"/stp/logout\"");

    /* GET /stp/logout shows the same page: a GET never signs out. */
    r = req("GET", "/stp/logout");
    sign_in(r, "alice", NULL, NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    assert_has(stub_out(r), "<h1>Your account</h1>");
}
END_TEST

/* A personal account says once per sign-in which claim made it one (issue #15): the browser keeps
 * a digest of the sign-in (subject, the ID token's iat and nonce); only the claims' names are logged. */
static request_rec *personal_whoami(const char *iat, const char *cookie)
{
    request_rec *r = req("GET", "/stp/whoami");
    sign_in(r, "pat", NULL, NULL);
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_iat", iat);
    if (cookie) /* as a browser sends them: one header */
        apr_table_setn(r->headers_in, "Cookie", apr_pstrcat(pool, "stp_sid=" SID "; ", cookie, NULL));
    ck_assert_int_eq(stub_run(r), OK);
    return r;
}

static int logged_personal(request_rec *r)
{
    const char *msg = stub_io(r)->log_msg;
    return msg && strstr(msg, "is a personal account") != NULL;
}

START_TEST(test_personal_reason_once)
{
    request_rec *r = personal_whoami("1700000000", NULL);
    ck_assert(logged_personal(r));
    assert_has(stub_io(r)->log_msg, "the tenant claim tid (StpTenantClaim) is missing");
    assert_has(stub_io(r)->log_msg, "(OIDC_CLAIM_*): iss sub email iat.");
    ck_assert_ptr_null(strstr(stub_io(r)->log_msg, "1700000000")); /* names, never values */
    ck_assert_ptr_null(strstr(stub_io(r)->log_msg, "pat@example.com"));
    const char *set = strstr(headers_of(r), "stp_personal=");
    ck_assert_ptr_nonnull(set);
    assert_has(set, "HttpOnly");
    const char *cookie = apr_pstrndup(pool, set, strcspn(set, ";"));
    assert_personal(r, "the first request of a personal sign-in");

    /* The same sign-in, on any later request: not again, no cookie again. */
    r = personal_whoami("1700000000", cookie);
    ck_assert(!logged_personal(r));
    ck_assert_ptr_null(strstr(headers_of(r), "stp_personal="));
    /* A new sign-in (a new ID token), even in the same browser: again. */
    r = personal_whoami("1700003600", cookie);
    ck_assert(logged_personal(r));
    /* An organisation member: never. */
    r = req("GET", "/stp/whoami");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert(!logged_personal(r));
    ck_assert_ptr_null(strstr(headers_of(r), "stp_personal="));
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_session_suite(void)
{
    Suite *s = suite_create("glue-session");
    TCase *tc;

    tc = tcase_create("whoami");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_whoami_kinds);
    tcase_add_test(tc, test_whoami_escapes);
    tcase_add_test(tc, test_whoami_methods);
    suite_add_tcase(s, tc);

    tc = tcase_create("user-record");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_user_record_follows_sign_in);
    tcase_add_test(tc, test_personal_reason_once);
    suite_add_tcase(s, tc);

    tc = tcase_create("account");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_account_anonymous);
    tcase_add_test(tc, test_account_signed_in);
    suite_add_tcase(s, tc);
    return s;
}
