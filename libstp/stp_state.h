/* stp_state: user state in state.mdb (LMDB), written by the module and stpctl. Every write is one
 * short, fully durable transaction: when a function returns APR_SUCCESS the change is on disk.
 * Read transactions are opened and closed within each call, never held across a request. */
#ifndef STP_STATE_H
#define STP_STATE_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_time.h>

typedef struct stp_state_t stp_state_t;

typedef struct {
    apr_size_t map_size;  /* bytes reserved up front; MAP_FULL past it answers APR_ENOSPC */
    unsigned max_readers; /* threads x processes that may read at once */
    /* Upgrade an older file only when no other process has it open (stpctl: the httpd running
     * then may be the previous version, which cannot read the new format); else
     * STP_STATE_EUPGRADEBUSY, with the file unchanged. */
    int upgrade_alone;
} stp_state_options_t;

/* The layout of state.mdb's records that this build reads and writes, recorded in the file (its
 * "meta" database, key "format"; a file without one is format 1). */
#define STP_STATE_FORMAT 3
/* stp_state_open's answer to a file of a newer format: written by a newer version, which this
 * one must not read or write (docs/operations.md, Upgrades). */
#define STP_STATE_ENEWER (APR_OS_START_USERERR + 3100)
/* An older file that upgrade_alone kept from upgrading while another process has it open. */
#define STP_STATE_EUPGRADEBUSY (APR_OS_START_USERERR + 3101)

/* Opens (creating when missing) STATE_DIR/state.mdb. Call after fork, in each process (the
 * environment must never cross a fork). Clears readers left by dead processes. A file of an older
 * format is upgraded to STP_STATE_FORMAT in the transaction that opens it (all or nothing); one of
 * a newer format is left untouched and answers STP_STATE_ENEWER. */
apr_status_t stp_state_open(stp_state_t **st, const char *state_dir, const stp_state_options_t *opts, apr_pool_t *pool);
void stp_state_close(stp_state_t *st);
/* How many stale reader slots the open cleared (for the log). */
int stp_state_stale_readers(const stp_state_t *st);
/* The format the file had when this open upgraded it, or 0 when it was already current. */
int stp_state_upgraded_from(const stp_state_t *st);
/* The format recorded in state.mdb, read in `txn` (a read transaction, MDB_txn *, of the state's
 * environment, opened with room for its named databases): 0 and *format on success, else an
 * LMDB error (MDB_CORRUPTED for an unreadable record). */
int stp_state_format_read(void *txn, apr_uint64_t *format);
/* The operator's message for a failed open: what to do for STP_STATE_ENEWER and
 * STP_STATE_EUPGRADEBUSY, else the error's. */
const char *stp_state_strerror(apr_status_t rv, char *buf, apr_size_t bufsize);

/* A state over one PostgreSQL connection (stp_dbd.h; the module's from mod_dbd for one request,
 * stpctl's own): every function below, and those of stp_library, stp_notify, stp_digest, works on
 * it as on state.mdb. Lives in pool; the connection must outlive it. */
struct stp_dbd_conn_t;
stp_state_t *stp_state_over_dbd(struct stp_dbd_conn_t *c, apr_pool_t *pool);
/* The database's message for the last failed call on a PostgreSQL state (NULL for none), for the
 * log; a failure of the database itself answers APR_ECONNREFUSED (unreachable) or APR_EGENERAL. */
const char *stp_state_error(const stp_state_t *st);

/* Records that user accepted NDA version for tenant at `when`, and appends it to the acceptance
 * log, in one transaction. An acceptance is the user's for that tenant only: one who moves to
 * another organisation accepts again there. Accepting again keeps the first acceptance time.
 * APR_EINVAL without a user, tenant or version. */
apr_status_t stp_state_nda_accept(stp_state_t *st, const char *user_key, const char *tenant, const char *version,
                                  apr_time_t when);
/* 1 when the user accepted that version for that tenant, 0 when not (or without a tenant); <0
 * on a read error, which callers must not take for either answer. */
int stp_state_nda_accepted(stp_state_t *st, const char *user_key, const char *tenant, const char *version);

/* What the module last saw of a signed-in user: their organisation and e-mail address. Digests
 * go by this record, not by what the user had when they saved their settings. */
typedef struct {
    const char *tenant; /* "" for a personal account */
    const char *email;  /* "" when the provider sent none */
    int email_verified; /* 0: the provider said the address is not verified */
    apr_time_t since;   /* when the record last changed */
    /* What digests need of documents with requirements (format 3; older records: 0, 0, ""). */
    int tenant_admin;   /* the user was a tenant administrator */
    int unlisted;       /* an unlisted member of an `assigned` organisation */
    const char *claims; /* "NAME\tVALUE\n" for each claim a document requires that the user had */
} stp_user_record_t;

/* Stores rec (its `since` included) unless the stored record already says the same tenant,
 * e-mail, verification, roles and claims: a read in this thread's cached transaction that allocates nothing,
 * and a durable write only on a change. *wrote (may be NULL) tells which. APR_EINVAL for an
 * oversized field. */
apr_status_t stp_state_user_note(stp_state_t *st, const char *user_key, const stp_user_record_t *rec, int *wrote);
/* The record; APR_NOTFOUND when the module never saw that user signed in. */
apr_status_t stp_state_user_get(stp_user_record_t *rec, stp_state_t *st, const char *user_key, apr_pool_t *pool);

/* One acceptance log entry. */
typedef struct {
    apr_uint64_t seq;
    apr_time_t when;
    const char *user_key, *tenant, *version;
} stp_nda_record_t;
typedef int stp_nda_record_fn(void *baton, const stp_nda_record_t *rec);
/* Calls fn for every log entry in order; a non-zero return stops. */
apr_status_t stp_state_nda_log(stp_state_t *st, stp_nda_record_fn *fn, void *baton, apr_pool_t *pool);

#endif
