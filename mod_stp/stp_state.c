#include "stp_state.h"

#include <lmdb.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_log.h"
#include "stp_state_int.h"

apr_pool_t *stp_state_scratch(void)
{
    apr_pool_t *pool;
    apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    return pool;
}

/* One read transaction kept per thread between calls, reset (it keeps its reader slot but pins
 * no snapshot): with MDB_NOTLS, beginning a fresh one takes the reader-table mutex that every
 * process and thread shares, which under load is where readers would wait for each other. */
static _Thread_local struct {
    MDB_env *env;
    MDB_txn *txn;
} cached;

int stp_state_read_begin(stp_state_t *st, MDB_txn **txn)
{
    if (cached.txn && cached.env == st->env) {
        MDB_txn *t = cached.txn;
        cached.txn = NULL;
        if (mdb_txn_renew(t) == MDB_SUCCESS) {
            *txn = t;
            return MDB_SUCCESS;
        }
        mdb_txn_abort(t);
    }
    return mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
}

void stp_state_read_end(stp_state_t *st, MDB_txn *txn)
{
    if (cached.txn) {
        mdb_txn_abort(txn);
        return;
    }
    mdb_txn_reset(txn);
    cached.env = st->env;
    cached.txn = txn;
}

static apr_status_t state_cleanup(void *data)
{
    stp_state_t *st = data;
    if (cached.txn && cached.env == st->env) { /* this thread's; other threads are done by now */
        mdb_txn_abort(cached.txn);
        cached.txn = NULL;
    }
    if (st->env)
        mdb_env_close(st->env);
    st->env = NULL;
    return APR_SUCCESS;
}

apr_status_t stp_state_open(stp_state_t **out, const char *state_dir, const stp_state_options_t *opts, apr_pool_t *pool)
{
    stp_state_t *st = apr_pcalloc(pool, sizeof *st);
    MDB_txn *txn;
    int rc;
    apr_status_t rv = apr_dir_make_recursive(state_dir, APR_FPROT_OS_DEFAULT, pool);
    if (rv != APR_SUCCESS)
        return rv;
    st->pool = pool;
    if ((rc = mdb_env_create(&st->env)))
        return stp_mdb_status(rc);
    apr_pool_cleanup_register(pool, st, state_cleanup, apr_pool_cleanup_null);
    mdb_env_set_maxdbs(st->env, 16);
    mdb_env_set_mapsize(st->env, opts && opts->map_size ? opts->map_size : (apr_size_t)1 << 30);
    mdb_env_set_maxreaders(st->env, opts && opts->max_readers ? opts->max_readers : 126);
    /* NOTLS: a read transaction belongs to the request's thread of the moment, not to a thread-local slot. */
    rc = mdb_env_open(st->env, apr_pstrcat(pool, state_dir, "/state.mdb", NULL), MDB_NOSUBDIR | MDB_NOTLS, 0600);
    if (rc)
        return stp_mdb_status(rc);
    mdb_reader_check(st->env, &st->stale);
    if ((rv = apr_thread_mutex_create(&st->lock, APR_THREAD_MUTEX_DEFAULT, pool)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&st->done, pool)) != APR_SUCCESS)
        return rv;
    st->tail = &st->queue;
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)))
        return stp_mdb_status(rc);
    if ((rc = mdb_dbi_open(txn, "nda", MDB_CREATE, &st->nda)) ||
        (rc = mdb_dbi_open(txn, "nda-log", MDB_CREATE | MDB_INTEGERKEY, &st->nda_log)) ||
        (rc = mdb_dbi_open(txn, "library", MDB_CREATE, &st->library)) ||
        (rc = mdb_dbi_open(txn, "notify", MDB_CREATE, &st->notify)) || (rc = mdb_txn_commit(txn))) {
        if (rc && txn)
            mdb_txn_abort(txn);
        return stp_mdb_status(rc);
    }
    *out = st;
    return APR_SUCCESS;
}

void stp_state_close(stp_state_t *st)
{
    apr_pool_cleanup_run(st->pool, st, state_cleanup);
}

int stp_state_stale_readers(const stp_state_t *st)
{
    return st->stale;
}

/* "user NUL rest": one user's records sort together, and no two (user, rest) pairs collide. */
MDB_val stp_state_user_key(const char *user_key, const char *rest, apr_pool_t *pool)
{
    apr_size_t ul = strlen(user_key), vl = strlen(rest);
    char *k = apr_palloc(pool, ul + vl + 1);
    memcpy(k, user_key, ul);
    k[ul] = '\0';
    memcpy(k + ul + 1, rest, vl);
    MDB_val v = {ul + 1 + vl, k};
    return v;
}

/* --- group commit ------------------------------------------------------------------------------ */

struct stp_write_op_t {
    stp_state_write_fn *fn;
    void *baton;
    int rc;
    int done;
    stp_write_op_t *next;
};

static int log_full(int rc)
{
    if (rc == MDB_MAP_FULL)
        stp_log(STP_LOG_ERR, APR_ENOSPC, "state.mdb is full: raise its map size");
    return rc;
}

/* One write in a transaction of its own. */
static int write_alone(stp_state_t *st, stp_write_op_t *op)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return log_full(rc);
    if ((rc = op->fn(txn, op->baton)) != 0) {
        mdb_txn_abort(txn);
        return log_full(rc);
    }
    return log_full(mdb_txn_commit(txn)); /* synchronous: on disk when it returns */
}

/* Commits a batch in one transaction and one sync. A refusal or a "not found" writes nothing, so
 * the others go on; an LMDB error leaves the transaction unusable, so then every write of the batch is done
 * again on its own, and each gets its own outcome. */
static void write_batch(stp_state_t *st, stp_write_op_t *batch)
{
    MDB_txn *txn;
    int rc = 0;
    if (!batch->next) {
        batch->rc = write_alone(st, batch);
        return;
    }
    if (!(rc = mdb_txn_begin(st->env, NULL, 0, &txn))) {
        for (stp_write_op_t *op = batch; op && !rc; op = op->next)
            if ((op->rc = op->fn(txn, op->baton)) != STP_STATE_REFUSED && op->rc != MDB_NOTFOUND)
                rc = op->rc; /* (a refusal and "not found" wrote nothing: the batch goes on) */
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
    }
    if (rc)
        for (stp_write_op_t *op = batch; op; op = op->next)
            op->rc = write_alone(st, op);
}

int stp_state_write(stp_state_t *st, stp_state_write_fn *fn, void *baton)
{
    stp_write_op_t op = {fn, baton, 0, 0, NULL};
    apr_thread_mutex_lock(st->lock);
    *st->tail = &op;
    st->tail = &op.next;
    st->queued++;
    while (!op.done) {
        if (st->committing) {
            apr_thread_cond_wait(st->done, st->lock);
            continue;
        }
        /* This thread commits everything queued so far, its own write among it. */
        stp_write_op_t *batch = st->queue;
        st->queue = NULL;
        st->tail = &st->queue;
        st->queued = 0;
        st->committing = 1;
        apr_thread_mutex_unlock(st->lock);
        write_batch(st, batch);
        apr_thread_mutex_lock(st->lock);
        for (stp_write_op_t *o = batch, *next; o; o = next) {
            next = o->next; /* o may be gone as soon as done is set and the lock is free */
            o->done = 1;
        }
        st->committing = 0;
        apr_thread_cond_broadcast(st->done);
    }
    apr_thread_mutex_unlock(st->lock);
    return op.rc;
}

typedef struct {
    stp_state_t *st;
    MDB_val key;
    const char *user_key, *tenant, *version;
    apr_time_t when;
    apr_pool_t *pool;
} nda_accept_t;

static int nda_accept_write(MDB_txn *txn, void *baton)
{
    nda_accept_t *a = baton;
    MDB_cursor *cur;
    MDB_val v, last_k, last_v;
    stp_enc_t rec;
    int rc = mdb_get(txn, a->st->nda, &a->key, &v);
    if (rc == MDB_SUCCESS) /* already accepted: keep the first time */
        return 0;
    if (rc != MDB_NOTFOUND)
        return rc;
    stp_enc_init(&rec, a->pool);
    stp_enc_int(&rec, a->when);
    stp_enc_str(&rec, a->tenant);
    v.mv_size = rec.len;
    v.mv_data = rec.buf;
    if ((rc = mdb_put(txn, a->st->nda, &a->key, &v, 0)) || (rc = mdb_cursor_open(txn, a->st->nda_log, &cur)))
        return rc;
    /* the log: append at the next sequence number */
    apr_uint64_t seq = 1;
    if (mdb_cursor_get(cur, &last_k, &last_v, MDB_LAST) == MDB_SUCCESS && last_k.mv_size == sizeof seq)
        memcpy(&seq, last_k.mv_data, sizeof seq), seq++;
    mdb_cursor_close(cur);
    stp_enc_init(&rec, a->pool);
    stp_enc_int(&rec, a->when);
    stp_enc_str(&rec, a->user_key);
    stp_enc_str(&rec, a->tenant);
    stp_enc_str(&rec, a->version);
    MDB_val lk = {sizeof seq, &seq}, lv = {rec.len, rec.buf};
    return mdb_put(txn, a->st->nda_log, &lk, &lv, MDB_APPEND);
}

apr_status_t stp_state_nda_accept(stp_state_t *st, const char *user_key, const char *tenant, const char *version,
                                  apr_time_t when)
{
    if (!user_key || !*user_key || !version || !*version || strlen(user_key) + strlen(version) > 400)
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch();
    nda_accept_t a = {st, stp_state_user_key(user_key, version, pool), user_key, tenant, version, when, pool};
    int rc = stp_state_write(st, nda_accept_write, &a);
    apr_pool_destroy(pool);
    return stp_mdb_status(rc);
}

int stp_state_nda_accepted(stp_state_t *st, const char *user_key, const char *version)
{
    MDB_txn *txn;
    MDB_val v;
    char buf[512];
    apr_size_t ul, vl;
    if (!user_key || !version || (ul = strlen(user_key)) + (vl = strlen(version)) + 1 > sizeof buf)
        return 0; /* longer than any key stp_state_nda_accept stores */
    /* The key on the stack: the download path allocates nothing here. */
    memcpy(buf, user_key, ul);
    buf[ul] = '\0';
    memcpy(buf + ul + 1, version, vl);
    MDB_val k = {ul + 1 + vl, buf};
    int rc = stp_state_read_begin(st, &txn);
    if (!rc) {
        rc = mdb_get(txn, st->nda, &k, &v);
        stp_state_read_end(st, txn);
    }
    return rc == MDB_SUCCESS ? 1 : rc == MDB_NOTFOUND ? 0 : -1;
}

apr_status_t stp_state_nda_log(stp_state_t *st, stp_nda_record_fn *fn, void *baton, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return stp_mdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->nda_log, &cur))) {
        mdb_txn_abort(txn);
        return stp_mdb_status(rc);
    }
    apr_pool_create(&iter, pool);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        stp_nda_record_t r;
        stp_dec_t d;
        apr_pool_clear(iter);
        if (k.mv_size != sizeof r.seq) {
            rv = APR_EGENERAL;
            break;
        }
        memcpy(&r.seq, k.mv_data, sizeof r.seq);
        stp_dec_init(&d, v.mv_data, v.mv_size);
        r.when = (apr_time_t)stp_dec_int(&d);
        r.user_key = stp_dec_str(&d, iter);
        r.tenant = stp_dec_str(&d, iter);
        r.version = stp_dec_str(&d, iter);
        if ((rv = stp_dec_finish(&d)) != APR_SUCCESS || fn(baton, &r))
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    apr_pool_destroy(iter);
    return rv;
}
