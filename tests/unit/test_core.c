/* The core's unit tests: no httpd, no generator. */
#include <apr_general.h>
#include <stdlib.h>

#include "test_store.h"
#include "tests.h"

int main(void)
{
    apr_initialize();
    if (test_store_dbd()) { /* STP_TEST_DBD: the state's suites again, on PostgreSQL */
        SRunner *sr = srunner_create(state_suite());
        srunner_add_suite(sr, library_suite());
        srunner_add_suite(sr, org_suite());
        srunner_add_suite(sr, feedback_suite());
        srunner_add_suite(sr, dump_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        apr_terminate();
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    SRunner *sr = srunner_create(hash_suite());
    srunner_add_suite(sr, catalog_suite());
    srunner_add_suite(sr, retention_suite());
    srunner_add_suite(sr, access_suite());
    srunner_add_suite(sr, identity_suite());
    srunner_add_suite(sr, state_suite());
    srunner_add_suite(sr, library_suite());
    srunner_add_suite(sr, org_suite());
    srunner_add_suite(sr, feedback_suite());
    srunner_add_suite(sr, dump_suite());
    srunner_add_suite(sr, mail_suite());
    srunner_add_suite(sr, http_suite());
    srunner_add_suite(sr, site_suite());
    srunner_add_suite(sr, view_suite());
    srunner_add_suite(sr, search_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
