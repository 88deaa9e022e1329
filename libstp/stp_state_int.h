/* stp_state_int: what the files of the state store share (stp_state.c opens the environment and
 * keeps NDA acceptances; stp_library.c keeps libraries and notification settings; stp_feedback.c
 * keeps feedback). Not for use outside the state store. */
#ifndef STP_STATE_INT_H
#define STP_STATE_INT_H

#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <lmdb.h>

#include "stp_dbd.h"

#include "stp_notify.h"

#include "stp_state.h"
#include "stp_state_dump.h"

typedef struct stp_write_op_t stp_write_op_t;

struct stp_state_t {
    apr_pool_t *pool;
    /* The PostgreSQL store (stp_state_pg.c) when set; then none of the LMDB fields below is. */
    stp_dbd_conn_t *dbd;
    const char *dbd_error;
    MDB_env *env;
    MDB_dbi nda, nda_log, library, notify, users, meta;
    MDB_dbi orgs, org_people, org_log; /* stp_org.c */
    MDB_dbi feedback, feedback_rate;   /* the feedback log (by sequence) and anonymous answers per client */
    int stale;
    int upgraded_from; /* the format an upgrade at open started from, or 0 */
    int alone_fd;      /* upgrade_alone: the lock file, to ask whether others have it open; or -1 */
    /* Group commit (stp_state_write): writes queued by this process's threads, and whether one
     * of them is committing a batch. */
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *done;
    stp_write_op_t *queue, **tail;
    int queued; /* how many are in the queue */
    int committing;
};

/* The key "user NUL rest", allocated from pool. */
MDB_val stp_state_user_key(const char *user_key, const char *rest, apr_pool_t *pool);
/* A scratch pool of its own: request threads must not create or destroy children of the shared,
 * long-lived pools (httpd's pchild), whose allocator need not be thread-safe. */
apr_pool_t *stp_state_scratch(void);
/* The scratch pool of a call on st: for a PostgreSQL state, which serves one thread at a time (as
 * its connection does), a child of st's pool, whose allocator keeps freed blocks for the next
 * call; a pool of its own maps and unmaps memory each time, and every unmap in a threaded httpd
 * process is a TLB shootdown on all its CPUs. For state.mdb, stp_state_scratch(). */
apr_pool_t *stp_state_scratch_of(const stp_state_t *st);
/* A read transaction from this thread's cache (or a new one), and its end (back to the cache). */
int stp_state_read_begin(stp_state_t *st, MDB_txn **txn);
void stp_state_read_end(stp_state_t *st, MDB_txn *txn);
/* One write: does its work in `txn` and returns 0; STP_STATE_REFUSED (a rule said no) or
 * MDB_NOTFOUND after writing nothing, so that the other writes of its batch go on; or another
 * LMDB error, which takes the transaction down. */
typedef int stp_state_write_fn(MDB_txn *txn, void *baton);
#define STP_STATE_REFUSED (-1)

/* Runs fn in a write transaction that is on disk when this returns 0: the write is acknowledged
 * durable. Writes that threads of one process start while another batch is committing are
 * committed together, in one transaction and one sync (group commit); each still gets its own
 * outcome. Returns fn's result or the commit's LMDB error. */
int stp_state_write(stp_state_t *st, stp_state_write_fn *fn, void *baton);

/* The record codecs of the library and the notification settings, for the digest record, which
 * writes both in one transaction (stp_digest_record). */
MDB_val stp_library_encode(const stp_saved_t *e, apr_pool_t *pool);
apr_status_t stp_library_decode(stp_saved_t *e, const char *series, const MDB_val *v, apr_pool_t *pool);
MDB_val stp_notify_encode(const stp_notify_t *n, apr_pool_t *pool);
apr_status_t stp_notify_decode(stp_notify_t *n, const MDB_val *v, apr_pool_t *pool);
/* Whether two user records say the same (stp_state_user_note writes only a change). */
int stp_state_user_same(const stp_user_record_t *a, const stp_user_record_t *b);

/* Runs a statement of the PostgreSQL store (stp_dbd_exec), keeping its error in st for the caller's log line. */
apr_status_t stp_pg_run(stp_state_t *st, const char *label, int nargs, const char *const *args, int *nrows,
                        apr_dbd_results_t **res, apr_pool_t *pool);

/* The PostgreSQL versions (stp_state_pg.c), called by the functions of the same name after their
 * checks of the arguments. */
apr_status_t stp_pg_nda_accept(stp_state_t *st, const char *user_key, const char *tenant, const char *version,
                               apr_time_t when);
int stp_pg_nda_accepted(stp_state_t *st, const char *user_key, const char *tenant, const char *version);
apr_status_t stp_pg_nda_log(stp_state_t *st, stp_nda_record_fn *fn, void *baton, apr_pool_t *pool);
apr_status_t stp_pg_user_note(stp_state_t *st, const char *user_key, const stp_user_record_t *rec, int *wrote);
apr_status_t stp_pg_user_get(stp_user_record_t *rec, stp_state_t *st, const char *user_key, apr_pool_t *pool);
apr_status_t stp_pg_library_save(stp_state_t *st, const char *user_key, const stp_saved_t *e, int max_entries);
apr_status_t stp_pg_library_remove(stp_state_t *st, const char *user_key, const char *series);
apr_status_t stp_pg_library_list(apr_array_header_t *entries, stp_state_t *st, const char *user_key, apr_pool_t *pool);
apr_status_t stp_pg_notify_get(stp_notify_t *n, stp_state_t *st, const char *user_key, apr_pool_t *pool);
apr_status_t stp_pg_notify_put(stp_state_t *st, const char *user_key, const stp_notify_t *n);
/* Every user with settings, in key order. */
apr_status_t stp_pg_notify_users(apr_array_header_t *keys, stp_state_t *st, apr_pool_t *pool);
apr_status_t stp_pg_digest_claim(int *mine, stp_state_t *st, const char *user_key, apr_time_t last_digest,
                                 const char *run, apr_time_t now, apr_interval_time_t lease);
apr_status_t stp_pg_digest_release(stp_state_t *st, const char *user_key, const char *run);
apr_status_t stp_pg_digest_record(stp_state_t *st, const char *user_key, apr_time_t sent,
                                  const apr_array_header_t *delivered);
/* --- the dump (stp_state_dump.c) ----------------------------------------------------------------
 * Each file of the store reads every record of the kinds it keeps, in key order, and writes one
 * record as it was (its sequence number and times kept), within the dump's one transaction. */
typedef struct {
    stp_state_t *st;
    MDB_txn *txn;    /* LMDB: the snapshot, or the import's write transaction */
    const char *err; /* why the last statement or record failed */
    apr_pool_t *pool;
} stp_dump_txn_t;
/* Called for each record (its strings live until it returns). */
typedef apr_status_t stp_dump_emit_fn(void *baton, const stp_dump_record_t *r);
apr_status_t stp_state_dump_each(stp_dump_txn_t *t, stp_dump_kind_t kind, stp_dump_emit_fn *emit, void *baton);
apr_status_t stp_state_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r);
apr_status_t stp_library_dump_each(stp_dump_txn_t *t, stp_dump_kind_t kind, stp_dump_emit_fn *emit, void *baton);
apr_status_t stp_library_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r);
apr_status_t stp_org_dump_each(stp_dump_txn_t *t, stp_dump_kind_t kind, stp_dump_emit_fn *emit, void *baton);
apr_status_t stp_org_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r);
apr_status_t stp_feedback_dump_each(stp_dump_txn_t *t, stp_dump_emit_fn *emit, void *baton);
apr_status_t stp_feedback_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r);

/* Every record of dbi in t's transaction, each decoded by fn in a pool cleared after it: fn
 * returns APR_SUCCESS to go on. */
typedef apr_status_t stp_dump_scan_fn(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                                      void *baton, apr_pool_t *pool);
apr_status_t stp_dump_scan(stp_dump_txn_t *t, MDB_dbi dbi, stp_dump_scan_fn *fn, stp_dump_emit_fn *emit, void *baton);
/* The same for the rows of the statement `label` (no arguments) on PostgreSQL. */
typedef apr_status_t stp_dump_row_fn(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                     void *baton, apr_pool_t *pool);
apr_status_t stp_dump_rows(stp_dump_txn_t *t, const char *label, stp_dump_row_fn *fn, stp_dump_emit_fn *emit,
                           void *baton);
/* Runs the statement `label` within the dump's transaction; a failure's reason goes to t->err. */
apr_status_t stp_dump_exec(stp_dump_txn_t *t, const char *label, int nargs, const char *const *args);
/* mdb_put of a new record (MDB_NOOVERWRITE: a second record with the same key is an error). */
apr_status_t stp_dump_mdb_put(stp_dump_txn_t *t, MDB_dbi dbi, MDB_val *k, MDB_val *v);
/* An integer as the text PostgreSQL takes. */
const char *stp_dump_num(apr_int64_t v, apr_pool_t *pool);
#endif
