/* mod_stp_store: where the users' state lives: state.mdb in StpStateDir (the default), or
 * PostgreSQL through mod_dbd's connection pool (StpStateStore dbd), for several Apache nodes. */
#include "mod_stp.h"

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <http_log.h>
#include <mod_dbd.h>

#include "stp_dbd.h"

/* mod_dbd's functions, found when the directive is read (mod_dbd must be loaded before). */
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) * dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) * dbd_close;

const char *mod_stp_set_store(cmd_parms *cmd, void *dummy, const char *arg)
{
    stp_conf_t *c = ap_get_module_config(cmd->server->module_config, &stp_module);
    (void)dummy;
    if (!strcasecmp(arg, "lmdb")) {
        c->store_dbd = 0;
        return NULL;
    }
    if (strcasecmp(arg, "dbd"))
        return apr_pstrcat(cmd->pool, "StpStateStore: '", arg,
                           "' is neither lmdb (state.mdb in StpStateDir) nor dbd (PostgreSQL through mod_dbd)", NULL);
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!prepare || !dbd_acquire || !dbd_open || !dbd_close)
        return "StpStateStore dbd needs mod_dbd loaded before it (a2enmod dbd), with DBDriver pgsql and DBDParams";
    /* mod_dbd prepares them on each connection it opens: the store runs prepared statements only. */
    for (const stp_dbd_statement_t *s = stp_dbd_statements(); s->label; s++)
        prepare(cmd->server, s->sql, s->label);
    c->store_dbd = 1;
    return NULL;
}

stp_state_t *mod_stp_state(stp_req_t *q)
{
    if (!q->conf->store_dbd)
        return q->conf->state;
    if (q->state || q->state_failed)
        return q->state;
    ap_dbd_t *d = dbd_acquire(q->r);
    if (!d) {
        q->state_failed = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "stp: no connection to the PostgreSQL state store (mod_dbd's lines above say why); state pages "
                      "answer 503 until it is back");
        return NULL;
    }
    stp_dbd_conn_t *c = apr_palloc(q->r->pool, sizeof *c);
    c->driver = d->driver;
    c->handle = d->handle;
    c->prepared = d->prepared;
    c->pool = d->pool;
    c->in_txn = c->stale = 0;
    q->state = stp_state_over_dbd(c, q->r->pool);
    return q->state;
}

const char *mod_stp_state_problem(stp_req_t *q)
{
    if (!q->conf->store_dbd)
        return NULL;
    return q->state ? stp_state_error(q->state) : "no connection to PostgreSQL";
}

void mod_stp_store_child_check(server_rec *v, stp_conf_t *c, apr_pool_t *pchild)
{
    if (!c->store_dbd || !dbd_open)
        return;
    /* Says at once what an operator must do about the schema; an unreachable database is only
     * logged here: requests retry, and the portal recovers when it is back. */
    ap_dbd_t *d = dbd_open(pchild, v);
    if (!d) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v,
                     "StpStateStore dbd: PostgreSQL is not reachable at startup; state pages answer 503 until it is");
        return;
    }
    stp_dbd_conn_t conn = {d->driver, d->handle, d->prepared, d->pool, 0, 0};
    const char *problem = stp_dbd_schema_problem(&conn, pchild);
    if (problem)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, v, "StpStateStore dbd: %s; state pages answer 503", problem);
    dbd_close(v, d);
}
