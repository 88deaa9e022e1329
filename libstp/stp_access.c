#include "stp_access.h"

#include <string.h>

#include "stp_retention.h"

const char *stp_access_decision_name(stp_decision_t decision)
{
    static const char *const names[] = {"serve", "signin", "accept-nda", "personal", "gone", "not-found"};
    return (unsigned)decision < sizeof names / sizeof names[0] ? names[decision] : "not-found";
}

int stp_access_member(const stp_user_t *user, const apr_array_header_t *tenants)
{
    if (!user || !user->key || !user->tenant)
        return 0;
    if (!tenants || tenants->nelts == 0)
        return 1;
    for (int i = 0; i < tenants->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(tenants, i, const char *), user->tenant))
            return 1;
    return 0;
}

int stp_access_visible(const stp_user_t *user, const stp_doc_t *doc)
{
    if (!doc)
        return 0;
    if (doc->access != STP_ACCESS_TENANT)
        return 1;
    /* A tenant document always names its tenants (sitegen refuses one without). */
    return doc->tenants && doc->tenants->nelts && stp_access_member(user, doc->tenants);
}

int stp_access_needs_nda(const stp_doc_t *doc)
{
    return doc && (doc->access == STP_ACCESS_NDA || (doc->access == STP_ACCESS_TENANT && doc->nda));
}

static int is_retired(const stp_doc_t *doc, stp_day_t today, int retention_months)
{
    if (!doc->retired)
        return 0; /* the current version */
    stp_day_t end = retention_months > 0 ? stp_retention_end(doc->published, retention_months) : doc->retired;
    return today >= end;
}

stp_decision_t stp_access_decide(const stp_user_t *user, const stp_doc_t *doc, stp_day_t today, int nda_accepted,
                                 int retention_months)
{
    int signed_in = user && user->key;
    int organisation = signed_in && user->tenant;

    /* Tenant documents do not exist for anyone else, retired or not. */
    if (!stp_access_visible(user, doc))
        return STP_DECIDE_NOT_FOUND;
    if (is_retired(doc, today, retention_months))
        return STP_DECIDE_GONE;
    switch (doc->access) {
    case STP_ACCESS_PUBLIC:
        return STP_DECIDE_SERVE;
    case STP_ACCESS_SIGNIN:
        return signed_in ? STP_DECIDE_SERVE : STP_DECIDE_SIGNIN;
    case STP_ACCESS_NDA:
        if (!signed_in)
            return STP_DECIDE_SIGNIN;
        if (!organisation)
            return STP_DECIDE_PERSONAL;
        return nda_accepted ? STP_DECIDE_SERVE : STP_DECIDE_ACCEPT_NDA;
    case STP_ACCESS_TENANT:
        return !doc->nda || nda_accepted ? STP_DECIDE_SERVE : STP_DECIDE_ACCEPT_NDA;
    }
    return STP_DECIDE_NOT_FOUND;
}

const char *stp_access_user_kind(const stp_user_t *u)
{
    return !u->key ? "anonymous" : !u->tenant ? "personal" : u->tenant_admin ? "tenant-admin" : "member";
}
