/* My Library and notification settings in state.mdb, and digest planning as a pure function. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_digest.h"
#include "stp_library.h"
#include "stp_notify.h"
#include "test_store.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;
static stp_state_t *st;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("library", pool);
    test_store_reset();
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
}

static void teardown(void)
{
    stp_state_close(st);
    test_rmtree(dir);
    apr_pool_destroy(pool);
}

static stp_saved_t saved(const char *series, const char *doc, const char *seen)
{
    stp_saved_t e = {series, doc, seen, seen, apr_time_from_sec(1700000000)};
    return e;
}

/* The module's record of a user signed in with `tenant` ("" for a personal account). */
static const stp_user_record_t *in(const char *tenant)
{
    stp_user_record_t *r = apr_pcalloc(pool, sizeof *r);
    r->tenant = tenant;
    r->email = r->claims = "";
    return r;
}

START_TEST(library_save_list_remove)
{
    apr_array_header_t *l;
    stp_saved_t a = saved("soc", "soc-2025", "aaaa"), b = saved("iso", "iso-27001", "bbbb");
    ck_assert_int_eq(stp_library_save(st, "u1", &a), APR_SUCCESS);
    ck_assert_int_eq(stp_library_save(st, "u1", &b), APR_SUCCESS);
    ck_assert_int_eq(stp_library_save(st, "u10", &a), APR_SUCCESS); /* a prefix of another key */
    ck_assert_int_eq(stp_library_list(&l, st, "u1", pool), APR_SUCCESS);
    ck_assert_int_eq(l->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(l, 0, stp_saved_t).series, "iso");
    ck_assert_str_eq(APR_ARRAY_IDX(l, 1, stp_saved_t).series, "soc");
    ck_assert_str_eq(APR_ARRAY_IDX(l, 1, stp_saved_t).doc_id, "soc-2025");
    ck_assert_str_eq(APR_ARRAY_IDX(l, 1, stp_saved_t).seen, "aaaa");
    ck_assert(APR_ARRAY_IDX(l, 1, stp_saved_t).saved == apr_time_from_sec(1700000000));
    /* Saving another version of a series replaces the entry: one subscription per series. */
    stp_saved_t a2 = saved("soc", "soc-2026", "cccc");
    ck_assert_int_eq(stp_library_save(st, "u1", &a2), APR_SUCCESS);
    ck_assert_int_eq(stp_library_list(&l, st, "u1", pool), APR_SUCCESS);
    ck_assert_int_eq(l->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(l, 1, stp_saved_t).doc_id, "soc-2026");
    ck_assert_int_eq(stp_library_remove(st, "u1", "soc"), APR_SUCCESS);
    ck_assert_int_eq(stp_library_remove(st, "u1", "soc"), APR_SUCCESS); /* idempotent */
    ck_assert_int_eq(stp_library_list(&l, st, "u1", pool), APR_SUCCESS);
    ck_assert_int_eq(l->nelts, 1);
    ck_assert_int_eq(stp_library_list(&l, st, "u10", pool), APR_SUCCESS);
    ck_assert_int_eq(l->nelts, 1);
    ck_assert_int_eq(stp_library_list(&l, st, "nobody", pool), APR_SUCCESS);
    ck_assert_int_eq(l->nelts, 0);
}
END_TEST

START_TEST(library_rejects_bad_input)
{
    stp_saved_t e = saved("", "x", "");
    ck_assert_int_eq(stp_library_save(st, "u1", &e), APR_EINVAL);
    e = saved("s", "x", NULL);
    ck_assert_int_eq(stp_library_save(st, "", &e), APR_EINVAL);
    char *big = apr_palloc(pool, 100);
    memset(big, 'a', 99);
    big[99] = '\0';
    e = saved(big, "x", NULL);
    ck_assert_int_eq(stp_library_save(st, "u1", &e), APR_EINVAL);
    ck_assert_int_eq(stp_library_remove(st, "u1", ""), APR_EINVAL);
}
END_TEST

START_TEST(library_is_bounded)
{
    apr_pool_t *p;
    apr_pool_create(&p, pool);
    for (int i = 0; i < STP_LIBRARY_MAX_ENTRIES; i++) {
        stp_saved_t e = saved(apr_psprintf(p, "s%04d", i), "d", "");
        ck_assert_int_eq(stp_library_save(st, "hoarder", &e), APR_SUCCESS);
    }
    stp_saved_t more = saved("zzz", "d", "");
    ck_assert_int_eq(stp_library_save(st, "hoarder", &more), APR_ENOSPC);
    stp_saved_t again = saved("s0001", "d2", ""); /* replacing an entry is still allowed */
    ck_assert_int_eq(stp_library_save(st, "hoarder", &again), APR_SUCCESS);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(notify_settings)
{
    stp_notify_t n, got;
    ck_assert_int_eq(stp_notify_get(&got, st, "u1", pool), APR_NOTFOUND);
    ck_assert_int_eq(got.freq, STP_FREQ_OFF);
    ck_assert_str_eq(got.address, "");
    n = (stp_notify_t){STP_FREQ_WEEKLY, "u1@contoso.example", "de", "contoso", 0};
    ck_assert_int_eq(stp_notify_put(st, "u1", &n), APR_SUCCESS);
    ck_assert_int_eq(stp_notify_get(&got, st, "u1", pool), APR_SUCCESS);
    ck_assert_int_eq(got.freq, STP_FREQ_WEEKLY);
    ck_assert_str_eq(got.address, "u1@contoso.example");
    ck_assert_str_eq(got.locale, "de");
    ck_assert_str_eq(got.tenant, "contoso");
    stp_freq_t f;
    ck_assert_int_eq(stp_notify_freq_parse(&f, "monthly"), APR_SUCCESS);
    ck_assert_int_eq(f, STP_FREQ_MONTHLY);
    ck_assert_int_eq(stp_notify_freq_parse(&f, "hourly"), APR_EINVAL);
    ck_assert_str_eq(stp_notify_freq_name(STP_FREQ_DAILY), "daily");
}
END_TEST

/* --- digest planning ----------------------------------------------------------------------- */

static stp_doc_t *mkdoc(const char *id, const char *series, const char *version, stp_access_t access,
                        const char *tenant, const char *sha)
{
    stp_doc_t *d = apr_pcalloc(pool, sizeof *d);
    d->id = id;
    d->series = series;
    d->version = version;
    d->access = access;
    d->current = id;
    d->tenants = apr_array_make(pool, 1, sizeof(const char *));
    if (tenant)
        APR_ARRAY_PUSH(d->tenants, const char *) = tenant;
    d->files = apr_array_make(pool, 1, sizeof(stp_file_t));
    stp_file_t *f = apr_array_push(d->files);
    memset(f, 0, sizeof *f);
    apr_cpystrn(f->sha256, sha, sizeof f->sha256);
    return d;
}

typedef struct {
    const stp_doc_t *docs[4];
} fake_catalog_t;

static const stp_doc_t *current_of(void *baton, const char *series, apr_pool_t *p)
{
    fake_catalog_t *c = baton;
    (void)p;
    for (int i = 0; i < 4 && c->docs[i]; i++)
        if (!strcmp(c->docs[i]->series, series))
            return c->docs[i];
    return NULL;
}

static apr_array_header_t *entries_of(int n, const stp_saved_t *e)
{
    apr_array_header_t *a = apr_array_make(pool, n, sizeof(stp_saved_t));
    for (int i = 0; i < n; i++)
        APR_ARRAY_PUSH(a, stp_saved_t) = e[i];
    return a;
}

#define DAY apr_time_from_sec(86400)

START_TEST(digest_plan)
{
    stp_doc_t *soc = mkdoc("soc-2026", "soc", "2026", STP_ACCESS_PUBLIC, NULL, "11");
    stp_doc_t *iso = mkdoc("iso", "iso", "1", STP_ACCESS_PUBLIC, NULL, "22");
    stp_doc_t *t2 = mkdoc("t2-pack", "t2-pack", "1", STP_ACCESS_TENANT, "t2", "33");
    fake_catalog_t cat = {{soc, iso, t2, NULL}};
    const char *soc_fp = stp_library_fingerprint(soc, pool);
    /* Pinned (Python's hashlib agrees): the fingerprints stored in users' libraries must still
     * match whatever computes SHA-256. */
    ck_assert_str_eq(soc_fp, "05d193792e5a52eb");
    stp_saved_t e[] = {saved("iso", "iso", stp_library_fingerprint(iso, pool)), /* unchanged */
                       saved("soc", "soc-2025", "old"),                         /* a new version */
                       saved("t2-pack", "t2-pack", "old"),                      /* access lost */
                       saved("gone", "gone", "old")};                           /* series removed */
    apr_array_header_t *entries = entries_of(4, e);
    stp_notify_t n = {STP_FREQ_DAILY, "u@t1.example", "de", "t1", 0};
    apr_time_t now = apr_time_from_sec(1800000000);

    stp_digest_t *dg = stp_digest_plan("u", &n, in("t1"), entries, current_of, &cat, now, "trust.example.com", pool);
    ck_assert_ptr_nonnull(dg);
    ck_assert_int_eq(dg->items->nelts, 1);
    stp_digest_item_t *it = &APR_ARRAY_IDX(dg->items, 0, stp_digest_item_t);
    ck_assert_str_eq(it->series, "soc");
    ck_assert_str_eq(it->doc->id, "soc-2026");
    ck_assert_str_eq(it->seen, soc_fp);
    ck_assert_str_eq(dg->address, "u@t1.example");
    ck_assert_str_eq(dg->locale, "de");
    ck_assert(strlen(dg->message_id) == 1 + 32 + 1 + strlen("trust.example.com") + 1);
    ck_assert_str_eq(dg->message_id, "<6bc33e5b8c9b1b92272d05ab8e5075bd@trust.example.com>");
    /* Deterministic: planned again later (say after a crash), the same Message-ID. */
    stp_digest_t *again =
        stp_digest_plan("u", &n, in("t1"), entries, current_of, &cat, now + DAY, "trust.example.com", pool);
    ck_assert_str_eq(again->message_id, dg->message_id);
    /* Another user, another id. */
    stp_digest_t *other = stp_digest_plan("v", &n, in("t1"), entries, current_of, &cat, now, "trust.example.com", pool);
    ck_assert_str_ne(other->message_id, dg->message_id);

    /* The access rule: in tenant t2 the tenant document is listed too. */
    ck_assert_int_eq(stp_digest_plan("u", &n, in("t2"), entries, current_of, &cat, now, "h", pool)->items->nelts, 2);

    /* Nothing due: off, no address, within the window, nothing changed. */
    stp_notify_t off = n;
    off.freq = STP_FREQ_OFF;
    ck_assert_ptr_null(stp_digest_plan("u", &off, in("t1"), entries, current_of, &cat, now, "h", pool));
    stp_notify_t noaddr = n;
    noaddr.address = "";
    ck_assert_ptr_null(stp_digest_plan("u", &noaddr, in("t1"), entries, current_of, &cat, now, "h", pool));
    stp_notify_t recent = n;
    recent.last_digest = now - DAY + apr_time_from_sec(1);
    ck_assert_ptr_null(stp_digest_plan("u", &recent, in("t1"), entries, current_of, &cat, now, "h", pool));
    recent.last_digest = now - DAY;
    ck_assert_ptr_nonnull(stp_digest_plan("u", &recent, in("t1"), entries, current_of, &cat, now, "h", pool));
    stp_saved_t seen_all[] = {saved("soc", "soc-2026", soc_fp)};
    ck_assert_ptr_null(stp_digest_plan("u", &n, in("t1"), entries_of(1, seen_all), current_of, &cat, now, "h", pool));
}
END_TEST

/* A user who moved from contoso to fabrikam: the digest goes by the tenant the user signed in
 * with last, not the one stored with the settings, so the Contoso document is not named. */
START_TEST(digest_after_move)
{
    stp_doc_t *pub = mkdoc("soc-2026", "soc", "2026", STP_ACCESS_PUBLIC, NULL, "11");
    stp_doc_t *contoso = mkdoc("contoso-pack", "contoso-pack", "2", STP_ACCESS_TENANT, "contoso", "44");
    fake_catalog_t cat = {{pub, contoso, NULL, NULL}};
    stp_saved_t e[] = {saved("soc", "soc-2025", "old"), saved("contoso-pack", "contoso-pack", "old")};
    stp_notify_t n = {STP_FREQ_DAILY, "u@contoso.example", "en", "contoso", 0}; /* saved while in contoso */
    apr_time_t now = apr_time_from_sec(1800000000);
    stp_digest_t *dg = stp_digest_plan("u", &n, in("contoso"), entries_of(2, e), current_of, &cat, now, "h", pool);
    ck_assert_int_eq(dg->items->nelts, 2); /* still in contoso: both */
    dg = stp_digest_plan("u", &n, in("fabrikam"), entries_of(2, e), current_of, &cat, now, "h", pool);
    ck_assert_int_eq(dg->items->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(dg->items, 0, stp_digest_item_t).doc->id, "soc-2026");
    dg = stp_digest_plan("u", &n, in(""), entries_of(2, e), current_of, &cat, now, "h", pool); /* now personal */
    ck_assert_int_eq(dg->items->nelts, 1);
    /* Only the Contoso document changed: nothing at all for the user who left. */
    stp_saved_t only[] = {saved("contoso-pack", "contoso-pack", "old")};
    ck_assert_ptr_null(stp_digest_plan("u", &n, in("fabrikam"), entries_of(1, only), current_of, &cat, now, "h", pool));
}
END_TEST

/* Documents with requirements: in a digest only for users whose last signed-in request met them
 * (roles and required claims as recorded); an unlisted member gets none of the tenant's. */
START_TEST(digest_requirements)
{
    stp_doc_t *lic = mkdoc("lic", "lic", "2", STP_ACCESS_SIGNIN, NULL, "11");
    stp_doc_t *adm = mkdoc("adm", "adm", "2", STP_ACCESS_TENANT, "contoso", "22");
    lic->requires = apr_array_make(pool, 1, sizeof(stp_require_t));
    APR_ARRAY_PUSH(lic->requires, stp_require_t) = (stp_require_t){STP_REQUIRE_CLAIM, "licence", "e5"};
    adm->requires = apr_array_make(pool, 1, sizeof(stp_require_t));
    APR_ARRAY_PUSH(adm->requires, stp_require_t) = (stp_require_t){STP_REQUIRE_ROLE, "tenant-admin", ""};
    fake_catalog_t cat = {{lic, adm, NULL, NULL}};
    stp_saved_t e[] = {saved("lic", "lic", "old"), saved("adm", "adm", "old")};
    stp_notify_t n = {STP_FREQ_DAILY, "u@contoso.example", "en", "contoso", 0};
    apr_time_t now = apr_time_from_sec(1800000000);
    stp_user_record_t who = {.tenant = "contoso", .email = "u@contoso.example", .email_verified = 1, .claims = ""};
    /* a record from before roles and claims were kept: neither */
    ck_assert_ptr_null(stp_digest_plan("u", &n, &who, entries_of(2, e), current_of, &cat, now, "h", pool));
    who.claims = "audience\tgov\nlicence\te3,e5\n";
    stp_digest_t *dg = stp_digest_plan("u", &n, &who, entries_of(2, e), current_of, &cat, now, "h", pool);
    ck_assert_int_eq(dg->items->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(dg->items, 0, stp_digest_item_t).doc->id, "lic");
    who.tenant_admin = 1;
    ck_assert_int_eq(stp_digest_plan("u", &n, &who, entries_of(2, e), current_of, &cat, now, "h", pool)->items->nelts,
                     2);
    who.unlisted = 1; /* the tenant's document goes, the licence stays */
    dg = stp_digest_plan("u", &n, &who, entries_of(2, e), current_of, &cat, now, "h", pool);
    ck_assert_int_eq(dg->items->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(dg->items, 0, stp_digest_item_t).doc->id, "lic");
    who.claims = "licence\te55\n";
    ck_assert_ptr_null(stp_digest_plan("u", &n, &who, entries_of(2, e), current_of, &cat, now, "h", pool));
    ck_assert_ptr_null(stp_digest_plan("u", &n, NULL, entries_of(2, e), current_of, &cat, now, "h", pool));
}
END_TEST

/* Who may be mailed: a verified address, and a notification address in its domain. */
START_TEST(digest_recipient)
{
    stp_user_record_t who = {.tenant = "contoso", .email = "alice@contoso.example", .email_verified = 1};
    ck_assert_ptr_null(stp_digest_unmailable(&who, "alice@contoso.example", pool));
    ck_assert_ptr_null(stp_digest_unmailable(&who, "team@CONTOSO.example", pool)); /* domains: any case */
    const char *why = stp_digest_unmailable(&who, "alice@fabrikam.example", pool);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "alice@contoso.example"));
    ck_assert_ptr_nonnull(stp_digest_unmailable(&who, "alice@sub.contoso.example", pool));
    ck_assert_ptr_nonnull(stp_digest_unmailable(&who, "no-at-sign", pool));
    who.email_verified = 0;
    why = stp_digest_unmailable(&who, "alice@contoso.example", pool);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "not verified"));
    who = (stp_user_record_t){.tenant = "contoso", .email = "", .email_verified = 1}; /* no e-mail claim at all */
    ck_assert_ptr_nonnull(stp_digest_unmailable(&who, "alice@contoso.example", pool));
    ck_assert_ptr_nonnull(stp_digest_unmailable(NULL, "alice@contoso.example", pool)); /* never recorded */
}
END_TEST

START_TEST(digest_windows)
{
    apr_time_t t;
    apr_time_exp_t tm = {0};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 0;
    tm.tm_mday = 31;
    tm.tm_hour = 7;
    ck_assert_int_eq(apr_time_exp_gmt_get(&t, &tm), APR_SUCCESS);
    ck_assert(stp_digest_due(STP_FREQ_DAILY, t) == t + DAY);
    ck_assert(stp_digest_due(STP_FREQ_WEEKLY, t) == t + 7 * DAY);
    /* 31 January + one month is 28 February (2026 is no leap year). */
    ck_assert(stp_digest_due(STP_FREQ_MONTHLY, t) == t + 28 * DAY);
    tm.tm_mon = 11;
    tm.tm_mday = 15;
    ck_assert_int_eq(apr_time_exp_gmt_get(&t, &tm), APR_SUCCESS);
    ck_assert(stp_digest_due(STP_FREQ_MONTHLY, t) == t + 31 * DAY); /* into January of the next year */
    ck_assert(stp_digest_due(STP_FREQ_DAILY, 0) == 0);
}
END_TEST

START_TEST(digest_record)
{
    apr_array_header_t *l;
    stp_notify_t n = {STP_FREQ_DAILY, "u@x.example", "", "", 0}, got;
    stp_saved_t a = saved("soc", "soc-2025", "old"), b = saved("iso", "iso", "old");
    ck_assert_int_eq(stp_notify_put(st, "u", &n), APR_SUCCESS);
    ck_assert_int_eq(stp_library_save(st, "u", &a), APR_SUCCESS);
    ck_assert_int_eq(stp_library_save(st, "u", &b), APR_SUCCESS);
    stp_saved_t delivered[] = {saved("soc", "", "new"), saved("removed", "", "new")};
    ck_assert_int_eq(stp_digest_record(st, "u", apr_time_from_sec(42), entries_of(2, delivered)), APR_SUCCESS);
    ck_assert_int_eq(stp_notify_get(&got, st, "u", pool), APR_SUCCESS);
    ck_assert(got.last_digest == apr_time_from_sec(42));
    ck_assert_str_eq(got.address, "u@x.example");
    ck_assert_int_eq(stp_library_list(&l, st, "u", pool), APR_SUCCESS);
    ck_assert_int_eq(l->nelts, 2); /* "removed" was not brought back */
    ck_assert_str_eq(APR_ARRAY_IDX(l, 0, stp_saved_t).seen, "old");
    ck_assert_str_eq(APR_ARRAY_IDX(l, 1, stp_saved_t).seen, "new");
    ck_assert_str_eq(APR_ARRAY_IDX(l, 1, stp_saved_t).doc_id, "soc-2025"); /* what was saved stays */
    ck_assert_int_eq(stp_digest_record(st, "nobody", 1, NULL), APR_NOTFOUND);
}
END_TEST

Suite *library_suite(void)
{
    Suite *s = suite_create("library");
    TCase *tc = tcase_create("library");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* library_is_bounded makes 1,000 durable commits: a guard against hangs, not a speed limit. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, library_save_list_remove);
    tcase_add_test(tc, library_rejects_bad_input);
    tcase_add_test(tc, library_is_bounded);
    tcase_add_test(tc, notify_settings);
    tcase_add_test(tc, digest_plan);
    tcase_add_test(tc, digest_after_move);
    tcase_add_test(tc, digest_requirements);
    tcase_add_test(tc, digest_recipient);
    tcase_add_test(tc, digest_windows);
    tcase_add_test(tc, digest_record);
    suite_add_tcase(s, tc);
    return s;
}
