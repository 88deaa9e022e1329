/* The generator's unit tests: content loading and validation, rendering. */
#include <apr_general.h>
#include <libxml/parser.h>
#include <libxslt/xslt.h>
#include <stdlib.h>

#include "tests.h"

int main(void)
{
    apr_initialize();
    xmlInitParser();
    xsltInit();
    SRunner *sr = srunner_create(content_suite());
    srunner_add_suite(sr, render_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
