/* The state's dump (stp_state_dump.c), on the store under test (state.mdb, or PostgreSQL with
 * STP_TEST_DBD) and a second state.mdb: the round trip, the logs going on after an import, the
 * refusals of the reader (each leaving the target empty), text that no dump can carry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_feedback.h"
#include "stp_state_dump.h"
#include "test_store.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir, *dir2;
static stp_state_t *st, *lm;

#define T0 apr_time_from_sec(1800000000)

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("dump", pool);
    dir2 = test_tmpdir("dump2", pool);
    test_store_reset();
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_open(&lm, dir2, NULL, pool), APR_SUCCESS);
}

static void teardown(void)
{
    stp_state_close(st);
    stp_state_close(lm);
    test_rmtree(dir);
    test_rmtree(dir2);
    apr_pool_destroy(pool);
}

/* The dump of s as a string. */
static char *dump_of(stp_state_t *s, stp_dump_counts_t *counts)
{
    char *buf = NULL;
    size_t len = 0;
    const char *err = NULL;
    FILE *f = open_memstream(&buf, &len);
    apr_status_t rv = stp_state_export(s, f, counts, &err, pool);
    fclose(f);
    ck_assert_msg(rv == APR_SUCCESS, "export: %s", err ? err : "?");
    char *copy = apr_pstrdup(pool, buf);
    free(buf);
    return copy;
}

static apr_status_t import_text(stp_state_t *s, const char *text, const char **err)
{
    stp_dump_counts_t counts;
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    apr_status_t rv = stp_state_import(s, f, &counts, err, pool);
    fclose(f);
    return rv;
}

/* Everything after the header line. */
static const char *body(const char *dump)
{
    return strchr(dump, '\n') + 1;
}

static void fill(stp_state_t *s)
{
    apr_uint64_t seq;
    stp_user_record_t u = {"acme", "a@acme.example", 1, T0, 0, 0, "c\tv\n"};
    ck_assert_int_eq(stp_state_user_note(s, "u\"1\\", &u, NULL), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(s, "u\"1\\", "acme", "v1", T0 + 1), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(s, "u2", "acme", "v1", T0 + 2), APR_SUCCESS);
    stp_feedback_t e = {0, T0 + 3, "/en/x/", "en", "", "tab\there \"q\" \\ \xe2\x80\xa9 \xf0\x9f\x98\x80\nend", "", 0};
    ck_assert_int_eq(stp_feedback_add(&seq, s, &e, NULL, NULL), APR_SUCCESS);
}

START_TEST(test_dump_round_trip)
{
    stp_dump_counts_t c1, c2;
    const char *err = NULL;
    fill(st);
    char *d1 = dump_of(st, &c1);
    ck_assert_uint_eq(c1.n[STP_DUMP_USER], 1);
    ck_assert_uint_eq(c1.n[STP_DUMP_NDA_LOG], 2);
    ck_assert_uint_eq(c1.n[STP_DUMP_FEEDBACK], 1);
    ck_assert_ptr_nonnull(strstr(d1, "\"comment\":\"tab\\there \\\"q\\\" \\\\ \\u2029 \xf0\x9f\x98\x80\\nend\""));
    ck_assert_int_eq(import_text(lm, d1, &err), APR_SUCCESS);
    char *d2 = dump_of(lm, &c2);
    ck_assert_str_eq(body(d1), body(d2));
    ck_assert_mem_eq(&c1, &c2, sizeof c1);

    /* the logs go on after the imported numbers */
    ck_assert_int_eq(stp_state_nda_accept(lm, "u3", "acme", "v1", T0 + 9), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(dump_of(lm, NULL), "{\"kind\":\"nda_log\",\"seq\":3,"));
}
END_TEST

START_TEST(test_dump_into_store_under_test)
{
    const char *err = NULL;
    apr_uint64_t seq = 0;
    fill(lm);
    char *d1 = dump_of(lm, NULL);
    ck_assert_int_eq(import_text(st, d1, &err), APR_SUCCESS);
    ck_assert_str_eq(body(d1), body(dump_of(st, NULL)));
    stp_feedback_t e = {0, T0 + 5, "/en/x/", "en", "yes", "", "", 0};
    ck_assert_int_eq(stp_feedback_add(&seq, st, &e, NULL, NULL), APR_SUCCESS);
    ck_assert_uint_eq(seq, 2); /* after the imported entry 1 */

    /* a second import: refused, nothing changed */
    char *before = dump_of(st, NULL);
    ck_assert_int_eq(import_text(st, d1, &err), STP_DUMP_ENOTEMPTY);
    ck_assert_ptr_nonnull(strstr(err, "already holds state (user 1, nda 2"));
    ck_assert_str_eq(before, dump_of(st, NULL));
}
END_TEST

static void refused(const char *text, const char *why, apr_status_t want)
{
    const char *err = NULL;
    char *empty = dump_of(st, NULL);
    apr_status_t rv = import_text(st, text, &err);
    ck_assert_msg(rv == want, "%s: %d, %s", text, rv, err ? err : "");
    ck_assert_msg(err && strstr(err, why), "%s: %s", text, err ? err : "");
    ck_assert_str_eq(empty, dump_of(st, NULL));
}

#define H "{\"kind\":\"header\",\"format\":1,\"store\":\"lmdb\"}\n"
#define U "{\"kind\":\"user\",\"user\":\"u\",\"tenant\":\"\",\"email\":\"\",\"email_verified\":false,\"since\":1,"
#define TR(n)                                                                                                          \
    "{\"kind\":\"trailer\",\"user\":" #n ",\"nda\":0,\"nda_log\":0,\"library\":0,\"notify\":0,\"org\":0,"              \
    "\"org_person\":0,\"org_log\":0,\"feedback\":0}\n"

START_TEST(test_dump_refused)
{
    const char *err = NULL;
    refused("", "the dump is empty", STP_DUMP_EBAD);
    refused(TR(0), "line 1: no header", STP_DUMP_EBAD);
    refused(H, "truncated: no trailer after line 1", STP_DUMP_EBAD);
    refused(H U "\"tenant_admin\":false,\"unlisted\":false,\"claims\":\"\"}\n", "no trailer after line 2",
            STP_DUMP_EBAD);
    refused(H U "\"tenant_admin\":false,\"unlisted\":false,\"claims\":\"\"}\n" TR(2),
            "the counts of user do not agree: 2 in the trailer, 1 lines read, 1 in the target", STP_DUMP_ECOUNT);
    refused(H U "\"tenant_admin\":false,\"unlisted\":false,\"claims\":\"\\ud800\"}\n" TR(1), "line 2: a lone surrogate",
            STP_DUMP_EBAD);
    refused(H U "\"tenant_admin\":false,\"unlisted\":false,\"claims\":\"a\tb\"}\n" TR(1), "line 2: a control character",
            STP_DUMP_EBAD);
    refused(H U "\"tenant_admin\":false,\"unlisted\":false,\"claims\":\"\",\"claims\":\"\"}\n" TR(1),
            "line 2: the field \"claims\" twice", STP_DUMP_EBAD);
    refused(H U "\"tenant_admin\":false,\"unlisted\":false,\"claims\":\"\",\"extra\":1}\n" TR(1),
            "line 2: user: a field this kind has not: \"extra\"", STP_DUMP_EBAD);
    refused(H U "\"tenant_admin\":0,\"unlisted\":false,\"claims\":\"\"}\n" TR(1),
            "the field \"tenant_admin\" is missing or of the wrong type", STP_DUMP_EBAD);
    refused(H "{\"kind\":\"user\",\"since\":1.5}\n" TR(0), "line 2: a number that is not a 64-bit integer",
            STP_DUMP_EBAD);
    refused(H "{\"kind\":\"user\",\"since\":99999999999999999999}\n" TR(0), "not a 64-bit integer", STP_DUMP_EBAD);
    refused(H "{\"kind\":\"notify\",\"user\":\"u\",\"freq\":\"hourly\",\"address\":\"\",\"locale\":\"\","
              "\"tenant\":\"\",\"last_digest\":0}\n" TR(0),
            "\"hourly\" is no frequency", STP_DUMP_EBAD);
    refused(H "{\"kind\":\"org_person\",\"tenant\":\"t\",\"email\":\"e@x\",\"role\":\"owner\",\"since\":0,"
              "\"by\":\"\"}\n" TR(0),
            "\"owner\" is no role", STP_DUMP_EBAD);
    refused(H "{\"kind\":\"org\",\"tenant\":\"t\",\"mode\":\"open\",\"industries\":[\"a\\nb\"],\"regions\":[]}\n" TR(0),
            "line 2 (org): too many industries or regions, or an empty, long or multi-line one", STP_DUMP_EBAD);
    refused(H "{\"kind\":\"nda_log\",\"seq\":0,\"at\":1,\"user\":\"u\",\"tenant\":\"t\",\"version\":\"v\"}\n" TR(0),
            "without a sequence number", STP_DUMP_EBAD);
    refused(H "[1,2]\n" TR(0), "line 2: not a JSON object", STP_DUMP_EBAD);
    refused(H TR(0) TR(0), "line 3: a line after the trailer", STP_DUMP_EBAD);
    /* a whole, empty dump is fine */
    ck_assert_int_eq(import_text(st, H TR(0), &err), APR_SUCCESS);
}
END_TEST

START_TEST(test_dump_not_utf8)
{
    const char *err = NULL;
    char *buf = NULL;
    size_t len = 0;
    stp_user_record_t u = {"ac\xffme", "", 0, T0, 0, 0, ""};
    ck_assert_int_eq(stp_state_user_note(lm, "u1", &u, NULL), APR_SUCCESS);
    FILE *f = open_memstream(&buf, &len);
    apr_status_t rv = stp_state_export(lm, f, NULL, &err, pool);
    fclose(f);
    free(buf);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, "a user record (u1) has text that is not UTF-8");
}
END_TEST

Suite *dump_suite(void)
{
    Suite *s = suite_create("dump");
    TCase *tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dump_round_trip);
    tcase_add_test(tc, test_dump_into_store_under_test);
    tcase_add_test(tc, test_dump_refused);
    tcase_add_test(tc, test_dump_not_utf8);
    suite_add_tcase(s, tc);
    return s;
}
