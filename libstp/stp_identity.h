/* stp_identity: the user from the identity provider's claims, and the one rule for where a
 * sign-in may send the user back to. */
#ifndef STP_IDENTITY_H
#define STP_IDENTITY_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "stp_access.h"

/* How claims map to a user (the module's directives). */
typedef struct {
    const char *user_claim;               /* subject, e.g. "sub" */
    const char *issuer_claim;             /* e.g. "iss" */
    const char *tenant_claim;             /* e.g. "tid" */
    const char *email_claim;              /* e.g. "email" */
    const char *admin_claim;              /* e.g. "roles" */
    const char *admin_value;              /* e.g. "GlobalAdmin" */
    apr_array_header_t *consumer_tenants; /* const char *: tenants that mean a personal account */
    const char *email_verified_claim;     /* NULL: "email_verified" */
    const char *staff_claim;              /* e.g. "roles": portal-wide staff; NULL: nobody is */
    const char *staff_value;              /* e.g. "PortalStaff" */
} stp_claims_map_t;

/* Builds the user: anonymous without a subject; personal without a tenant or with a consumer
 * tenant; an organisation member otherwise; an administrator when the admin claim (a
 * comma-separated list) holds the admin value; staff when the staff claim holds the staff value.
 * Also returns the e-mail address when wanted. */
void stp_identity_from_claims(stp_user_t *user, const char **email, const stp_claims_map_t *map, stp_claim_fn *claim,
                              void *baton, apr_pool_t *pool);

/* Why stp_identity_from_claims made a signed-in user a personal account, for the operator: which
 * claim (by the map's name) was missing or empty, or that its value is a consumer tenant. NULL for
 * anonymous users and organisation members. */
const char *stp_identity_personal_reason(const stp_claims_map_t *map, stp_claim_fn *claim, void *baton,
                                         apr_pool_t *pool);

/* Whether the provider vouches for the e-mail address: 0 when the email_verified claim says
 * "false" or "0" (mod_auth_openidc passes JSON booleans either way) or holds anything else it
 * cannot be sure of; 1 for "true" or "1", and when the claim is absent, as providers that never
 * send it (Microsoft Entra ID for work accounts) issue only addresses of their own domains. */
int stp_identity_email_verified(const stp_claims_map_t *map, stp_claim_fn *claim, void *baton);

/* 1 when `target` is a local path that a redirect may use: starts with one "/", no scheme, no
 * host ("//", "/\\"), no control characters. */
int stp_identity_return_ok(const char *target);

#endif
