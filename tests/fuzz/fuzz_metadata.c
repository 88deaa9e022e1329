/* Fuzz target: the metadata loader (doc.xml: parse, schema, model, reference checks). */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_load_site();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, fuzz_pool);
    sg_errors_t *errs = sg_errors_make(pool);
    sg_doc_t *d = sg_doc_parse(fuzz_site, (const char *)data, size, "fuzz/doc.xml", errs, pool);
    /* A document either loads or says why: never both silent and absent. */
    if (!d && sg_errors_count(errs) == 0)
        abort();
    apr_pool_destroy(pool);
    return 0;
}
