/* Fuzz target: decoding catalog records, which the module reads from disk. */
#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stp_catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    apr_pool_t *pool;
    stp_doc_t *doc;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&pool, root);
    if (stp_catalog_doc_decode(&doc, data, size, pool) == APR_SUCCESS) {
        /* What decodes must encode back to the same bytes. */
        apr_size_t len;
        const char *again = stp_catalog_doc_encode(&len, doc, pool);
        if (len != size || memcmp(again, data, size))
            abort();
    }
    apr_pool_destroy(pool);
    return 0;
}
