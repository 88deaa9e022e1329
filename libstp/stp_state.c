#include "stp_state.h"

#include <fcntl.h>
#include <lmdb.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_log.h"
#include "stp_state_int.h"
#include "stp_layout.h"

apr_pool_t *stp_state_scratch(void)
{
    apr_pool_t *pool;
    apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    return pool;
}

apr_pool_t *stp_state_scratch_of(const stp_state_t *st)
{
    apr_pool_t *pool;
    if (!st->dbd)
        return stp_state_scratch();
    apr_pool_create(&pool, st->pool);
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
    if (st->alone_fd >= 0) /* after the environment: its close drops this process's locks on the file */
        close(st->alone_fd);
    st->alone_fd = -1;
    return APR_SUCCESS;
}

/* LMDB's longest key (mdb_env_get_maxkeysize with the default build). */
#define NDA_KEY_MAX 511

/* "user NUL tenant NUL version" into buf (NDA_KEY_MAX bytes): one user's acceptances sort
 * together and no two triples collide. Its length, or 0 when it does not fit. */
static apr_size_t nda_key(char *buf, const char *user, const char *tenant, const char *version)
{
    apr_size_t ul = strlen(user), tl = strlen(tenant), vl = strlen(version);
    if (ul + tl + vl + 2 > NDA_KEY_MAX)
        return 0;
    memcpy(buf, user, ul + 1);
    memcpy(buf + ul + 1, tenant, tl + 1);
    memcpy(buf + ul + tl + 2, version, vl);
    return ul + tl + vl + 2;
}

#define STATE_FORMAT STP_STATE_FORMAT

static int nul_count(const MDB_val *k)
{
    int n = 0;
    for (apr_size_t i = 0; i < k->mv_size; i++)
        n += ((const char *)k->mv_data)[i] == '\0';
    return n;
}

static int upgrade_nda_keys(stp_state_t *st, MDB_txn *txn, apr_pool_t *pool);
static int upgrade_user_records(stp_state_t *st, MDB_txn *txn, apr_pool_t *pool);

static int format_get(MDB_txn *txn, MDB_dbi meta, apr_uint64_t *format)
{
    MDB_val mk = {6, "format"}, mv;
    int rc = mdb_get(txn, meta, &mk, &mv);
    *format = 1;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    stp_dec_t d;
    stp_codec_dec_init(&d, mv.mv_data, mv.mv_size);
    *format = stp_codec_dec_uint(&d);
    return stp_codec_dec_finish(&d) == APR_SUCCESS ? 0 : MDB_CORRUPTED;
}

int stp_state_format_read(void *txn, apr_uint64_t *format)
{
    MDB_dbi meta;
    int rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == MDB_NOTFOUND) { /* format 1 had no meta database */
        *format = 1;
        return 0;
    }
    return rc ? rc : format_get(txn, meta, format);
}

/* Our own error codes, which stp_state_open turns into STP_STATE_ENEWER and STP_STATE_EUPGRADEBUSY. */
#define UPGRADE_NEWER (-30400)
#define UPGRADE_BUSY (-30401)

/* Whether another process has the environment open: LMDB holds byte 0 of the lock file shared in
 * every process that has it open, as long as it has it open. */
static int others_have_it(const stp_state_t *st)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    return fcntl(st->alone_fd, F_GETLK, &fl) != 0 || fl.l_type != F_UNLCK;
}

/* Brings an older file to STATE_FORMAT in the transaction that opens it. Format 2 keyed
 * acceptances by (user, tenant, version), the tenant being the one stored with each acceptance, so
 * that nobody has to accept again on upgrade; format 3 added roles and claims to user records. */
static int upgrade_in(stp_state_t *st, MDB_txn *txn, int fresh, apr_pool_t *pool)
{
    MDB_val mk = {6, "format"}, mv;
    apr_uint64_t format;
    int rc = format_get(txn, st->meta, &format);
    if (rc)
        return rc;
    if (format > STATE_FORMAT)
        return UPGRADE_NEWER; /* written by a newer version: not ours to read or to change */
    if (format == STATE_FORMAT)
        return 0;
    if (fresh)
        format = STATE_FORMAT; /* nothing to convert */
    else if (st->alone_fd >= 0 && others_have_it(st))
        return UPGRADE_BUSY;
    else
        st->upgraded_from = (int)format;
    if (format < 2 && (rc = upgrade_nda_keys(st, txn, pool)))
        return rc;
    if (format < 3 && (rc = upgrade_user_records(st, txn, pool)))
        return rc;
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_uint(&enc, STATE_FORMAT);
    mv = (MDB_val){enc.len, enc.buf};
    return mdb_put(txn, st->meta, &mk, &mv, 0);
}

/* Format 3 added to each user record the roles and claims digests judge requirements by. An old
 * record gets none: that user meets no requirement in a digest until they sign in again. */
static int upgrade_user_records(stp_state_t *st, MDB_txn *txn, apr_pool_t *pool)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;
    apr_array_header_t *old = apr_array_make(pool, 16, sizeof(MDB_val) * 2);
    if ((rc = mdb_cursor_open(txn, st->users, &cur)))
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        MDB_val *kv = apr_array_push(old);
        kv[0] = (MDB_val){k.mv_size, apr_pmemdup(pool, k.mv_data, k.mv_size)};
        kv[1] = (MDB_val){v.mv_size, apr_pmemdup(pool, v.mv_data, v.mv_size)};
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    for (int i = 0; i < old->nelts; i++) {
        MDB_val *kv = &((MDB_val *)old->elts)[2 * i];
        stp_enc_t enc;
        stp_codec_enc_init(&enc, pool);
        stp_codec_enc_uint(&enc, 0);
        stp_codec_enc_cstr(&enc, "");
        char *buf = apr_palloc(pool, kv[1].mv_size + enc.len);
        memcpy(buf, kv[1].mv_data, kv[1].mv_size);
        memcpy(buf + kv[1].mv_size, enc.buf, enc.len);
        MDB_val nv = {kv[1].mv_size + enc.len, buf};
        if ((rc = mdb_put(txn, st->users, &kv[0], &nv, 0)))
            return rc;
    }
    return 0;
}

/* Format 1 keyed acceptances by (user, version); format 2 by (user, tenant, version). */
static int upgrade_nda_keys(stp_state_t *st, MDB_txn *txn, apr_pool_t *pool)
{
    MDB_val k, v;
    MDB_cursor *cur;
    int rc;
    apr_array_header_t *old = apr_array_make(pool, 16, sizeof(MDB_val) * 2);
    if ((rc = mdb_cursor_open(txn, st->nda, &cur)))
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (nul_count(&k) == 1) {
            MDB_val *kv = apr_array_push(old);
            kv[0] = (MDB_val){k.mv_size, apr_pmemdup(pool, k.mv_data, k.mv_size)};
            kv[1] = (MDB_val){v.mv_size, apr_pmemdup(pool, v.mv_data, v.mv_size)};
        }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    for (int i = 0; i < old->nelts; i++) {
        MDB_val *kv = &((MDB_val *)old->elts)[2 * i];
        stp_dec_t d;
        stp_codec_dec_init(&d, kv[1].mv_data, kv[1].mv_size);
        (void)stp_codec_dec_int(&d);
        const char *tenant = stp_codec_dec_str(&d, pool);
        if (stp_codec_dec_finish(&d) != APR_SUCCESS)
            return MDB_CORRUPTED;
        const char *user = kv[0].mv_data; /* up to its NUL */
        const char *version = apr_pstrmemdup(pool, user + strlen(user) + 1, kv[0].mv_size - strlen(user) - 1);
        char buf[NDA_KEY_MAX];
        MDB_val nk = {nda_key(buf, user, tenant, version), buf};
        if (!nk.mv_size)
            continue; /* too long with its tenant: left as it is, that user accepts again */
        if ((rc = mdb_put(txn, st->nda, &nk, &kv[1], 0)) || (rc = mdb_del(txn, st->nda, &kv[0], NULL)))
            return rc;
    }
    return 0;
}

/* In a pool of its own: the copies of a large file's acceptances do not stay for the process's life. */
static int upgrade(stp_state_t *st, MDB_txn *txn, int fresh)
{
    apr_pool_t *pool = stp_state_scratch();
    int rc = upgrade_in(st, txn, fresh, pool);
    apr_pool_destroy(pool);
    return rc;
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
    st->alone_fd = -1;
    if ((rc = mdb_env_create(&st->env)))
        return stp_lmdb_status(rc);
    apr_pool_cleanup_register(pool, st, state_cleanup, apr_pool_cleanup_null);
    /* Opened before LMDB opens it, closed after (state_cleanup). Missing: nobody has it open. */
    if (opts && opts->upgrade_alone)
        st->alone_fd = open(apr_pstrcat(pool, state_dir, "/" STP_STATE_DB_LOCK, NULL), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    mdb_env_set_maxdbs(st->env, 16);
    mdb_env_set_mapsize(st->env, opts && opts->map_size ? opts->map_size : (apr_size_t)1 << 30);
    mdb_env_set_maxreaders(st->env, opts && opts->max_readers ? opts->max_readers : 126);
    /* NOTLS: a read transaction belongs to the request's thread of the moment, not to a thread-local slot. */
    rc = mdb_env_open(st->env, apr_pstrcat(pool, state_dir, "/" STP_STATE_DB, NULL), MDB_NOSUBDIR | MDB_NOTLS, 0600);
    if (rc)
        return stp_lmdb_status(rc);
    mdb_reader_check(st->env, &st->stale);
    if ((rv = apr_thread_mutex_create(&st->lock, APR_THREAD_MUTEX_DEFAULT, pool)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&st->done, pool)) != APR_SUCCESS)
        return rv;
    st->tail = &st->queue;
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)))
        return stp_lmdb_status(rc);
    /* A new file (no named database yet) is written at the current format: not an upgrade. */
    MDB_dbi main_db;
    MDB_stat ms;
    int fresh = !mdb_dbi_open(txn, NULL, 0, &main_db) && !mdb_stat(txn, main_db, &ms) && ms.ms_entries == 0;
    /* Databases added since a file was made are created here, so older files open as they are. */
    if ((rc = mdb_dbi_open(txn, "nda", MDB_CREATE, &st->nda)) ||
        (rc = mdb_dbi_open(txn, "nda-log", MDB_CREATE | MDB_INTEGERKEY, &st->nda_log)) ||
        (rc = mdb_dbi_open(txn, "library", MDB_CREATE, &st->library)) ||
        (rc = mdb_dbi_open(txn, "notify", MDB_CREATE, &st->notify)) ||
        (rc = mdb_dbi_open(txn, "users", MDB_CREATE, &st->users)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) ||
        (rc = mdb_dbi_open(txn, "orgs", MDB_CREATE, &st->orgs)) ||
        (rc = mdb_dbi_open(txn, "org-people", MDB_CREATE, &st->org_people)) ||
        (rc = mdb_dbi_open(txn, "org-log", MDB_CREATE | MDB_INTEGERKEY, &st->org_log)) ||
        (rc = mdb_dbi_open(txn, "feedback", MDB_CREATE | MDB_INTEGERKEY, &st->feedback)) ||
        (rc = mdb_dbi_open(txn, "feedback-rate", MDB_CREATE, &st->feedback_rate)) || (rc = upgrade(st, txn, fresh))) {
        mdb_txn_abort(txn); /* nothing written: a newer file stays as it was */
        return rc == UPGRADE_NEWER  ? STP_STATE_ENEWER
               : rc == UPGRADE_BUSY ? STP_STATE_EUPGRADEBUSY
                                    : stp_lmdb_status(rc);
    }
    if ((rc = mdb_txn_commit(txn))) /* (which frees txn either way) */
        return stp_lmdb_status(rc);
    *out = st;
    return APR_SUCCESS;
}

void stp_state_close(stp_state_t *st)
{
    if (st->dbd)
        return; /* the connection belongs to its opener */
    apr_pool_cleanup_run(st->pool, st, state_cleanup);
}

int stp_state_stale_readers(const stp_state_t *st)
{
    if (st->dbd)
        return 0;
    return st->stale;
}

int stp_state_upgraded_from(const stp_state_t *st)
{
    return st->upgraded_from;
}

const char *stp_state_strerror(apr_status_t rv, char *buf, apr_size_t bufsize)
{
    if (rv == STP_STATE_ENEWER) {
        apr_snprintf(buf, bufsize,
                     "state.mdb was written by a newer version of STP (a format above %d): install that version "
                     "again, or restore the backup taken before the upgrade (stpctl restore)",
                     STP_STATE_FORMAT);
        return buf;
    }
    if (rv == STP_STATE_EUPGRADEBUSY) {
        apr_snprintf(buf, bufsize,
                     "state.mdb has an older format and httpd (or another stpctl) has it open: restart httpd with "
                     "this version's module, which upgrades it, then run stpctl again");
        return buf;
    }
    return apr_strerror(rv, buf, bufsize);
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
    stp_codec_enc_init(&rec, a->pool);
    stp_codec_enc_int(&rec, a->when);
    stp_codec_enc_str(&rec, a->tenant);
    v.mv_size = rec.len;
    v.mv_data = rec.buf;
    if ((rc = mdb_put(txn, a->st->nda, &a->key, &v, 0)) || (rc = mdb_cursor_open(txn, a->st->nda_log, &cur)))
        return rc;
    /* the log: append at the next sequence number */
    apr_uint64_t seq = 1;
    if (mdb_cursor_get(cur, &last_k, &last_v, MDB_LAST) == MDB_SUCCESS && last_k.mv_size == sizeof seq)
        memcpy(&seq, last_k.mv_data, sizeof seq), seq++;
    mdb_cursor_close(cur);
    stp_codec_enc_init(&rec, a->pool);
    stp_codec_enc_int(&rec, a->when);
    stp_codec_enc_str(&rec, a->user_key);
    stp_codec_enc_str(&rec, a->tenant);
    stp_codec_enc_str(&rec, a->version);
    MDB_val lk = {sizeof seq, &seq}, lv = {rec.len, rec.buf};
    return mdb_put(txn, a->st->nda_log, &lk, &lv, MDB_APPEND);
}

apr_status_t stp_state_nda_accept(stp_state_t *st, const char *user_key, const char *tenant, const char *version,
                                  apr_time_t when)
{
    char buf[NDA_KEY_MAX];
    if (!user_key || !*user_key || !tenant || !*tenant || !version || !*version)
        return APR_EINVAL;
    MDB_val key = {nda_key(buf, user_key, tenant, version), buf};
    if (!key.mv_size)
        return APR_EINVAL;
    if (st->dbd)
        return stp_pg_nda_accept(st, user_key, tenant, version, when);
    apr_pool_t *pool = stp_state_scratch();
    nda_accept_t a = {st, key, user_key, tenant, version, when, pool};
    int rc = stp_state_write(st, nda_accept_write, &a);
    apr_pool_destroy(pool);
    return stp_lmdb_status(rc);
}

int stp_state_nda_accepted(stp_state_t *st, const char *user_key, const char *tenant, const char *version)
{
    MDB_txn *txn;
    MDB_val v;
    char buf[NDA_KEY_MAX]; /* the key on the stack: the download path allocates nothing here */
    if (!user_key || !tenant || !*tenant || !version)
        return 0;
    MDB_val k = {nda_key(buf, user_key, tenant, version), buf};
    if (!k.mv_size)
        return 0; /* longer than any key stp_state_nda_accept stores */
    if (st->dbd)
        return stp_pg_nda_accepted(st, user_key, tenant, version);
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
    if (st->dbd)
        return stp_pg_nda_log(st, fn, baton, pool);
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->nda_log, &cur))) {
        mdb_txn_abort(txn);
        return stp_lmdb_status(rc);
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
        stp_codec_dec_init(&d, v.mv_data, v.mv_size);
        r.when = (apr_time_t)stp_codec_dec_int(&d);
        r.user_key = stp_codec_dec_str(&d, iter);
        r.tenant = stp_codec_dec_str(&d, iter);
        r.version = stp_codec_dec_str(&d, iter);
        if ((rv = stp_codec_dec_finish(&d)) != APR_SUCCESS || fn(baton, &r))
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    apr_pool_destroy(iter);
    return rv;
}

/* --- what the module last saw of each user ------------------------------------------------------ */

static int user_key_ok(const char *user_key)
{
    return user_key && *user_key && strlen(user_key) <= NDA_KEY_MAX;
}

static int user_record_ok(const stp_user_record_t *rec)
{
    return (!rec->tenant || strlen(rec->tenant) <= 256) && (!rec->email || strlen(rec->email) <= 254) &&
           (!rec->claims || strlen(rec->claims) <= 4096);
}

/* In place (stp_codec_dec_cstr): the comparison on every signed-in request copies nothing. */
static apr_status_t user_decode(stp_user_record_t *rec, const MDB_val *v)
{
    stp_dec_t d;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    rec->email_verified = stp_codec_dec_uint(&d) != 0;
    rec->tenant = stp_codec_dec_cstr(&d);
    rec->email = stp_codec_dec_cstr(&d);
    rec->since = (apr_time_t)stp_codec_dec_int(&d);
    uint64_t flags = stp_codec_dec_uint(&d);
    rec->tenant_admin = (flags & 1) != 0;
    rec->unlisted = (flags & 2) != 0;
    rec->claims = stp_codec_dec_cstr(&d);
    return stp_codec_dec_finish(&d);
}

int stp_state_user_same(const stp_user_record_t *a, const stp_user_record_t *b)
{
    return !a->email_verified == !b->email_verified &&
           !strcmp(a->tenant ? a->tenant : "", b->tenant ? b->tenant : "") &&
           !strcmp(a->email ? a->email : "", b->email ? b->email : "") && !a->tenant_admin == !b->tenant_admin &&
           !a->unlisted == !b->unlisted && !strcmp(a->claims ? a->claims : "", b->claims ? b->claims : "");
}

typedef struct {
    stp_state_t *st;
    MDB_val key, val;
    const stp_user_record_t *rec;
    int wrote;
} user_note_t;

static int user_note_write(MDB_txn *txn, void *baton)
{
    user_note_t *u = baton;
    stp_user_record_t old;
    MDB_val v;
    int rc = mdb_get(txn, u->st->users, &u->key, &v);
    /* Another thread of this process may have written the same change meanwhile. */
    if (rc == MDB_SUCCESS && user_decode(&old, &v) == APR_SUCCESS && stp_state_user_same(&old, u->rec))
        return 0;
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    u->wrote = 1;
    return mdb_put(txn, u->st->users, &u->key, &u->val, 0);
}

apr_status_t stp_state_user_note(stp_state_t *st, const char *user_key, const stp_user_record_t *rec, int *wrote)
{
    MDB_txn *txn;
    MDB_val v;
    stp_user_record_t old;
    if (wrote)
        *wrote = 0;
    if (!user_key_ok(user_key) || !user_record_ok(rec))
        return APR_EINVAL;
    if (st->dbd)
        return stp_pg_user_note(st, user_key, rec, wrote);
    MDB_val k = {strlen(user_key), (void *)user_key};
    int rc = stp_state_read_begin(st, &txn), same = 0;
    if (!rc) {
        rc = mdb_get(txn, st->users, &k, &v);
        same = rc == MDB_SUCCESS && user_decode(&old, &v) == APR_SUCCESS && stp_state_user_same(&old, rec);
        stp_state_read_end(st, txn); /* old points into the snapshot: not used past here */
    }
    if (rc && rc != MDB_NOTFOUND)
        return stp_lmdb_status(rc);
    if (same)
        return APR_SUCCESS;
    apr_pool_t *pool = stp_state_scratch();
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_uint(&enc, rec->email_verified ? 1 : 0);
    stp_codec_enc_cstr(&enc, rec->tenant);
    stp_codec_enc_cstr(&enc, rec->email);
    stp_codec_enc_int(&enc, rec->since);
    stp_codec_enc_uint(&enc, (rec->tenant_admin ? 1u : 0u) | (rec->unlisted ? 2u : 0u));
    stp_codec_enc_cstr(&enc, rec->claims ? rec->claims : "");
    user_note_t u = {st, k, {enc.len, enc.buf}, rec, 0};
    rc = stp_state_write(st, user_note_write, &u);
    apr_pool_destroy(pool);
    if (wrote)
        *wrote = u.wrote;
    return stp_lmdb_status(rc);
}

apr_status_t stp_state_user_get(stp_user_record_t *rec, stp_state_t *st, const char *user_key, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_val v;
    stp_user_record_t r;
    memset(rec, 0, sizeof *rec);
    rec->tenant = rec->email = rec->claims = "";
    if (!user_key_ok(user_key))
        return APR_NOTFOUND;
    if (st->dbd)
        return stp_pg_user_get(rec, st, user_key, pool);
    MDB_val k = {strlen(user_key), (void *)user_key};
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    apr_status_t rv = stp_lmdb_status(mdb_get(txn, st->users, &k, &v));
    if (rv == APR_SUCCESS && (rv = user_decode(&r, &v)) == APR_SUCCESS) {
        rec->tenant = apr_pstrdup(pool, r.tenant);
        rec->email = apr_pstrdup(pool, r.email);
        rec->email_verified = r.email_verified;
        rec->since = r.since;
        rec->tenant_admin = r.tenant_admin;
        rec->unlisted = r.unlisted;
        rec->claims = apr_pstrdup(pool, r.claims);
    }
    stp_state_read_end(st, txn);
    return rv;
}

/* --- the dump (stp_state_dump.c): users, acceptances and their log ------------------------------ */

static apr_status_t dump_user(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                              void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_USER};
    (void)t;
    r.key = apr_pstrmemdup(pool, k->mv_data, k->mv_size);
    if (user_decode(&r.user, v) != APR_SUCCESS)
        return APR_EGENERAL;
    return emit(baton, &r);
}

static apr_status_t dump_nda(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit, void *baton,
                             apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_NDA};
    stp_dec_t d;
    (void)t;
    if (nul_count(k) != 2)
        return APR_EGENERAL;
    const char *key = apr_pstrmemdup(pool, k->mv_data, k->mv_size);
    r.key = r.nda.user_key = key;
    r.nda.tenant = key + strlen(key) + 1;
    r.nda.version = r.nda.tenant + strlen(r.nda.tenant) + 1;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    r.nda.when = (apr_time_t)stp_codec_dec_int(&d);
    (void)stp_codec_dec_str(&d, pool); /* the tenant again */
    return stp_codec_dec_finish(&d) == APR_SUCCESS ? emit(baton, &r) : APR_EGENERAL;
}

static apr_status_t dump_nda_log(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                                 void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_NDA_LOG};
    stp_dec_t d;
    (void)t;
    if (k->mv_size != sizeof r.nda.seq)
        return APR_EGENERAL;
    memcpy(&r.nda.seq, k->mv_data, sizeof r.nda.seq);
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    r.nda.when = (apr_time_t)stp_codec_dec_int(&d);
    r.key = r.nda.user_key = stp_codec_dec_str(&d, pool);
    r.nda.tenant = stp_codec_dec_str(&d, pool);
    r.nda.version = stp_codec_dec_str(&d, pool);
    return stp_codec_dec_finish(&d) == APR_SUCCESS ? emit(baton, &r) : APR_EGENERAL;
}

static int pg_true(const char *v)
{
    return *v == 't' || *v == '1';
}

static apr_status_t pg_dump_user(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                 void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_USER};
    (void)t, (void)pool;
    r.key = stp_dbd_col(c, row, 0);
    r.user.tenant = stp_dbd_col(c, row, 1);
    r.user.email = stp_dbd_col(c, row, 2);
    r.user.email_verified = pg_true(stp_dbd_col(c, row, 3));
    r.user.since = apr_strtoi64(stp_dbd_col(c, row, 4), NULL, 10);
    r.user.tenant_admin = pg_true(stp_dbd_col(c, row, 5));
    r.user.unlisted = pg_true(stp_dbd_col(c, row, 6));
    r.user.claims = stp_dbd_col(c, row, 7);
    return emit(baton, &r);
}

static apr_status_t pg_dump_nda(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_NDA};
    (void)t, (void)pool;
    r.key = r.nda.user_key = stp_dbd_col(c, row, 0);
    r.nda.tenant = stp_dbd_col(c, row, 1);
    r.nda.version = stp_dbd_col(c, row, 2);
    r.nda.when = apr_strtoi64(stp_dbd_col(c, row, 3), NULL, 10);
    return emit(baton, &r);
}

static apr_status_t pg_dump_nda_log(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                    void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_NDA_LOG};
    (void)t, (void)pool;
    r.nda.seq = (apr_uint64_t)apr_strtoi64(stp_dbd_col(c, row, 0), NULL, 10);
    r.nda.when = apr_strtoi64(stp_dbd_col(c, row, 1), NULL, 10);
    r.key = r.nda.user_key = stp_dbd_col(c, row, 2);
    r.nda.tenant = stp_dbd_col(c, row, 3);
    r.nda.version = stp_dbd_col(c, row, 4);
    return emit(baton, &r);
}

apr_status_t stp_state_dump_each(stp_dump_txn_t *t, stp_dump_kind_t kind, stp_dump_emit_fn *emit, void *baton)
{
    stp_state_t *st = t->st;
    if (st->dbd)
        return kind == STP_DUMP_USER  ? stp_dump_rows(t, "stp_dump_users", pg_dump_user, emit, baton)
               : kind == STP_DUMP_NDA ? stp_dump_rows(t, "stp_dump_nda", pg_dump_nda, emit, baton)
                                      : stp_dump_rows(t, "stp_nda_log", pg_dump_nda_log, emit, baton);
    return kind == STP_DUMP_USER  ? stp_dump_scan(t, st->users, dump_user, emit, baton)
           : kind == STP_DUMP_NDA ? stp_dump_scan(t, st->nda, dump_nda, emit, baton)
                                  : stp_dump_scan(t, st->nda_log, dump_nda_log, emit, baton);
}

apr_status_t stp_state_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r)
{
    stp_state_t *st = t->st;
    apr_pool_t *pool = t->pool;
    const stp_nda_record_t *n = &r->nda;
    if (r->kind == STP_DUMP_USER) {
        const stp_user_record_t *u = &r->user;
        if (!user_key_ok(r->key) || !user_record_ok(u))
            return (t->err = "a user key or field is empty or too long"), APR_EINVAL;
        if (st->dbd) {
            const char *args[] = {r->key,
                                  u->tenant,
                                  u->email,
                                  u->email_verified ? "t" : "f",
                                  stp_dump_num(u->since, pool),
                                  u->tenant_admin ? "t" : "f",
                                  u->unlisted ? "t" : "f",
                                  u->claims};
            return stp_dump_exec(t, "stp_user_put", 8, args);
        }
        stp_enc_t enc;
        stp_codec_enc_init(&enc, pool);
        stp_codec_enc_uint(&enc, u->email_verified ? 1 : 0);
        stp_codec_enc_cstr(&enc, u->tenant);
        stp_codec_enc_cstr(&enc, u->email);
        stp_codec_enc_int(&enc, u->since);
        stp_codec_enc_uint(&enc, (u->tenant_admin ? 1u : 0u) | (u->unlisted ? 2u : 0u));
        stp_codec_enc_cstr(&enc, u->claims);
        MDB_val k = {strlen(r->key), (void *)r->key}, v = {enc.len, enc.buf};
        return stp_dump_mdb_put(t, st->users, &k, &v);
    }
    if (!*n->user_key || !*n->tenant || !*n->version)
        return (t->err = "an NDA record without a user, tenant or version"), APR_EINVAL;
    if (r->kind == STP_DUMP_NDA) {
        char buf[NDA_KEY_MAX];
        MDB_val k = {nda_key(buf, n->user_key, n->tenant, n->version), buf};
        if (!k.mv_size)
            return (t->err = "an NDA acceptance's key is too long"), APR_EINVAL;
        if (st->dbd) {
            const char *args[] = {n->user_key, n->tenant, n->version, stp_dump_num(n->when, pool)};
            return stp_dump_exec(t, "stp_restore_nda", 4, args);
        }
        stp_enc_t enc;
        stp_codec_enc_init(&enc, pool);
        stp_codec_enc_int(&enc, n->when);
        stp_codec_enc_str(&enc, n->tenant);
        MDB_val v = {enc.len, enc.buf};
        return stp_dump_mdb_put(t, st->nda, &k, &v);
    }
    if (!n->seq)
        return (t->err = "an NDA log entry without a sequence number"), APR_EINVAL;
    if (st->dbd) {
        const char *args[] = {stp_dump_num((apr_int64_t)n->seq, pool), stp_dump_num(n->when, pool), n->user_key,
                              n->tenant, n->version};
        return stp_dump_exec(t, "stp_restore_nda_log", 5, args);
    }
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_int(&enc, n->when);
    stp_codec_enc_str(&enc, n->user_key);
    stp_codec_enc_str(&enc, n->tenant);
    stp_codec_enc_str(&enc, n->version);
    apr_uint64_t seq = n->seq;
    MDB_val k = {sizeof seq, &seq}, v = {enc.len, enc.buf};
    return stp_dump_mdb_put(t, st->nda_log, &k, &v);
}
