#include "stp_access.h"

#include <string.h>

#include "stp_retention.h"

const char *stp_access_decision_name(stp_decision_t decision)
{
    static const char *const names[] = {"serve", "signin",    "accept-nda",  "personal",
                                        "gone",  "not-found", "requirement", "unlisted"};
    return (unsigned)decision < sizeof names / sizeof names[0] ? names[decision] : "not-found";
}

int stp_access_member(const stp_user_t *user, const apr_array_header_t *tenants)
{
    /* An unlisted member has none of the organisation's features, its documents and pages alike. */
    if (!user || !user->key || !user->tenant || user->unlisted)
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

int stp_access_list_has(const char *list, const char *value)
{
    apr_size_t vl = value ? strlen(value) : 0;
    if (!vl)
        return 0;
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        apr_size_t n = end ? (apr_size_t)(end - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n == vl && !strncmp(p, value, n))
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static int requirement_met(const stp_user_t *user, const stp_require_t *q)
{
    switch (q->kind) {
    case STP_REQUIRE_ROLE:
        /* The only role so far; an unknown one (a newer catalog) holds for nobody. */
        return !strcmp(q->name, "tenant-admin") && user->tenant && user->tenant_admin && !user->unlisted;
    case STP_REQUIRE_CLAIM:
        return user->claim && stp_access_list_has(user->claim(user->claim_baton, q->name), q->value);
    }
    return 0;
}

int stp_access_requirements_met(const stp_user_t *user, const apr_array_header_t *requires)
{
    if (!requires || requires->nelts == 0)
        return 1;
    if (!user || !user->key)
        return 0;
    for (int i = 0; i < requires->nelts; i++)
        if (!requirement_met(user, &APR_ARRAY_IDX(requires, i, stp_require_t)))
            return 0;
    return 1;
}

int stp_access_offered(const stp_user_t *user, const stp_doc_t *doc)
{
    return stp_access_visible(user, doc) && stp_access_requirements_met(user, doc->requires);
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
    int requires = doc && doc->requires && doc->requires->nelts;

    /* Tenant documents do not exist for anyone else, retired or not. */
    if (!stp_access_visible(user, doc))
        return STP_DECIDE_NOT_FOUND;
    if (is_retired(doc, today, retention_months))
        return STP_DECIDE_GONE;
    /* Who the user is comes first (sign in, organisation account, listed), then what they hold
     * (requirements), then what they did (the NDA): nobody accepts an NDA for a file they cannot
     * have. Requirements need a signed-in user even on a public document (sitegen refuses those). */
    if (!signed_in && (doc->access != STP_ACCESS_PUBLIC || requires))
        return STP_DECIDE_SIGNIN;
    if (doc->access == STP_ACCESS_NDA && !organisation)
        return STP_DECIDE_PERSONAL;
    if (doc->access == STP_ACCESS_NDA && user->unlisted)
        return STP_DECIDE_UNLISTED;
    if (!stp_access_requirements_met(user, doc->requires))
        return STP_DECIDE_REQUIREMENT;
    switch (doc->access) {
    case STP_ACCESS_PUBLIC:
    case STP_ACCESS_SIGNIN:
        return STP_DECIDE_SERVE;
    case STP_ACCESS_NDA:
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
