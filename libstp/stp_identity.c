#include "stp_identity.h"

#include <string.h>
#include <strings.h>

#include <apr_strings.h>

void stp_identity_from_claims(stp_user_t *user, const char **email, const stp_claims_map_t *map, stp_claim_fn *claim,
                              void *baton, apr_pool_t *pool)
{
    const char *sub = claim(baton, map->user_claim);
    const char *iss = claim(baton, map->issuer_claim);
    memset(user, 0, sizeof *user);
    if (email)
        *email = NULL;
    if (!sub || !*sub)
        return;
    /* issuer and subject: a subject is unique only within its issuer */
    user->key = apr_pstrcat(pool, iss ? iss : "", "|", sub, NULL);
    const char *tid = map->tenant_claim ? claim(baton, map->tenant_claim) : NULL;
    if (tid && *tid) {
        int consumer = 0;
        for (int i = 0; map->consumer_tenants && i < map->consumer_tenants->nelts; i++)
            consumer |= !strcmp(APR_ARRAY_IDX(map->consumer_tenants, i, const char *), tid);
        if (!consumer)
            user->tenant = apr_pstrdup(pool, tid);
    }
    if (user->tenant && map->admin_claim && map->admin_value)
        user->tenant_admin = stp_access_list_has(claim(baton, map->admin_claim), map->admin_value);
    if (map->staff_claim && map->staff_value)
        user->staff = stp_access_list_has(claim(baton, map->staff_claim), map->staff_value);
    if (email && map->email_claim) {
        const char *e = claim(baton, map->email_claim);
        *email = e && *e ? apr_pstrdup(pool, e) : NULL;
    }
}

const char *stp_identity_personal_reason(const stp_claims_map_t *map, stp_claim_fn *claim, void *baton,
                                         apr_pool_t *pool)
{
    const char *sub = claim(baton, map->user_claim);
    if (!sub || !*sub)
        return NULL;
    if (!map->tenant_claim)
        return "no tenant claim is configured (StpTenantClaim)";
    const char *tid = claim(baton, map->tenant_claim);
    if (!tid)
        return apr_psprintf(pool, "the tenant claim %s (StpTenantClaim) is missing", map->tenant_claim);
    if (!*tid)
        return apr_psprintf(pool, "the tenant claim %s (StpTenantClaim) is empty", map->tenant_claim);
    for (int i = 0; map->consumer_tenants && i < map->consumer_tenants->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(map->consumer_tenants, i, const char *), tid))
            return apr_psprintf(pool, "the tenant claim %s is %s, one of StpConsumerTenants", map->tenant_claim, tid);
    return NULL;
}

int stp_identity_email_verified(const stp_claims_map_t *map, stp_claim_fn *claim, void *baton)
{
    const char *v = claim(baton, map->email_verified_claim ? map->email_verified_claim : "email_verified");
    if (!v || !*v)
        return 1;
    return !strcasecmp(v, "true") || !strcmp(v, "1");
}

int stp_identity_return_ok(const char *target)
{
    if (!target || target[0] != '/' || target[1] == '/' || target[1] == '\\')
        return 0;
    for (const unsigned char *p = (const unsigned char *)target; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return 0;
    return 1;
}
