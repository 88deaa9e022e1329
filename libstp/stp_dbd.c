/* stp_dbd: connection, schema and statements of the PostgreSQL state store. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_dbd.h"

/* The schema, one list of DDL statements per version step: steps[0] creates version 1. Times are
 * microseconds since the epoch (apr_time_t) in bigint; text is UTF-8 as the store receives it. */
static const char *const step1[] = {
    "CREATE TABLE stp_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)",
    /* what the module last saw of a signed-in user (stp_user_record_t) */
    "CREATE TABLE stp_users (user_key text PRIMARY KEY, tenant text NOT NULL, email text NOT NULL,"
    " email_verified boolean NOT NULL, since bigint NOT NULL, tenant_admin boolean NOT NULL,"
    " unlisted boolean NOT NULL, claims text NOT NULL)",
    "CREATE INDEX stp_users_tenant ON stp_users (tenant)",
    /* NDA acceptances and their log */
    "CREATE TABLE stp_nda (user_key text NOT NULL, tenant text NOT NULL, version text NOT NULL,"
    " accepted bigint NOT NULL, PRIMARY KEY (user_key, tenant, version))",
    "CREATE TABLE stp_nda_log (seq bigserial PRIMARY KEY, at bigint NOT NULL, user_key text NOT NULL,"
    " tenant text NOT NULL, version text NOT NULL)",
    /* My Library and notification settings; a digest is claimed by one stpctl run until its lease ends */
    "CREATE TABLE stp_library (user_key text NOT NULL, series text NOT NULL, doc_id text NOT NULL,"
    " seen text NOT NULL, kept text NOT NULL, saved bigint NOT NULL, PRIMARY KEY (user_key, series))",
    "CREATE TABLE stp_notify (user_key text PRIMARY KEY, freq smallint NOT NULL, address text NOT NULL,"
    " locale text NOT NULL, tenant text NOT NULL, last_digest bigint NOT NULL,"
    " claimed_by text NOT NULL DEFAULT '', lease_until bigint NOT NULL DEFAULT 0)",
    /* organisations: settings, people, the change log */
    "CREATE TABLE stp_orgs (tenant text PRIMARY KEY, mode smallint NOT NULL, industries text NOT NULL,"
    " regions text NOT NULL)",
    "CREATE TABLE stp_org_people (tenant text NOT NULL, email text NOT NULL, role smallint NOT NULL,"
    " since bigint NOT NULL, by_whom text NOT NULL, PRIMARY KEY (tenant, email))",
    "CREATE TABLE stp_org_log (seq bigserial PRIMARY KEY, at bigint NOT NULL, tenant text NOT NULL,"
    " actor text NOT NULL, actor_email text NOT NULL, action text NOT NULL, subject text NOT NULL,"
    " before text NOT NULL, after text NOT NULL)",
    "CREATE INDEX stp_org_log_tenant ON stp_org_log (tenant, seq)",
    /* feedback, and anonymous answers per window by SHA-256 of the client address (hex) */
    "CREATE TABLE stp_feedback (seq bigserial PRIMARY KEY, at bigint NOT NULL, page text NOT NULL,"
    " lang text NOT NULL, answer text NOT NULL, comment text NOT NULL, user_key text NOT NULL,"
    " ref bigint NOT NULL)",
    "CREATE TABLE stp_feedback_rate (win bigint NOT NULL, client_hash text NOT NULL, count integer NOT NULL,"
    " PRIMARY KEY (win, client_hash))",
    NULL};
static const char *const *const steps[STP_DBD_SCHEMA_VERSION] = {step1};

/* Serialises schema changes of every stpctl run and module at once (an arbitrary constant: "STP" in ASCII). */
#define SCHEMA_LOCK "SELECT pg_advisory_xact_lock(5461072)"

/* Every statement of the store (stp_state_pg.c runs them). Arguments arrive as text and take the
 * type of their column; orderings of text are by bytes (COLLATE "C"), as in the LMDB store. */
static const stp_dbd_statement_t statements[] = {
    {"stp_schema_version", "SELECT version FROM stp_schema"},
    /* NDA acceptances: the first acceptance stays, and only a new one is logged */
    {"stp_nda_accept",
     "WITH ins AS (INSERT INTO stp_nda (user_key, tenant, version, accepted) VALUES (%s, %s, %s, %s::bigint)"
     " ON CONFLICT DO NOTHING RETURNING user_key, tenant, version, accepted)"
     " INSERT INTO stp_nda_log (at, user_key, tenant, version) SELECT accepted, user_key, tenant, version FROM ins"},
    {"stp_nda_accepted", "SELECT 1 FROM stp_nda WHERE user_key = %s AND tenant = %s AND version = %s"},
    {"stp_nda_log", "SELECT seq, at, user_key, tenant, version FROM stp_nda_log ORDER BY seq"},
    /* user records */
    {"stp_user_get",
     "SELECT tenant, email, email_verified, since, tenant_admin, unlisted, claims FROM stp_users WHERE user_key = %s"},
    {"stp_user_put",
     "INSERT INTO stp_users (user_key, tenant, email, email_verified, since, tenant_admin, unlisted, claims)"
     " VALUES (%s, %s, %s, %s::boolean, %s::bigint, %s::boolean, %s::boolean, %s) ON CONFLICT (user_key) DO UPDATE SET "
     "tenant = EXCLUDED.tenant,"
     " email = EXCLUDED.email, email_verified = EXCLUDED.email_verified, since = EXCLUDED.since,"
     " tenant_admin = EXCLUDED.tenant_admin, unlisted = EXCLUDED.unlisted, claims = EXCLUDED.claims"
     " WHERE (stp_users.tenant, stp_users.email, stp_users.email_verified, stp_users.tenant_admin,"
     " stp_users.unlisted, stp_users.claims) IS DISTINCT FROM (EXCLUDED.tenant, EXCLUDED.email,"
     " EXCLUDED.email_verified, EXCLUDED.tenant_admin, EXCLUDED.unlisted, EXCLUDED.claims)"},
    /* My Library: a new entry only while the user has fewer than the limit (the 4th argument) */
    {"stp_library_save", "INSERT INTO stp_library (user_key, series, doc_id, seen, kept, saved)"
                         " SELECT %s, %s, %s, %s, %s, %s::bigint WHERE EXISTS (SELECT 1 FROM stp_library WHERE "
                         "user_key = $1 AND series = $2)"
                         " OR (SELECT count(*) FROM stp_library WHERE user_key = $1) < %s::bigint"
                         " ON CONFLICT (user_key, series) DO UPDATE SET doc_id = EXCLUDED.doc_id, seen = EXCLUDED.seen,"
                         " kept = EXCLUDED.kept, saved = EXCLUDED.saved"},
    {"stp_library_remove", "DELETE FROM stp_library WHERE user_key = %s AND series = %s"},
    {"stp_library_list",
     "SELECT series, doc_id, seen, kept, saved FROM stp_library WHERE user_key = %s ORDER BY series COLLATE \"C\""},
    /* notification settings; stpctl notify claims a user's digest for a lease before sending it */
    {"stp_notify_get", "SELECT freq, address, locale, tenant, last_digest FROM stp_notify WHERE user_key = %s"},
    {"stp_notify_put", "INSERT INTO stp_notify (user_key, freq, address, locale, tenant, last_digest)"
                       " VALUES (%s, %s::smallint, %s, %s, %s, %s::bigint)"
                       " ON CONFLICT (user_key) DO UPDATE SET freq = EXCLUDED.freq, address = EXCLUDED.address,"
                       " locale = EXCLUDED.locale, tenant = EXCLUDED.tenant, last_digest = EXCLUDED.last_digest"},
    {"stp_notify_users", "SELECT user_key FROM stp_notify ORDER BY user_key COLLATE \"C\""},
    {"stp_digest_sent",
     "UPDATE stp_notify SET last_digest = %s::bigint, claimed_by = '', lease_until = 0 WHERE user_key = %s"},
    /* one run's claim on a due digest: only while nobody sent it since it was read, and nobody
     * else's lease runs (a run killed after claiming leaves it claimable when its lease ends) */
    {"stp_digest_claim",
     "UPDATE stp_notify SET claimed_by = %s, lease_until = %s::bigint WHERE user_key ="
     " (SELECT user_key FROM stp_notify WHERE user_key = %s AND last_digest = %s::bigint AND lease_until <= %s::bigint"
     " FOR UPDATE SKIP LOCKED)"},
    {"stp_digest_release",
     "UPDATE stp_notify SET claimed_by = '', lease_until = 0 WHERE user_key = %s AND claimed_by = %s"},
    {"stp_digest_seen", "UPDATE stp_library SET seen = %s WHERE user_key = %s AND series = %s"},
    /* organisations: changes run in a transaction under a lock per organisation (stp_org_pg.c) */
    {"stp_org_lock", "SELECT pg_advisory_xact_lock(hashtext('stp-org:' || %s))"},
    {"stp_org_settings_get", "SELECT mode, industries, regions FROM stp_orgs WHERE tenant = %s"},
    {"stp_org_settings_put",
     "INSERT INTO stp_orgs (tenant, mode, industries, regions) VALUES (%s, %s::smallint, %s, %s)"
     " ON CONFLICT (tenant) DO UPDATE SET mode = EXCLUDED.mode, industries = EXCLUDED.industries,"
     " regions = EXCLUDED.regions"},
    {"stp_org_member", "SELECT (SELECT mode FROM stp_orgs WHERE tenant = %s),"
                       " (SELECT role FROM stp_org_people WHERE tenant = $1 AND email = %s)"},
    {"stp_org_role", "SELECT role FROM stp_org_people WHERE tenant = %s AND email = %s"},
    {"stp_org_people", "SELECT email, role, since, by_whom FROM stp_org_people WHERE tenant = %s"},
    {"stp_org_people_count", "SELECT count(*) FROM stp_org_people WHERE tenant = %s"},
    {"stp_org_person_put",
     "INSERT INTO stp_org_people (tenant, email, role, since, by_whom) VALUES (%s, %s, %s::smallint, %s::bigint, %s)"
     " ON CONFLICT (tenant, email) DO UPDATE SET role = EXCLUDED.role, since = EXCLUDED.since,"
     " by_whom = EXCLUDED.by_whom"},
    {"stp_org_person_delete", "DELETE FROM stp_org_people WHERE tenant = %s AND email = %s"},
    {"stp_org_log_add", "INSERT INTO stp_org_log (at, tenant, actor, actor_email, action, subject, before, after)"
                        " VALUES (%s::bigint, %s, %s, %s, %s, %s, %s, %s)"},
    {"stp_org_log_all", "SELECT seq, at, tenant, actor, actor_email, action, subject, before, after FROM stp_org_log"
                        " ORDER BY seq"},
    {"stp_org_log_tenant", "SELECT seq, at, tenant, actor, actor_email, action, subject, before, after FROM stp_org_log"
                           " WHERE tenant = %s ORDER BY seq DESC LIMIT %s::bigint"},
    {"stp_org_tenant_seen", "SELECT 1 FROM stp_users WHERE tenant = %s LIMIT 1"},
    {"stp_org_verified_emails", "SELECT email FROM stp_users WHERE tenant = %s AND email_verified"},
    /* feedback: the rate is counted under a lock per client address (hash), in the same transaction */
    {"stp_feedback_answer", "SELECT page, answer FROM stp_feedback WHERE seq = %s::bigint"},
    {"stp_feedback_rate_lock", "SELECT pg_advisory_xact_lock(hashtext('stp-rate:' || %s))"},
    {"stp_feedback_rate_get",
     "SELECT coalesce((SELECT count FROM stp_feedback_rate WHERE win = %s::bigint AND client_hash = %s), 0),"
     " coalesce((SELECT count FROM stp_feedback_rate WHERE win = $1::bigint - 1 AND client_hash = $2), 0)"},
    {"stp_feedback_rate_count", "INSERT INTO stp_feedback_rate (win, client_hash, count) VALUES (%s::bigint, %s, 1)"
                                " ON CONFLICT (win, client_hash) DO UPDATE SET count = stp_feedback_rate.count + 1"},
    {"stp_feedback_rate_prune", "DELETE FROM stp_feedback_rate WHERE win < %s::bigint"},
    {"stp_feedback_add", "INSERT INTO stp_feedback (at, page, lang, answer, comment, user_key, ref)"
                         " VALUES (%s::bigint, %s, %s, %s, %s, %s, %s::bigint) RETURNING seq"},
    {"stp_feedback_all", "SELECT seq, at, page, lang, answer, comment, user_key, ref FROM stp_feedback ORDER BY seq"},
    /* stpctl state-export / state-import (stp_state_dump.c): every record in the LMDB store's key
     * order, written back as it was (sequence numbers and times kept) into an empty state */
    {"stp_dump_counts",
     "SELECT (SELECT count(*) FROM stp_users), (SELECT count(*) FROM stp_nda), (SELECT count(*) FROM stp_nda_log),"
     " (SELECT count(*) FROM stp_library), (SELECT count(*) FROM stp_notify), (SELECT count(*) FROM stp_orgs),"
     " (SELECT count(*) FROM stp_org_people), (SELECT count(*) FROM stp_org_log), (SELECT count(*) FROM stp_feedback)"},
    {"stp_dump_lock", "SELECT pg_advisory_xact_lock(hashtext('stp-state-import'))"},
    {"stp_dump_users", "SELECT user_key, tenant, email, email_verified, since, tenant_admin, unlisted, claims"
                       " FROM stp_users ORDER BY user_key COLLATE \"C\""},
    {"stp_dump_nda", "SELECT user_key, tenant, version, accepted FROM stp_nda"
                     " ORDER BY user_key COLLATE \"C\", tenant COLLATE \"C\", version COLLATE \"C\""},
    {"stp_dump_library", "SELECT user_key, series, doc_id, seen, kept, saved FROM stp_library"
                         " ORDER BY user_key COLLATE \"C\", series COLLATE \"C\""},
    {"stp_dump_notify", "SELECT user_key, freq, address, locale, tenant, last_digest FROM stp_notify"
                        " ORDER BY user_key COLLATE \"C\""},
    {"stp_dump_orgs", "SELECT tenant, mode, industries, regions FROM stp_orgs ORDER BY tenant COLLATE \"C\""},
    {"stp_dump_org_people", "SELECT tenant, email, role, since, by_whom FROM stp_org_people"
                            " ORDER BY tenant COLLATE \"C\", email COLLATE \"C\""},
    {"stp_restore_nda", "INSERT INTO stp_nda (user_key, tenant, version, accepted) VALUES (%s, %s, %s, %s::bigint)"},
    {"stp_restore_nda_log",
     "INSERT INTO stp_nda_log (seq, at, user_key, tenant, version) VALUES (%s::bigint, %s::bigint, %s, %s, %s)"},
    {"stp_restore_library", "INSERT INTO stp_library (user_key, series, doc_id, seen, kept, saved)"
                            " VALUES (%s, %s, %s, %s, %s, %s::bigint)"},
    {"stp_restore_org_log",
     "INSERT INTO stp_org_log (seq, at, tenant, actor, actor_email, action, subject, before, after)"
     " VALUES (%s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s, %s)"},
    {"stp_restore_feedback", "INSERT INTO stp_feedback (seq, at, page, lang, answer, comment, user_key, ref)"
                             " VALUES (%s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s::bigint)"},
    /* the logs' sequences go on after the highest number imported (or start at 1) */
    {"stp_restore_sequences",
     "SELECT setval(pg_get_serial_sequence('stp_nda_log', 'seq'), coalesce(max(seq), 1), max(seq) IS NOT NULL)"
     " FROM stp_nda_log UNION ALL"
     " SELECT setval(pg_get_serial_sequence('stp_org_log', 'seq'), coalesce(max(seq), 1), max(seq) IS NOT NULL)"
     " FROM stp_org_log UNION ALL"
     " SELECT setval(pg_get_serial_sequence('stp_feedback', 'seq'), coalesce(max(seq), 1), max(seq) IS NOT NULL)"
     " FROM stp_feedback"},
    {NULL, NULL},
};

const stp_dbd_statement_t *stp_dbd_statements(void)
{
    return statements;
}

/* The driver's message for the last failure on the session (a copy: the next query replaces it),
 * without libpq's trailing newline. */
static const char *error_of(stp_dbd_conn_t *c, int rc, apr_pool_t *pool)
{
    const char *why = c->handle ? apr_dbd_error(c->driver, c->handle, rc) : NULL;
    if (!why)
        return NULL;
    apr_size_t n = strlen(why);
    while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
        n--;
    return apr_pstrndup(pool, why, n);
}

static apr_status_t fail(const char **err, const char *what, stp_dbd_conn_t *c, int rc, apr_pool_t *pool)
{
    const char *why = c->handle ? apr_dbd_error(c->driver, c->handle, rc) : NULL;
    if (err)
        *err = apr_pstrcat(pool, what, why && *why ? ": " : "", why ? why : "", NULL);
    return APR_EGENERAL;
}

/* Our own connections only: mod_dbd closes those it hands out. */
static apr_status_t conn_close(void *data)
{
    stp_dbd_conn_t *c = data;
    if (c->handle)
        apr_dbd_close(c->driver, c->handle);
    c->handle = NULL;
    return APR_SUCCESS;
}

apr_status_t stp_dbd_connect(stp_dbd_conn_t *c, const char *driver_name, const char *params, int prepare,
                             const char **err, apr_pool_t *pool)
{
    const char *why = NULL;
    memset(c, 0, sizeof *c);
    apr_status_t rv = apr_dbd_init(pool);
    if (rv == APR_SUCCESS)
        rv = apr_dbd_get_driver(pool, driver_name, &c->driver);
    if (rv != APR_SUCCESS) {
        if (err)
            *err = apr_psprintf(pool, "no apr_dbd driver '%s' (Debian: libaprutil1-dbd-%s)", driver_name, driver_name);
        return rv;
    }
    rv = apr_dbd_open_ex(c->driver, pool, params, &c->handle, &why);
    if (rv != APR_SUCCESS || !c->handle) {
        c->handle = NULL;
        if (err)
            *err = apr_pstrcat(pool, "cannot connect: ", why ? why : "the driver gave no reason", NULL);
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    c->pool = pool;
    apr_pool_cleanup_register(pool, c, conn_close, apr_pool_cleanup_null);
    return prepare ? stp_dbd_prepare_all(c, err, pool) : APR_SUCCESS;
}

apr_status_t stp_dbd_prepare_all(stp_dbd_conn_t *c, const char **err, apr_pool_t *pool)
{
    c->prepared = apr_hash_make(pool);
    for (const stp_dbd_statement_t *s = statements; s->label; s++) {
        apr_dbd_prepared_t *p = NULL;
        int rc = apr_dbd_prepare(c->driver, pool, c->handle, s->sql, s->label, &p);
        if (rc)
            return fail(err, apr_pstrcat(pool, "cannot prepare ", s->label, NULL), c, rc, pool);
        apr_hash_set(c->prepared, s->label, APR_HASH_KEY_STRING, p);
    }
    return APR_SUCCESS;
}

/* Whether the session lost the statements mod_dbd (or stp_dbd_prepare_all) prepared: the server
 * restarted or failed over to a replica at the same address, and libpq reconnected (apr_dbd's
 * connection check resets a broken connection). Asked of the session itself, not read from the
 * error's wording, which is in the server's language and may quote user data. */
static int session_lost(stp_dbd_conn_t *c, int rc)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int have = -1, want = 0;
    (void)rc;
    if (!c->pool || apr_dbd_check_conn(c->driver, c->pool, c->handle) != APR_SUCCESS)
        return 0; /* no session at all: nothing to prepare on */
    for (const stp_dbd_statement_t *s = statements; s->label; s++)
        want++;
    if (apr_dbd_select(c->driver, c->pool, c->handle, &res,
                       "SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE name LIKE 'stp\\_%'", 1) == 0 &&
        apr_dbd_get_row(c->driver, c->pool, res, &row, -1) == 0)
        have = atoi(apr_dbd_get_entry(c->driver, row, 0));
    return have >= 0 && have < want;
}

/* A new session (reconnecting when the old one is gone) with every statement prepared again. */
static apr_status_t prepare_again(stp_dbd_conn_t *c)
{
    int n = 0;
    if (!c->pool || apr_dbd_check_conn(c->driver, c->pool, c->handle) != APR_SUCCESS ||
        apr_dbd_query(c->driver, c->handle, &n, "DEALLOCATE ALL"))
        return APR_EGENERAL;
    if (!c->prepared)
        c->prepared = apr_hash_make(c->pool);
    for (const stp_dbd_statement_t *s = statements; s->label; s++) {
        apr_dbd_prepared_t *p = NULL;
        if (apr_dbd_prepare(c->driver, c->pool, c->handle, s->sql, s->label, &p))
            return APR_EGENERAL;
        apr_hash_set(c->prepared, s->label, APR_HASH_KEY_STRING, p);
    }
    return APR_SUCCESS;
}

static int run_once(stp_dbd_conn_t *c, apr_dbd_prepared_t *p, int nargs, const char *const *args, int *nrows,
                    apr_dbd_results_t **res, apr_pool_t *pool)
{
    int n = 0, rc;
    if (res) {
        *res = NULL;
        rc = apr_dbd_pselect(c->driver, pool, c->handle, res, p, 1, nargs, (const char **)args);
    } else {
        rc = apr_dbd_pquery(c->driver, pool, c->handle, &n, p, nargs, (const char **)args);
        if (nrows)
            *nrows = n;
    }
    return rc;
}

apr_status_t stp_dbd_exec(stp_dbd_conn_t *c, const char *label, int nargs, const char *const *args, int *nrows,
                          apr_dbd_results_t **res, const char **err, apr_pool_t *pool)
{
    apr_dbd_prepared_t *p = c->prepared ? apr_hash_get(c->prepared, label, APR_HASH_KEY_STRING) : NULL;
    int rc;
    if (!p) {
        if (err)
            *err = apr_pstrcat(pool, "no prepared statement ", label, NULL);
        return APR_EGENERAL;
    }
    rc = run_once(c, p, nargs, args, nrows, res, pool);
    /* The server's reason, kept before session_lost's own query replaces the session's message. */
    const char *why = rc ? error_of(c, rc, pool) : NULL;
    if (rc && session_lost(c, rc)) {
        if (c->in_txn) /* the transaction is lost too: stp_dbd_transaction prepares and runs it again */
            c->stale = 1;
        else if (prepare_again(c) == APR_SUCCESS && (p = apr_hash_get(c->prepared, label, APR_HASH_KEY_STRING)) != NULL)
            why = (rc = run_once(c, p, nargs, args, nrows, res, pool)) != 0 ? error_of(c, rc, pool) : NULL;
    }
    if (!rc)
        return APR_SUCCESS;
    if (err)
        *err = apr_pstrcat(pool, label, why && *why ? ": " : "", why ? why : "", NULL);
    return apr_dbd_check_conn(c->driver, pool, c->handle) == APR_SUCCESS ? APR_EGENERAL : APR_ECONNREFUSED;
}

int stp_dbd_row(stp_dbd_conn_t *c, apr_dbd_results_t *res, apr_dbd_row_t **row, apr_pool_t *pool)
{
    return apr_dbd_get_row(c->driver, pool, res, row, -1) == 0;
}

const char *stp_dbd_col(stp_dbd_conn_t *c, apr_dbd_row_t *row, int col)
{
    const char *v = apr_dbd_get_entry(c->driver, row, col);
    return v ? v : "";
}

/* The transaction modes of stp_dbd_transaction_once (before the transaction's first query). */
static const char *const txn_modes[] = {
    NULL,
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
};

static apr_status_t transaction_mode(stp_dbd_conn_t *c, const char *mode, stp_dbd_txn_fn *fn, void *baton,
                                     const char **err, apr_pool_t *pool)
{
    apr_dbd_transaction_t *txn = NULL;
    int n = 0, rc = apr_dbd_transaction_start(c->driver, pool, c->handle, &txn);
    if (rc) {
        fail(err, "cannot start a transaction", c, rc, pool);
        return apr_dbd_check_conn(c->driver, pool, c->handle) == APR_SUCCESS ? APR_EGENERAL : APR_ECONNREFUSED;
    }
    c->in_txn = 1;
    apr_status_t rv = APR_SUCCESS;
    if (mode && (rc = apr_dbd_query(c->driver, c->handle, &n, mode)))
        rv = fail(err, mode, c, rc, pool);
    if (rv == APR_SUCCESS)
        rv = fn(c, baton, err, pool);
    c->in_txn = 0;
    if (rv != APR_SUCCESS)
        apr_dbd_transaction_mode_set(c->driver, txn, APR_DBD_TRANSACTION_ROLLBACK);
    rc = apr_dbd_transaction_end(c->driver, pool, txn);
    if (rc && rv == APR_SUCCESS) {
        fail(err, "cannot commit", c, rc, pool);
        return apr_dbd_check_conn(c->driver, pool, c->handle) == APR_SUCCESS ? APR_EGENERAL : APR_ECONNREFUSED;
    }
    return rv;
}

static apr_status_t transaction_once(stp_dbd_conn_t *c, stp_dbd_txn_fn *fn, void *baton, const char **err,
                                     apr_pool_t *pool)
{
    return transaction_mode(c, NULL, fn, baton, err, pool);
}

apr_status_t stp_dbd_transaction_once(stp_dbd_conn_t *c, stp_dbd_txn_mode_t mode, stp_dbd_txn_fn *fn, void *baton,
                                      const char **err, apr_pool_t *pool)
{
    return transaction_mode(c, txn_modes[mode == STP_DBD_TXN_SNAPSHOT], fn, baton, err, pool);
}

apr_status_t stp_dbd_transaction(stp_dbd_conn_t *c, stp_dbd_txn_fn *fn, void *baton, const char **err, apr_pool_t *pool)
{
    c->stale = 0;
    apr_status_t rv = transaction_once(c, fn, baton, err, pool);
    if (rv != APR_SUCCESS && c->stale) { /* rolled back: nothing of it happened */
        c->stale = 0;
        if (prepare_again(c) == APR_SUCCESS)
            rv = transaction_once(c, fn, baton, err, pool);
    }
    return rv;
}

/* The first column of the first row of a constant query, or NULL (no row). */
static apr_status_t select_one(const char **value, stp_dbd_conn_t *c, const char *sql, const char **err,
                               apr_pool_t *pool)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rc = apr_dbd_select(c->driver, pool, c->handle, &res, sql, 1);
    if (rc)
        return fail(err, sql, c, rc, pool);
    *value = NULL;
    if (apr_dbd_get_row(c->driver, pool, res, &row, 1) == 0) {
        const char *v = apr_dbd_get_entry(c->driver, row, 0);
        *value = v ? apr_pstrdup(pool, v) : NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t read_version(int *version, stp_dbd_conn_t *c, const char **err, apr_pool_t *pool)
{
    const char *v = NULL;
    /* pg_tables, not to_regclass(): a name lookup may answer from a cache that has not yet seen
     * another session's commit, while a catalog query reads with a fresh snapshot. */
    apr_status_t rv = select_one(&v, c,
                                 "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = 'stp_schema'"
                                 " AND schemaname = current_schema())",
                                 err, pool);
    *version = 0;
    if (rv != APR_SUCCESS || !v || strcmp(v, "t"))
        return rv;
    if ((rv = select_one(&v, c, "SELECT version FROM stp_schema", err, pool)) != APR_SUCCESS)
        return rv;
    *version = v ? atoi(v) : 0;
    return APR_SUCCESS;
}

apr_status_t stp_dbd_schema_version(int *version, stp_dbd_conn_t *c, const char **err, apr_pool_t *pool)
{
    return read_version(version, c, err, pool);
}

static apr_status_t exec(stp_dbd_conn_t *c, const char *sql, const char **err, apr_pool_t *pool)
{
    int n = 0, rc = apr_dbd_query(c->driver, c->handle, &n, sql);
    return rc ? fail(err, sql, c, rc, pool) : APR_SUCCESS;
}

apr_status_t stp_dbd_schema_upgrade(int *from, stp_dbd_conn_t *c, const char **err, apr_pool_t *pool)
{
    apr_dbd_transaction_t *txn = NULL;
    const char *locked = NULL;
    int rc = apr_dbd_transaction_start(c->driver, pool, c->handle, &txn);
    if (rc)
        return fail(err, "cannot start a transaction", c, rc, pool);
    apr_status_t rv = select_one(&locked, c, SCHEMA_LOCK, err, pool);
    if (rv == APR_SUCCESS)
        rv = read_version(from, c, err, pool);
    if (rv == APR_SUCCESS && *from > STP_DBD_SCHEMA_VERSION) {
        if (err)
            *err = apr_psprintf(pool,
                                "the database holds STP schema version %d, newer than this build's %d: "
                                "install the newer STP, or restore a copy made before the upgrade",
                                *from, STP_DBD_SCHEMA_VERSION);
        rv = APR_EGENERAL;
    }
    for (int v = rv == APR_SUCCESS ? *from : STP_DBD_SCHEMA_VERSION; v < STP_DBD_SCHEMA_VERSION && !rv; v++)
        for (const char *const *sql = steps[v]; *sql && !rv; sql++)
            rv = exec(c, *sql, err, pool);
    if (rv == APR_SUCCESS && *from < STP_DBD_SCHEMA_VERSION)
        rv =
            exec(c,
                 *from == 0 ? apr_psprintf(pool, "INSERT INTO stp_schema (version) VALUES (%d)", STP_DBD_SCHEMA_VERSION)
                            : apr_psprintf(pool, "UPDATE stp_schema SET version = %d", STP_DBD_SCHEMA_VERSION),
                 err, pool);
    if (rv != APR_SUCCESS)
        apr_dbd_transaction_mode_set(c->driver, txn, APR_DBD_TRANSACTION_ROLLBACK);
    rc = apr_dbd_transaction_end(c->driver, pool, txn);
    if (rc && rv == APR_SUCCESS)
        return fail(err, "cannot commit the schema", c, rc, pool);
    return rv;
}

const char *stp_dbd_schema_problem(stp_dbd_conn_t *c, apr_pool_t *pool)
{
    int v = 0;
    const char *err = NULL;
    if (read_version(&v, c, &err, pool) != APR_SUCCESS)
        return apr_pstrcat(pool, "cannot read the STP schema version: ", err, NULL);
    if (v == 0)
        return "the database has no STP schema: run stpctl state-init --dbd PARAMS";
    if (v < STP_DBD_SCHEMA_VERSION)
        return apr_psprintf(pool,
                            "the STP schema is version %d, this build uses %d: run stpctl state-upgrade --dbd PARAMS",
                            v, STP_DBD_SCHEMA_VERSION);
    if (v > STP_DBD_SCHEMA_VERSION)
        return apr_psprintf(pool, "the STP schema is version %d, newer than this build's %d: install the newer STP", v,
                            STP_DBD_SCHEMA_VERSION);
    return NULL;
}
