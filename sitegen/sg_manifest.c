#include "sg_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sg_util.h"
#include "stp_layout.h"

apr_hash_t *sg_manifest_read_file(const char *path, sg_manifest_what_t what, apr_pool_t *pool)
{
    apr_hash_t *h = apr_hash_make(pool);
    char *data;
    apr_size_t len;
    if (!path || sg_file_read(&data, &len, path, pool) != APR_SUCCESS)
        return h;
    for (char *line = data, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        char *sp = strchr(line, ' ');
        if (!sp || (sp[1] == '@') != (what != SG_MANIFEST_ITEMS))
            continue;
        const char *fp = apr_pstrmemdup(pool, line, (apr_size_t)(sp - line));
        if (what == SG_MANIFEST_STORE_NAMES)
            apr_hash_set(h, fp, APR_HASH_KEY_STRING, fp);
        else
            apr_hash_set(h, what == SG_MANIFEST_SHARDS ? sp + 2 : sp + 1, APR_HASH_KEY_STRING, fp);
    }
    return h;
}

apr_hash_t *sg_manifest_read(const char *build, sg_manifest_what_t what, apr_pool_t *pool)
{
    return sg_manifest_read_file(build ? apr_pstrcat(pool, build, "/" STP_BUILD_MANIFEST, NULL) : NULL, what, pool);
}

static int cmp_item_outs(const void *a, const void *b)
{
    return strcmp((*(sg_item_t *const *)a)->page.out, (*(sg_item_t *const *)b)->page.out);
}

/* The singles sorted by path, and the bytes the whole manifest needs. */
static sg_item_t **sorted_singles(apr_size_t *cap, const sg_plan_t *plan, apr_pool_t *pool)
{
    int n = plan->singles->nelts;
    sg_item_t **sorted = apr_palloc(pool, sizeof(sg_item_t *) * (apr_size_t)(n + 1));
    *cap = 1;
    for (int i = 0; i < n; i++) {
        sorted[i] = APR_ARRAY_IDX(plan->singles, i, sg_item_t *);
        *cap += strlen(sorted[i]->page.out) + 66;
    }
    for (int i = 0; i < plan->shards->nelts; i++)
        *cap += strlen(APR_ARRAY_IDX(plan->shards, i, sg_shard_t).path) + 68;
    *cap += 80;
    qsort(sorted, (size_t)n, sizeof(sg_item_t *), cmp_item_outs);
    return sorted;
}

apr_status_t sg_manifest_write(const sg_plan_t *plan, const char *dir, apr_pool_t *pool)
{
    apr_size_t cap, len = 0;
    sg_item_t **sorted = sorted_singles(&cap, plan, pool);
    char *buf = apr_palloc(pool, cap);
    for (int i = 0; i < plan->singles->nelts; i++) {
        apr_size_t ol = strlen(sorted[i]->page.out);
        memcpy(buf + len, sorted[i]->page.fp, 64);
        buf[len + 64] = ' ';
        memcpy(buf + len + 65, sorted[i]->page.out, ol);
        buf[len + 65 + ol] = '\n';
        len += 66 + ol;
    }
    for (int i = 0; i < plan->shards->nelts; i++) {
        const sg_shard_t *g = &APR_ARRAY_IDX(plan->shards, i, sg_shard_t);
        len += (apr_size_t)sprintf(buf + len, "%s @%s\n", g->fp, g->path);
    }
    len += (apr_size_t)sprintf(buf + len, "%s !global\n", plan->global);
    return sg_file_write(apr_pstrcat(pool, dir, "/" STP_BUILD_MANIFEST, NULL), buf, len, pool);
}
