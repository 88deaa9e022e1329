/* stp_dbd: the PostgreSQL state store's connection, schema and statements, over apr_dbd
 * (docs/architecture.md, "State on PostgreSQL"). The module takes connections from mod_dbd's pool
 * and registers the statements with it; stpctl and the tests open their own with the same
 * parameters. Every statement is prepared: user data never becomes SQL text. */
#ifndef STP_DBD_H
#define STP_DBD_H

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_pools.h>

/* The schema version this build reads and writes. */
#define STP_DBD_SCHEMA_VERSION 1

/* One prepared statement: its label (unique, "stp_..."), and its SQL with apr_dbd's %s
 * placeholders (every argument is passed as text). */
typedef struct {
    const char *label;
    const char *sql;
} stp_dbd_statement_t;

/* Every statement of the store, ending with {NULL, NULL}. */
const stp_dbd_statement_t *stp_dbd_statements(void);

/* A connection with its prepared statements by label (mod_dbd's ap_dbd_t carries the same). */
typedef struct stp_dbd_conn_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared; /* label -> apr_dbd_prepared_t *; NULL until prepared */
    apr_pool_t *pool;     /* the connection's life: statements prepared again are kept here */
    int in_txn, stale;    /* within stp_dbd_transaction; its statements must be prepared again */
} stp_dbd_conn_t;

/* Opens a connection with apr_dbd's driver `driver_name` ("pgsql") and `params` (as DBDParams),
 * and prepares every statement unless `prepare` is 0 (the schema may not exist yet). Closed with
 * the pool. On failure *err says why. */
apr_status_t stp_dbd_connect(stp_dbd_conn_t *c, const char *driver_name, const char *params, int prepare,
                             const char **err, apr_pool_t *pool);
/* Prepares every statement on c (after stp_dbd_schema_upgrade created the tables). */
apr_status_t stp_dbd_prepare_all(stp_dbd_conn_t *c, const char **err, apr_pool_t *pool);

/* Runs the prepared statement `label` with `nargs` text arguments (NULL for SQL NULL). With `res`,
 * a query whose rows are read with stp_dbd_row (all fetched at once, freed with pool); without,
 * a command whose affected row count goes to *nrows (may be NULL). On failure *err (may be NULL)
 * says why: APR_ECONNREFUSED when the connection is gone (the server is down or restarting),
 * APR_EGENERAL for an error of the statement. */
apr_status_t stp_dbd_exec(stp_dbd_conn_t *c, const char *label, int nargs, const char *const *args, int *nrows,
                          apr_dbd_results_t **res, const char **err, apr_pool_t *pool);
/* The next row of res: 1, or 0 after the last. */
int stp_dbd_row(stp_dbd_conn_t *c, apr_dbd_results_t *res, apr_dbd_row_t **row, apr_pool_t *pool);
/* Column `col` of row as text ("" for NULL). */
const char *stp_dbd_col(stp_dbd_conn_t *c, apr_dbd_row_t *row, int col);
/* Runs fn between BEGIN and COMMIT (ROLLBACK when fn fails or the commit does). */
typedef apr_status_t stp_dbd_txn_fn(stp_dbd_conn_t *c, void *baton, const char **err, apr_pool_t *pool);
apr_status_t stp_dbd_transaction(stp_dbd_conn_t *c, stp_dbd_txn_fn *fn, void *baton, const char **err,
                                 apr_pool_t *pool);
/* The same without stp_dbd_transaction's second try after a lost session, for a fn that cannot run
 * twice (it reads a stream): STP_DBD_TXN_WRITE is an ordinary transaction, STP_DBD_TXN_SNAPSHOT a
 * read-only one that sees one snapshot throughout (REPEATABLE READ). */
typedef enum { STP_DBD_TXN_WRITE = 0, STP_DBD_TXN_SNAPSHOT } stp_dbd_txn_mode_t;
apr_status_t stp_dbd_transaction_once(stp_dbd_conn_t *c, stp_dbd_txn_mode_t mode, stp_dbd_txn_fn *fn, void *baton,
                                      const char **err, apr_pool_t *pool);

/* The schema version in the database: 0 when there is no STP schema. */
apr_status_t stp_dbd_schema_version(int *version, stp_dbd_conn_t *c, const char **err, apr_pool_t *pool);
/* Creates the schema or upgrades it to STP_DBD_SCHEMA_VERSION, step by step, in one transaction
 * under an advisory lock (two runs at once: the second waits, then finds nothing to do).
 * *from is the version found. APR_EGENERAL with a message for a newer schema than this build's. */
apr_status_t stp_dbd_schema_upgrade(int *from, stp_dbd_conn_t *c, const char **err, apr_pool_t *pool);
/* NULL when the database's schema is the one this build uses, else what the operator must do. */
const char *stp_dbd_schema_problem(stp_dbd_conn_t *c, apr_pool_t *pool);

#endif
