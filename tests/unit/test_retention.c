#include <stdlib.h>

#include "stp_date.h"
#include "stp_paths.h"
#include "stp_retention.h"

#include <apr_strings.h>
#include "tests.h"

static stp_day_t day(const char *s)
{
    stp_day_t d = 0;
    ck_assert_int_eq(stp_date_parse(&d, s), APR_SUCCESS);
    return d;
}

START_TEST(test_dates)
{
    char iso[11];
    ck_assert_int_eq(day("1970-01-01"), 0);
    ck_assert_int_eq(day("2000-03-01") - day("2000-02-28"), 2); /* 2000 is a leap year */
    ck_assert_int_eq(day("1900-03-01") - day("1900-02-28"), 1); /* 1900 is not */
    stp_date_format_iso(iso, day("2026-11-22"));
    ck_assert_str_eq(iso, "2026-11-22");
    stp_day_t bad;
    ck_assert_int_ne(stp_date_parse(&bad, "2025-02-29"), APR_SUCCESS);
    ck_assert_int_ne(stp_date_parse(&bad, "2025-13-01"), APR_SUCCESS);
    ck_assert_int_ne(stp_date_parse(&bad, "2025-1-01"), APR_SUCCESS);
    ck_assert_int_ne(stp_date_parse(&bad, "2025-01-01x"), APR_SUCCESS);
    ck_assert_int_ne(stp_date_parse(&bad, ""), APR_SUCCESS);
}
END_TEST

START_TEST(test_add_months)
{
    char iso[11];
    stp_date_format_iso(iso, stp_date_add_months(day("2025-01-31"), 1));
    ck_assert_str_eq(iso, "2025-02-28");
    stp_date_format_iso(iso, stp_date_add_months(day("2024-02-29"), 12));
    ck_assert_str_eq(iso, "2025-02-28");
    stp_date_format_iso(iso, stp_date_add_months(day("2025-11-15"), 12));
    ck_assert_str_eq(iso, "2026-11-15");
    stp_date_format_iso(iso, stp_date_add_months(day("2025-12-15"), 1));
    ck_assert_str_eq(iso, "2026-01-15");
}
END_TEST

/* The seeds' rule: an older version stays for `months` after its own publication date. */
START_TEST(test_states)
{
    stp_day_t pub = day("2025-11-15"), today = day("2026-11-22");
    ck_assert_int_eq(stp_retention_state(1, day("2020-01-01"), 12, today), STP_VERSION_CURRENT);
    ck_assert_int_eq(stp_retention_state(0, pub, 12, day("2026-11-14")), STP_VERSION_SUPERSEDED);
    ck_assert_int_eq(stp_retention_state(0, pub, 12, day("2026-11-15")), STP_VERSION_RETIRED);
    ck_assert_int_eq(stp_retention_state(0, pub, 12, today), STP_VERSION_RETIRED);
    ck_assert_int_eq(stp_retention_state(0, pub, 24, today), STP_VERSION_SUPERSEDED);
    ck_assert_int_eq(stp_retention_state(0, day("2026-01-10"), 12, today), STP_VERSION_SUPERSEDED);
    /* months <= 0 means the default of 12 */
    ck_assert_int_eq(stp_retention_end(pub, 0), day("2026-11-15"));
}
END_TEST

START_TEST(test_version_order)
{
    ck_assert_int_lt(stp_version_cmp("2025.9", "2025.10"), 0);
    ck_assert_int_gt(stp_version_cmp("v10", "v9"), 0);
    ck_assert_int_eq(stp_version_cmp("2025.01", "2025.1"), 0);
    ck_assert_int_lt(stp_version_cmp("1.0", "1.0.1"), 0);
    /* newer: later date first, then higher version */
    ck_assert_int_lt(stp_version_newer_cmp(day("2026-01-01"), "1", day("2025-01-01"), "9"), 0);
    ck_assert_int_lt(stp_version_newer_cmp(day("2026-01-01"), "2", day("2026-01-01"), "1"), 0);
    ck_assert_int_gt(stp_version_newer_cmp(day("2025-01-01"), "9", day("2026-01-01"), "1"), 0);
}
END_TEST

START_TEST(test_url_mapping)
{
    apr_pool_t *pool;
    const char *rel = NULL;
    char shard[3];
    apr_pool_create(&pool, NULL);
    stp_shard(shard, "soc2-2025");
    ck_assert_int_eq(stp_path_from_url(&rel, "/de/docs/soc2-2025/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, apr_pstrcat(pool, "public/de/docs/", shard, "/soc2-2025.html", NULL));
    ck_assert_int_eq(stp_path_from_url(&rel, "/pt-BR/docs/x/", pool), APR_SUCCESS);
    ck_assert_int_eq(stp_path_from_url(&rel, "/de/docs/soc2-2025", pool), APR_INCOMPLETE);
    /* not ours, or not a valid page name: never a path */
    static const char *const bad[] = {"/",
                                      "/de/",
                                      "/de/docs/",
                                      "/de/docs/../../etc/passwd/",
                                      "/de/docs/a/b/",
                                      "/de/docs/A/",
                                      "/de/docs/-a/",
                                      "/de/docs/a-/",
                                      "/deutsch/docs/a/",
                                      "/d/docs/a/",
                                      "/de/docs/a.html",
                                      "/de/docs/a%2f/",
                                      "de/docs/a/",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(stp_path_from_url(&rel, bad[i], pool) == APR_NOTFOUND, "mapped %s", bad[i]);
    char *long_id = apr_pstrcat(pool, "/en/docs/", apr_psprintf(pool, "%065d", 1), "/", NULL);
    ck_assert_int_eq(stp_path_from_url(&rel, long_id, pool), APR_NOTFOUND);
    /* shards are two hex digits below STP_SHARDS, stable */
    ck_assert_int_lt(strtol(shard, NULL, 16), STP_SHARDS);
    apr_pool_destroy(pool);
}
END_TEST

Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_add_months);
    tcase_add_test(tc, test_states);
    tcase_add_test(tc, test_version_order);
    tcase_add_test(tc, test_url_mapping);
    suite_add_tcase(s, tc);
    return s;
}
