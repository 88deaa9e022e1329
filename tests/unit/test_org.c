/* Organisation settings, people and roles, and their change log in state.mdb. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_org.h"
#include "test_store.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;
static stp_state_t *st;

static const stp_org_actor_t carol = {"idp|carol", "carol@contoso.example", STP_ROLE_ADMINISTRATOR, 0};
static const stp_org_actor_t alice_admin = {"idp|alice", "alice@contoso.example", STP_ROLE_ADMIN, 0};
static const stp_org_actor_t staff = {"idp|sam", "sam@vendor.example", STP_ROLE_NONE, 1};

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("org", pool);
    test_store_reset();
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
}

static void teardown(void)
{
    stp_state_close(st);
    test_rmtree(dir);
    apr_pool_destroy(pool);
}

static apr_array_header_t *list(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(pool, 2, sizeof(const char *));
    if (a)
        APR_ARRAY_PUSH(l, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(l, const char *) = b;
    return l;
}

typedef struct {
    int n;
    stp_org_change_t last;
    apr_pool_t *pool;
} collect_t;

static int collect(void *baton, const stp_org_change_t *c)
{
    collect_t *k = baton;
    if (!k->n++) /* the first one seen: newest for one tenant, oldest for all */
        k->last = *c;
    return 0;
}

START_TEST(org_settings_round_trip_and_log)
{
    stp_org_settings_t s;
    ck_assert_int_eq(stp_org_settings_get(&s, st, "contoso", pool), APR_SUCCESS);
    ck_assert_int_eq(s.mode, STP_ORG_MODE_DEFAULT);
    ck_assert_int_eq(s.industries->nelts, 0);
    stp_org_settings_t n = {STP_ORG_MODE_ASSIGNED, list("financial", NULL), list("eu", "us")};
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &n, &carol, apr_time_from_sec(100)), APR_SUCCESS);
    ck_assert_int_eq(stp_org_settings_get(&s, st, "contoso", pool), APR_SUCCESS);
    ck_assert_int_eq(s.mode, STP_ORG_MODE_ASSIGNED);
    ck_assert_int_eq(s.industries->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(s.industries, 0, const char *), "financial");
    ck_assert_int_eq(s.regions->nelts, 2);
    /* Another organisation is untouched. */
    ck_assert_int_eq(stp_org_settings_get(&s, st, "fabrikam", pool), APR_SUCCESS);
    ck_assert_int_eq(s.mode, STP_ORG_MODE_DEFAULT);
    /* Saving the same again logs nothing. */
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &n, &carol, apr_time_from_sec(101)), APR_SUCCESS);
    collect_t k = {0};
    ck_assert_int_eq(stp_org_log(st, "contoso", 0, collect, &k, pool), APR_SUCCESS);
    ck_assert_int_eq(k.n, 1);
    /* The mode alone is logged as such. */
    stp_org_settings_t m = n;
    m.mode = STP_ORG_MODE_OPEN;
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &m, &staff, apr_time_from_sec(102)), APR_SUCCESS);
    collect_t km = {0};
    ck_assert_int_eq(stp_org_log(st, "contoso", 0, collect, &km, pool), APR_SUCCESS);
    ck_assert_int_eq(km.n, 2);
    ck_assert_str_eq(km.last.action, "mode");
    ck_assert_str_eq(km.last.actor, "idp|sam");
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &n, &carol, apr_time_from_sec(103)), APR_SUCCESS);
    k.n = 0;
    ck_assert_int_eq(stp_org_log(st, NULL, 0, collect, &k, pool), APR_SUCCESS);
    ck_assert_int_eq(k.n, 3);
    ck_assert_str_eq(k.last.action, "settings");
    ck_assert_str_eq(k.last.actor, "idp|carol");
    ck_assert_str_eq(k.last.before, "mode=default industries= regions=");
    ck_assert_str_eq(k.last.after, "mode=assigned industries=financial regions=eu us");
    ck_assert(k.last.when == apr_time_from_sec(100));
    /* Limits: too many tags, an empty one. */
    apr_array_header_t *many = apr_array_make(pool, 70, sizeof(const char *));
    for (int i = 0; i < STP_ORG_MAX_TAGS + 1; i++)
        APR_ARRAY_PUSH(many, const char *) = "x";
    stp_org_settings_t bad = {STP_ORG_MODE_OPEN, many, NULL};
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &bad, &carol, 0), APR_EINVAL);
    stp_org_settings_t empty = {STP_ORG_MODE_OPEN, list("", NULL), NULL};
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &empty, &carol, 0), APR_EINVAL);
}
END_TEST

START_TEST(org_people_roles)
{
    stp_role_t role;
    apr_array_header_t *people;
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "Alice@Contoso.Example", STP_ROLE_USER, &carol, 1), APR_SUCCESS);
    ck_assert_int_eq(stp_org_role_get(&role, st, "contoso", "alice@contoso.example"), APR_SUCCESS);
    ck_assert_int_eq(role, STP_ROLE_USER);
    ck_assert_int_eq(stp_org_role_get(&role, st, "contoso", "ALICE@contoso.example"), APR_SUCCESS);
    ck_assert_int_eq(role, STP_ROLE_USER); /* case-insensitive */
    ck_assert_int_eq(stp_org_role_get(&role, st, "fabrikam", "alice@contoso.example"), APR_SUCCESS);
    ck_assert_int_eq(role, STP_ROLE_NONE); /* per organisation */
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "alice@contoso.example", STP_ROLE_ADMIN, &carol, 2),
                     APR_SUCCESS);
    ck_assert_int_eq(stp_org_role_get(&role, st, "contoso", "alice@contoso.example"), APR_SUCCESS);
    ck_assert_int_eq(role, STP_ROLE_ADMIN);
    /* The administrator from the claim is listed on their first request, and nobody revokes them. */
    int changed;
    ck_assert_int_eq(stp_org_administrator_note(st, "contoso", "carol@contoso.example", 1, 3, &changed), APR_SUCCESS);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(stp_org_administrator_note(st, "contoso", "carol@contoso.example", 1, 4, &changed), APR_SUCCESS);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(stp_org_person_revoke(st, "contoso", "carol@contoso.example", &staff, 5), APR_EACCES);
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "carol@contoso.example", STP_ROLE_USER, &staff, 5), APR_EACCES);
    ck_assert_int_eq(stp_org_people(&people, st, "contoso", pool), APR_SUCCESS);
    ck_assert_int_eq(people->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(people, 0, stp_org_person_t).email, "carol@contoso.example");
    ck_assert_int_eq(APR_ARRAY_IDX(people, 0, stp_org_person_t).role, STP_ROLE_ADMINISTRATOR);
    ck_assert_str_eq(APR_ARRAY_IDX(people, 1, stp_org_person_t).by, "carol@contoso.example");
    /* Revoke; revoking again is "not found"; a bad address is EINVAL. */
    ck_assert_int_eq(stp_org_person_revoke(st, "contoso", "alice@contoso.example", &carol, 6), APR_SUCCESS);
    ck_assert_int_eq(stp_org_person_revoke(st, "contoso", "alice@contoso.example", &carol, 6), APR_NOTFOUND);
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "not an address", STP_ROLE_USER, &carol, 7), APR_EINVAL);
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "x@contoso.example", STP_ROLE_ADMINISTRATOR, &carol, 7),
                     APR_EINVAL); /* only the claim makes administrators */
    /* Losing the claim makes the administrator a portal admin, logged. */
    ck_assert_int_eq(stp_org_administrator_note(st, "contoso", "carol@contoso.example", 0, 8, &changed), APR_SUCCESS);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(stp_org_role_get(&role, st, "contoso", "carol@contoso.example"), APR_SUCCESS);
    ck_assert_int_eq(role, STP_ROLE_ADMIN);
    collect_t k = {0};
    ck_assert_int_eq(stp_org_log(st, "contoso", 0, collect, &k, pool), APR_SUCCESS);
    ck_assert_int_eq(k.n, 5); /* add, role, administrator, revoke, administrator */
    ck_assert_str_eq(k.last.action, "administrator");
    ck_assert_str_eq(k.last.before, "administrator");
    ck_assert_str_eq(k.last.after, "portal-admin");
    k.n = 0;
    ck_assert_int_eq(stp_org_log(st, "contoso", 2, collect, &k, pool), APR_SUCCESS);
    ck_assert_int_eq(k.n, 2);
    k.n = 0;
    ck_assert_int_eq(stp_org_log(st, NULL, 0, collect, &k, pool), APR_SUCCESS);
    ck_assert_str_eq(k.last.action, "add"); /* the export: oldest first */
    ck_assert_str_eq(k.last.subject, "alice@contoso.example");
    ck_assert_str_eq(k.last.after, "portal-user");
}
END_TEST

START_TEST(org_people_limit)
{
    for (int i = 0; i < STP_ORG_MAX_PEOPLE; i++)
        ck_assert_int_eq(
            stp_org_person_put(st, "contoso", apr_psprintf(pool, "u%d@contoso.example", i), STP_ROLE_USER, &carol, i),
            APR_SUCCESS);
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "one-more@contoso.example", STP_ROLE_USER, &carol, 0),
                     APR_ENOSPC);
    /* A change of role is no new person. */
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "u1@contoso.example", STP_ROLE_ADMIN, &carol, 0), APR_SUCCESS);
    ck_assert_int_eq(stp_org_person_put(st, "fabrikam", "one@fabrikam.example", STP_ROLE_USER, &carol, 0), APR_SUCCESS);
}
END_TEST

START_TEST(org_member_view)
{
    stp_org_member_t m;
    ck_assert_int_eq(stp_org_member(&m, st, "contoso", "dan@contoso.example", 0, STP_ORG_MODE_OPEN), APR_SUCCESS);
    ck_assert_int_eq(m.mode, STP_ORG_MODE_OPEN);
    ck_assert_int_eq(m.role, STP_ROLE_NONE);
    ck_assert_int_eq(stp_org_member(&m, st, "contoso", "dan@contoso.example", 0, STP_ORG_MODE_ASSIGNED), APR_SUCCESS);
    ck_assert_int_eq(m.mode, STP_ORG_MODE_ASSIGNED); /* the operator's default */
    stp_org_settings_t open = {STP_ORG_MODE_OPEN, NULL, NULL};
    ck_assert_int_eq(stp_org_settings_put(st, "contoso", &open, &carol, 1), APR_SUCCESS);
    ck_assert_int_eq(stp_org_member(&m, st, "contoso", "dan@contoso.example", 0, STP_ORG_MODE_ASSIGNED), APR_SUCCESS);
    ck_assert_int_eq(m.mode, STP_ORG_MODE_OPEN); /* the organisation's choice wins */
    ck_assert_int_eq(stp_org_person_put(st, "contoso", "dan@contoso.example", STP_ROLE_USER, &alice_admin, 2),
                     APR_SUCCESS);
    ck_assert_int_eq(stp_org_member(&m, st, "contoso", "DAN@contoso.example", 0, STP_ORG_MODE_OPEN), APR_SUCCESS);
    ck_assert_int_eq(m.role, STP_ROLE_USER);
    ck_assert_int_eq(stp_org_member(&m, st, "contoso", NULL, 1, STP_ORG_MODE_OPEN), APR_SUCCESS);
    ck_assert_int_eq(m.role, STP_ROLE_ADMINISTRATOR);
    ck_assert_int_eq(stp_org_member(&m, st, "contoso", NULL, 0, STP_ORG_MODE_OPEN), APR_SUCCESS);
    ck_assert_int_eq(m.role, STP_ROLE_NONE); /* no verified address: nobody's listing */
}
END_TEST

START_TEST(org_rules)
{
    stp_org_actor_t user = {"idp|u", "u@c.example", STP_ROLE_USER, 0}, none = {"idp|n", NULL, STP_ROLE_NONE, 0};
    for (int act = STP_ORG_VIEW; act <= STP_ORG_MANAGE_ADMIN; act++) {
        ck_assert_int_eq(stp_org_may(&carol, act), 1);
        ck_assert_int_eq(stp_org_may(&staff, act), 1);
        ck_assert_int_eq(stp_org_may(&user, act), 0);
        ck_assert_int_eq(stp_org_may(&none, act), 0);
        ck_assert_int_eq(stp_org_may(&alice_admin, act), act != STP_ORG_MANAGE_ADMIN);
    }
    ck_assert_int_eq(stp_org_may(NULL, STP_ORG_VIEW), 0);
}
END_TEST

START_TEST(org_email_normal)
{
    ck_assert_str_eq(stp_org_email_normal("Dan.O'Neil+x@Contoso.Example", pool), "dan.o'neil+x@contoso.example");
    const char *bad[] = {"",        "a",         "@contoso.example", "a@",           "a@b",    "a@@b.c",
                         "a@b..c",  "a@.b.c",    "a@b.c.",           "a b@c.de",     "a@-b.c", "a@b-.c",
                         "a\n@b.c", "a<b>@c.de", "a@b_c.de",         "\xc3\xa9@b.de"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(stp_org_email_normal(bad[i], pool) == NULL, "accepted %s", bad[i]);
    char *longer = apr_pcalloc(pool, 300);
    memset(longer, 'a', 250);
    strcat(longer, "@b.cd");
    ck_assert_ptr_null(stp_org_email_normal(longer, pool));
    ck_assert_str_eq(stp_org_email_domain("x@contoso.example"), "contoso.example");
}
END_TEST

START_TEST(org_seen_domains)
{
    apr_array_header_t *d;
#define REC(t, e, v) {.tenant = t, .email = e, .email_verified = v, .since = 1}
    stp_user_record_t a = REC("contoso", "Alice@Contoso.Example", 1), b = REC("contoso", "x@other.example", 0),
                      c = REC("fabrikam", "bob@fabrikam.example", 1), e = REC("contoso", "carol@contoso.example", 1),
                      f = REC("contoso", "z@sub.contoso.example", 1);
#undef REC
    ck_assert_int_eq(stp_state_user_note(st, "u1", &a, NULL), APR_SUCCESS);
    ck_assert_int_eq(stp_state_user_note(st, "u2", &b, NULL), APR_SUCCESS); /* not verified: not the org's */
    ck_assert_int_eq(stp_state_user_note(st, "u3", &c, NULL), APR_SUCCESS);
    ck_assert_int_eq(stp_state_user_note(st, "u4", &e, NULL), APR_SUCCESS);
    ck_assert_int_eq(stp_state_user_note(st, "u5", &f, NULL), APR_SUCCESS);
    ck_assert_int_eq(stp_org_tenant_seen(st, "fabrikam"), 1);
    ck_assert_int_eq(stp_org_tenant_seen(st, "northwind"), 0);
    ck_assert_int_eq(stp_org_seen_domains(&d, st, "contoso", pool), APR_SUCCESS);
    ck_assert_int_eq(d->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(d, 0, const char *), "contoso.example");
    ck_assert_str_eq(APR_ARRAY_IDX(d, 1, const char *), "sub.contoso.example");
}
END_TEST

Suite *org_suite(void)
{
    Suite *s = suite_create("org");
    TCase *tc = tcase_create("org");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, org_settings_round_trip_and_log);
    tcase_add_test(tc, org_people_roles);
    tcase_add_test(tc, org_people_limit);
    tcase_add_test(tc, org_member_view);
    tcase_add_test(tc, org_rules);
    tcase_add_test(tc, org_email_normal);
    tcase_add_test(tc, org_seen_domains);
    suite_add_tcase(s, tc);
    return s;
}
