/* The search index (libstp/stp_search.h): query parsing, the tokenizers, facets, access filtering,
 * paging and incremental updates, over an index written by the writer sitegen uses. */
#include <string.h>

#include <apr_strings.h>

#include "stp_search.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("search", pool);
}

static void teardown(void)
{
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
    const char *doc, *lang, *title, *summary, *body, *tile, *tenant, *service, *region;
    int day;
    const char *requires; /* "role" or "claim=value" (one); NULL: none */
} fixture_row_t;

/* en, de, fr, ja, ar rows; t1/t2 tenant rows. */
static const fixture_row_t rows[] = {
    {"iso", "en", "ISO/IEC 27001 certificate", "Our certification for information security", "Scope and audit.", "iso",
     NULL, "compute", "eu", 10, NULL},
    {"iso", "de", "ISO/IEC 27001 Zertifikat", "Zertifizierung für Informationssicherheit",
     "Geltungsbereich der Straße.", "iso", NULL, "compute", "eu", 10, NULL},
    {"iso", "fr", "Certificat ISO/IEC 27001", "Notre certification de sécurité", "Périmètre.", "iso", NULL, "compute",
     "eu", 10, NULL},
    {"iso", "ja", "ISO/IEC 27001 認証書", "情報セキュリティの認証", "事業継続と災害復旧", "iso", NULL, "compute", "eu",
     10, NULL},
    {"iso", "ar", "شهادة ISO/IEC 27001", "كيف صُمّمت مناطقنا في الإمارات", "نطاق التدقيق", "iso", NULL, "compute", "eu",
     10, NULL},
    {"soc", "en", "SOC 2 Type II report", "Controls over security and availability", "Security audit period.", "soc",
     NULL, "storage", "us", 20, NULL},
    {"pen", "en", "Penetration test summary", "Security assessment by a third party", "Findings and security fixes.",
     "pentest", NULL, "compute", "us", 30, NULL},
    {"t1doc", "en", "Contoso security review", "For Contoso only", "Security details.", "org", "t1", "compute", "eu",
     40, NULL},
    {"t2doc", "en", "Fabrikam security review", "For Fabrikam only", "Security details.", "org", "t2", "storage", "us",
     50, NULL},
    {"lic", "en", "Licensed workload guide", "For E5 customers", "Quotas.", "guides", NULL, "compute", "eu", 60,
     "licence=e5"},
    {"adm", "en", "Administrator handbook", "For tenant administrators", "Settings.", "admin", NULL, "compute", "eu",
     70, "tenant-admin"},
    {"t1adm", "en", "Contoso administrator handbook", "For Contoso's administrators", "Keys.", "org", "t1", "compute",
     "eu", 80, "tenant-admin"},
};
#define NROWS (int)(sizeof rows / sizeof rows[0])

static apr_status_t write_index(const char *path, const char *from, int skip, int *written, const char *fp_suffix)
{
    stp_search_writer_t *w;
    const char *err = NULL;
    apr_array_header_t *locales = list("en", "de");
    APR_ARRAY_PUSH(locales, const char *) = "fr";
    APR_ARRAY_PUSH(locales, const char *) = "ja";
    APR_ARRAY_PUSH(locales, const char *) = "ar";
    apr_status_t rv = stp_search_writer_open(&w, path, from, locales, &err, pool);
    ck_assert_msg(rv == APR_SUCCESS, "%s", err);
    for (int i = 0; i < NROWS; i++) {
        if (i == skip)
            continue;
        const fixture_row_t *f = &rows[i];
        stp_search_row_t r = {0};
        r.doc = f->doc;
        r.lang = f->lang;
        r.title = f->title;
        r.summary = f->summary;
        r.note = "";
        r.body = f->body;
        r.tile = f->tile;
        r.access = f->tenant ? STP_ACCESS_TENANT : STP_ACCESS_PUBLIC;
        r.published = f->day;
        r.tenants = f->tenant ? list(f->tenant, NULL) : NULL;
        r.access = f->requires && !f->tenant ? STP_ACCESS_SIGNIN : r.access;
        if (f->requires) {
            apr_array_header_t *q = apr_array_make(pool, 1, sizeof(stp_require_t));
            const char *eq = strchr(f->requires, '=');
            APR_ARRAY_PUSH(q, stp_require_t) =
                eq ? (stp_require_t){STP_REQUIRE_CLAIM,
                                     apr_pstrmemdup(pool, f->requires, (apr_size_t)(eq - f->requires)), eq + 1}
                   : (stp_require_t){STP_REQUIRE_ROLE, f->requires, ""};
            r.requires = q;
        }
        r.services = list(f->service, NULL);
        r.regions = list(f->region, NULL);
        r.fp = apr_pstrcat(pool, f->doc, f->lang, fp_suffix, NULL);
        rv = stp_search_writer_put(w, &r, &err);
        ck_assert_msg(rv == APR_SUCCESS, "%s", err);
    }
    rv = stp_search_writer_finish(w, written, &err);
    ck_assert_msg(rv == APR_SUCCESS, "%s", err);
    return rv;
}

static stp_search_t *index_of(void)
{
    stp_search_t *s;
    const char *err = NULL, *path = apr_pstrcat(pool, dir, "/search.db", NULL);
    write_index(path, NULL, -1, NULL, "");
    ck_assert_msg(stp_search_open(&s, path, &err, pool) == APR_SUCCESS, "%s", err);
    return s;
}

static stp_search_result_t run(stp_search_t *s, const char *lang, const char *text, const char *tenant)
{
    stp_search_result_t res;
    stp_search_query_t q = {0};
    const char *err = NULL;
    q.lang = lang;
    q.text = text;
    q.tenant = tenant;
    q.page = 1;
    q.per_page = 20;
    ck_assert_msg(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS, "%s", err);
    return res;
}

static const char *first(const stp_search_result_t *r)
{
    return r->hits->nelts ? APR_ARRAY_IDX(r->hits, 0, stp_search_hit_t).doc : "(none)";
}

static int found(stp_search_t *s, const char *lang, const char *text)
{
    return run(s, lang, text, NULL).total;
}

START_TEST(parse_words_and_phrases)
{
    apr_array_header_t *t = stp_search_parse("  iso \"type  II\" report ", 16, pool);
    ck_assert_int_eq(t->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(t, 0, stp_search_term_t).text, "iso");
    ck_assert_int_eq(APR_ARRAY_IDX(t, 0, stp_search_term_t).phrase, 0);
    ck_assert_str_eq(APR_ARRAY_IDX(t, 1, stp_search_term_t).text, "type  II");
    ck_assert_int_eq(APR_ARRAY_IDX(t, 1, stp_search_term_t).phrase, 1);
    ck_assert_str_eq(stp_search_match_expr(t, 0, pool), "\"iso\"* AND \"type  II\" AND \"report\"*");
}
END_TEST

START_TEST(parse_special_characters_are_text)
{
    /* Operators and syntax stay inside quoted strings; punctuation alone is dropped. */
    apr_array_header_t *t = stp_search_parse("NEAR(a b) * : ^x col:val OR -y \"open", 16, pool);
    const char *e = stp_search_match_expr(t, 0, pool);
    ck_assert_str_eq(e, "\"NEAR(a\"* AND \"b)\"* AND \"^x\"* AND \"col:val\"* AND \"OR\"* AND \"-y\"* AND \"open\"");
    ck_assert_int_eq(stp_search_parse("* : ^ ( ) \"\" \"", 16, pool)->nelts, 0);
    ck_assert_ptr_null(stp_search_match_expr(stp_search_parse("", 16, pool), 0, pool));
    ck_assert_int_eq(stp_search_parse("a b c d e f", 3, pool)->nelts, 3);
}
END_TEST

START_TEST(special_characters_never_fail)
{
    stp_search_t *s = index_of();
    const char *inputs[] = {"NEAR(iso 27001)", "iso*",  "title:iso", "^iso",   "(iso",  "\"iso",   "iso\"", "\"\"\"",
                            "a\"b\"c",         "- + ~", "ISO/IEC",   "27001)", "{iso}", "iso AND", "OR",    "NOT iso"};
    for (unsigned i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        for (int trigram = 0; trigram < 2; trigram++)
            run(s, trigram ? "ja" : "en", inputs[i], NULL); /* run asserts success */
    ck_assert_int_eq(found(s, "en", "NEAR(iso"), 0);
    ck_assert_int_eq(found(s, "en", "ISO/IEC"), 1);
    ck_assert_int_eq(found(s, "en", "iso\""), 1);
}
END_TEST

START_TEST(prefixes_and_phrases)
{
    stp_search_t *s = index_of();
    ck_assert_int_eq(found(s, "en", "certif"), 1);
    ck_assert_int_eq(found(s, "en", "secur"), 3); /* anonymous: not the two tenant documents */
    ck_assert_int_eq(found(s, "en", "\"type ii\""), 1);
    ck_assert_int_eq(found(s, "en", "\"ii type\""), 0);
    ck_assert_int_eq(found(s, "en", "security audit"), 2); /* words are ANDed */
}
END_TEST

START_TEST(folding_german_french)
{
    stp_search_t *s = index_of();
    ck_assert_int_eq(found(s, "de", "fur"), 1);
    ck_assert_int_eq(found(s, "de", "FÜR"), 1);
    ck_assert_int_eq(found(s, "de", "zertifizierung"), 1);
    ck_assert_int_eq(found(s, "de", "strasse"), 1);
    ck_assert_int_eq(found(s, "de", "STRASSE"), 1);
    ck_assert_int_eq(found(s, "de", "Straße"), 1);
    ck_assert_int_eq(found(s, "fr", "securite"), 1);
    ck_assert_int_eq(found(s, "fr", "périmètre"), 1);
    ck_assert_int_eq(found(s, "fr", "perimetre"), 1);
}
END_TEST

START_TEST(japanese_substrings)
{
    stp_search_t *s = index_of();
    ck_assert_int_eq(found(s, "ja", "認証書"), 1);
    ck_assert_int_eq(found(s, "ja", "災害復旧"), 1);
    ck_assert_int_eq(found(s, "ja", "認証"), 1); /* two characters: matched without the index */
    ck_assert_int_eq(found(s, "ja", "事業 災害"), 1);
    ck_assert_int_eq(found(s, "ja", "災害 不在"), 0);
    ck_assert_int_eq(found(s, "ja", "iso"), 1);
    ck_assert_int_eq(found(s, "ja", "%x"), 0); /* LIKE's wildcard is text */
}
END_TEST

START_TEST(arabic_marks)
{
    stp_search_t *s = index_of();
    ck_assert_int_eq(found(s, "ar", "صممت"), 1); /* indexed with harakat, typed without */
    ck_assert_int_eq(found(s, "ar", "صُمّمت"), 1); /* and with */
    ck_assert_int_eq(found(s, "ar", "شهادة"), 1);
    ck_assert_int_eq(found(s, "ar", "شهاده"), 1);    /* ta marbuta typed as ha */
    ck_assert_int_eq(found(s, "ar", "الامارات"), 1); /* alef with hamza typed bare */
    ck_assert_int_eq(found(s, "ar", "الإمارات"), 1);
    ck_assert_int_eq(found(s, "ar", "امارات"), 1);   /* without the article */
    ck_assert_int_eq(found(s, "ar", "للتدقيق"), 1);  /* with an attached preposition */
    ck_assert_int_eq(found(s, "ar", "والتدقيق"), 1); /* and the conjunction */
    ck_assert_int_eq(found(s, "ar", "الزراعة"), 0);
}
END_TEST

START_TEST(tenant_documents_only_for_their_tenants)
{
    stp_search_t *s = index_of();
    stp_search_result_t r = run(s, "en", "security review", NULL);
    ck_assert_int_eq(r.total, 0);
    r = run(s, "en", "security review", "t1");
    ck_assert_int_eq(r.total, 1);
    ck_assert_str_eq(first(&r), "t1doc");
    r = run(s, "en", "fabrikam", "t1");
    ck_assert_int_eq(r.total, 0);
    r = run(s, "en", "", "t"); /* a prefix of a tenant id is not the tenant */
    ck_assert_int_eq(r.total, 3);
    /* Facets of an outsider count nothing of a tenant document: no "org" category. */
    for (int i = 0; i < r.facets[STP_FACET_CATEGORY]->nelts; i++)
        ck_assert_str_ne(APR_ARRAY_IDX(r.facets[STP_FACET_CATEGORY], i, stp_search_facet_value_t).id, "org");
}
END_TEST

static int facet_count(const stp_search_result_t *r, stp_facet_t f, const char *id)
{
    for (int i = 0; i < r->facets[f]->nelts; i++) {
        const stp_search_facet_value_t *v = &APR_ARRAY_IDX(r->facets[f], i, stp_search_facet_value_t);
        if (!strcmp(v->id, id))
            return v->count;
    }
    return -1;
}

static const char *licence_e5(void *baton, const char *name)
{
    (void)baton;
    return !strcmp(name, "licence") ? "e3,e5" : NULL;
}

static stp_search_result_t run_as(stp_search_t *s, const char *text, const stp_user_t *user)
{
    stp_search_result_t res;
    stp_search_query_t q = {
        .lang = "en", .text = text, .tenant = user->tenant, .user = user, .page = 1, .per_page = 20};
    const char *err = NULL;
    ck_assert_msg(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS, "%s", err);
    return res;
}

/* Documents with requirements are found only by those who meet them, and counted only for them;
 * unlisted members find none of their organisation's documents. */
START_TEST(requirements_and_unlisted_members)
{
    stp_search_t *s = index_of();
    const stp_user_t anon = {0}, bob = {.key = "i|bob", .tenant = "t1"},
                     alice = {.key = "i|alice", .tenant = "t1", .claim = licence_e5},
                     carol = {.key = "i|carol", .tenant = "t1", .tenant_admin = 1},
                     dan = {.key = "i|dan", .tenant = "t1", .tenant_admin = 1, .unlisted = 1, .claim = licence_e5};
    ck_assert_int_eq(run_as(s, "handbook", &anon).total, 0);
    ck_assert_int_eq(run_as(s, "licensed", &anon).total, 0);
    ck_assert_int_eq(run_as(s, "handbook", &bob).total, 0);
    ck_assert_int_eq(run_as(s, "licensed", &bob).total, 0);
    ck_assert_int_eq(run_as(s, "licensed", &alice).total, 1);
    ck_assert_int_eq(run_as(s, "handbook", &alice).total, 0);
    stp_search_result_t r = run_as(s, "handbook", &carol);
    ck_assert_int_eq(r.total, 2);
    ck_assert_int_eq(run_as(s, "licensed", &carol).total, 0);
    /* everything: 3 public + t1doc for bob; + lic for alice; + adm, t1adm for carol */
    r = run_as(s, "", &bob);
    ck_assert_int_eq(r.total, 4);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "guides"), -1);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "admin"), -1);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "org"), 1);
    r = run_as(s, "", &alice);
    ck_assert_int_eq(r.total, 5);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "guides"), 1);
    r = run_as(s, "", &carol);
    ck_assert_int_eq(r.total, 6);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "org"), 2);
    /* dan: no t1 documents, no role (unlisted), but his licence still counts */
    r = run_as(s, "", &dan);
    ck_assert_int_eq(r.total, 4);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "org"), -1);
    ck_assert_int_eq(facet_count(&r, STP_FACET_CATEGORY, "guides"), 1);
    ck_assert_int_eq(run_as(s, "security review", &dan).total, 0);
}
END_TEST

START_TEST(facets_widen_within_and_narrow_across)
{
    stp_search_t *s = index_of();
    stp_search_result_t res;
    stp_search_query_t q = {0};
    const char *err;
    q.lang = "en";
    q.text = "";
    q.page = 1;
    q.per_page = 20;
    q.tenant = "t1";
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.total, 4);
    ck_assert_int_eq(facet_count(&res, STP_FACET_SERVICE, "compute"), 3);
    ck_assert_int_eq(facet_count(&res, STP_FACET_SERVICE, "storage"), 1);
    ck_assert_str_eq(first(&res), "t1doc"); /* no text: newest first */

    q.filters[STP_FACET_SERVICE] = list("compute", NULL);
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.total, 3);
    ck_assert_int_eq(facet_count(&res, STP_FACET_SERVICE, "storage"), 1); /* its own filter does not narrow it */
    ck_assert_int_eq(facet_count(&res, STP_FACET_REGION, "us"), 1);

    q.filters[STP_FACET_SERVICE] = list("compute", "storage");
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.total, 4);

    q.filters[STP_FACET_REGION] = list("us", NULL);
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.total, 2);

    q.filters[STP_FACET_REGION] = list("no-such-region", NULL);
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.total, 0);
}
END_TEST

START_TEST(relevance_title_first_and_paging)
{
    stp_search_t *s = index_of();
    stp_search_result_t r = run(s, "en", "security", NULL);
    /* "Security" in no title but in summaries and bodies; the pen test has it twice. */
    ck_assert_int_eq(r.total, 3);
    r = run(s, "en", "report", NULL);
    ck_assert_str_eq(first(&r), "soc");
    const stp_search_hit_t *h = &APR_ARRAY_IDX(r.hits, 0, stp_search_hit_t);
    ck_assert_str_eq(h->title, "SOC 2 Type II report");
    ck_assert_ptr_nonnull(h->snippet);
    ck_assert_ptr_nonnull(strstr(h->snippet, "\001report\002"));
    /* Asked again: the ranked rows and the snippet come from the cache, the same. */
    stp_search_result_t again = run(s, "en", "report", NULL);
    ck_assert_str_eq(first(&again), "soc");
    ck_assert_str_eq(APR_ARRAY_IDX(again.hits, 0, stp_search_hit_t).snippet, h->snippet);

    stp_search_query_t q = {0};
    stp_search_result_t res;
    const char *err;
    q.lang = "en";
    q.per_page = 2;
    q.page = 2;
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.total, 3);
    ck_assert_int_eq(res.pages, 2);
    ck_assert_int_eq(res.hits->nelts, 1);
    q.page = 1000000000;
    ck_assert(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(res.hits->nelts, 0);
}
END_TEST

START_TEST(incremental_update)
{
    const char *a = apr_pstrcat(pool, dir, "/a.db", NULL), *b = apr_pstrcat(pool, dir, "/b.db", NULL);
    const char *c = apr_pstrcat(pool, dir, "/c.db", NULL), *err;
    int written = -1;
    write_index(a, NULL, -1, &written, "");
    ck_assert_int_eq(written, NROWS);
    /* Nothing changed: nothing rewritten. One row gone: only it goes. */
    write_index(b, a, 5, &written, "");
    ck_assert_int_eq(written, 0);
    stp_search_t *s;
    ck_assert(stp_search_open(&s, b, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(found(s, "en", "soc"), 0);
    ck_assert_int_eq(found(s, "en", "penetration"), 1);
    /* Every fingerprint changed: every row rewritten, still found once. */
    write_index(c, b, -1, &written, "v2");
    ck_assert_int_eq(written, NROWS);
    ck_assert(stp_search_open(&s, c, &err, pool) == APR_SUCCESS);
    ck_assert_int_eq(found(s, "en", "soc"), 1);
    ck_assert_int_eq(found(s, "en", "penetration"), 1);
}
END_TEST

/* A row is found only in its window: from its embargo's end until a newer version goes live. */
START_TEST(embargo_window)
{
    stp_search_writer_t *w;
    stp_search_t *s;
    const char *err = NULL, *path = apr_pstrcat(pool, dir, "/window.db", NULL);
    apr_time_t t = apr_time_from_sec(2000000000);
    ck_assert_msg(stp_search_writer_open(&w, path, NULL, list("en", NULL), &err, pool) == APR_SUCCESS, "%s", err);
    const char *ids[] = {"quokka-2026", "quokka-2027"};
    for (int i = 0; i < 2; i++) {
        stp_search_row_t r = {0};
        r.doc = ids[i];
        r.lang = "en";
        r.title = "Quokka report";
        r.summary = r.note = r.body = "";
        r.tile = "audits";
        r.live = i ? t : 0;  /* the new version: under embargo until t */
        r.until = i ? 0 : t; /* the old one: current until then */
        r.fp = ids[i];
        ck_assert_msg(stp_search_writer_put(w, &r, &err) == APR_SUCCESS, "%s", err);
    }
    ck_assert_msg(stp_search_writer_finish(w, NULL, &err) == APR_SUCCESS, "%s", err);
    ck_assert_msg(stp_search_open(&s, path, &err, pool) == APR_SUCCESS, "%s", err);
    const apr_time_t moments[] = {t - 1, t};
    for (int i = 0; i < 2; i++) {
        stp_search_result_t res;
        stp_search_query_t q = {.lang = "en", .text = "quokka", .page = 1, .per_page = 20, .now = moments[i]};
        ck_assert_msg(stp_search_run(&res, s, &q, &err, pool) == APR_SUCCESS, "%s", err);
        ck_assert_int_eq(res.total, 1);
        ck_assert_str_eq(APR_ARRAY_IDX(res.hits, 0, stp_search_hit_t).doc, ids[i]);
        ck_assert_int_eq(APR_ARRAY_IDX(res.facets[STP_FACET_CATEGORY], 0, stp_search_facet_value_t).count, 1);
    }
}
END_TEST

START_TEST(open_refuses_other_files)
{
    stp_search_t *s;
    const char *err = NULL;
    ck_assert(stp_search_open(&s, apr_pstrcat(pool, dir, "/missing.db", NULL), &err, pool) != APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
}
END_TEST

Suite *search_suite(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_create("search");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_words_and_phrases);
    tcase_add_test(tc, parse_special_characters_are_text);
    tcase_add_test(tc, special_characters_never_fail);
    tcase_add_test(tc, prefixes_and_phrases);
    tcase_add_test(tc, folding_german_french);
    tcase_add_test(tc, japanese_substrings);
    tcase_add_test(tc, arabic_marks);
    tcase_add_test(tc, tenant_documents_only_for_their_tenants);
    tcase_add_test(tc, requirements_and_unlisted_members);
    tcase_add_test(tc, facets_widen_within_and_narrow_across);
    tcase_add_test(tc, relevance_title_first_and_paging);
    tcase_add_test(tc, incremental_update);
    tcase_add_test(tc, open_refuses_other_files);
    tcase_add_test(tc, embargo_window);
    suite_add_tcase(s, tc);
    return s;
}
