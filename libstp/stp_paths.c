#include "stp_paths.h"
#include "stp_layout.h"

#include <apr_strings.h>
#include <string.h>

void stp_paths_shard(char out[3], const char *id)
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

const char *stp_paths_doc_page(const char *tenant, const char *lang, const char *id, apr_pool_t *pool)
{
    char shard[3];
    stp_paths_shard(shard, id);
    if (tenant)
        return apr_pstrcat(pool, STP_BUILD_TENANTS "/", tenant, "/", lang, "/docs/", shard, "/", id, ".html", NULL);
    return apr_pstrcat(pool, STP_BUILD_PUBLIC "/", lang, "/docs/", shard, "/", id, ".html", NULL);
}

const char *stp_paths_doc_image(const char *tenant, const char *id, const char *name, apr_pool_t *pool)
{
    char shard[3];
    stp_paths_shard(shard, id);
    if (tenant)
        return apr_pstrcat(pool, STP_BUILD_TENANTS "/", tenant, "/docs/", shard, "/", id, "/", name, NULL);
    return apr_pstrcat(pool, STP_BUILD_PUBLIC "/docs/", shard, "/", id, "/", name, NULL);
}

static const struct {
    const char *ext, *type;
} image_types[] = {{"png", "image/png"}, {"jpg", "image/jpeg"}, {"gif", "image/gif"}, {"webp", "image/webp"}};

apr_size_t stp_paths_image_len(const char *s)
{
    apr_size_t n = 0;
    while (n < 32 && ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
        n++;
    if (n != 32 || s[n] != '.')
        return 0;
    for (size_t i = 0; i < sizeof image_types / sizeof *image_types; i++)
        if (!strcmp(s + 33, image_types[i].ext))
            return 33 + strlen(image_types[i].ext);
    return 0;
}

const char *stp_paths_image_type(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (!stp_paths_image_len(base))
        return NULL;
    for (size_t i = 0; i < sizeof image_types / sizeof *image_types; i++)
        if (!strcmp(base + 33, image_types[i].ext))
            return image_types[i].type;
    return NULL;
}

/* After "/docs/<id>" of a page URL: "" (redirect), "/" (the page) or "/<image name>". Sets
 * *image to the image's name, or NULL for the page. APR_NOTFOUND for anything else. */
static apr_status_t page_or_image(const char **image, const char *rest)
{
    *image = NULL;
    if (!*rest)
        return APR_INCOMPLETE;
    if (!strcmp(rest, "/"))
        return APR_SUCCESS;
    if (rest[0] == '/' && stp_paths_image_len(rest + 1)) {
        *image = rest + 1;
        return APR_SUCCESS;
    }
    return APR_NOTFOUND;
}

const char *stp_paths_file(const char *id, const char *name, apr_pool_t *pool)
{
    char shard[3];
    stp_paths_shard(shard, id);
    return apr_pstrcat(pool, shard, "/", id, "/", name, NULL);
}

/* [a-z0-9] with inner hyphens, 1..64: the content format's ident. */
apr_size_t stp_paths_ident_len(const char *s)
{
    apr_size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || (s[n] == '-' && n > 0))
        n++;
    while (n > 0 && s[n - 1] == '-')
        n--;
    return n <= 64 ? n : 0;
}

/* [A-Za-z0-9] with inner hyphens, 1..64: tenant ids, which the content format takes exactly as
 * the identity provider sends them. */
apr_size_t stp_paths_tenant_len(const char *s)
{
    apr_size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
           (s[n] == '-' && n > 0))
        n++;
    while (n > 0 && s[n - 1] == '-')
        n--;
    return n <= 64 ? n : 0;
}

/* [a-z]{2,3} optionally followed by -Region: the locale ids sitegen accepts. */
apr_size_t stp_paths_lang_len(const char *s)
{
    apr_size_t n = 0;
    while (s[n] >= 'a' && s[n] <= 'z')
        n++;
    if (n < 2 || n > 3)
        return 0;
    if (s[n] == '-') {
        apr_size_t m = 1;
        while ((s[n + m] >= 'a' && s[n + m] <= 'z') || (s[n + m] >= 'A' && s[n + m] <= 'Z') ||
               (s[n + m] >= '0' && s[n + m] <= '9'))
            m++;
        if (m < 3 || m > 9)
            return 0;
        n += m;
    }
    return n;
}

apr_status_t stp_paths_from_url(const char **rel, const char *uri, apr_pool_t *pool)
{
    if (!uri || uri[0] != '/')
        return APR_NOTFOUND;
    apr_size_t ll = stp_paths_lang_len(uri + 1);
    if (!ll || strncmp(uri + 1 + ll, "/docs/", 6))
        return APR_NOTFOUND;
    const char *id = uri + 1 + ll + 6, *image;
    apr_size_t il = stp_paths_ident_len(id);
    apr_status_t rv = il ? page_or_image(&image, id + il) : APR_NOTFOUND;
    if (rv != APR_SUCCESS)
        return rv;
    id = apr_pstrmemdup(pool, id, il);
    *rel = image ? stp_paths_doc_image(NULL, id, image, pool)
                 : stp_paths_doc_page(NULL, apr_pstrmemdup(pool, uri + 1, ll), id, pool);
    return APR_SUCCESS;
}

apr_status_t stp_paths_from_org_url(const char **rel, const char *tenant, const char *uri, apr_pool_t *pool)
{
    if (!uri || uri[0] != '/')
        return APR_NOTFOUND;
    apr_size_t ll = stp_paths_lang_len(uri + 1);
    if (!ll || strncmp(uri + 1 + ll, "/org", 4) || (uri[5 + ll] != '\0' && uri[5 + ll] != '/'))
        return APR_NOTFOUND;
    const char *lang = apr_pstrmemdup(pool, uri + 1, ll), *rest = uri + 5 + ll;
    /* The tenant comes from a claim: it names a directory only if it is a plain id. */
    if (tenant && (!*tenant || stp_paths_tenant_len(tenant) != strlen(tenant)))
        return APR_ENOENT;
    if (!*rest)
        return APR_INCOMPLETE;
    if (!strcmp(rest, "/")) {
        if (tenant)
            *rel = apr_pstrcat(pool, STP_BUILD_TENANTS "/", tenant, "/", lang, "/index.html", NULL);
        return APR_SUCCESS;
    }
    if (strncmp(rest, "/docs/", 6))
        return APR_ENOENT;
    const char *id = rest + 6, *image;
    apr_size_t il = stp_paths_ident_len(id);
    apr_status_t rv = il ? page_or_image(&image, id + il) : APR_NOTFOUND;
    if (rv != APR_SUCCESS)
        return rv == APR_NOTFOUND ? APR_ENOENT : rv;
    id = apr_pstrmemdup(pool, id, il);
    if (tenant)
        *rel = image ? stp_paths_doc_image(tenant, id, image, pool) : stp_paths_doc_page(tenant, lang, id, pool);
    return APR_SUCCESS;
}
