#include "test_store.h"

#include <stdlib.h>

#include <check.h>

#include "stp_dbd.h"

int test_store_dbd(void)
{
    const char *p = getenv("STP_TEST_DBD");
    return p && *p;
}

static stp_dbd_conn_t *connect_db(apr_pool_t *pool)
{
    stp_dbd_conn_t *c = apr_pcalloc(pool, sizeof *c);
    const char *err = NULL;
    int from = 0;
    ck_assert_msg(stp_dbd_connect(c, "pgsql", getenv("STP_TEST_DBD"), 0, &err, pool) == APR_SUCCESS, "%s", err);
    ck_assert_msg(stp_dbd_schema_upgrade(&from, c, &err, pool) == APR_SUCCESS, "%s", err);
    ck_assert_msg(stp_dbd_prepare_all(c, &err, pool) == APR_SUCCESS, "%s", err);
    return c;
}

apr_status_t test_store_open(stp_state_t **st, const char *dir, const stp_state_options_t *opts, apr_pool_t *pool)
{
    if (!test_store_dbd())
        return stp_state_open(st, dir, opts, pool);
    *st = stp_state_over_dbd(connect_db(pool), pool);
    return APR_SUCCESS;
}

void test_store_reset(void)
{
    if (!test_store_dbd())
        return;
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_dbd_conn_t *c = connect_db(pool);
    int n;
    ck_assert_int_eq(apr_dbd_query(c->driver, c->handle, &n,
                                   "TRUNCATE stp_users, stp_nda, stp_nda_log, stp_library, stp_notify, stp_orgs,"
                                   " stp_org_people, stp_org_log, stp_feedback, stp_feedback_rate RESTART IDENTITY"),
                     0);
    apr_pool_destroy(pool);
}
