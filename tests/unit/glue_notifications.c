/* Notification settings (GET and POST /stp/notifications in mod_stp_library.c): the form, a
 * valid change, and the refusals, which store nothing and answer in the page's language. */
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <httpd.h>
#include <http_protocol.h>

#include "glue_fixture.h"
#include "httpd_stub.h"
#include "stp_csrf.h"
#include "stp_http.h"
#include "stp_library.h"
#include "stp_notify.h"

static const char *settings(const char *frequency, const char *address, const char *locale)
{
    return apr_pstrcat(pool, "csrf=", token_for("bob", "notifications"), "&frequency=", frequency,
                       "&address=", stp_http_url_escape(address, pool), "&locale=", locale, NULL);
}

static request_rec *notify_post(const char *uri, const char *body)
{
    request_rec *r = post(uri, body);
    sign_in(r, "bob", "t1", NULL);
    return r;
}

static void assert_nothing_stored(void)
{
    stp_notify_t n;
    ck_assert_int_eq(stp_notify_get(&n, conf->state, user_key("bob"), pool), APR_NOTFOUND);
}

START_TEST(test_notifications_page)
{
    request_rec *r = req("GET", "/stp/notifications");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *html = stub_out(r);
    assert_has(html, "<form method=\"post\" action=\"/stp/notifications\">");
    const char *token = form_csrf(html, "/stp/notifications");
    ck_assert_int_eq(stp_csrf_check(conf->secret, sizeof conf->secret, user_key("bob"), SID, "notifications", token,
                                    apr_time_now(), pool),
                     1);
    /* Every frequency, "off" chosen until the user says otherwise. */
    assert_has(html, "<select id=\"freq\" name=\"frequency\">");
    assert_has(html, "<option value=\"off\" selected>Never</option>");
    assert_has(html, "<option value=\"daily\">Daily</option>");
    assert_has(html, "<option value=\"weekly\">Weekly</option>");
    assert_has(html, "<option value=\"monthly\">Monthly</option>");
    /* The sign-in address suggested on a first visit; the site's languages, the page's chosen. */
    assert_has(html, "name=\"address\" type=\"email\" size=\"40\" value=\"bob@example.com\"");
    assert_has(html, "<option value=\"en\" lang=\"en\" selected>English</option>");
    assert_has(html, "<option value=\"de\" lang=\"de\">Deutsch</option>");
    assert_has(html, "<option value=\"ar\" lang=\"ar\">");
    assert_lacks(html, "role=\"alert\"");
    assert_lacks(html, "Your settings are saved.");

    /* Anonymous: sign in first. */
    r = req("GET", "/stp/notifications?lang=de");
    ck_assert_int_eq(stub_run(r), HTTP_MOVED_TEMPORARILY);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/login?return=%2Fstp%2Fnotifications%3Flang%3Dde");

    r = req("PUT", "/stp/notifications");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), HTTP_METHOD_NOT_ALLOWED);
}
END_TEST

START_TEST(test_notifications_save)
{
    request_rec *r = notify_post("/stp/notifications", settings("weekly", "bob.ops@Example.com", "de"));
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/notifications?saved=1&lang=en");
    ck_assert_str_eq(out_hdr(r, "Cache-Control"), "no-store");
    stp_notify_t n;
    ck_assert_int_eq(stp_notify_get(&n, conf->state, user_key("bob"), pool), APR_SUCCESS);
    ck_assert_int_eq(n.freq, STP_FREQ_WEEKLY);
    ck_assert_str_eq(n.address, "bob.ops@Example.com");
    ck_assert_str_eq(n.locale, "de");
    ck_assert_str_eq(n.tenant, "t1");

    /* Where it leads: the page says so and shows what is stored. */
    r = req("GET", "/stp/notifications?saved=1&lang=en");
    sign_in(r, "bob", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *html = stub_out(r);
    assert_has(html, "<p class=\"notice\" role=\"status\">Your settings are saved.</p>");
    assert_has(html, "<option value=\"weekly\" selected>Weekly</option>");
    assert_has(html, "value=\"bob.ops@Example.com\"");
    assert_has(html, "<option value=\"de\" lang=\"de\" selected>Deutsch</option>");

    /* Off, without an address, is a valid choice too. */
    r = notify_post("/stp/notifications", settings("off", "", "en"));
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_int_eq(stp_notify_get(&n, conf->state, user_key("bob"), pool), APR_SUCCESS);
    ck_assert_int_eq(n.freq, STP_FREQ_OFF);
    ck_assert_str_eq(n.address, "");
}
END_TEST

/* An address outside the e-mail's domain: 400, the form again with the error next to the field,
 * in the page's language, what the user typed kept, nothing stored. */
START_TEST(test_notifications_bad_address)
{
    static const char *const addresses[] = {"bob@evil.test",         "bob@example.com.evil.test",
                                            "bob@sub.example.com",   "@example.com",
                                            "bob smith@example.com", "bob@example.com,eve@evil.test"};
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++) {
        request_rec *r = notify_post("/stp/notifications?lang=de", settings("daily", addresses[i], "en"));
        ck_assert_int_eq(stub_run(r), OK);
        assert_page(r, HTTP_BAD_REQUEST, "de");
        const char *html = stub_out(r);
        assert_has(html, "<span class=\"error\" id=\"address-error\" role=\"alert\">Geben Sie eine E-Mail-Adresse in "
                         "der Domäne Ihrer Organisation ein: example.com</span>");
        assert_has(html, "aria-invalid=\"true\" aria-describedby=\"address-error\"");
        assert_has(html, "<option value=\"daily\" selected>Täglich</option>");
        assert_nothing_stored();
    }
    /* The language from Accept-Language, with the form's other answers kept. */
    request_rec *r = notify_post("/stp/notifications", settings("monthly", "bob@evil.test", "ja"));
    apr_table_setn(r->headers_in, "Accept-Language", "de-DE, de;q=0.9");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_BAD_REQUEST, "de");
    assert_has(stub_out(r), "Domäne Ihrer Organisation ein: example.com</span>");
    assert_has(stub_out(r), "value=\"bob@evil.test\"");
    assert_has(stub_out(r), "<option value=\"ja\" lang=\"ja\" selected>");
    assert_has(stub_out(r), "<option value=\"monthly\" selected>Monatlich</option>");
    /* ... and as the browser posts the German page's form: its stp_lang cookie. */
    r = notify_post("/stp/notifications", settings("daily", "bob@evil.test", "en"));
    apr_table_set(r->headers_in, "Cookie", "stp_lang=de; stp_sid=" SID);
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_BAD_REQUEST, "de");
    /* No address for a digest. */
    r = notify_post("/stp/notifications?lang=de", settings("weekly", "", "en"));
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_BAD_REQUEST, "de");
    assert_has(stub_out(r), "Geben Sie eine E-Mail-Adresse ein, um Benachrichtigungen zu erhalten.");
    assert_nothing_stored();
}
END_TEST

/* What the form cannot send: 400 without a page of its own; a missing or wrong token: 403. */
START_TEST(test_notifications_refused)
{
    static const char *const bodies[] = {"frequency=hourly", "frequency=", "frequency=Daily",
                                         "locale=xx",        "locale=",    "locale=en,de"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        const char *body = !strncmp(bodies[i], "frequency", 9)
                               ? apr_pstrcat(pool, "csrf=", token_for("bob", "notifications"), "&", bodies[i],
                                             "&address=bob%40example.com&locale=en", NULL)
                               : apr_pstrcat(pool, "csrf=", token_for("bob", "notifications"),
                                             "&frequency=daily&address=bob%40example.com&", bodies[i], NULL);
        request_rec *r = notify_post("/stp/notifications", body);
        ck_assert_msg(stub_run(r) == HTTP_BAD_REQUEST, "%s accepted", bodies[i]);
        assert_nothing_stored();
    }
    request_rec *r = notify_post("/stp/notifications", "frequency=daily&address=bob%40example.com&locale=en");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_FORBIDDEN, "en");
    ck_assert_ptr_nonnull(strstr(stub_io(r)->log_msg, "bad CSRF token"));
    r = notify_post("/stp/notifications", apr_pstrcat(pool, "csrf=", token_for("bob", "library"),
                                                      "&frequency=daily&address=bob%40example.com&locale=en", NULL));
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    r = post("/stp/notifications", settings("daily", "bob@example.com", "en"));
    sign_in(r, "carol", "t1", NULL);
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(r->status, HTTP_FORBIDDEN);
    assert_nothing_stored();
    stp_notify_t n;
    ck_assert_int_eq(stp_notify_get(&n, conf->state, user_key("carol"), pool), APR_NOTFOUND);
}
END_TEST

/* --- the suite ---------------------------------------------------------------------------------- */

Suite *glue_notifications_suite(void)
{
    Suite *s = suite_create("glue-notifications");
    TCase *tc = tcase_create("notifications");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_notifications_page);
    tcase_add_test(tc, test_notifications_save);
    tcase_add_test(tc, test_notifications_bad_address);
    tcase_add_test(tc, test_notifications_refused);
    suite_add_tcase(s, tc);
    return s;
}
