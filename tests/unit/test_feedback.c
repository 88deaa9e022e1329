/* Feedback in state.mdb (stp_feedback.c): what may be stored, the append-only log, comments that
 * follow an answer, and the per-address limit of anonymous answers. */
#include <string.h>

#include <apr_strings.h>
#include <lmdb.h>

#include "stp_codec.h"
#include "stp_feedback.h"
#include "stp_layout.h"
#include "stp_state_int.h"
#include "test_store.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;
static stp_state_t *st;

#define LOCALES "en,de,fr,ja,ar"
#define T0 apr_time_from_sec(1800000000) /* a whole number of 600-second windows */

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("feedback", pool);
    test_store_reset();
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
}

static void teardown(void)
{
    stp_state_close(st);
    test_rmtree(dir);
    apr_pool_destroy(pool);
}

static stp_feedback_t entry(const char *page, const char *answer, const char *comment)
{
    stp_feedback_t e = {0, T0, page, "en", answer, comment, "", 0};
    return e;
}

static int collect(void *baton, const stp_feedback_t *e)
{
    const char **out = baton;
    *out = apr_psprintf(pool, "%s%" APR_UINT64_T_FMT "|%" APR_INT64_T_FMT "|%s|%s|%s|%s|%s|%" APR_UINT64_T_FMT "\n",
                        *out, e->seq, (apr_int64_t)apr_time_sec(e->when), e->page, e->lang, e->answer, e->comment,
                        e->user_key, e->ref);
    return 0;
}

static const char *dump(void)
{
    const char *out = "";
    ck_assert_int_eq(stp_feedback_each(st, collect, &out, pool), APR_SUCCESS);
    return out;
}

START_TEST(test_feedback_log)
{
    apr_uint64_t seq;
    stp_feedback_t e = entry("/en/docs/soc-2026/", "yes", "");
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 1);
    e = entry("/de/", "no", "Zu lang.\r\nZweite Zeile\tmit Tab, <b>&amp;</b> \"=1+1\"");
    e.lang = "de";
    e.user_key = "https://idp|bob";
    e.when = T0 + apr_time_from_sec(5);
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 2);
    /* A comment after the first answer refers to it. */
    e = entry("/en/docs/soc-2026/", "", "more");
    e.ref = 1;
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 3);
    /* Kept as text, CRLF as LF; survives closing and opening again (durable). */
    stp_state_close(st);
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_str_eq(
        dump(), "1|1800000000|/en/docs/soc-2026/|en|yes|||0\n"
                "2|1800000005|/de/|de|no|Zu lang.\nZweite Zeile\tmit Tab, <b>&amp;</b> \"=1+1\"|https://idp|bob|0\n"
                "3|1800000000|/en/docs/soc-2026/|en||more||1\n");
}
END_TEST

START_TEST(test_feedback_refused)
{
    apr_uint64_t seq = 7;
    char *long_page = apr_palloc(pool, STP_FEEDBACK_PAGE_MAX + 2);
    long_page[0] = '/';
    memset(long_page + 1, 'a', STP_FEEDBACK_PAGE_MAX);
    long_page[STP_FEEDBACK_PAGE_MAX + 1] = '\0';
    /* 2,000 characters of two bytes each are fine; 2,001 are not. */
    char *e2000 = apr_palloc(pool, 2 * 2001 + 1), *e2001;
    for (int i = 0; i < 2000; i++)
        memcpy(e2000 + 2 * i, "\xc3\xa9", 2);
    e2000[4000] = '\0';
    e2001 = apr_pstrcat(pool, e2000, "x", NULL);
    static const struct {
        const char *page, *lang, *answer, *comment;
    } bad[] = {
        {NULL, "en", "yes", ""},
        {"", "en", "yes", ""},
        {"//evil.example/", "en", "yes", ""},
        {"https://evil.example/", "en", "yes", ""},
        {"/\\evil", "en", "yes", ""},
        {"/en/\n", "en", "yes", ""},
        {"/en/\xff", "en", "yes", ""},
        {"/en/", "xx", "yes", ""},
        {"/en/", "", "yes", ""},
        {"/en/", "en,de", "yes", ""},
        {"/en/", "en", "maybe", ""},
        {"/en/", "en", "", ""},
        {"/en/", "en", "", NULL},
        {"/en/", "en", "no", "\xff"},
        {"/en/", "en", "no", "\xc0\xaf"},               /* overlong '/' */
        {"/en/", "en", "no", "\xed\xa0\x80"},           /* a surrogate */
        {"/en/", "en", "no", "bell\x07"},               /* C0 control */
        {"/en/", "en", "no", "del\x7f"},                /* DEL */
        {"/en/", "en", "no", "nel\xc2\x85"},            /* C1 control */
        {"/en/", "en", "no", "lone\rCR"},               /* a CR not before LF */
        {"/en/", "en", "no", "escape\x1b[31m"},         /* terminal escapes */
        {"/en/", "en", "no", "rlo\xe2\x80\xaegpj.exe"}, /* U+202E right-to-left override */
        {"/en/", "en", "no", "lre\xe2\x80\xaa"},        /* U+202A embedding */
        {"/en/", "en", "no", "fsi\xe2\x81\xa8x"},       /* U+2068 first strong isolate */
        {"/en/", "en", "no", "pdi\xe2\x81\xa9"},        /* U+2069 pop directional isolate */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        stp_feedback_t e = entry(bad[i].page, bad[i].answer, bad[i].comment);
        e.lang = bad[i].lang;
        ck_assert_msg(stp_feedback_check(&e, LOCALES) != NULL, "case %zu accepted", i);
        ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_EINVAL);
        ck_assert_uint_eq(seq, 0);
    }
    stp_feedback_t e = entry(long_page, "yes", "");
    ck_assert_str_eq(stp_feedback_check(&e, LOCALES), "the page address is too long");
    long_page[STP_FEEDBACK_PAGE_MAX] = '\0'; /* 1,024 bytes */
    ck_assert_ptr_null(stp_feedback_check(&e, LOCALES));
    e = entry("/en/", "", e2001);
    ck_assert_str_eq(stp_feedback_check(&e, LOCALES), "the comment is longer than 2000 characters");
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_EINVAL);
    ck_assert_str_eq(dump(), "");
    e = entry("/en/", "", e2000);
    ck_assert_ptr_null(stp_feedback_check(&e, LOCALES));
    /* Line breaks as browsers send them count once: 1,000 CRLFs and 1,000 letters are 2,000. */
    char *crlf = apr_palloc(pool, 3001);
    for (int i = 0; i < 1000; i++)
        memcpy(crlf + 3 * i, "a\r\n", 3);
    crlf[3000] = '\0';
    e = entry("/en/", "no", crlf);
    ck_assert_ptr_null(stp_feedback_check(&e, LOCALES));
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    /* Arabic with the right-to-left and left-to-right marks (U+200F, U+200E) is a comment like any. */
    e = entry("/en/", "no", "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 \xe2\x80\x8fISO\xe2\x80\x8e");
    ck_assert_ptr_null(stp_feedback_check(&e, LOCALES));
    /* Without a list of locales, any short tag. */
    e = entry("/en/", "yes", "");
    e.lang = "pt-BR";
    ck_assert_ptr_null(stp_feedback_check(&e, NULL));
    ck_assert_ptr_nonnull(stp_feedback_check(&e, LOCALES));
}
END_TEST

START_TEST(test_feedback_ref)
{
    apr_uint64_t seq;
    stp_feedback_t e = entry("/en/a/", "yes", "");
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    e = entry("/en/a/", "", "just a comment");
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 2);
    /* Only an earlier answer about the same page. */
    apr_uint64_t refs[] = {2, 3, 99};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        e = entry("/en/a/", "", "follows");
        e.ref = refs[i];
        ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_EINVAL);
    }
    e = entry("/en/b/", "", "follows");
    e.ref = 1;
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_EINVAL);
    e.page = "/en/a/";
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 3);
}
END_TEST

/* The first column of the first row of a query on the PostgreSQL store. */
static long dbd_number(const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    ck_assert_int_eq(apr_dbd_select(st->dbd->driver, pool, st->dbd->handle, &res, sql, 1), 0);
    ck_assert_int_eq(apr_dbd_get_row(st->dbd->driver, pool, res, &row, -1), 0);
    return (long)apr_atoi64(apr_dbd_get_entry(st->dbd->driver, row, 0));
}

static int rate_entries(void)
{
    MDB_txn *txn;
    MDB_stat s;
    if (st->dbd)
        return (int)dbd_number("SELECT count(*) FROM stp_feedback_rate");
    ck_assert_int_eq(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(mdb_stat(txn, st->feedback_rate, &s), 0);
    mdb_txn_abort(txn);
    return (int)s.ms_entries;
}

START_TEST(test_feedback_rate)
{
    apr_uint64_t seq;
    stp_feedback_rate_t a = {"192.0.2.1", 3, apr_time_from_sec(600)}, b = {"2001:db8::1", 3, apr_time_from_sec(600)};
    stp_feedback_t e = entry("/en/", "yes", "");
    for (int i = 0; i < 3; i++) {
        e.when = T0 + apr_time_from_sec(10 * i);
        ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &a), APR_SUCCESS);
    }
    e.when = T0 + apr_time_from_sec(100);
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &a), APR_EAGAIN);
    ck_assert_uint_eq(seq, 0);
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &b), APR_SUCCESS);   /* per address */
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, NULL), APR_SUCCESS); /* signed in: no limit */
    /* The next window starts with the previous one's weight: still over at its start ... */
    e.when = T0 + apr_time_from_sec(601);
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &a), APR_EAGAIN);
    /* ... and below the limit once half of it has passed (3 x 0.5 + 1 <= 3). */
    e.when = T0 + apr_time_from_sec(900);
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &a), APR_SUCCESS);
    /* No address is kept in the file, and old windows are dropped as time goes on. */
    if (st->dbd) {
        ck_assert_int_eq(dbd_number("SELECT count(*) FROM stp_feedback_rate WHERE client_hash LIKE '%192.0.2%'"), 0);
    } else {
        MDB_txn *txn;
        MDB_cursor *cur;
        MDB_val k, v;
        ck_assert_int_eq(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), 0);
        ck_assert_int_eq(mdb_cursor_open(txn, st->feedback_rate, &cur), 0);
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            ck_assert_ptr_null(memmem(k.mv_data, k.mv_size, "192.0.2.1", 9));
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
    }
    ck_assert_int_eq(rate_entries(), 3); /* a and b in the first window, a in the second */
    e.when = T0 + apr_time_from_sec(1200);
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &b), APR_SUCCESS);
    ck_assert_int_eq(rate_entries(), 2); /* the first window is gone */
    /* A limit of 0: no anonymous feedback at all. */
    stp_feedback_rate_t off = {"192.0.2.9", 0, apr_time_from_sec(600)};
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, LOCALES, &off), APR_EAGAIN);
    /* Refused answers are not stored: 3 + b + signed-in + 1 + b. */
    const char *log = dump();
    int n = 0;
    for (const char *p = log; (p = strchr(p, '\n')); p++)
        n++;
    ck_assert_int_eq(n, 7);
}
END_TEST

/* A state.mdb made before feedback existed (format 2, without its databases) opens as it is and
 * gains them: no new format, nothing to upgrade. */
START_TEST(test_feedback_older_file)
{
    static const char *const dbs[] = {"nda", "nda-log", "library", "notify", "users", "meta"};
    const char *old = test_tmpdir("feedback-old", pool);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ck_assert_int_eq(mdb_env_open(env, apr_pstrcat(pool, old, "/" STP_STATE_DB, NULL), MDB_NOSUBDIR, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        ck_assert_int_eq(mdb_dbi_open(txn, dbs[i], MDB_CREATE | (i == 1 ? MDB_INTEGERKEY : 0), &dbi), 0);
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_uint(&enc, 2);
    MDB_val k = {6, "format"}, v = {enc.len, enc.buf};
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0); /* dbi: meta, the last opened */
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    stp_state_t *older;
    apr_uint64_t seq;
    ck_assert_int_eq(stp_state_open(&older, old, NULL, pool), APR_SUCCESS);
    stp_feedback_t e = entry("/en/", "yes", "");
    ck_assert_int_eq(stp_feedback_add(&seq, older, &e, LOCALES, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 1);
    stp_state_close(older);
    test_rmtree(old);
}
END_TEST

Suite *feedback_suite(void)
{
    Suite *s = suite_create("feedback");
    TCase *tc = tcase_create("feedback");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_feedback_log);
    tcase_add_test(tc, test_feedback_refused);
    tcase_add_test(tc, test_feedback_ref);
    tcase_add_test(tc, test_feedback_rate);
    if (!test_store_dbd())
        tcase_add_test(tc, test_feedback_older_file);
    suite_add_tcase(s, tc);
    return s;
}
