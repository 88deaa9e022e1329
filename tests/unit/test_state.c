/* state.mdb: NDA acceptances and their log; durability across a killed process; a full map. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>

#include "stp_state.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("state", pool);
}

static void teardown(void)
{
    test_rmtree(dir);
    apr_pool_destroy(pool);
}

typedef struct {
    int n;
    const char *users[8];
} log_t;

static int collect(void *baton, const stp_nda_record_t *r)
{
    log_t *l = baton;
    if (l->n < 8)
        l->users[l->n] =
            apr_psprintf(pool, "%" APR_UINT64_T_FMT " %s %s %s", r->seq, r->user_key, r->tenant, r->version);
    l->n++;
    return 0;
}

START_TEST(test_nda_accept)
{
    stp_state_t *st;
    log_t log = {0, {0}};
    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "v1"), 0);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "t1", "v1", apr_time_from_sec(1000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "v1"), 1);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "v2"), 0);   /* a new version needs accepting */
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|carol", "v1"), 0); /* never counts for another user */
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bo", "bv1"), 0);   /* keys cannot run together */
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "t1", "v1", apr_time_from_sec(2000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|carol", "t2", "v1", apr_time_from_sec(3000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(st, "", "t2", "v1", 0), APR_EINVAL);
    ck_assert_int_eq(stp_state_nda_log(st, collect, &log, pool), APR_SUCCESS);
    ck_assert_int_eq(log.n, 2); /* accepting again is not a new acceptance */
    ck_assert_str_eq(log.users[0], "1 iss|bob t1 v1");
    ck_assert_str_eq(log.users[1], "2 iss|carol t2 v1");
    stp_state_close(st);
    /* reopened: all there */
    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|carol", "v1"), 1);
    stp_state_close(st);
}
END_TEST

/* A process that is killed right after its write returned: the write is there. */
START_TEST(test_durable_across_kill)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        apr_pool_t *p;
        stp_state_t *st;
        apr_pool_create(&p, NULL);
        if (stp_state_open(&st, dir, NULL, p) != APR_SUCCESS)
            _exit(1);
        for (int i = 0; i < 50; i++) {
            char user[32];
            snprintf(user, sizeof user, "iss|user%d", i);
            if (stp_state_nda_accept(st, user, "t1", "v1", apr_time_now()) == APR_SUCCESS)
                (void)!write(fds[1], "a", 1); /* acknowledged */
        }
        kill(getpid(), SIGKILL); /* no close, no cleanup */
        _exit(2);
    }
    close(fds[1]);
    int acked = 0;
    char c;
    while (read(fds[0], &c, 1) == 1)
        acked++;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(acked, 50);
    stp_state_t *st;
    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    for (int i = 0; i < acked; i++)
        ck_assert_int_eq(stp_state_nda_accepted(st, apr_psprintf(pool, "iss|user%d", i), "v1"), 1);
    stp_state_close(st);
}
END_TEST

/* Past the map size a write fails cleanly with APR_ENOSPC and what was written stays. */
START_TEST(test_map_full)
{
    stp_state_t *st;
    stp_state_options_t opts = {64 * 1024, 0};
    int i;
    apr_status_t rv = APR_SUCCESS;
    ck_assert_int_eq(stp_state_open(&st, dir, &opts, pool), APR_SUCCESS);
    for (i = 0; i < 100000 && rv == APR_SUCCESS; i++)
        rv = stp_state_nda_accept(st, apr_psprintf(pool, "iss|a-rather-long-user-key-%06d", i), "t1", "v1", 0);
    ck_assert_int_eq(rv, APR_ENOSPC);
    ck_assert_int_gt(i, 10);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|a-rather-long-user-key-000000", "v1"), 1);
    ck_assert_int_eq(stp_state_nda_accepted(st, apr_psprintf(pool, "iss|a-rather-long-user-key-%06d", i - 1), "v1"), 0);
    stp_state_close(st);
}
END_TEST

Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("nda");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nda_accept);
    tcase_add_test(tc, test_durable_across_kill);
    tcase_add_test(tc, test_map_full);
    suite_add_tcase(s, tc);
    return s;
}
