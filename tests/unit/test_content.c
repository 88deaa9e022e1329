/* Content loading, validation and series resolution, through the loader's own API. */
#include <string.h>

#include <apr_strings.h>

#include "content_fixture.h"
#include "sg_util.h"
#include "stp_paths.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;

static void setup_plain(void)
{
    apr_pool_create(&pool, NULL);
    dir = fixture_make(pool, NULL);
}

static void teardown(void)
{
    fixture_remove(dir);
    apr_pool_destroy(pool);
}

static const char *errors_text(const sg_errors_t *errs)
{
    const char *all = "";
    for (int i = 0; i < errs->list->nelts; i++)
        all = apr_pstrcat(pool, all, APR_ARRAY_IDX(errs->list, i, const char *), "\n", NULL);
    return all;
}

START_TEST(test_load_valid)
{
    sg_errors_t *errs = sg_errors_make(pool);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>", "Doc A", "# A\n", pool);
    fixture_add_doc(dir, "b", NULL, "7", "2025-03-04", "<access level='tenant' nda='true'><tenant ref='t1'/></access>",
                    "Doc B", "# B\n", pool);
    sg_site_t *site = fixture_load(dir, errs, pool);
    ck_assert_msg(sg_errors_count(errs) == 0, "%s", errors_text(errs));
    ck_assert_str_eq(site->default_locale, "en");
    ck_assert_str_eq(site->base_url, "https://trust.test");
    ck_assert_int_eq(site->docs->nelts, 2);
    sg_doc_t *a = APR_ARRAY_IDX(site->docs, 0, sg_doc_t *), *b = APR_ARRAY_IDX(site->docs, 1, sg_doc_t *);
    ck_assert_str_eq(a->cat.id, "a");
    ck_assert_str_eq(a->cat.series, "a");           /* series defaults to the id */
    ck_assert_str_eq(a->cat.version, "2025-01-02"); /* version defaults to the date */
    ck_assert_str_eq(a->cat.section, "certs");
    ck_assert_int_eq(a->cat.access, STP_ACCESS_PUBLIC);
    ck_assert_int_eq(b->cat.access, STP_ACCESS_TENANT);
    ck_assert_int_eq(b->cat.nda, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(b->cat.tenants, 0, const char *), "t1");
    const stp_file_t *f = &APR_ARRAY_IDX(a->cat.files, 0, stp_file_t);
    ck_assert_str_eq(f->path, stp_paths_file("a", "report.pdf", pool)); /* sharded under files/ */
    ck_assert_str_eq(f->media_type, "application/pdf");
    ck_assert_uint_eq(f->size, 15);
    ck_assert_str_eq(f->lang, "en");
    ck_assert_int_eq(strlen(f->sha256), 64);
}
END_TEST

START_TEST(test_all_errors_in_one_run)
{
    sg_errors_t *errs = sg_errors_make(pool);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>", "A", "x", pool);
    fixture_add_doc(dir, "b", NULL, NULL, "2025-02-30", "<access level='public'/>", "B", "x", pool);
    fixture_add_doc(dir, "c", NULL, NULL, "2025-01-02", "<access level='tenant'><tenant ref='nope'/></access>", "C",
                    "x", pool);
    fixture_write(apr_pstrcat(pool, dir, "/docs/a/doc.xml", NULL), "<document id='a'><oops/></document>");
    fixture_load(dir, errs, pool);
    const char *all = errors_text(errs);
    ck_assert_msg(strstr(all, "/docs/a/doc.xml:1: ") != NULL, "%s", all);
    ck_assert_msg(strstr(all, "/docs/b/doc.xml:") != NULL, "%s", all); /* 2025-02-30 is not a date */
    ck_assert_msg(strstr(all, "/docs/c/doc.xml:2: unknown tenant 'nope'") != NULL, "%s", all);
}
END_TEST

START_TEST(test_doc_parse_rejects_doctype)
{
    sg_errors_t *errs = sg_errors_make(pool);
    sg_site_t *site = fixture_load(dir, errs, pool);
    const char *xml = "<?xml version='1.0'?><!DOCTYPE document [<!ENTITY x 'boom'>]><document id='a'/>";
    ck_assert_ptr_null(sg_doc_parse(site, xml, strlen(xml), "t.xml", errs, pool));
    ck_assert_msg(strstr(errors_text(errs), "t.xml:1: a DOCTYPE declaration is not allowed") != NULL, "%s",
                  errors_text(errs));
}
END_TEST

START_TEST(test_series_and_retention)
{
    sg_errors_t *errs = sg_errors_make(pool);
    fixture_add_doc(dir, "r2024", "rep", "2024", "2024-11-01", "<access level='nda'/>", "R 2024", "x", pool);
    fixture_add_doc(dir, "r2025", "rep", "2025", "2025-12-01", "<access level='nda'/>", "R 2025", "x", pool);
    fixture_add_doc(dir, "r2026", "rep", "2026", "2026-10-01", "<access level='nda'/>", "R 2026", "x", pool);
    fixture_add_doc(dir, "other", NULL, NULL, "2026-11-01", "<access level='public'/>", "Other", "x", pool);
    fixture_add_doc(dir, "mine", NULL, NULL, "2026-11-02", "<access level='tenant'><tenant ref='t1'/></access>", "Mine",
                    "x", pool);
    sg_site_t *site = fixture_load(dir, errs, pool);
    ck_assert_msg(sg_errors_count(errs) == 0, "%s", errors_text(errs));
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)), 0);
    sg_doc_t *d24 = apr_hash_get(site->doc_index, "r2024", APR_HASH_KEY_STRING);
    sg_doc_t *d25 = apr_hash_get(site->doc_index, "r2025", APR_HASH_KEY_STRING);
    sg_doc_t *d26 = apr_hash_get(site->doc_index, "r2026", APR_HASH_KEY_STRING);
    ck_assert_int_eq(d26->state, STP_VERSION_CURRENT);
    ck_assert_int_eq(d25->state, STP_VERSION_SUPERSEDED);
    ck_assert_int_eq(d24->state, STP_VERSION_RETIRED);
    ck_assert_str_eq(d24->cat.current, "r2026");
    ck_assert_int_eq(d26->cat.retired, 0);
    ck_assert_int_eq(d25->cat.retired, stp_date_from_ymd(2026, 12, 1));
    ck_assert_int_eq(d26->older->nelts, 1);
    ck_assert_ptr_eq(APR_ARRAY_IDX(d26->older, 0, sg_doc_t *), d25);
    /* listings: current and not tenant-restricted, newest first */
    ck_assert_int_eq(site->listed->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(site->listed, 0, sg_doc_t *)->cat.id, "other");
    ck_assert_str_eq(APR_ARRAY_IDX(site->listed, 1, sg_doc_t *)->cat.id, "r2026");
    apr_array_header_t *t1 = apr_hash_get(site->tenant_docs, "t1", APR_HASH_KEY_STRING);
    ck_assert_int_eq(t1->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(t1, 0, sg_doc_t *)->cat.id, "mine");
    /* a year later, 2025 is gone too */
    sg_content_resolve(site, stp_date_from_ymd(2026, 12, 1), stp_date_to_time(stp_date_from_ymd(2026, 12, 1)), 0);
    ck_assert_int_eq(d25->state, STP_VERSION_RETIRED);
    ck_assert_int_eq(d26->older->nelts, 0);
}
END_TEST

START_TEST(test_embargo_and_drafts)
{
    sg_errors_t *errs = sg_errors_make(pool);
    stp_day_t today = stp_date_from_ymd(2026, 11, 22);
    fixture_add_doc(dir, "r2025", "rep", "2025", "2025-12-01", "<access level='nda'/>", "R 2025", "x", pool);
    fixture_add_doc(dir, "r2026", "rep", "2026", "2026-10-01", "<access level='nda'/>", "R 2026", "x", pool);
    fixture_add_doc(dir, "r2027", "rep", "2027", "2026-12-01T09:00+01:00", "<access level='nda'/>", "R 2027", "x",
                    pool);
    fixture_add_doc(dir, "later", NULL, NULL, "2027-01-01", "<access level='public'/>", "Later", "x", pool);
    fixture_add_doc(dir, "wip", NULL, NULL, "2026-11-01", "<access level='public'/><draft/>", "Draft", "x", pool);
    sg_site_t *site = fixture_load(dir, errs, pool);
    ck_assert_msg(sg_errors_count(errs) == 0, "%s", errors_text(errs));
    sg_content_resolve(site, today, stp_date_to_time(today), 0);
    /* the draft is gone; the embargoed ones stay, listed nowhere */
    ck_assert_ptr_null(apr_hash_get(site->doc_index, "wip", APR_HASH_KEY_STRING));
    ck_assert_int_eq(site->docs->nelts, 4);
    sg_doc_t *d26 = apr_hash_get(site->doc_index, "r2026", APR_HASH_KEY_STRING);
    sg_doc_t *d27 = apr_hash_get(site->doc_index, "r2027", APR_HASH_KEY_STRING);
    apr_time_t at = stp_date_to_time(stp_date_from_ymd(2026, 12, 1)) + apr_time_from_sec(8 * 3600);
    ck_assert_int_eq(d27->cat.live, at);
    ck_assert_int_eq(d27->cat.published, stp_date_from_ymd(2026, 12, 1));
    ck_assert_str_eq(d27->cat.version, "2027");
    ck_assert(d27->embargoed && !d26->embargoed);
    /* today the series is 2026's; 2027's own page and record show it as it will stand then */
    ck_assert_int_eq(d26->state, STP_VERSION_CURRENT);
    ck_assert_int_eq(d26->until, at);
    ck_assert_int_eq(d27->state, STP_VERSION_CURRENT);
    ck_assert_int_eq(d27->until, 0);
    ck_assert_int_eq(d27->older->nelts, 1); /* 2025 is retired on 1 December */
    ck_assert_ptr_eq(APR_ARRAY_IDX(d27->older, 0, sg_doc_t *), d26);
    ck_assert_int_eq(site->listed->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(site->listed, 0, sg_doc_t *)->cat.id, "r2026");

    /* a preview: everything as if live, marked for its banner */
    site = fixture_load(dir, errs, pool);
    sg_content_resolve(site, today, stp_date_to_time(today), 1);
    ck_assert_int_eq(site->docs->nelts, 5);
    sg_doc_t *wip = apr_hash_get(site->doc_index, "wip", APR_HASH_KEY_STRING);
    d27 = apr_hash_get(site->doc_index, "r2027", APR_HASH_KEY_STRING);
    ck_assert_int_eq(wip->preview, SG_PREVIEW_DRAFT);
    ck_assert_int_eq(d27->preview, SG_PREVIEW_EMBARGO);
    ck_assert_int_eq(d27->cat.live, 0);
    ck_assert_int_eq(d27->goes_live, at);
    ck_assert_int_eq(site->listed->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(site->listed, 0, sg_doc_t *)->cat.id, "later");
}
END_TEST

START_TEST(test_duplicate_version)
{
    sg_errors_t *errs = sg_errors_make(pool);
    fixture_add_doc(dir, "x1", "s", "1.0", "2024-01-01", "<access level='public'/>", "X", "x", pool);
    fixture_add_doc(dir, "x2", "s", "1.0", "2025-01-01", "<access level='public'/>", "X", "x", pool);
    fixture_load(dir, errs, pool);
    ck_assert_msg(strstr(errors_text(errs), "/docs/x2/doc.xml:1: series 's' already has version '1.0'") != NULL, "%s",
                  errors_text(errs));
}
END_TEST

START_TEST(test_missing_nda_text)
{
    sg_errors_t *errs = sg_errors_make(pool);
    const char *with_nda = fixture_make(pool, "<nda version='v1'/>");
    fixture_load(with_nda, errs, pool);
    fixture_remove(with_nda);
    ck_assert_msg(strstr(errors_text(errs), "site.xml:1: missing NDA text") != NULL, "%s", errors_text(errs));
}
END_TEST

/* Pinned digests (Python's hashlib agrees): a file's digest is its ETag and a fingerprint decides
 * what a rebuild rewrites, so neither may change with the SHA-256 underneath. */
START_TEST(test_digests_pinned)
{
    unsigned char bytes[200000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7 + 3);
    const char *path = apr_pstrcat(pool, dir, "/pinned.bin", NULL);
    ck_assert_int_eq(sg_file_write(path, bytes, sizeof bytes, pool), APR_SUCCESS);
    char hex[65];
    apr_uint64_t size = 0;
    ck_assert_int_eq(sg_file_sha256(hex, &size, path, pool), APR_SUCCESS);
    ck_assert_str_eq(hex, "ec0ebf98b6f2954bf0f7b839402b1ba245996c39d18e155414e91a2b4353c157");
    ck_assert_uint_eq(size, sizeof bytes);
    sg_fp_t fp;
    sg_fp_init(&fp);
    sg_fp_str(&fp, "stp");
    sg_fp_add(&fp, bytes, 0);
    sg_fp_drop(&fp); /* an abandoned fingerprint leaves nothing behind */
    sg_fp_init(&fp);
    sg_fp_str(&fp, "stp");
    for (int i = 0; i < 100; i++)
        bytes[i] = (unsigned char)i;
    sg_fp_add(&fp, bytes, 100);
    sg_fp_str(&fp, NULL);
    sg_fp_hex(hex, &fp);
    ck_assert_str_eq(hex, "b10d7097ace3499edc8066efe0fb4a2ad5b24cde3c9b7edbb3745dac611a28c9");
}
END_TEST

Suite *content_suite(void)
{
    Suite *s = suite_create("content");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup_plain, teardown);
    tcase_add_test(tc, test_load_valid);
    tcase_add_test(tc, test_all_errors_in_one_run);
    tcase_add_test(tc, test_doc_parse_rejects_doctype);
    tcase_add_test(tc, test_series_and_retention);
    tcase_add_test(tc, test_embargo_and_drafts);
    tcase_add_test(tc, test_duplicate_version);
    tcase_add_test(tc, test_digests_pinned);
    suite_add_tcase(s, tc);
    TCase *nda = tcase_create("nda");
    tcase_add_checked_fixture(nda, setup_plain, teardown);
    tcase_add_test(nda, test_missing_nda_text);
    suite_add_tcase(s, nda);
    return s;
}
