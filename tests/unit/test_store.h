/* The store the state tests run against: state.mdb, or with STP_TEST_DBD=PARAMS (apr_dbd pgsql
 * connection parameters) the PostgreSQL store, so that the same tests check both. */
#ifndef STP_TEST_STORE_H
#define STP_TEST_STORE_H

#include <apr_pools.h>

#include "stp_state.h"

/* Whether the tests run against PostgreSQL. */
int test_store_dbd(void);
/* Opens the state in dir (LMDB), or a new connection to the PostgreSQL store, whose schema it
 * creates when missing. */
apr_status_t test_store_open(stp_state_t **st, const char *dir, const stp_state_options_t *opts, apr_pool_t *pool);
/* Empties the PostgreSQL store, so that each test starts with nothing (LMDB: a new directory does). */
void test_store_reset(void);

#endif
