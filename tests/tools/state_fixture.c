/* state_fixture: writes states for the upgrade tests (tests/integration/stateops.py), with raw
 * LMDB so that they are the layouts older (or newer) versions wrote, not what this one writes.
 *
 *   state_fixture v2 DIR USER_KEY TENANT   a new DIR/state.mdb of format 2: USER_KEY's user record
 *                                          (the format-2 record: no roles, no claims), their
 *                                          acceptance of NDA v1 for TENANT with its log entry, and
 *                                          series "soc" (document soc-2025) in their library
 *   state_fixture newer DIR                records a format above this build's in DIR/state.mdb
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <lmdb.h>

#include "stp_codec.h"
#include "stp_state.h"

#define WHEN ((int64_t)1700000000 * 1000000) /* 2023-11-14, in APR microseconds */

static int put(MDB_txn *txn, const char *db, unsigned flags, const void *k, size_t kl, const stp_enc_t *v)
{
    MDB_dbi dbi;
    MDB_val key = {kl, (void *)k}, val = {v->len, v->buf};
    int rc = mdb_dbi_open(txn, db, MDB_CREATE | flags, &dbi);
    return rc ? rc : mdb_put(txn, dbi, &key, &val, 0);
}

static int write_v2(MDB_txn *txn, const char *user, const char *tenant, apr_pool_t *pool)
{
    stp_enc_t v;
    int rc;
    size_t ul = strlen(user), tl = strlen(tenant);
    /* users: verified, tenant, e-mail, since (format 3 appended the roles and the claims) */
    stp_codec_enc_init(&v, pool);
    stp_codec_enc_uint(&v, 1);
    stp_codec_enc_cstr(&v, tenant);
    stp_codec_enc_cstr(&v, "old@example.test");
    stp_codec_enc_int(&v, WHEN);
    if ((rc = put(txn, "users", 0, user, ul, &v)))
        return rc;
    /* nda: "user NUL tenant NUL version" -> time, tenant */
    char *k = apr_pstrcat(pool, user, "@", tenant, "@v1", NULL);
    k[ul] = k[ul + 1 + tl] = '\0';
    stp_codec_enc_init(&v, pool);
    stp_codec_enc_int(&v, WHEN);
    stp_codec_enc_str(&v, tenant);
    if ((rc = put(txn, "nda", 0, k, ul + tl + 4, &v)))
        return rc;
    /* nda-log: sequence 1 -> time, user, tenant, version */
    uint64_t seq = 1;
    stp_codec_enc_init(&v, pool);
    stp_codec_enc_int(&v, WHEN);
    stp_codec_enc_str(&v, user);
    stp_codec_enc_str(&v, tenant);
    stp_codec_enc_str(&v, "v1");
    if ((rc = put(txn, "nda-log", MDB_INTEGERKEY, &seq, sizeof seq, &v)))
        return rc;
    /* library: "user NUL series" -> document, seen, kept, saved */
    k = apr_pstrcat(pool, user, "@soc", NULL);
    k[ul] = '\0';
    stp_codec_enc_init(&v, pool);
    stp_codec_enc_str(&v, "soc-2025");
    stp_codec_enc_str(&v, "");
    stp_codec_enc_str(&v, "");
    stp_codec_enc_int(&v, WHEN);
    if ((rc = put(txn, "library", 0, k, ul + 4, &v)))
        return rc;
    stp_codec_enc_init(&v, pool);
    stp_codec_enc_uint(&v, 2);
    return put(txn, "meta", 0, "format", 6, &v);
}

static int write_newer(MDB_txn *txn, apr_pool_t *pool)
{
    stp_enc_t v;
    stp_codec_enc_init(&v, pool);
    stp_codec_enc_uint(&v, STP_STATE_FORMAT + 1);
    return put(txn, "meta", 0, "format", 6, &v);
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    MDB_env *env;
    MDB_txn *txn;
    int v2 = argc == 5 && !strcmp(argv[1], "v2"), newer = argc == 3 && !strcmp(argv[1], "newer");
    if (!v2 && !newer) {
        fprintf(stderr, "usage: state_fixture v2 DIR USER_KEY TENANT | newer DIR\n");
        return 2;
    }
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&pool, NULL);
    int rc = mdb_env_create(&env);
    if (!rc) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, apr_pstrcat(pool, argv[2], "/state.mdb", NULL), MDB_NOSUBDIR, 0600);
    }
    if (!rc && !(rc = mdb_txn_begin(env, NULL, 0, &txn))) {
        rc = v2 ? write_v2(txn, argv[3], argv[4], pool) : write_newer(txn, pool);
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
    }
    mdb_env_close(env);
    if (rc)
        fprintf(stderr, "state_fixture: %s\n", mdb_strerror(rc));
    apr_terminate();
    return rc ? 1 : 0;
}
