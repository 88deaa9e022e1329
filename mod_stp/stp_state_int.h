/* stp_state_int: what the files of the state store share (stp_state.c opens the environment and
 * keeps NDA acceptances; stp_library.c keeps libraries and notification settings). Not for use
 * outside the state store. */
#ifndef STP_STATE_INT_H
#define STP_STATE_INT_H

#include <lmdb.h>

#include "stp_state.h"

struct stp_state_t {
    apr_pool_t *pool;
    MDB_env *env;
    MDB_dbi nda, nda_log, library, notify;
    int stale;
};

/* The key "user NUL rest", allocated from pool. */
MDB_val stp_state_user_key(const char *user_key, const char *rest, apr_pool_t *pool);
/* A scratch pool of its own: request threads must not create or destroy children of the shared,
 * long-lived pools (httpd's pchild), whose allocator need not be thread-safe. */
apr_pool_t *stp_state_scratch(void);
/* A read transaction from this thread's cache (or a new one), and its end (back to the cache). */
int stp_state_read_begin(stp_state_t *st, MDB_txn **txn);
void stp_state_read_end(stp_state_t *st, MDB_txn *txn);
/* Ends a write transaction: aborts when rc is an error, commits otherwise; returns the outcome. */
int stp_state_commit(MDB_txn *txn, int rc);

#endif
