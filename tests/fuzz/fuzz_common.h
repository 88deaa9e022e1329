/* Shared setup of the generator fuzz targets: the valid fixture site, loaded once. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxslt/xslt.h>
#include <stdio.h>
#include <stdlib.h>

#include "sg_content.h"
#include "sg_i18n.h"
#include "sg_pages.h"

static apr_pool_t *fuzz_pool;
static sg_site_t *fuzz_site;
static sg_i18n_t *fuzz_i18n;

/* Loads tests/fixtures/valid with the source tree's templates; aborts when the fixture is broken,
 * because then every input would only exercise the error path. */
static void fuzz_load_site(void)
{
    sg_errors_t *errs;
    xmlInitParser();
    xsltInit();
    apr_initialize();
    apr_pool_create(&fuzz_pool, NULL);
    errs = sg_errors_make(fuzz_pool);
    if (sg_content_load(&fuzz_site, errs, FUZZ_SRCDIR "/tests/fixtures/valid", FUZZ_SRCDIR "/xslt/schema", 1,
                        fuzz_pool) != APR_SUCCESS ||
        sg_i18n_load(&fuzz_i18n, fuzz_site, FUZZ_SRCDIR "/xslt", errs, fuzz_pool) != APR_SUCCESS ||
        sg_errors_count(errs)) {
        for (int i = 0; i < errs->list->nelts; i++)
            fprintf(stderr, "%s\n", APR_ARRAY_IDX(errs->list, i, const char *));
        abort();
    }
    sg_content_resolve(fuzz_site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)),
                       0);
}

#endif
