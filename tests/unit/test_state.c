/* state.mdb: NDA acceptances and their log; durability across a killed process; a full map. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <lmdb.h>

#include "stp_state.h"
#include "stp_state_int.h"
#include "test_store.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    dir = test_tmpdir("state", pool);
    test_store_reset();
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
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "t1", "v1"), 0);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "t1", "v1", apr_time_from_sec(1000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "t1", "v1"), 1);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "t1", "v2"), 0);   /* a new version needs accepting */
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|carol", "t1", "v1"), 0); /* never counts for another user */
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bo", "t1", "bv1"), 0);   /* keys cannot run together */
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "t1", "v1", apr_time_from_sec(2000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|carol", "t2", "v1", apr_time_from_sec(3000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(st, "", "t2", "v1", 0), APR_EINVAL);
    ck_assert_int_eq(stp_state_nda_log(st, collect, &log, pool), APR_SUCCESS);
    ck_assert_int_eq(log.n, 2); /* accepting again is not a new acceptance */
    ck_assert_str_eq(log.users[0], "1 iss|bob t1 v1");
    ck_assert_str_eq(log.users[1], "2 iss|carol t2 v1");
    stp_state_close(st);
    /* reopened: all there */
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|carol", "t2", "v1"), 1);
    stp_state_close(st);
}
END_TEST

/* An acceptance belongs to the user and the tenant it was given for: a user moved
 * from contoso to fabrikam must accept again. */
START_TEST(test_nda_per_tenant)
{
    stp_state_t *st;
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "contoso", "v1", apr_time_from_sec(1000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "contoso", "v1"), 1);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "fabrikam", "v1"), 0);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", NULL, "v1"), 0); /* a personal account */
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "", "v1"), 0);
    /* The parts cannot run together: ("contoso", "v1") is not ("contosov", "1") nor a longer user. */
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "contosov", "1"), 0);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bobcontoso", "", "v1"), 0);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "", "v1", 0), APR_EINVAL);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", NULL, "v1", 0), APR_EINVAL);
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "fabrikam", "v1", apr_time_from_sec(2000)), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "fabrikam", "v1"), 1);
    log_t log = {0, {0}};
    ck_assert_int_eq(stp_state_nda_log(st, collect, &log, pool), APR_SUCCESS);
    ck_assert_int_eq(log.n, 2); /* the second tenant's acceptance is a new one */
    ck_assert_str_eq(log.users[1], "2 iss|bob fabrikam v1");
    stp_state_close(st);
}
END_TEST

/* A state.mdb of format 1 (acceptances keyed by user and version, no users or meta database)
 * opens; its acceptances count for the tenant they were given in, and for no other. */
START_TEST(test_nda_format1_upgrade)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    stp_state_t *st;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    ck_assert_int_eq(mdb_env_open(env, apr_pstrcat(pool, dir, "/state.mdb", NULL), MDB_NOSUBDIR, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "nda", MDB_CREATE, &dbi), 0);
    /* key "user NUL version", value: varint time (zigzag 2000 -> 4000) and the tenant */
    MDB_val k = {strlen("iss|bob") + 1 + 2, "iss|bob\0v1"}, v = {2 + 1 + 7, "\xa0\x1f\x07"
                                                                            "contoso"};
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "contoso", "v1"), 1);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "fabrikam", "v1"), 0);
    stp_user_record_t rec;
    ck_assert_int_eq(stp_state_user_get(&rec, st, "iss|bob", pool), APR_NOTFOUND); /* the new database is there */
    stp_state_close(st);
    /* Opened again: nothing to do, nothing lost. */
    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|bob", "contoso", "v1"), 1);
    stp_state_close(st);
}
END_TEST

/* A state.mdb of format 2 (user records without roles and claims) opens; its records read as
 * before, with no roles and no claims, until the user signs in again. */
START_TEST(test_user_format2_upgrade)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi users, meta;
    stp_state_t *st;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ck_assert_int_eq(mdb_env_open(env, apr_pstrcat(pool, dir, "/state.mdb", NULL), MDB_NOSUBDIR, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "users", MDB_CREATE, &users), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
    MDB_val fk = {6, "format"}, fv = {1, "\x02"};
    ck_assert_int_eq(mdb_put(txn, meta, &fk, &fv, 0), 0);
    /* verified 1, tenant "contoso", e-mail "a@c", since 100 (zigzag 200: c8 01) */
    static const char rec2[] = "\x01\x07"
                               "contoso\0\x03"
                               "a@c\0\xc8\x01";
    MDB_val k = {strlen("iss|bob"), "iss|bob"}, v = {sizeof rec2 - 1, (void *)rec2};
    ck_assert_int_eq(mdb_put(txn, users, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    for (int again = 0; again < 2; again++) { /* upgraded, then opened as it is */
        stp_user_record_t rec;
        ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
        ck_assert_int_eq(stp_state_upgraded_from(st), again ? 0 : 2);
        ck_assert_int_eq(stp_state_user_get(&rec, st, "iss|bob", pool), APR_SUCCESS);
        ck_assert_str_eq(rec.tenant, "contoso");
        ck_assert_str_eq(rec.email, "a@c");
        ck_assert_int_eq(rec.email_verified, 1);
        ck_assert(rec.since == 100);
        ck_assert_int_eq(rec.tenant_admin, 0);
        ck_assert_int_eq(rec.unlisted, 0);
        ck_assert_str_eq(rec.claims, "");
        stp_state_close(st);
    }
}
END_TEST

/* A state.mdb of a newer format (a newer version wrote it) is refused and left as it was; a
 * current one reports no upgrade, an older one the format it started from. */
START_TEST(test_newer_format_refused)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    stp_state_t *st;
    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_upgraded_from(st), 0); /* a new file is written at the current format */
    ck_assert_int_eq(stp_state_nda_accept(st, "iss|bob", "contoso", "v1", 1), APR_SUCCESS);
    stp_state_close(st);

    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ck_assert_int_eq(mdb_env_open(env, apr_pstrcat(pool, dir, "/state.mdb", NULL), MDB_NOSUBDIR, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val fk = {6, "format"}, fv = {1, "\x04"};
    ck_assert_int_eq(mdb_put(txn, meta, &fk, &fv, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    MDB_envinfo before, after;
    mdb_env_info(env, &before);
    mdb_env_close(env);

    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), STP_STATE_ENEWER);
    char buf[300];
    ck_assert_ptr_nonnull(strstr(stp_state_strerror(STP_STATE_ENEWER, buf, sizeof buf), "newer version"));

    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ck_assert_int_eq(mdb_env_open(env, apr_pstrcat(pool, dir, "/state.mdb", NULL), MDB_NOSUBDIR, 0600), 0);
    mdb_env_info(env, &after);
    ck_assert(after.me_last_txnid == before.me_last_txnid); /* no transaction committed */
    apr_uint64_t format = 0;
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(stp_state_format_read(txn, &format), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    ck_assert(format == 4);
}
END_TEST

/* Writes a format-2 file (the format marker only: its databases are empty). */
static void write_format2(void)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ck_assert_int_eq(mdb_env_open(env, apr_pstrcat(pool, dir, "/state.mdb", NULL), MDB_NOSUBDIR, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
    MDB_val fk = {6, "format"}, fv = {1, "\x02"};
    ck_assert_int_eq(mdb_put(txn, meta, &fk, &fv, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* upgrade_alone (stpctl): an older file that another process has open (httpd, perhaps the
 * previous version) is not upgraded; once nobody has it, it is. */
START_TEST(test_upgrade_alone)
{
    int ready[2], go[2];
    char c;
    stp_state_t *st;
    stp_state_options_t alone = {.upgrade_alone = 1};
    write_format2();
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(go), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* another process with the environment open */
        MDB_env *env;
        int rc = mdb_env_create(&env);
        if (!rc) {
            mdb_env_set_maxdbs(env, 16);
            rc = mdb_env_open(env, apr_pstrcat(pool, dir, "/state.mdb", NULL), MDB_NOSUBDIR | MDB_RDONLY, 0600);
        }
        c = rc ? 'x' : 'o';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        _exit(0);
    }
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'o');
    ck_assert_int_eq(stp_state_open(&st, dir, &alone, pool), STP_STATE_EUPGRADEBUSY);
    char buf[300];
    ck_assert_ptr_nonnull(strstr(stp_state_strerror(STP_STATE_EUPGRADEBUSY, buf, sizeof buf), "restart httpd"));
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
    ck_assert_int_eq(stp_state_open(&st, dir, &alone, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_upgraded_from(st), 2);
    stp_state_close(st);
}
END_TEST

/* The record of a user's tenant and e-mail: written on a change only. */
START_TEST(test_user_record)
{
    stp_state_t *st;
    stp_user_record_t got;
    int wrote = -1;
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alice", pool), APR_NOTFOUND);
    ck_assert_str_eq(got.tenant, "");
    stp_user_record_t rec = {.tenant = "contoso",
                             .email = "alice@contoso.example",
                             .email_verified = 1,
                             .since = apr_time_from_sec(100),
                             .claims = "licence\te5\n"};
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    /* The same again, later: nothing written, the first time kept. */
    rec.since = apr_time_from_sec(200);
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 0);
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alice", pool), APR_SUCCESS);
    ck_assert_str_eq(got.tenant, "contoso");
    ck_assert_str_eq(got.email, "alice@contoso.example");
    ck_assert_int_eq(got.email_verified, 1);
    ck_assert(got.since == apr_time_from_sec(100));
    ck_assert_str_eq(got.claims, "licence\te5\n");
    ck_assert_int_eq(got.tenant_admin, 0);
    /* Roles and required claims changing are changes (digests judge requirements by them). */
    rec.tenant_admin = 1;
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    rec.claims = "";
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    rec.unlisted = 1;
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alice", pool), APR_SUCCESS);
    ck_assert_int_eq(got.tenant_admin, 1);
    ck_assert_int_eq(got.unlisted, 1);
    ck_assert_str_eq(got.claims, "");
    rec.claims = apr_psprintf(pool, "%05000d", 0);
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, NULL), APR_EINVAL);
    /* Moved to fabrikam: recorded. */
    rec = (stp_user_record_t){
        .tenant = "fabrikam", .email = "alice@fabrikam.example", .email_verified = 1, .since = apr_time_from_sec(300)};
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alice", pool), APR_SUCCESS);
    ck_assert_str_eq(got.tenant, "fabrikam");
    /* The verification alone changing is a change; so is becoming a personal account. */
    rec.email_verified = 0;
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    rec.tenant = NULL;
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, &wrote), APR_SUCCESS);
    ck_assert_int_eq(wrote, 1);
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alice", pool), APR_SUCCESS);
    ck_assert_str_eq(got.tenant, "");
    ck_assert_int_eq(got.email_verified, 0);
    /* Other users are their own; bad input is refused. */
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alic", pool), APR_NOTFOUND);
    ck_assert_int_eq(stp_state_user_note(st, "", &rec, NULL), APR_EINVAL);
    rec.email = apr_pstrcat(pool, apr_psprintf(pool, "%0300d", 0), "@x.example", NULL);
    ck_assert_int_eq(stp_state_user_note(st, "iss|alice", &rec, NULL), APR_EINVAL);
    stp_state_close(st);
    /* Durable: there after reopening. */
    ck_assert_int_eq(test_store_open(&st, dir, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_state_user_get(&got, st, "iss|alice", pool), APR_SUCCESS);
    ck_assert_int_eq(got.email_verified, 0);
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
        ck_assert_int_eq(stp_state_nda_accepted(st, apr_psprintf(pool, "iss|user%d", i), "t1", "v1"), 1);
    stp_state_close(st);
}
END_TEST

/* Past the map size a write fails cleanly with APR_ENOSPC and what was written stays. */
START_TEST(test_map_full)
{
    stp_state_t *st;
    stp_state_options_t opts = {.map_size = 64 * 1024};
    int i;
    apr_status_t rv = APR_SUCCESS;
    ck_assert_int_eq(stp_state_open(&st, dir, &opts, pool), APR_SUCCESS);
    for (i = 0; i < 100000 && rv == APR_SUCCESS; i++)
        rv = stp_state_nda_accept(st, apr_psprintf(pool, "iss|a-rather-long-user-key-%06d", i), "t1", "v1", 0);
    ck_assert_int_eq(rv, APR_ENOSPC);
    ck_assert_int_gt(i, 10);
    ck_assert_int_eq(stp_state_nda_accepted(st, "iss|a-rather-long-user-key-000000", "t1", "v1"), 1);
    ck_assert_int_eq(
        stp_state_nda_accepted(st, apr_psprintf(pool, "iss|a-rather-long-user-key-%06d", i - 1), "t1", "v1"), 0);
    stp_state_close(st);
}
END_TEST

/* --- group commit ------------------------------------------------------------------------------ */

/* A write of the test: puts key=key into the notify database, refuses, or fails in LMDB. */
typedef struct {
    stp_state_t *st;
    const char *key;
    enum { PUT, REFUSE, BAD } kind;
    int rc;
    /* the first write holds its batch open until told to go on */
    apr_thread_mutex_t *gate;
    apr_thread_cond_t *go;
    int *open;
    int *in_batch;
} write_t;

static int test_write(MDB_txn *txn, void *baton)
{
    write_t *w = baton;
    if (w->gate) {
        apr_thread_mutex_lock(w->gate);
        *w->in_batch = 1;
        apr_thread_cond_broadcast(w->go);
        while (!*w->open)
            apr_thread_cond_wait(w->go, w->gate);
        apr_thread_mutex_unlock(w->gate);
    }
    if (w->kind == REFUSE)
        return STP_STATE_REFUSED;
    char big[600];
    memset(big, 'k', sizeof big);
    MDB_val k = {w->kind == BAD ? sizeof big : strlen(w->key), w->kind == BAD ? big : (void *)w->key};
    MDB_val v = {strlen(w->key), (void *)w->key};
    return mdb_put(txn, w->st->notify, &k, &v, 0); /* BAD: a key longer than LMDB takes */
}

static void *APR_THREAD_FUNC writer(apr_thread_t *t, void *data)
{
    write_t *w = data;
    w->rc = stp_state_write(w->st, test_write, w);
    (void)t;
    return NULL;
}

static int queued(stp_state_t *st)
{
    apr_thread_mutex_lock(st->lock);
    int n = st->queued;
    apr_thread_mutex_unlock(st->lock);
    return n;
}

static apr_size_t last_txnid(stp_state_t *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    return info.me_last_txnid;
}

static int stored(stp_state_t *st, const char *key)
{
    MDB_txn *txn;
    MDB_val k = {strlen(key), (void *)key}, v;
    ck_assert_int_eq(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), 0);
    int rc = mdb_get(txn, st->notify, &k, &v);
    mdb_txn_abort(txn);
    return rc == 0;
}

/* Runs w[0] (which holds its batch open) and, once it commits, w[from..to) queued behind it;
 * returns when all are done. */
static void run_behind(write_t *w, int from, int to)
{
    apr_thread_t *t[8], *first;
    apr_status_t rv;
    *w[0].open = *w[0].in_batch = 0;
    apr_thread_create(&first, NULL, writer, &w[0], pool);
    apr_thread_mutex_lock(w[0].gate);
    while (!*w[0].in_batch)
        apr_thread_cond_wait(w[0].go, w[0].gate);
    apr_thread_mutex_unlock(w[0].gate);
    for (int i = from; i < to; i++)
        apr_thread_create(&t[i - from], NULL, writer, &w[i], pool);
    while (queued(w[0].st) < to - from)
        apr_thread_yield();
    apr_thread_mutex_lock(w[0].gate);
    *w[0].open = 1;
    apr_thread_cond_broadcast(w[0].go);
    apr_thread_mutex_unlock(w[0].gate);
    apr_thread_join(&rv, first);
    for (int i = from; i < to; i++)
        apr_thread_join(&rv, t[i - from]);
}

/* Writes that arrive while a batch commits go out together in one transaction, each with its own
 * outcome: a refusal leaves the others be; an LMDB failure makes every write of the batch go again
 * on its own, so that only the failing one fails. */
START_TEST(test_group_commit)
{
    stp_state_t *st;
    apr_thread_mutex_t *gate;
    apr_thread_cond_t *go;
    int open = 0, in_batch = 0;
    ck_assert_int_eq(stp_state_open(&st, dir, NULL, pool), APR_SUCCESS);
    apr_thread_mutex_create(&gate, APR_THREAD_MUTEX_DEFAULT, pool);
    apr_thread_cond_create(&go, pool);
    write_t w[] = {{st, "first", PUT, -2, gate, go, &open, &in_batch},  {st, "a", PUT, -2, NULL, NULL, NULL, NULL},
                   {st, "refused", REFUSE, -2, NULL, NULL, NULL, NULL}, {st, "b", PUT, -2, NULL, NULL, NULL, NULL},
                   {st, "c", PUT, -2, NULL, NULL, NULL, NULL},          {st, "bad", BAD, -2, NULL, NULL, NULL, NULL},
                   {st, "d", PUT, -2, NULL, NULL, NULL, NULL}};

    /* 1. the first write commits alone and holds its batch open while a, refused, b and c queue */
    apr_size_t before = last_txnid(st);
    run_behind(w, 1, 5);
    ck_assert_int_eq(w[0].rc, 0);
    ck_assert_int_eq(w[1].rc, 0);
    ck_assert_int_eq(w[2].rc, STP_STATE_REFUSED);
    ck_assert_int_eq(w[3].rc, 0);
    ck_assert_int_eq(w[4].rc, 0);
    /* two commits for five writes: the first alone, the four that waited in one */
    ck_assert_uint_eq(last_txnid(st) - before, 2);
    ck_assert(stored(st, "first") && stored(st, "a") && stored(st, "b") && stored(st, "c"));
    ck_assert(!stored(st, "refused"));

    /* 2. the same with a failing write among them */
    w[0].key = "second";
    run_behind(w, 5, 7);
    ck_assert_int_eq(w[0].rc, 0);
    ck_assert_int_eq(w[5].rc, MDB_BAD_VALSIZE);
    ck_assert_int_eq(w[6].rc, 0);
    ck_assert(stored(st, "second") && stored(st, "d"));
    stp_state_close(st);
}
END_TEST

Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("nda");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nda_accept);
    tcase_add_test(tc, test_nda_per_tenant);
    tcase_add_test(tc, test_user_record);
    suite_add_tcase(s, tc);
    if (test_store_dbd())
        return s; /* the rest is about state.mdb itself */
    tc = tcase_create("lmdb");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nda_format1_upgrade);
    tcase_add_test(tc, test_user_format2_upgrade);
    tcase_add_test(tc, test_newer_format_refused);
    tcase_add_test(tc, test_upgrade_alone);
    tcase_add_test(tc, test_durable_across_kill);
    tcase_add_test(tc, test_map_full);
    tcase_add_test(tc, test_group_commit);
    suite_add_tcase(s, tc);
    return s;
}
