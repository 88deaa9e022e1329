#include <stdlib.h>
#include <string.h>

#include "stp_date.h"
#include "stp_paths.h"
#include "stp_retention.h"
#include "stp_validity.h"

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
    ck_assert_int_lt(stp_retention_version_cmp("2025.9", "2025.10"), 0);
    ck_assert_int_gt(stp_retention_version_cmp("v10", "v9"), 0);
    ck_assert_int_eq(stp_retention_version_cmp("2025.01", "2025.1"), 0);
    ck_assert_int_lt(stp_retention_version_cmp("1.0", "1.0.1"), 0);
    /* newer: later date first, then higher version */
    ck_assert_int_lt(stp_retention_version_newer_cmp(day("2026-01-01"), "1", day("2025-01-01"), "9"), 0);
    ck_assert_int_lt(stp_retention_version_newer_cmp(day("2026-01-01"), "2", day("2026-01-01"), "1"), 0);
    ck_assert_int_gt(stp_retention_version_newer_cmp(day("2025-01-01"), "9", day("2026-01-01"), "1"), 0);
}
END_TEST

START_TEST(test_url_mapping)
{
    apr_pool_t *pool;
    const char *rel = NULL;
    char shard[3];
    apr_pool_create(&pool, NULL);
    stp_paths_shard(shard, "soc2-2025");
    ck_assert_int_eq(stp_paths_from_url(&rel, "/de/docs/soc2-2025/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, apr_pstrcat(pool, "public/de/docs/", shard, "/soc2-2025.html", NULL));
    ck_assert_int_eq(stp_paths_from_url(&rel, "/pt-BR/docs/x/", pool), APR_SUCCESS);
    ck_assert_int_eq(stp_paths_from_url(&rel, "/de/docs/soc2-2025", pool), APR_INCOMPLETE);
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
        ck_assert_msg(stp_paths_from_url(&rel, bad[i], pool) == APR_NOTFOUND, "mapped %s", bad[i]);
    char *long_id = apr_pstrcat(pool, "/en/docs/", apr_psprintf(pool, "%065d", 1), "/", NULL);
    ck_assert_int_eq(stp_paths_from_url(&rel, long_id, pool), APR_NOTFOUND);
    /* shards are two hex digits below STP_SHARDS, stable */
    ck_assert_int_lt(strtol(shard, NULL, 16), STP_SHARDS);
    apr_pool_destroy(pool);
}
END_TEST

/* Images of bodies: under the page's URL, one copy per tree for every locale; only names made of
 * a digest and an image extension map to a file. */
START_TEST(test_image_url_mapping)
{
    apr_pool_t *pool;
    const char *rel = NULL, *name = "0123456789abcdef0123456789abcdef.png";
    char shard[3];
    apr_pool_create(&pool, NULL);
    stp_paths_shard(shard, "soc2-2025");
    ck_assert_int_eq(stp_paths_from_url(&rel, apr_pstrcat(pool, "/de/docs/soc2-2025/", name, NULL), pool), APR_SUCCESS);
    ck_assert_str_eq(rel, apr_pstrcat(pool, "public/docs/", shard, "/soc2-2025/", name, NULL));
    ck_assert_str_eq(stp_paths_image_type(rel), "image/png");
    ck_assert_ptr_null(stp_paths_image_type(stp_paths_doc_page(NULL, "de", "soc2-2025", pool)));
    ck_assert_int_eq(
        stp_paths_from_org_url(&rel, "contoso", apr_pstrcat(pool, "/ja/org/docs/soc2-2025/", name, NULL), pool),
        APR_SUCCESS);
    ck_assert_str_eq(rel, apr_pstrcat(pool, "tenants/contoso/docs/", shard, "/soc2-2025/", name, NULL));
    ck_assert_str_eq(stp_paths_image_type("x/0123456789abcdef0123456789abcdef.webp"), "image/webp");
    ck_assert_str_eq(stp_paths_image_type("0123456789abcdef0123456789abcdef.jpg"), "image/jpeg");
    static const char *const bad[] = {"0123456789abcdef0123456789abcdef.svg",
                                      "0123456789abcdef0123456789abcdef.html",
                                      "0123456789abcdef0123456789abcde.png",
                                      "0123456789abcdef0123456789abcdeF.png",
                                      "0123456789abcdef0123456789abcdef0.png",
                                      "0123456789abcdef0123456789abcdef.png/",
                                      "0123456789abcdef0123456789abcdef.pngx",
                                      "../../../etc/passwd",
                                      "%2e%2e%2fx.png",
                                      "0123456789abcdef0123456789abcdef.png%00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *url = apr_pstrcat(pool, "/de/docs/soc2-2025/", bad[i], NULL);
        ck_assert_msg(stp_paths_from_url(&rel, url, pool) == APR_NOTFOUND, "mapped %s", url);
        url = apr_pstrcat(pool, "/de/org/docs/soc2-2025/", bad[i], NULL);
        ck_assert_msg(stp_paths_from_org_url(&rel, "contoso", url, pool) == APR_ENOENT, "mapped %s", url);
    }
    apr_pool_destroy(pool);
}
END_TEST

/* Organisation URLs: the tenant's home and its pages of documents. */
START_TEST(test_org_url_mapping)
{
    apr_pool_t *pool;
    const char *rel;
    char shard[3];
    apr_pool_create(&pool, NULL);
    stp_paths_shard(shard, "soc2-2025");
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "contoso", "/de/org/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, "tenants/contoso/de/index.html");
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "Contoso-EU", "/pt-BR/org/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, "tenants/Contoso-EU/pt-BR/index.html");
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "contoso", "/de/org/docs/soc2-2025/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, apr_pstrcat(pool, "tenants/contoso/de/docs/", shard, "/soc2-2025.html", NULL));
    ck_assert_str_eq(rel, stp_paths_doc_page("contoso", "de", "soc2-2025", pool));
    /* without the trailing slash: a redirect */
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "contoso", "/de/org", pool), APR_INCOMPLETE);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "contoso", "/de/org/docs/soc2-2025", pool), APR_INCOMPLETE);
    /* under /<lang>/org but no page: 404 */
    static const char *const enoent[] = {"/de/org/x",
                                         "/de/org/index.html",
                                         "/de/org//",
                                         "/de/org/docs",
                                         "/de/org/docs/",
                                         "/de/org/docs//",
                                         "/de/org/docs/a/b/",
                                         "/de/org/docs/a//",
                                         "/de/org/docs/A/",
                                         "/de/org/docs/-a/",
                                         "/de/org/docs/a-/",
                                         "/de/org/docs/a.html",
                                         "/de/org/docs/a%2f/",
                                         "/de/org/docs/../../../etc/passwd/",
                                         "/de/org/docs/../index.html",
                                         "/de/org/../docs/a/",
                                         "/de/org/docs/a/index.html"};
    for (size_t i = 0; i < sizeof enoent / sizeof enoent[0]; i++) {
        rel = "untouched";
        ck_assert_msg(stp_paths_from_org_url(&rel, "contoso", enoent[i], pool) == APR_ENOENT, "%s not ENOENT",
                      enoent[i]);
        ck_assert_str_eq(rel, "untouched");
    }
    char *long_id = apr_pstrcat(pool, "/en/org/docs/", apr_psprintf(pool, "%065d", 1), "/", NULL);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "contoso", long_id, pool), APR_ENOENT);
    /* not an organisation URL at all */
    static const char *const notours[] = {"",
                                          "/",
                                          "/org/",
                                          "/de",
                                          "/de/",
                                          "/de/orgx",
                                          "/de/orgx/",
                                          "/de/organisation/",
                                          "/de/docs/a/",
                                          "/DE/org/",
                                          "/d/org/",
                                          "/deutsch/org/",
                                          "/de-/org/",
                                          "/de-x/org/",
                                          "de/org/",
                                          "//de/org/",
                                          "/de//org/"};
    for (size_t i = 0; i < sizeof notours / sizeof notours[0]; i++)
        ck_assert_msg(stp_paths_from_org_url(&rel, "contoso", notours[i], pool) == APR_NOTFOUND, "%s not NOTFOUND",
                      notours[i]);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, "contoso", NULL, pool), APR_NOTFOUND);

    /* no tenant: only whether the URL is a page's; *rel is not set */
    rel = "untouched";
    ck_assert_int_eq(stp_paths_from_org_url(&rel, NULL, "/de/org/", pool), APR_SUCCESS);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, NULL, "/de/org/docs/soc2-2025/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, "untouched");
    ck_assert_int_eq(stp_paths_from_org_url(&rel, NULL, "/de/org", pool), APR_INCOMPLETE);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, NULL, "/de/org/docs/soc2-2025", pool), APR_INCOMPLETE);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, NULL, "/de/org/docs/A/", pool), APR_ENOENT);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, NULL, "/de/docs/a/", pool), APR_NOTFOUND);

    /* the tenant comes from a claim: only a plain id names a directory */
    static const char *const bad_tenants[] = {"",    "..",  "../contoso", "a/b",       "a-",   "-a",
                                              "a b", "a.b", "a_b",        "t\xc3\xa4", "t1\n", "a%2fb"};
    for (size_t i = 0; i < sizeof bad_tenants / sizeof bad_tenants[0]; i++) {
        rel = "untouched";
        ck_assert_msg(stp_paths_from_org_url(&rel, bad_tenants[i], "/de/org/", pool) == APR_ENOENT,
                      "tenant \"%s\" accepted", bad_tenants[i]);
        ck_assert_msg(stp_paths_from_org_url(&rel, bad_tenants[i], "/de/org/docs/a/", pool) == APR_ENOENT,
                      "tenant \"%s\" accepted", bad_tenants[i]);
        ck_assert_str_eq(rel, "untouched");
    }
    const char *t64 = apr_psprintf(pool, "T%063d", 1), *t65 = apr_psprintf(pool, "T%064d", 1);
    ck_assert_int_eq(stp_paths_from_org_url(&rel, t64, "/de/org/", pool), APR_SUCCESS);
    ck_assert_str_eq(rel, apr_pstrcat(pool, "tenants/", t64, "/de/index.html", NULL));
    ck_assert_int_eq(stp_paths_from_org_url(&rel, t65, "/de/org/", pool), APR_ENOENT);
    apr_pool_destroy(pool);
}
END_TEST

START_TEST(test_ident_lengths)
{
    char id64[66], id65[67];
    memset(id64, 'a', 64), id64[64] = '/', id64[65] = '\0';
    memset(id65, '7', 65), id65[65] = '/', id65[66] = '\0';
    /* ids: [a-z0-9] with inner hyphens, at most 64 */
    ck_assert_uint_eq(stp_paths_ident_len("soc2-2025"), 9);
    ck_assert_uint_eq(stp_paths_ident_len("soc2-2025/"), 9);
    ck_assert_uint_eq(stp_paths_ident_len("a"), 1);
    ck_assert_uint_eq(stp_paths_ident_len("0"), 1);
    ck_assert_uint_eq(stp_paths_ident_len("a-b-c.html"), 5);
    ck_assert_uint_eq(stp_paths_ident_len("a-"), 1); /* a hyphen is never last */
    ck_assert_uint_eq(stp_paths_ident_len("a-/"), 1);
    ck_assert_uint_eq(stp_paths_ident_len("aB"), 1);
    ck_assert_uint_eq(stp_paths_ident_len(id64), 64);
    ck_assert_uint_eq(stp_paths_ident_len(id65), 0);
    ck_assert_uint_eq(stp_paths_ident_len(""), 0);
    ck_assert_uint_eq(stp_paths_ident_len("-a"), 0); /* nor first */
    ck_assert_uint_eq(stp_paths_ident_len("-"), 0);
    ck_assert_uint_eq(stp_paths_ident_len("A"), 0);
    ck_assert_uint_eq(stp_paths_ident_len("/a"), 0);
    ck_assert_uint_eq(stp_paths_ident_len(".."), 0);
    ck_assert_uint_eq(stp_paths_ident_len("_a"), 0);
    ck_assert_uint_eq(stp_paths_ident_len("\xc3\xa4"), 0);
    /* locales: [a-z]{2,3} with an optional -Region */
    ck_assert_uint_eq(stp_paths_lang_len("de"), 2);
    ck_assert_uint_eq(stp_paths_lang_len("de/docs/"), 2);
    ck_assert_uint_eq(stp_paths_lang_len("haw"), 3);
    ck_assert_uint_eq(stp_paths_lang_len("pt-BR"), 5);
    ck_assert_uint_eq(stp_paths_lang_len("pt-BR/org/"), 5);
    ck_assert_uint_eq(stp_paths_lang_len("de-CH"), 5);
    ck_assert_uint_eq(stp_paths_lang_len("es-419"), 6);
    ck_assert_uint_eq(stp_paths_lang_len("zh-Hant"), 7);
    ck_assert_uint_eq(stp_paths_lang_len(""), 0);
    ck_assert_uint_eq(stp_paths_lang_len("d"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("d/docs/"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("deut"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("DE"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("De"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("/de"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("-de"), 0);
    ck_assert_uint_eq(stp_paths_lang_len("\xc3\xa4\xc3\xa4"), 0);
    /* tenants: [A-Za-z0-9] with inner hyphens, at most 64 */
    ck_assert_uint_eq(stp_paths_tenant_len("Contoso-EU"), 10);
    ck_assert_uint_eq(stp_paths_tenant_len("t1/x"), 2);
    ck_assert_uint_eq(stp_paths_tenant_len("a-"), 1);
    ck_assert_uint_eq(stp_paths_tenant_len(id64), 64);
    ck_assert_uint_eq(stp_paths_tenant_len(id65), 0);
    ck_assert_uint_eq(stp_paths_tenant_len(""), 0);
    ck_assert_uint_eq(stp_paths_tenant_len("-a"), 0);
    ck_assert_uint_eq(stp_paths_tenant_len(".."), 0);
}
END_TEST

static stp_doc_t *validity_doc(apr_pool_t *pool, const char *id, const char *from, const char *until)
{
    stp_doc_t *d = apr_pcalloc(pool, sizeof *d);
    d->id = id;
    d->current = id;
    d->titles = apr_array_make(pool, 1, sizeof(stp_text_t));
    APR_ARRAY_PUSH(d->titles, stp_text_t) = (stp_text_t){"en", " Annual\n audit\treport\x01 "};
    d->valid_from = from ? day(from) : 0;
    d->valid_until = until ? day(until) : 0;
    return d;
}

/* The until day itself is valid; the day after, it is expired; before from, it is pending. */
START_TEST(test_validity)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_doc_t *d = validity_doc(pool, "a", "2026-01-01", "2026-12-31");
    ck_assert_int_eq(stp_validity_on(d, day("2025-12-31")), STP_VALIDITY_PENDING);
    ck_assert_int_eq(stp_validity_on(d, day("2026-01-01")), STP_VALIDITY_IN_FORCE);
    ck_assert_int_eq(stp_validity_on(d, day("2026-12-31")), STP_VALIDITY_IN_FORCE);
    ck_assert_int_eq(stp_validity_on(d, day("2027-01-01")), STP_VALIDITY_EXPIRED);
    ck_assert_str_eq(stp_validity_name(STP_VALIDITY_EXPIRED), "expired");
    ck_assert_int_eq(stp_validity_on(validity_doc(pool, "b", NULL, NULL), day("2027-01-01")), STP_VALIDITY_NONE);
    ck_assert_int_eq(stp_validity_on(validity_doc(pool, "c", "2026-01-01", NULL), day("2099-01-01")),
                     STP_VALIDITY_IN_FORCE);

    /* due: within `days` of its end, or ended; only the current version; never without an end */
    ck_assert(stp_validity_due(d, day("2026-11-01"), 60));
    ck_assert(!stp_validity_due(d, day("2026-11-01"), 59));
    ck_assert(stp_validity_due(d, day("2030-01-01"), 0));
    ck_assert(!stp_validity_due(validity_doc(pool, "c", "2026-01-01", NULL), day("2030-01-01"), 60));
    stp_doc_t *old = validity_doc(pool, "old", NULL, "2020-01-01");
    old->current = "new";
    ck_assert(!stp_validity_due(old, day("2026-11-01"), 60));

    /* the report's lines, on one line whatever the title holds */
    ck_assert_str_eq(stp_validity_report_line(d, "en", day("2026-11-01"), pool),
                     "a until 2026-12-31 (60 days left): Annual audit report");
    ck_assert_str_eq(stp_validity_report_line(d, "de", day("2026-12-30"), pool),
                     "a until 2026-12-31 (1 day left): Annual audit report");
    ck_assert_str_eq(stp_validity_report_line(d, "en", day("2026-12-31"), pool),
                     "a until 2026-12-31 (expires today): Annual audit report");
    ck_assert_str_eq(stp_validity_report_line(d, "en", day("2027-01-01"), pool),
                     "a until 2026-12-31 (expired yesterday): Annual audit report");
    ck_assert_str_eq(stp_validity_report_line(d, "en", day("2027-01-11"), pool),
                     "a until 2026-12-31 (expired 11 days ago): Annual audit report");

    /* soonest first, then by id */
    apr_array_header_t *docs = apr_array_make(pool, 3, sizeof(const stp_doc_t *));
    APR_ARRAY_PUSH(docs, const stp_doc_t *) = validity_doc(pool, "z", NULL, "2026-12-31");
    APR_ARRAY_PUSH(docs, const stp_doc_t *) = validity_doc(pool, "y", NULL, "2027-01-01");
    APR_ARRAY_PUSH(docs, const stp_doc_t *) = validity_doc(pool, "x", NULL, "2026-12-31");
    APR_ARRAY_PUSH(docs, const stp_doc_t *) = validity_doc(pool, "w", NULL, "2025-01-01");
    stp_validity_sort(docs);
    const char *order = "";
    for (int i = 0; i < docs->nelts; i++)
        order = apr_pstrcat(pool, order, APR_ARRAY_IDX(docs, i, const stp_doc_t *)->id, NULL);
    ck_assert_str_eq(order, "wxzy");
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
    tcase_add_test(tc, test_org_url_mapping);
    tcase_add_test(tc, test_image_url_mapping);
    tcase_add_test(tc, test_ident_lengths);
    tcase_add_test(tc, test_validity);
    suite_add_tcase(s, tc);
    return s;
}
