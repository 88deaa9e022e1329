/* The access decision table of docs/architecture.md: every account kind against every case. */
#include <apr_tables.h>

#include "stp_access.h"
#include "stp_retention.h"
#include "tests.h"

enum { ANON, PERSONAL, T1, T2, T1ADMIN, NACCOUNTS };
enum { PUBLIC, SIGNIN, NDA, TENANT, TENANT_NDA, SUPERSEDED, RETIRED, UNKNOWN, NCASES };

static const stp_user_t users[NACCOUNTS] = {
    [ANON] = {NULL, NULL, 0},
    [PERSONAL] = {"https://idp/|alice", NULL, 0},
    [T1] = {"https://idp/|bob", "t1", 0},
    [T2] = {"https://idp/|carol", "t2", 0},
    [T1ADMIN] = {"https://idp/|dave", "t1", 1},
};

#define S STP_DECIDE_SERVE
#define I STP_DECIDE_SIGNIN
#define A STP_DECIDE_ACCEPT_NDA
#define P STP_DECIDE_PERSONAL
#define G STP_DECIDE_GONE
#define N STP_DECIDE_NOT_FOUND

/* [case][account], without and with the current NDA accepted */
static const stp_decision_t expect_without[NCASES][NACCOUNTS] = {
    [PUBLIC] = {S, S, S, S, S},  [SIGNIN] = {I, S, S, S, S},     [NDA] = {I, P, A, A, A},
    [TENANT] = {N, N, S, N, S},  [TENANT_NDA] = {N, N, A, N, A}, [SUPERSEDED] = {S, S, S, S, S},
    [RETIRED] = {G, G, G, G, G}, [UNKNOWN] = {N, N, N, N, N},
};
static const stp_decision_t expect_with[NCASES][NACCOUNTS] = {
    [PUBLIC] = {S, S, S, S, S},  [SIGNIN] = {I, S, S, S, S},     [NDA] = {I, P, S, S, S},
    [TENANT] = {N, N, S, N, S},  [TENANT_NDA] = {N, N, S, N, S}, [SUPERSEDED] = {S, S, S, S, S},
    [RETIRED] = {G, G, G, G, G}, [UNKNOWN] = {N, N, N, N, N},
};

static stp_doc_t docs[NCASES];
static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    apr_array_header_t *t1 = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(t1, const char *) = "t1";
    for (int c = 0; c < NCASES; c++) {
        docs[c] = (stp_doc_t){.id = "doc", .access = STP_ACCESS_PUBLIC};
        docs[c].published = stp_date_from_ymd(2026, 1, 10);
    }
    docs[SIGNIN].access = STP_ACCESS_SIGNIN;
    docs[NDA].access = STP_ACCESS_NDA;
    docs[TENANT].access = docs[TENANT_NDA].access = STP_ACCESS_TENANT;
    docs[TENANT].tenants = docs[TENANT_NDA].tenants = t1;
    docs[TENANT_NDA].nda = 1;
    docs[SUPERSEDED].retired = stp_date_from_ymd(2027, 1, 10); /* 12 months after publication */
    docs[RETIRED].published = stp_date_from_ymd(2025, 1, 10);
    docs[RETIRED].retired = stp_date_from_ymd(2026, 1, 10);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(test_table)
{
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    for (int c = 0; c < NCASES; c++) {
        for (int a = 0; a < NACCOUNTS; a++) {
            const stp_doc_t *doc = c == UNKNOWN ? NULL : &docs[c];
            stp_decision_t got = stp_access_decide(&users[a], doc, today, 0, 0);
            ck_assert_msg(got == expect_without[c][a], "case %d account %d without NDA: %s, expected %s", c, a,
                          stp_access_decision_name(got), stp_access_decision_name(expect_without[c][a]));
            got = stp_access_decide(&users[a], doc, today, 1, 0);
            ck_assert_msg(got == expect_with[c][a], "case %d account %d with NDA: %s, expected %s", c, a,
                          stp_access_decision_name(got), stp_access_decision_name(expect_with[c][a]));
        }
    }
}
END_TEST

/* A retired tenant document stays invisible to other tenants: 404, never 410. */
START_TEST(test_retired_tenant_doc)
{
    stp_doc_t d = docs[TENANT];
    d.retired = stp_date_from_ymd(2026, 1, 1);
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    ck_assert_int_eq(stp_access_decide(&users[T2], &d, today, 1, 0), STP_DECIDE_NOT_FOUND);
    ck_assert_int_eq(stp_access_decide(&users[ANON], &d, today, 1, 0), STP_DECIDE_NOT_FOUND);
    ck_assert_int_eq(stp_access_decide(&users[T1], &d, today, 1, 0), STP_DECIDE_GONE);
}
END_TEST

/* The operator's retention override moves the end of a superseded version's life. */
START_TEST(test_retention_override)
{
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    ck_assert_int_eq(stp_access_decide(&users[ANON], &docs[SUPERSEDED], today, 0, 6), STP_DECIDE_GONE);
    ck_assert_int_eq(stp_access_decide(&users[ANON], &docs[RETIRED], today, 0, 36), STP_DECIDE_SERVE);
    /* the current version is never retired, whatever the override */
    ck_assert_int_eq(stp_access_decide(&users[ANON], &docs[PUBLIC], today, 0, 1), STP_DECIDE_SERVE);
    /* the day it ends, it is gone */
    ck_assert_int_eq(stp_access_decide(&users[ANON], &docs[SUPERSEDED], stp_date_from_ymd(2027, 1, 9), 0, 0),
                     STP_DECIDE_SERVE);
    ck_assert_int_eq(stp_access_decide(&users[ANON], &docs[SUPERSEDED], stp_date_from_ymd(2027, 1, 10), 0, 0),
                     STP_DECIDE_GONE);
}
END_TEST

/* A tenant claim without a signed-in user (no key) is not an identity. */
START_TEST(test_tenant_without_user)
{
    stp_user_t forged = {.tenant = "t1", .tenant_admin = 1};
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    ck_assert_int_eq(stp_access_decide(&forged, &docs[TENANT], today, 1, 0), STP_DECIDE_NOT_FOUND);
    ck_assert_int_eq(stp_access_decide(&forged, &docs[NDA], today, 1, 0), STP_DECIDE_SIGNIN);
    ck_assert_int_eq(stp_access_decide(NULL, &docs[SIGNIN], today, 1, 0), STP_DECIDE_SIGNIN);
}
END_TEST

/* The rules the decision and Require stp-tenant share (issue #11: one function each). */
START_TEST(test_rules)
{
    apr_array_header_t *t1t2 = apr_array_make(pool, 2, sizeof(const char *)),
                       *none = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(t1t2, const char *) = "t1";
    APR_ARRAY_PUSH(t1t2, const char *) = "t2";
    const int member[NACCOUNTS] = {[ANON] = 0, [PERSONAL] = 0, [T1] = 1, [T2] = 1, [T1ADMIN] = 1};
    for (int a = 0; a < NACCOUNTS; a++) {
        ck_assert_int_eq(stp_access_member(&users[a], t1t2), member[a]);
        ck_assert_int_eq(stp_access_member(&users[a], NULL), member[a]); /* any tenant */
        ck_assert_int_eq(stp_access_member(&users[a], none), member[a]);
        ck_assert_int_eq(stp_access_member(&users[a], docs[TENANT].tenants), a == T1 || a == T1ADMIN);
    }
    /* A tenant document without tenants is visible to nobody. */
    stp_doc_t orphan = {.id = "x", .access = STP_ACCESS_TENANT, .tenants = none};
    ck_assert_int_eq(stp_access_visible(&users[T1], &orphan), 0);
    const int nda[NCASES] = {[NDA] = 1, [TENANT_NDA] = 1};
    for (int c = 0; c < NCASES; c++)
        ck_assert_int_eq(stp_access_needs_nda(&docs[c]), nda[c]);
    ck_assert_int_eq(stp_access_needs_nda(NULL), 0);
    ck_assert_int_eq(stp_retention_months_in_force(0), 0);
    ck_assert_int_eq(stp_retention_months_in_force(-1), 0);
    ck_assert_int_eq(stp_retention_months_in_force(18), 18);
}
END_TEST

Suite *access_suite(void)
{
    Suite *s = suite_create("access");
    TCase *tc = tcase_create("decide");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_retired_tenant_doc);
    tcase_add_test(tc, test_retention_override);
    tcase_add_test(tc, test_tenant_without_user);
    tcase_add_test(tc, test_rules);
    suite_add_tcase(s, tc);
    return s;
}
