/* Fuzz target: the state dump's reader (stp_state_import), which takes a file from elsewhere. What
 * it accepts must export again and import into a second state as the same dump. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "stp_layout.h"
#include "stp_state_dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;
static char dirs[2][64];

static stp_state_t *fresh(int i, apr_pool_t *pool)
{
    stp_state_t *st = NULL;
    unlink(apr_pstrcat(pool, dirs[i], "/" STP_STATE_DB, NULL));
    unlink(apr_pstrcat(pool, dirs[i], "/" STP_STATE_DB_LOCK, NULL));
    if (stp_state_open(&st, dirs[i], NULL, pool) != APR_SUCCESS)
        abort();
    return st;
}

static char *export_text(stp_state_t *st, apr_pool_t *pool)
{
    char *buf = NULL;
    size_t len = 0;
    const char *err;
    FILE *f = open_memstream(&buf, &len);
    if (stp_state_export(st, f, NULL, &err, pool) != APR_SUCCESS)
        abort(); /* what was imported must export */
    fclose(f);
    char *copy = apr_pstrdup(pool, buf);
    free(buf);
    return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static stp_state_t *st; /* empty between inputs: a refused import writes nothing */
    static apr_pool_t *st_pool;
    apr_pool_t *pool;
    const char *err;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        for (int i = 0; i < 2; i++) {
            strcpy(dirs[i], "/tmp/stp-fuzz-dump.XXXXXX");
            if (!mkdtemp(dirs[i]))
                abort();
        }
    }
    if (!size)
        return 0;
    if (!st) {
        apr_pool_create(&st_pool, root);
        st = fresh(0, st_pool);
    }
    apr_pool_create(&pool, root);
    FILE *in = fmemopen((void *)data, size, "r");
    if (stp_state_import(st, in, NULL, &err, pool) == APR_SUCCESS) {
        char *one = export_text(st, pool);
        stp_state_t *again = fresh(1, pool);
        FILE *f = fmemopen(one, strlen(one), "r");
        if (stp_state_import(again, f, NULL, &err, pool) != APR_SUCCESS)
            abort(); /* an export must import */
        fclose(f);
        if (strcmp(strchr(one, '\n'), strchr(export_text(again, pool), '\n')))
            abort(); /* and come back the same */
        stp_state_close(again);
        stp_state_close(st); /* the next input starts empty again */
        apr_pool_destroy(st_pool);
        st = NULL;
    }
    fclose(in);
    apr_pool_destroy(pool);
    return 0;
}
