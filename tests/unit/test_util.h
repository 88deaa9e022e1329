/* Temporary directories for the unit tests. */
#ifndef STP_TEST_UTIL_H
#define STP_TEST_UTIL_H

#include <apr_pools.h>

/* A new empty directory under /tmp, named after `what`. */
const char *test_tmpdir(const char *what, apr_pool_t *pool);
/* Removes a directory tree; fails the test when it cannot. */
void test_rmtree(const char *dir);

#endif
