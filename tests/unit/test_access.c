/* The access decision table of docs/architecture.md: every account kind against every case. */
#include <apr_strings.h>
#include <apr_tables.h>
#include <string.h>

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

/* --- requirements and unlisted members -------------------------------------------------------- */

/* Claims as "name=value;name=value" in the baton. */
static const char *claims_of(void *baton, const char *name)
{
    static char buf[128];
    apr_size_t nl = strlen(name);
    for (const char *p = baton; p && *p;) {
        const char *end = strchr(p, ';');
        apr_size_t n = end ? (apr_size_t)(end - p) : strlen(p);
        if (n > nl && p[nl] == '=' && !strncmp(p, name, nl) && n - nl - 1 < sizeof buf) {
            memcpy(buf, p + nl + 1, n - nl - 1);
            buf[n - nl - 1] = '\0';
            return buf;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

enum {
    R_ANON,
    R_PERSONAL,
    R_PERSONAL_E5,
    R_MEMBER,
    R_E5,
    R_E5GOV,
    R_ADMIN,
    R_ADMIN_E5,
    R_UNLISTED,
    R_UNLISTED_ADMIN,
    R_T2_E5,
    RUSERS
};
enum {
    Q_SIGNIN_E5,
    Q_NDA_E5,
    Q_SIGNIN_ADMIN,
    Q_NDA_ADMIN,
    Q_TENANT_ADMIN,
    Q_TENANT_E5_NDA,
    Q_SIGNIN_E5_GOV,
    Q_SIGNIN_BOTH,
    Q_NDA,
    Q_TENANT,
    Q_SIGNIN,
    RDOCS
};

#define R STP_DECIDE_REQUIREMENT
#define U STP_DECIDE_UNLISTED

/* [document][user] with the NDA not accepted, then accepted. */
static const stp_decision_t req_without[RDOCS][RUSERS] = {
    /*                  anon pers pE5 memb e5 e5gov adm admE5 unl unlAdm t2E5 */
    [Q_SIGNIN_E5] = {I, R, S, R, S, S, R, S, S, S, S},     [Q_NDA_E5] = {I, P, P, R, A, A, R, A, U, U, A},
    [Q_SIGNIN_ADMIN] = {I, R, R, R, R, R, S, S, R, R, R},  [Q_NDA_ADMIN] = {I, P, P, R, R, R, A, A, U, U, R},
    [Q_TENANT_ADMIN] = {N, N, N, R, R, R, S, S, N, N, N},  [Q_TENANT_E5_NDA] = {N, N, N, R, A, A, R, A, N, N, N},
    [Q_SIGNIN_E5_GOV] = {I, R, R, R, R, S, R, R, R, R, R}, [Q_SIGNIN_BOTH] = {I, R, R, R, R, R, R, S, R, R, R},
    [Q_NDA] = {I, P, P, A, A, A, A, A, U, U, A},           [Q_TENANT] = {N, N, N, S, S, S, S, S, N, N, N},
    [Q_SIGNIN] = {I, S, S, S, S, S, S, S, S, S, S},
};
static const stp_decision_t req_with[RDOCS][RUSERS] = {
    [Q_SIGNIN_E5] = {I, R, S, R, S, S, R, S, S, S, S},     [Q_NDA_E5] = {I, P, P, R, S, S, R, S, U, U, S},
    [Q_SIGNIN_ADMIN] = {I, R, R, R, R, R, S, S, R, R, R},  [Q_NDA_ADMIN] = {I, P, P, R, R, R, S, S, U, U, R},
    [Q_TENANT_ADMIN] = {N, N, N, R, R, R, S, S, N, N, N},  [Q_TENANT_E5_NDA] = {N, N, N, R, S, S, R, S, N, N, N},
    [Q_SIGNIN_E5_GOV] = {I, R, R, R, R, S, R, R, R, R, R}, [Q_SIGNIN_BOTH] = {I, R, R, R, R, R, R, S, R, R, R},
    [Q_NDA] = {I, P, P, S, S, S, S, S, U, U, S},           [Q_TENANT] = {N, N, N, S, S, S, S, S, N, N, N},
    [Q_SIGNIN] = {I, S, S, S, S, S, S, S, S, S, S},
};

static stp_user_t rusers[RUSERS];
static stp_doc_t rdocs[RDOCS];

static apr_array_header_t *reqs(const char *spec)
{
    /* "role" or "claim=value", separated by spaces */
    apr_array_header_t *a = apr_array_make(pool, 2, sizeof(stp_require_t));
    char *copy = apr_pstrdup(pool, spec), *last;
    for (char *w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last)) {
        stp_require_t *q = &APR_ARRAY_PUSH(a, stp_require_t);
        char *eq = strchr(w, '=');
        if (eq)
            *eq = '\0';
        *q = (stp_require_t){eq ? STP_REQUIRE_CLAIM : STP_REQUIRE_ROLE, w, eq ? eq + 1 : ""};
    }
    return a;
}

static void req_setup(void)
{
    setup();
    static const struct {
        const char *key, *tenant;
        int admin, unlisted;
        const char *claims;
    } spec[RUSERS] = {
        [R_ANON] = {NULL, NULL, 0, 0, "licence=e5"}, /* claims without a user count for nothing */
        [R_PERSONAL] = {"i|pat", NULL, 0, 0, NULL},
        [R_PERSONAL_E5] = {"i|pia", NULL, 0, 0, "licence=e5"},
        [R_MEMBER] = {"i|bob", "t1", 0, 0, "licence=e55,xe5, e 5;audience=gov"},
        [R_E5] = {"i|alice", "t1", 0, 0, "licence=e3, e5"},
        [R_E5GOV] = {"i|gail", "t1", 0, 0, "licence=e5;audience=gov,press"},
        [R_ADMIN] = {"i|carol", "t1", 1, 0, "licence=E5"}, /* compared exactly: E5 is not e5 */
        [R_ADMIN_E5] = {"i|ada", "t1", 1, 0, "licence=e5"},
        [R_UNLISTED] = {"i|dan", "t1", 0, 1, "licence=e5"},
        [R_UNLISTED_ADMIN] = {"i|don", "t1", 1, 1, "licence=e5"}, /* unlisted wins over a stale admin flag */
        [R_T2_E5] = {"i|tom", "t2", 0, 0, "licence=e5"},
    };
    for (int u = 0; u < RUSERS; u++)
        rusers[u] = (stp_user_t){.key = spec[u].key,
                                 .tenant = spec[u].tenant,
                                 .tenant_admin = spec[u].admin,
                                 .unlisted = spec[u].unlisted,
                                 .claim = spec[u].claims ? claims_of : NULL,
                                 .claim_baton = (void *)spec[u].claims};
    static const struct {
        stp_access_t access;
        int nda;
        const char *reqs;
    } d[RDOCS] = {
        [Q_SIGNIN_E5] = {STP_ACCESS_SIGNIN, 0, "licence=e5"},
        [Q_NDA_E5] = {STP_ACCESS_NDA, 0, "licence=e5"},
        [Q_SIGNIN_ADMIN] = {STP_ACCESS_SIGNIN, 0, "tenant-admin"},
        [Q_NDA_ADMIN] = {STP_ACCESS_NDA, 0, "tenant-admin"},
        [Q_TENANT_ADMIN] = {STP_ACCESS_TENANT, 0, "tenant-admin"},
        [Q_TENANT_E5_NDA] = {STP_ACCESS_TENANT, 1, "licence=e5"},
        [Q_SIGNIN_E5_GOV] = {STP_ACCESS_SIGNIN, 0, "licence=e5 audience=gov"},
        [Q_SIGNIN_BOTH] = {STP_ACCESS_SIGNIN, 0, "tenant-admin licence=e5"},
        [Q_NDA] = {STP_ACCESS_NDA, 0, ""},
        [Q_TENANT] = {STP_ACCESS_TENANT, 0, ""},
        [Q_SIGNIN] = {STP_ACCESS_SIGNIN, 0, ""},
    };
    for (int c = 0; c < RDOCS; c++) {
        rdocs[c] = (stp_doc_t){.id = "doc", .access = d[c].access, .nda = d[c].nda, .requires = reqs(d[c].reqs)};
        rdocs[c].published = stp_date_from_ymd(2026, 1, 10);
        if (d[c].access == STP_ACCESS_TENANT)
            rdocs[c].tenants = docs[TENANT].tenants;
    }
}

START_TEST(test_requirements_table)
{
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    for (int c = 0; c < RDOCS; c++) {
        for (int u = 0; u < RUSERS; u++) {
            stp_decision_t got = stp_access_decide(&rusers[u], &rdocs[c], today, 0, 0);
            ck_assert_msg(got == req_without[c][u], "doc %d user %d without NDA: %s, expected %s", c, u,
                          stp_access_decision_name(got), stp_access_decision_name(req_without[c][u]));
            got = stp_access_decide(&rusers[u], &rdocs[c], today, 1, 0);
            ck_assert_msg(got == req_with[c][u], "doc %d user %d with NDA: %s, expected %s", c, u,
                          stp_access_decision_name(got), stp_access_decision_name(req_with[c][u]));
            /* Offered (search, library, digests) when the user could have it as a signed-in
             * document: the NDA and the organisation account aside, requirements and tenants count. */
            stp_doc_t as_signin = rdocs[c];
            as_signin.access = rdocs[c].access == STP_ACCESS_NDA ? STP_ACCESS_SIGNIN : rdocs[c].access;
            as_signin.nda = 0;
            stp_decision_t w = stp_access_decide(&rusers[u], &as_signin, today, 1, 0);
            int offered = w == S || (w == I && !rdocs[c].requires->nelts);
            ck_assert_msg(stp_access_offered(&rusers[u], &rdocs[c]) == offered, "offered doc %d user %d", c, u);
        }
    }
}
END_TEST

/* Unlisted members: outsiders to their organisation's documents and pages, and the rest as usual. */
START_TEST(test_unlisted)
{
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    const stp_user_t *dan = &rusers[R_UNLISTED];
    ck_assert_int_eq(stp_access_member(dan, NULL), 0); /* Require stp-tenant refuses them */
    ck_assert_int_eq(stp_access_member(dan, docs[TENANT].tenants), 0);
    ck_assert_int_eq(stp_access_visible(dan, &docs[TENANT]), 0);
    ck_assert_int_eq(stp_access_visible(dan, &docs[TENANT_NDA]), 0);
    ck_assert_int_eq(stp_access_visible(dan, &docs[NDA]), 1); /* exists; the download says why not */
    ck_assert_int_eq(stp_access_decide(dan, &docs[PUBLIC], today, 1, 0), STP_DECIDE_SERVE);
    ck_assert_int_eq(stp_access_decide(dan, &docs[SIGNIN], today, 1, 0), STP_DECIDE_SERVE);
    ck_assert_int_eq(stp_access_decide(dan, &docs[NDA], today, 1, 0), STP_DECIDE_UNLISTED);
    ck_assert_int_eq(stp_access_decide(dan, &docs[TENANT], today, 1, 0), STP_DECIDE_NOT_FOUND);
    ck_assert_int_eq(stp_access_decide(dan, &docs[RETIRED], today, 1, 0), STP_DECIDE_GONE);
    stp_doc_t old_tenant = docs[TENANT];
    old_tenant.retired = stp_date_from_ymd(2026, 1, 1);
    ck_assert_int_eq(stp_access_decide(dan, &old_tenant, today, 1, 0), STP_DECIDE_NOT_FOUND); /* never 410 */
    ck_assert_str_eq(stp_access_decision_name(STP_DECIDE_UNLISTED), "unlisted");
    ck_assert_str_eq(stp_access_decision_name(STP_DECIDE_REQUIREMENT), "requirement");
}
END_TEST

/* A claim holds a value as a whole item of its comma-separated list. */
START_TEST(test_list_has)
{
    ck_assert(stp_access_list_has("e5", "e5"));
    ck_assert(stp_access_list_has("e3,e5", "e5"));
    ck_assert(stp_access_list_has("e3, e5 ,e7", "e5"));
    ck_assert(!stp_access_list_has("e55", "e5"));
    ck_assert(!stp_access_list_has("xe5", "e5"));
    ck_assert(!stp_access_list_has("E5", "e5"));
    ck_assert(!stp_access_list_has("e 5", "e5"));
    ck_assert(!stp_access_list_has("", "e5"));
    ck_assert(!stp_access_list_has(NULL, "e5"));
    ck_assert(!stp_access_list_has("e5", ""));
    ck_assert(!stp_access_list_has(",,", ""));
    ck_assert(stp_access_list_has("government customers", "government customers"));
    /* an unknown role (a newer catalog read by an older module) holds for nobody */
    stp_doc_t d = {.id = "x", .access = STP_ACCESS_SIGNIN, .requires = reqs("auditor")};
    ck_assert_int_eq(stp_access_decide(&rusers[R_ADMIN_E5], &d, stp_date_from_ymd(2026, 11, 22), 1, 0),
                     STP_DECIDE_REQUIREMENT);
    /* a public document with requirements (refused by sitegen) still needs them */
    d.access = STP_ACCESS_PUBLIC;
    d.requires = reqs("licence=e5");
    ck_assert_int_eq(stp_access_decide(&rusers[R_ANON], &d, stp_date_from_ymd(2026, 11, 22), 1, 0), STP_DECIDE_SIGNIN);
    ck_assert_int_eq(stp_access_decide(&rusers[R_E5], &d, stp_date_from_ymd(2026, 11, 22), 1, 0), STP_DECIDE_SERVE);
    ck_assert_int_eq(stp_access_decide(&rusers[R_MEMBER], &d, stp_date_from_ymd(2026, 11, 22), 1, 0),
                     STP_DECIDE_REQUIREMENT);
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
    tc = tcase_create("requirements");
    tcase_add_checked_fixture(tc, req_setup, teardown);
    tcase_add_test(tc, test_requirements_table);
    tcase_add_test(tc, test_unlisted);
    tcase_add_test(tc, test_list_has);
    suite_add_tcase(s, tc);
    return s;
}
