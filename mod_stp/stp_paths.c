#include "stp_paths.h"

#include <apr_strings.h>

void stp_shard(char out[3], const char *id)
{
    /* FNV-1a: stable across builds and platforms, and spreads similar ids apart. */
    apr_uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    static const char hex[] = "0123456789abcdef";
    h %= STP_SHARDS;
    out[0] = hex[(h >> 4) & 15];
    out[1] = hex[h & 15];
    out[2] = '\0';
}

const char *stp_path_doc_page(const char *tenant, const char *lang, const char *id, apr_pool_t *pool)
{
    char shard[3];
    stp_shard(shard, id);
    if (tenant)
        return apr_pstrcat(pool, "tenants/", tenant, "/", lang, "/docs/", shard, "/", id, ".html", NULL);
    return apr_pstrcat(pool, "public/", lang, "/docs/", shard, "/", id, ".html", NULL);
}

const char *stp_path_file(const char *id, const char *name, apr_pool_t *pool)
{
    char shard[3];
    stp_shard(shard, id);
    return apr_pstrcat(pool, shard, "/", id, "/", name, NULL);
}
