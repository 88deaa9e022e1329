#include "test_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <apr_strings.h>

const char *test_tmpdir(const char *what, apr_pool_t *pool)
{
    char *dir = apr_psprintf(pool, "/tmp/stp-test-%s-XXXXXX", what);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

void test_rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
