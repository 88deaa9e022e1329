/* mod_stp_admin: /stp/admin, an organisation's settings: its industries and regions, its access
 * mode, its people and their roles, and the log of changes. Who may do what is the core's
 * (stp_org_may); this file turns forms into those calls and the answers into pages. Everyone who
 * may not see the settings gets the 404 of an unknown page. */
#include <httpd.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_date.h"
#include "stp_http.h"

#define FORM_LIMIT (1024 * 1024) /* read only for those who may see the settings */
#define FORM_FIELDS 256
#define LOG_SHOWN 100

static apr_array_header_t *meta_list(stp_req_t *q, const char *key);
static int listed(const apr_array_header_t *a, const char *s);

static int tenant_seen(stp_req_t *q, const char *t)
{
    return mod_stp_state(q) ? stp_org_tenant_seen(mod_stp_state(q), t) : -1;
}

/* The organisation this request is about: a staff member's ?tenant= (or form field), else the
 * user's own. NULL when there is none to show. */
static const char *target_of(stp_req_t *q, apr_table_t *form)
{
    const char *t = form ? apr_table_get(form, "tenant") : NULL;
    if (!t)
        t = apr_table_get(q->query, "tenant");
    if (t && q->user.staff) {
        for (const char *p = t; *p; p++)
            if (!apr_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
                return NULL;
        /* An organisation of site.xml, or one whose members have signed in: not any string,
         * which would let a typo create settings nobody will ever use. */
        return *t && strlen(t) <= 256 && (listed(meta_list(q, "tenants"), t) || tenant_seen(q, t) > 0) ? t : NULL;
    }
    return q->user.tenant;
}

static stp_org_actor_t actor_of(stp_req_t *q, const char *tenant)
{
    int own = q->user.tenant && tenant && !strcmp(q->user.tenant, tenant);
    stp_org_actor_t a = {q->user.key, q->email_verified ? q->email : NULL, own ? q->org_role : STP_ROLE_NONE,
                         q->user.staff};
    return a;
}

/* A space-separated list from the catalog's meta as an array. */
static apr_array_header_t *meta_list(stp_req_t *q, const char *key)
{
    apr_array_header_t *a = apr_array_make(q->r->pool, 8, sizeof(const char *));
    const char *v = q->build ? stp_catalog_get_meta(q->build->cat, key, q->r->pool) : NULL;
    char *state, *copy = apr_pstrdup(q->r->pool, v ? v : "");
    for (char *t = apr_strtok(copy, " ", &state); t; t = apr_strtok(NULL, " ", &state))
        APR_ARRAY_PUSH(a, const char *) = t;
    return a;
}

static int listed(const apr_array_header_t *a, const char *s)
{
    for (int i = 0; a && i < a->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(a, i, const char *), s))
            return 1;
    return 0;
}

/* The domains an address of `tenant` may have: configured in site.xml, or seen in its members'
 * verified addresses. */
static apr_status_t domains_of(apr_array_header_t **out, stp_req_t *q, const char *tenant)
{
    apr_array_header_t *seen;
    *out = meta_list(q, apr_pstrcat(q->r->pool, "domains.", tenant, NULL));
    apr_status_t rv = stp_org_seen_domains(&seen, mod_stp_state(q), tenant, q->r->pool);
    for (int i = 0; rv == APR_SUCCESS && i < seen->nelts; i++)
        if (!listed(*out, APR_ARRAY_IDX(seen, i, const char *)))
            APR_ARRAY_PUSH(*out, const char *) = APR_ARRAY_IDX(seen, i, const char *);
    return rv;
}

static const char *org_name(stp_req_t *q, const char *tenant)
{
    const char *name = mod_stp_msg(q, apr_pstrcat(q->r->pool, "org.name.", tenant, NULL));
    return strncmp(name, "org.name.", 9) ? name : tenant;
}

static const char *time_text(stp_req_t *q, apr_time_t t)
{
    char buf[APR_RFC822_DATE_LEN];
    apr_time_exp_t e;
    apr_time_exp_gmt(&e, t);
    apr_size_t n;
    apr_strftime(buf, &n, sizeof buf, "%Y-%m-%d %H:%M UTC", &e);
    return apr_pstrdup(q->r->pool, buf);
}

static void terms(stp_req_t *q, xmlNodePtr parent, const char *what, const apr_array_header_t *chosen)
{
    const apr_array_header_t *all = meta_list(q, apr_pstrcat(q->r->pool, "vocab.", what, NULL));
    const char *prefix = !strcmp(what, "industries") ? "label.industry." : "label.region.";
    for (int i = 0; i < all->nelts; i++) {
        const char *id = APR_ARRAY_IDX(all, i, const char *);
        xmlNodePtr t = mod_stp_el(parent, "term", mod_stp_msg(q, apr_pstrcat(q->r->pool, prefix, id, NULL)));
        mod_stp_attr(t, "id", id);
        if (listed(chosen, id))
            mod_stp_attr(t, "checked", "yes");
    }
}

typedef struct {
    stp_req_t *q;
    xmlNodePtr log;
} log_baton_t;

static int log_row(void *baton, const stp_org_change_t *c)
{
    log_baton_t *b = baton;
    xmlNodePtr e = mod_stp_el(b->log, "change", NULL);
    mod_stp_attr(e, "when", time_text(b->q, c->when));
    mod_stp_attr(e, "who", *c->actor_email ? c->actor_email : c->actor);
    mod_stp_attr(e, "action", c->action);
    mod_stp_attr(e, "subject", c->subject);
    mod_stp_attr(e, "before", c->before);
    mod_stp_attr(e, "after", c->after);
    return 0;
}

/* Staff without an organisation chosen: the organisations of the site to choose from. */
static int choose_page(request_rec *r, stp_req_t *q)
{
    xmlNodePtr page = mod_stp_page_start(q, "admin", mod_stp_msg(q, "admin.title"));
    xmlNodePtr a = mod_stp_el(page, "admin", NULL);
    mod_stp_attr(a, "staff", "yes");
    xmlNodePtr orgs = mod_stp_el(a, "orgs", NULL);
    const apr_array_header_t *tenants = meta_list(q, "tenants");
    for (int i = 0; i < tenants->nelts; i++) {
        const char *t = APR_ARRAY_IDX(tenants, i, const char *);
        mod_stp_attr(mod_stp_el(orgs, "org", org_name(q, t)), "id", t);
    }
    return mod_stp_page_send(r, q, HTTP_OK, page);
}

/* The settings page; with `error` (a message key) and `status` 400, after a refused change. */
static int settings_page(request_rec *r, stp_req_t *q, const char *tenant, int status, const char *error,
                         const char *error_arg)
{
    stp_org_settings_t s;
    apr_array_header_t *people, *domains;
    stp_org_actor_t actor = actor_of(q, tenant);
    apr_status_t rv = stp_org_settings_get(&s, mod_stp_state(q), tenant, r->pool);
    if (rv == APR_SUCCESS)
        rv = stp_org_people(&people, mod_stp_state(q), tenant, r->pool);
    if (rv == APR_SUCCESS)
        rv = domains_of(&domains, q, tenant);
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "reading the organisation's settings");
    xmlNodePtr page = mod_stp_page_start(q, "admin", mod_stp_msg(q, "admin.title"));
    xmlNodePtr a = mod_stp_el(page, "admin", NULL);
    mod_stp_attr(a, "tenant", tenant);
    mod_stp_attr(a, "org", org_name(q, tenant));
    mod_stp_attr_slot(q, a, "csrf", mod_stp_csrf_form_token(q, "admin"));
    if (q->user.staff)
        mod_stp_attr(a, "staff", "yes");
    if (stp_org_may(&actor, STP_ORG_MANAGE_ADMIN))
        mod_stp_attr(a, "manage-admins", "yes");
    const char *done = apr_table_get(q->query, "done");
    if (!error && done && !strcmp(done, "1"))
        mod_stp_attr(a, "done", "yes");
    if (error) {
        xmlNodePtr e = mod_stp_el(a, "problem", NULL);
        mod_stp_attr(e, "key", error);
        mod_stp_attr(e, "arg", error_arg ? error_arg : "");
    }
    stp_org_mode_t mode = s.mode != STP_ORG_MODE_DEFAULT ? s.mode : (stp_org_mode_t)q->conf->tenant_mode;
    xmlNodePtr m = mod_stp_el(a, "mode", NULL);
    mod_stp_attr(m, "value", stp_org_mode_name(mode));
    if (s.mode == STP_ORG_MODE_DEFAULT)
        mod_stp_attr(m, "default", "yes");
    terms(q, mod_stp_el(a, "industries", NULL), "industries", s.industries);
    terms(q, mod_stp_el(a, "regions", NULL), "regions", s.regions);
    xmlNodePtr pl = mod_stp_el(a, "people", NULL);
    for (int i = 0; i < people->nelts; i++) {
        const stp_org_person_t *p = &APR_ARRAY_IDX(people, i, stp_org_person_t);
        xmlNodePtr e = mod_stp_el(pl, "person", NULL);
        mod_stp_attr(e, "email", p->email);
        mod_stp_attr(e, "role", stp_org_role_name(p->role));
        mod_stp_attr(e, "since", time_text(q, p->since));
        mod_stp_attr(e, "by", p->by);
        /* Controls only where a change would be allowed: never for an administrator. */
        stp_org_act_t need = p->role == STP_ROLE_ADMIN ? STP_ORG_MANAGE_ADMIN : STP_ORG_MANAGE_USER;
        if (p->role != STP_ROLE_ADMINISTRATOR && stp_org_may(&actor, need))
            mod_stp_attr(e, "editable", "yes");
    }
    xmlNodePtr ds = mod_stp_el(a, "domains", NULL);
    mod_stp_attr(ds, "text", apr_array_pstrcat(r->pool, domains, ' '));
    for (int i = 0; i < domains->nelts; i++)
        mod_stp_el(ds, "domain", APR_ARRAY_IDX(domains, i, const char *));
    log_baton_t lb = {q, mod_stp_el(a, "log", NULL)};
    if ((rv = stp_org_log(mod_stp_state(q), tenant, LOG_SHOWN, log_row, &lb, r->pool)) != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "reading the organisation's log");
    return mod_stp_page_send(r, q, status, page);
}

/* Every value of a repeated field, each checked against the vocabulary; NULL for an unknown one. */
static apr_array_header_t *chosen(stp_req_t *q, apr_table_t *form, const char *field, const char *vocab,
                                  const char **bad)
{
    const apr_array_header_t *all = meta_list(q, vocab);
    apr_array_header_t *out = apr_array_make(q->r->pool, 4, sizeof(const char *));
    const apr_array_header_t *f = apr_table_elts(form);
    for (int i = 0; i < f->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(f, i, apr_table_entry_t);
        if (strcmp(e->key, field))
            continue;
        if (!listed(all, e->val)) {
            *bad = e->val;
            return NULL;
        }
        if (!listed(out, e->val))
            APR_ARRAY_PUSH(out, const char *) = e->val;
    }
    return out;
}

static int back(request_rec *r, stp_req_t *q, const char *tenant)
{
    return mod_stp_redirect(r, HTTP_SEE_OTHER,
                            apr_pstrcat(r->pool, "/stp/admin?lang=", q->lang, "&done=1",
                                        q->user.staff ? "&tenant=" : "",
                                        q->user.staff ? stp_http_url_escape(tenant, r->pool) : "", NULL));
}

/* A person's address and role from the form, checked: the page with a message when refused. */
static int person_change(request_rec *r, stp_req_t *q, const char *tenant, apr_table_t *form, const char *action,
                         const stp_org_actor_t *actor)
{
    const char *raw = apr_table_get(form, "email");
    const char *email = stp_org_email_normal(raw, r->pool);
    if (!email)
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.email", raw ? raw : "");
    stp_role_t old, role = STP_ROLE_NONE;
    int revoke = !strcmp(action, "revoke");
    if (!revoke && stp_org_role_parse(&role, apr_table_get(form, "role")) != APR_SUCCESS)
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.input", "");
    apr_status_t rv = stp_org_role_get(&old, mod_stp_state(q), tenant, email);
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "reading the organisation's people");
    if (old == STP_ROLE_ADMINISTRATOR)
        return settings_page(r, q, tenant, HTTP_FORBIDDEN, "admin.error.administrator", email);
    if (revoke && old == STP_ROLE_NONE)
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.notlisted", email);
    if (!stp_org_may(actor,
                     old == STP_ROLE_ADMIN || role == STP_ROLE_ADMIN ? STP_ORG_MANAGE_ADMIN : STP_ORG_MANAGE_USER))
        return settings_page(r, q, tenant, HTTP_FORBIDDEN, "admin.error.adminonly", "");
    if (!revoke) {
        apr_array_header_t *domains;
        if ((rv = domains_of(&domains, q, tenant)) != APR_SUCCESS)
            return mod_stp_state_error(r, q, rv, "reading the organisation's domains");
        if (!listed(domains, stp_org_email_domain(email)))
            return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.domain", email);
    }
    rv = revoke ? stp_org_person_revoke(mod_stp_state(q), tenant, email, actor, r->request_time)
                : stp_org_person_put(mod_stp_state(q), tenant, email, role, actor, r->request_time);
    if (APR_STATUS_IS_EACCES(rv)) /* listed as administrator meanwhile */
        return settings_page(r, q, tenant, HTTP_FORBIDDEN, "admin.error.administrator", email);
    if (APR_STATUS_IS_ENOSPC(rv))
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.full", apr_itoa(r->pool, STP_ORG_MAX_PEOPLE));
    if (APR_STATUS_IS_NOTFOUND(rv))
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.notlisted", email);
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "changing the organisation's people");
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "stp: %s %s %s in organisation %s%s%s", q->user.key, action, email,
                  tenant, revoke ? "" : " as ", revoke ? "" : stp_org_role_name(role));
    return back(r, q, tenant);
}

static int admin_post(request_rec *r, stp_req_t *q)
{
    apr_table_t *form;
    /* Nobody else's body is read: the same 404 as for anything unknown, at once. */
    stp_org_actor_t self = actor_of(q, q->user.tenant);
    if (!q->user.staff && !stp_org_may(&self, STP_ORG_VIEW))
        return HTTP_NOT_FOUND;
    int rc = mod_stp_form_read_multi(&form, r, FORM_LIMIT, FORM_FIELDS);
    if (rc != OK)
        return rc;
    const char *tenant = target_of(q, form);
    stp_org_actor_t actor = actor_of(q, tenant);
    if (!tenant || !stp_org_may(&actor, STP_ORG_VIEW))
        return HTTP_NOT_FOUND;
    if (!mod_stp_csrf_valid(r, q, form, "admin"))
        return mod_stp_forbidden(r, q);
    const char *action = apr_table_get(form, "action");
    if (!action)
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.input", "");
    if (!strcmp(action, "add") || !strcmp(action, "role") || !strcmp(action, "revoke"))
        return person_change(r, q, tenant, form, action, &actor);
    if (strcmp(action, "settings") && strcmp(action, "mode"))
        return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.input", "");
    stp_org_settings_t s;
    apr_status_t rv = stp_org_settings_get(&s, mod_stp_state(q), tenant, r->pool);
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "reading the organisation's settings");
    if (!strcmp(action, "mode")) {
        if (stp_org_mode_parse(&s.mode, apr_table_get(form, "mode")) != APR_SUCCESS)
            return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.input", "");
    } else {
        const char *bad = NULL;
        s.industries = chosen(q, form, "industry", "vocab.industries", &bad);
        s.regions = s.industries ? chosen(q, form, "region", "vocab.regions", &bad) : NULL;
        if (!s.industries || !s.regions)
            return settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.vocab", bad);
    }
    if (!stp_org_may(&actor, STP_ORG_SETTINGS))
        return mod_stp_forbidden(r, q);
    if ((rv = stp_org_settings_put(mod_stp_state(q), tenant, &s, &actor, r->request_time)) != APR_SUCCESS)
        return APR_STATUS_IS_EINVAL(rv) ? settings_page(r, q, tenant, HTTP_BAD_REQUEST, "admin.error.input", "")
                                        : mod_stp_state_error(r, q, rv, "saving the organisation's settings");
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "stp: %s changed the %s of organisation %s", q->user.key, action,
                  tenant);
    return back(r, q, tenant);
}

int mod_stp_admin_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (!q->build || !q->user.key)
        return HTTP_NOT_FOUND;
    if (r->method_number != M_GET && r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!mod_stp_state(q)) /* who may see the settings is in the state, too */
        return mod_stp_state_error(r, q, APR_EGENERAL, "the organisation's settings");
    if (r->method_number == M_POST)
        return admin_post(r, q);
    if (q->user.staff && !apr_table_get(q->query, "tenant"))
        return choose_page(r, q);
    const char *tenant = target_of(q, NULL);
    stp_org_actor_t actor = actor_of(q, tenant);
    if (!tenant || !stp_org_may(&actor, STP_ORG_VIEW))
        return HTTP_NOT_FOUND;
    return settings_page(r, q, tenant, HTTP_OK, NULL, NULL);
}

void mod_stp_admin_contacts(stp_req_t *q, xmlNodePtr parent)
{
    apr_array_header_t *people;
    if (!mod_stp_state(q) || !q->user.tenant ||
        stp_org_people(&people, mod_stp_state(q), q->user.tenant, q->r->pool) != APR_SUCCESS)
        return;
    for (int i = 0; i < people->nelts; i++) {
        const stp_org_person_t *p = &APR_ARRAY_IDX(people, i, stp_org_person_t);
        if (p->role >= STP_ROLE_ADMIN)
            mod_stp_attr(mod_stp_el(parent, "contact", p->email), "role", stp_org_role_name(p->role));
    }
}
