/* Organisation settings (/stp/admin, mod_stp_admin.c) over fabricated requests: who sees them, the
 * changes with their token, the refusals that change nothing, the access mode's effect on a
 * member, and the recommendations on the home page. */
#include <apr_strings.h>
#include <string.h>

#include <check.h>
#include <httpd.h>
#include <http_protocol.h>

#include "glue_fixture.h"
#include "httpd_stub.h"
#include "stp_http.h"
#include "stp_org.h"

/* carol: t1's administrator by the claim; bob and alice: t1 members; dave: t2; staff: sam. */
static request_rec *as(request_rec *r, const char *who)
{
    if (!strcmp(who, "carol"))
        sign_in(r, "carol", "t1", "Reader,GlobalAdmin");
    else if (!strcmp(who, "sam"))
        sign_in(r, "sam", "vendor", "PortalStaff");
    else if (!strcmp(who, "dave"))
        sign_in(r, "dave", "t2", NULL);
    else if (!strcmp(who, "pat"))
        sign_in(r, "pat", NULL, NULL);
    else if (strcmp(who, "anonymous"))
        sign_in(r, who, "t1", NULL);
    return r;
}

/* The answer's status: a handler that sends a page itself returns OK with r->status set. */
static int status(request_rec *r)
{
    int rc = stub_run(r);
    return rc == OK ? r->status : rc;
}

static void start_staff(void)
{
    setup_configured();
    directive("StpStaffClaim", "roles", "PortalStaff");
    start();
}

static int get(const char *uri, const char *who)
{
    request_rec *r = as(req("GET", uri), who);
    return status(r);
}

static request_rec *change(const char *who, const char *fields)
{
    request_rec *r = post("/stp/admin", apr_pstrcat(pool, "csrf=", token_for(who, "admin"), "&", fields, NULL));
    return as(r, who);
}

static const char *settings_text(const char *tenant)
{
    stp_org_settings_t s;
    ck_assert_int_eq(stp_org_settings_get(&s, conf->state, tenant, pool), APR_SUCCESS);
    return apr_psprintf(pool, "%s %s %s", stp_org_mode_name(s.mode), apr_array_pstrcat(pool, s.industries, ','),
                        apr_array_pstrcat(pool, s.regions, ','));
}

static stp_role_t role_of(const char *email)
{
    stp_role_t role;
    ck_assert_int_eq(stp_org_role_get(&role, conf->state, "t1", email), APR_SUCCESS);
    return role;
}

START_TEST(test_admin_who_sees_it)
{
    /* Everyone but the organisation's administrators and staff: the unknown page's 404. */
    const char *nobody[] = {"anonymous", "pat", "bob", "dave"};
    for (size_t i = 0; i < sizeof nobody / sizeof nobody[0]; i++)
        ck_assert_msg(get("/stp/admin", nobody[i]) == HTTP_NOT_FOUND, "%s saw the settings", nobody[i]);
    ck_assert_int_eq(get("/stp/admin?tenant=t1", "bob"), HTTP_NOT_FOUND); /* ?tenant= is staff's only */
    request_rec *r = as(req("GET", "/stp/admin"), "carol");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    const char *html = stub_out(r);
    assert_has(html, "id=\"stp-admin-settings\"");
    /* The header leads administrators here from every module page; members it does not. */
    assert_has(html, "<li class=\"admin\"><a href=\"/stp/admin?lang=en\">Organization settings</a></li>");
    request_rec *m = as(req("GET", "/stp/account"), "bob");
    ck_assert_int_eq(stub_run(m), OK);
    assert_lacks(stub_out(m), "<li class=\"admin\">");
    assert_has(html, "<input type=\"checkbox\" name=\"industry\" value=\"finance\">");
    assert_has(html, "<input type=\"checkbox\" name=\"region\" value=\"eu\">");
    assert_has(html, "<input type=\"radio\" name=\"mode\" value=\"open\" checked>");
    /* carol is listed as administrator from this first request on, without a revoke control. */
    assert_has(html, "<tr data-email=\"carol@example.com\" data-role=\"administrator\">");
    assert_lacks(html, "value=\"revoke\"");
    assert_token_for(form_csrf(html, "/stp/admin"), "carol", "admin");
    ck_assert_int_eq(role_of("carol@example.com"), STP_ROLE_ADMINISTRATOR);
}
END_TEST

START_TEST(test_admin_changes)
{
    ck_assert_int_eq(get("/stp/admin", "carol"), HTTP_OK); /* listed; example.com seen */
    request_rec *r = change("carol", "action=settings&industry=finance&region=eu");
    ck_assert_int_eq(stub_run(r), HTTP_SEE_OTHER);
    ck_assert_str_eq(out_hdr(r, "Location"), "/stp/admin?lang=en&done=1");
    ck_assert_str_eq(settings_text("t1"), "default finance eu");
    ck_assert_int_eq(status(change("carol", "action=mode&mode=assigned")), HTTP_SEE_OTHER);
    ck_assert_str_eq(settings_text("t1"), "assigned finance eu");
    ck_assert_int_eq(status(change("carol", "action=add&email=Alice%40Example.com&role=portal-admin")), HTTP_SEE_OTHER);
    ck_assert_int_eq(role_of("alice@example.com"), STP_ROLE_ADMIN);
    ck_assert_int_eq(status(change("carol", "action=add&email=bob%40example.com&role=portal-user")), HTTP_SEE_OTHER);
    /* A portal admin sees the settings, manages portal users, but appoints no admins. */
    ck_assert_int_eq(get("/stp/admin", "alice"), HTTP_OK);
    ck_assert_int_eq(status(change("alice", "action=role&email=bob%40example.com&role=portal-admin")), HTTP_FORBIDDEN);
    ck_assert_int_eq(role_of("bob@example.com"), STP_ROLE_USER);
    ck_assert_int_eq(status(change("alice", "action=revoke&email=bob%40example.com")), HTTP_SEE_OTHER);
    ck_assert_int_eq(role_of("bob@example.com"), STP_ROLE_NONE);
    /* Nobody revokes or demotes the administrator from the claim. */
    ck_assert_int_eq(status(change("alice", "action=revoke&email=carol%40example.com")), HTTP_FORBIDDEN);
    ck_assert_int_eq(status(change("carol", "action=revoke&email=carol%40example.com")), HTTP_FORBIDDEN);
    ck_assert_int_eq(status(change("carol", "action=role&email=carol%40example.com&role=portal-user")), HTTP_FORBIDDEN);
    ck_assert_int_eq(role_of("carol@example.com"), STP_ROLE_ADMINISTRATOR);
    /* The page lists the changes, newest first. */
    request_rec *g = as(req("GET", "/stp/admin"), "carol");
    ck_assert_int_eq(stub_run(g), OK);
    const char *html = stub_out(g);
    assert_has(html, "id=\"audit\"");
    assert_has(html, "Revoked bob@example.com");
    ck_assert_ptr_nonnull(strstr(strstr(html, "Revoked bob@example.com"), "Added alice@example.com"));
}
END_TEST

START_TEST(test_admin_refusals)
{
    ck_assert_int_eq(get("/stp/admin", "carol"), HTTP_OK);
    const char *before = settings_text("t1");
    struct {
        const char *fields;
        int status;
    } bad[] = {
        {"action=settings&industry=mining", HTTP_BAD_REQUEST},
        {"action=settings&region=..%2Fx", HTTP_BAD_REQUEST},
        {"action=mode&mode=sometimes", HTTP_BAD_REQUEST},
        {"action=add&email=eve%40evil.example&role=portal-user", HTTP_BAD_REQUEST},
        {"action=add&email=not-an-address&role=portal-user", HTTP_BAD_REQUEST},
        {"action=add&email=x%40example.com&role=administrator", HTTP_BAD_REQUEST},
        {"action=revoke&email=nobody%40example.com", HTTP_BAD_REQUEST},
        {"action=explode", HTTP_BAD_REQUEST},
        {"action=add&email=%C3%28%40example.com&role=portal-user", HTTP_BAD_REQUEST}, /* invalid UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request_rec *r = change("carol", bad[i].fields);
        ck_assert_msg(status(r) == bad[i].status, "%s: %d", bad[i].fields, r->status);
    }
    /* Tokens: none, another user's, another purpose's. */
    ck_assert_int_eq(status(as(post("/stp/admin", "action=mode&mode=assigned"), "carol")), HTTP_FORBIDDEN);
    ck_assert_int_eq(status(as(post("/stp/admin", apr_pstrcat(pool, "csrf=", token_for("alice", "admin"),
                                                              "&action=mode&mode=assigned", NULL)),
                               "carol")),
                     HTTP_FORBIDDEN);
    ck_assert_int_eq(status(as(post("/stp/admin", apr_pstrcat(pool, "csrf=", token_for("carol", "library"),
                                                              "&action=mode&mode=assigned", NULL)),
                               "carol")),
                     HTTP_FORBIDDEN);
    /* Not allowed to see them: 404 whatever the token. */
    ck_assert_int_eq(status(change("bob", "action=mode&mode=assigned")), HTTP_NOT_FOUND);
    ck_assert_str_eq(settings_text("t1"), before);
    apr_array_header_t *people;
    ck_assert_int_eq(stp_org_people(&people, conf->state, "t1", pool), APR_SUCCESS);
    ck_assert_int_eq(people->nelts, 1); /* carol alone */
    /* Too many fields. */
    const char *many = "action=settings";
    for (int i = 0; i < 300; i++)
        many = apr_pstrcat(pool, many, "&industry=finance", NULL);
    ck_assert_int_eq(status(change("carol", many)), HTTP_BAD_REQUEST);
}
END_TEST

START_TEST(test_admin_staff)
{
    ck_assert_int_eq(get("/stp/admin", "sam"), HTTP_OK); /* the organisations to choose from */
    request_rec *r = as(req("GET", "/stp/admin"), "sam");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "href=\"/stp/admin?lang=en&amp;tenant=t1\"");
    ck_assert_int_eq(get("/stp/admin?tenant=t2", "sam"), HTTP_OK);
    ck_assert_int_eq(get("/stp/admin?tenant=..%2Ft1", "sam"), HTTP_NOT_FOUND);
    ck_assert_int_eq(get("/stp/admin?tenant=t3", "sam"), HTTP_NOT_FOUND); /* unknown */
    ck_assert_int_eq(get("/stp/admin?tenant=vendor", "sam"), HTTP_OK);    /* seen: sam's own */
    ck_assert_int_eq(status(change("sam", "tenant=t2&action=settings&industry=finance")), HTTP_SEE_OTHER);
    ck_assert_str_eq(settings_text("t2"), "default finance ");
    ck_assert_str_eq(settings_text("t1"), "default  ");
}
END_TEST

START_TEST(test_admin_assigned_member)
{
    ck_assert_int_eq(get("/stp/admin", "carol"), HTTP_OK);
    ck_assert_int_eq(status(change("carol", "action=mode&mode=assigned")), HTTP_SEE_OTHER);
    ck_assert_int_eq(status(change("carol", "action=add&email=alice%40example.com&role=portal-user")), HTTP_SEE_OTHER);
    request_rec *r = as(req("GET", "/stp/whoami"), "bob");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(mod_stp_req_get(r)->user.unlisted, 1);
    r = as(req("GET", "/stp/whoami"), "alice");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(mod_stp_req_get(r)->user.unlisted, 0);
    /* An unverified address matches no listing. */
    r = as(req("GET", "/stp/whoami"), "alice");
    apr_table_setn(r->subprocess_env, "OIDC_CLAIM_email_verified", "false");
    ck_assert_int_eq(stub_run(r), OK);
    ck_assert_int_eq(mod_stp_req_get(r)->user.unlisted, 1);
}
END_TEST

START_TEST(test_admin_recommendations)
{
    ck_assert_int_eq(get("/stp/admin", "carol"), HTTP_OK);
    ck_assert_int_eq(status(change("carol", "action=settings&industry=finance")), HTTP_SEE_OTHER);
    /* A member's home page comes from the module with the recommendations; others' stays static. */
    request_rec *r = as(req("GET", "/en/index.html"), "bob");
    ck_assert_int_eq(stub_run(r), OK);
    assert_page(r, HTTP_OK, "en");
    assert_has(stub_out(r), "id=\"recommended\"");
    r = as(req("GET", "/en/index.html"), "dave");
    stub_run(r);
    ck_assert_ptr_null(r->handler && !strcmp(r->handler, "stp") ? r->handler : NULL);
    /* Search starts with the organisation's filters, and all=1 keeps the user's own choice. */
    r = as(req("GET", "/stp/search?lang=en"), "bob");
    ck_assert_int_eq(stub_run(r), OK);
    assert_has(stub_out(r), "id=\"org-preset\"");
    assert_has(stub_out(r), "name=\"all\" value=\"1\"");
    r = as(req("GET", "/stp/search?lang=en&all=1"), "bob");
    ck_assert_int_eq(stub_run(r), OK);
    assert_lacks(stub_out(r), "id=\"org-preset\"");
}
END_TEST

Suite *glue_admin_suite(void)
{
    Suite *s = suite_create("glue-admin");
    TCase *tc = tcase_create("admin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_admin_who_sees_it);
    tcase_add_test(tc, test_admin_changes);
    tcase_add_test(tc, test_admin_refusals);
    tcase_add_test(tc, test_admin_assigned_member);
    tcase_add_test(tc, test_admin_recommendations);
    suite_add_tcase(s, tc);
    TCase *st = tcase_create("staff");
    tcase_add_checked_fixture(st, start_staff, teardown);
    tcase_add_test(st, test_admin_staff);
    suite_add_tcase(s, st);
    return s;
}
