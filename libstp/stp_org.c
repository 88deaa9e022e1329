#include "stp_org.h"

#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_lmdb.h"
#include "stp_state_int.h"

#define TENANT_MAX 256
#define TAG_MAX 64

const char *stp_org_mode_name(stp_org_mode_t mode)
{
    return mode == STP_ORG_MODE_ASSIGNED ? "assigned" : mode == STP_ORG_MODE_OPEN ? "open" : "default";
}

apr_status_t stp_org_mode_parse(stp_org_mode_t *mode, const char *name)
{
    if (name && !strcmp(name, "open"))
        *mode = STP_ORG_MODE_OPEN;
    else if (name && !strcmp(name, "assigned"))
        *mode = STP_ORG_MODE_ASSIGNED;
    else
        return APR_EINVAL;
    return APR_SUCCESS;
}

const char *stp_org_role_name(stp_role_t role)
{
    switch (role) {
    case STP_ROLE_USER:
        return "portal-user";
    case STP_ROLE_ADMIN:
        return "portal-admin";
    case STP_ROLE_ADMINISTRATOR:
        return "administrator";
    default:
        return "none";
    }
}

apr_status_t stp_org_role_parse(stp_role_t *role, const char *name)
{
    if (name && !strcmp(name, "portal-user"))
        *role = STP_ROLE_USER;
    else if (name && !strcmp(name, "portal-admin"))
        *role = STP_ROLE_ADMIN;
    else
        return APR_EINVAL;
    return APR_SUCCESS;
}

int stp_org_may(const stp_org_actor_t *a, stp_org_act_t act)
{
    if (!a || !a->user_key)
        return 0;
    if (a->staff || a->role == STP_ROLE_ADMINISTRATOR)
        return 1;
    /* Portal admins run the settings and the portal users; appointing admins stays with the
     * organisation's administrators, so that one portal admin cannot make more of themselves. */
    return a->role == STP_ROLE_ADMIN && act != STP_ORG_MANAGE_ADMIN;
}

/* --- addresses ---------------------------------------------------------------------------------- */

static int email_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(".-_+'", c) != NULL;
}

const char *stp_org_email_normal(const char *email, apr_pool_t *pool)
{
    if (!email)
        return NULL;
    apr_size_t n = strlen(email);
    if (n < 3 || n > STP_ORG_MAX_EMAIL)
        return NULL;
    char *e = apr_pstrmemdup(pool, email, n);
    int at = -1;
    for (apr_size_t i = 0; i < n; i++) {
        if (e[i] >= 'A' && e[i] <= 'Z')
            e[i] = (char)(e[i] - 'A' + 'a');
        if (e[i] == '@') {
            if (at >= 0)
                return NULL;
            at = (int)i;
        } else if (!email_char((unsigned char)e[i])) {
            return NULL;
        }
    }
    /* a local part, and a domain of labels: no empty label, none starting or ending with '-' */
    if (at <= 0 || (apr_size_t)at + 1 >= n || at > 64)
        return NULL;
    const char *d = e + at + 1;
    if (!strchr(d, '.') || d[0] == '.' || e[n - 1] == '.' || strstr(d, "..") || strchr(d, '_') || strchr(d, '+') ||
        strchr(d, '\''))
        return NULL;
    for (const char *p = d; *p; p++)
        if (*p == '-' && (p == d || p[-1] == '.' || p[1] == '.' || !p[1]))
            return NULL;
    return e;
}

const char *stp_org_email_domain(const char *email)
{
    const char *at = email ? strchr(email, '@') : NULL;
    return at ? at + 1 : "";
}

/* The PostgreSQL versions, at the end of this file. */
typedef struct change_t change_t;
static apr_status_t pg_settings_get(stp_org_settings_t *s, stp_state_t *st, const char *tenant, apr_pool_t *pool);
static apr_status_t pg_role(stp_role_t *role, stp_state_t *st, const char *tenant, const char *email, apr_pool_t *pool);
static apr_status_t pg_settings_txn(stp_dbd_conn_t *dbc, void *baton, const char **err, apr_pool_t *pool);
static apr_status_t pg_person_txn(stp_dbd_conn_t *dbc, void *baton, const char **err, apr_pool_t *pool);
static apr_status_t pg_change(stp_state_t *st, change_t *c, stp_dbd_txn_fn *fn);
static apr_status_t pg_member(stp_org_member_t *m, stp_state_t *st, const char *tenant, const char *email,
                              int claim_admin);
static apr_status_t pg_people(apr_array_header_t *people, stp_state_t *st, const char *tenant, apr_pool_t *pool);
static int pg_tenant_seen(stp_state_t *st, const char *tenant);
static apr_status_t pg_verified_emails(apr_array_header_t *emails, stp_state_t *st, const char *tenant,
                                       apr_pool_t *pool);
static apr_status_t pg_log(stp_state_t *st, const char *tenant, int limit, stp_org_change_fn *fn, void *baton,
                           apr_pool_t *pool);
static const char *lower_ascii(const char *s, apr_pool_t *pool);

/* --- records ------------------------------------------------------------------------------------ */

static int tenant_ok(const char *tenant)
{
    return tenant && *tenant && strlen(tenant) <= TENANT_MAX;
}

/* "tenant NUL email" into buf; its length, 0 when it does not fit. */
static apr_size_t person_key(char *buf, apr_size_t size, const char *tenant, const char *email)
{
    apr_size_t tl = strlen(tenant), el = strlen(email);
    if (tl + el + 1 > size)
        return 0;
    memcpy(buf, tenant, tl + 1);
    memcpy(buf + tl + 1, email, el);
    return tl + 1 + el;
}

static MDB_val settings_encode(const stp_org_settings_t *s, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_uint(&enc, (uint64_t)s->mode);
    const apr_array_header_t *lists[2] = {s->industries, s->regions};
    for (int l = 0; l < 2; l++) {
        stp_codec_enc_uint(&enc, lists[l] ? (uint64_t)lists[l]->nelts : 0);
        for (int i = 0; lists[l] && i < lists[l]->nelts; i++)
            stp_codec_enc_str(&enc, APR_ARRAY_IDX(lists[l], i, const char *));
    }
    return (MDB_val){enc.len, enc.buf};
}

static apr_status_t settings_decode(stp_org_settings_t *s, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    uint64_t mode = stp_codec_dec_uint(&d);
    s->mode = mode <= STP_ORG_MODE_ASSIGNED ? (stp_org_mode_t)mode : STP_ORG_MODE_DEFAULT;
    apr_array_header_t **lists[2] = {&s->industries, &s->regions};
    for (int l = 0; l < 2; l++) {
        uint64_t n = stp_codec_dec_count(&d, 1);
        *lists[l] = apr_array_make(pool, (int)n + 1, sizeof(const char *));
        for (uint64_t i = 0; i < n; i++)
            APR_ARRAY_PUSH(*lists[l], const char *) = stp_codec_dec_str(&d, pool);
    }
    return stp_codec_dec_finish(&d);
}

static void settings_empty(stp_org_settings_t *s, apr_pool_t *pool)
{
    s->mode = STP_ORG_MODE_DEFAULT;
    s->industries = apr_array_make(pool, 1, sizeof(const char *));
    s->regions = apr_array_make(pool, 1, sizeof(const char *));
}

apr_status_t stp_org_settings_get(stp_org_settings_t *s, stp_state_t *st, const char *tenant, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_val v;
    settings_empty(s, pool);
    if (!tenant_ok(tenant))
        return APR_SUCCESS;
    if (st->dbd)
        return pg_settings_get(s, st, tenant, pool);
    MDB_val k = {strlen(tenant), (void *)tenant};
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    rc = mdb_get(txn, st->orgs, &k, &v);
    apr_status_t rv = rc == MDB_NOTFOUND ? APR_SUCCESS : rc ? stp_lmdb_status(rc) : settings_decode(s, &v, pool);
    stp_state_read_end(st, txn);
    return rv;
}

static apr_status_t person_decode(stp_org_person_t *p, const MDB_val *k, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    const char *key = k->mv_data;
    apr_size_t tl = strnlen(key, k->mv_size);
    if (tl >= k->mv_size)
        return APR_EGENERAL;
    p->email = apr_pstrmemdup(pool, key + tl + 1, k->mv_size - tl - 1);
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    uint64_t role = stp_codec_dec_uint(&d);
    p->role = role >= STP_ROLE_USER && role <= STP_ROLE_ADMINISTRATOR ? (stp_role_t)role : STP_ROLE_NONE;
    p->since = (apr_time_t)stp_codec_dec_int(&d);
    p->by = stp_codec_dec_str(&d, pool);
    return stp_codec_dec_finish(&d);
}

static MDB_val person_encode(stp_role_t role, apr_time_t since, const char *by, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_uint(&enc, (uint64_t)role);
    stp_codec_enc_int(&enc, since);
    stp_codec_enc_str(&enc, by);
    return (MDB_val){enc.len, enc.buf};
}

/* The role in a stored record, read in place. */
static stp_role_t role_of(const MDB_val *v)
{
    stp_dec_t d;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    uint64_t role = stp_codec_dec_uint(&d);
    return role >= STP_ROLE_USER && role <= STP_ROLE_ADMINISTRATOR ? (stp_role_t)role : STP_ROLE_NONE;
}

static int role_read(stp_state_t *st, MDB_txn *txn, const char *tenant, const char *email, stp_role_t *role)
{
    char buf[TENANT_MAX + STP_ORG_MAX_EMAIL + 2], low[STP_ORG_MAX_EMAIL + 1];
    MDB_val v;
    apr_size_t el = strlen(email);
    *role = STP_ROLE_NONE;
    if (el > STP_ORG_MAX_EMAIL)
        return 0;
    for (apr_size_t i = 0; i <= el; i++)
        low[i] = email[i] >= 'A' && email[i] <= 'Z' ? (char)(email[i] - 'A' + 'a') : email[i];
    MDB_val k = {person_key(buf, sizeof buf, tenant, low), buf};
    if (!k.mv_size)
        return 0;
    int rc = mdb_get(txn, st->org_people, &k, &v);
    if (rc == MDB_SUCCESS)
        *role = role_of(&v);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

apr_status_t stp_org_role_get(stp_role_t *role, stp_state_t *st, const char *tenant, const char *email)
{
    MDB_txn *txn;
    *role = STP_ROLE_NONE;
    if (!tenant_ok(tenant) || !email || !*email)
        return APR_SUCCESS;
    if (st->dbd) {
        if (strlen(email) > STP_ORG_MAX_EMAIL)
            return APR_SUCCESS;
        apr_pool_t *pool = stp_state_scratch_of(st);
        apr_status_t rv = pg_role(role, st, tenant, lower_ascii(email, pool), pool);
        apr_pool_destroy(pool);
        return rv;
    }
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    rc = role_read(st, txn, tenant, email, role);
    stp_state_read_end(st, txn);
    return stp_lmdb_status(rc);
}

apr_status_t stp_org_member(stp_org_member_t *m, stp_state_t *st, const char *tenant, const char *email,
                            int claim_admin, stp_org_mode_t default_mode)
{
    MDB_txn *txn;
    MDB_val v;
    m->mode = default_mode == STP_ORG_MODE_ASSIGNED ? STP_ORG_MODE_ASSIGNED : STP_ORG_MODE_OPEN;
    m->role = claim_admin ? STP_ROLE_ADMINISTRATOR : STP_ROLE_NONE;
    if (!tenant_ok(tenant))
        return APR_SUCCESS;
    if (st->dbd)
        return pg_member(m, st, tenant, email, claim_admin);
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    MDB_val k = {strlen(tenant), (void *)tenant};
    rc = mdb_get(txn, st->orgs, &k, &v);
    if (rc == MDB_SUCCESS) {
        stp_dec_t d;
        stp_codec_dec_init(&d, v.mv_data, v.mv_size);
        uint64_t mode = stp_codec_dec_uint(&d);
        if (mode == STP_ORG_MODE_OPEN || mode == STP_ORG_MODE_ASSIGNED)
            m->mode = (stp_org_mode_t)mode;
        rc = 0;
    } else if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    stp_role_t listed = STP_ROLE_NONE;
    if (!rc && !claim_admin && email && *email && !(rc = role_read(st, txn, tenant, email, &listed)))
        /* A stored "administrator" without the claim today is a portal admin until the next
         * request of theirs corrects the record (stp_org_administrator_note). */
        m->role = listed == STP_ROLE_ADMINISTRATOR ? STP_ROLE_ADMIN : listed;
    stp_state_read_end(st, txn);
    return stp_lmdb_status(rc);
}

static int person_cmp(const void *a, const void *b)
{
    const stp_org_person_t *x = a, *y = b;
    if (x->role != y->role)
        return x->role > y->role ? -1 : 1;
    return strcmp(x->email, y->email);
}

/* Calls fn for every record whose key starts with "tenant NUL". */
typedef int prefix_fn(void *baton, const MDB_val *k, const MDB_val *v);
static int scan_tenant(MDB_txn *txn, MDB_dbi dbi, const char *tenant, prefix_fn *fn, void *baton)
{
    MDB_cursor *cur;
    apr_size_t tl = strlen(tenant) + 1;
    MDB_val k = {tl, (void *)tenant}, v;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < tl || memcmp(k.mv_data, tenant, tl))
            break;
        if ((rc = fn(baton, &k, &v)))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

typedef struct {
    apr_array_header_t *people;
    apr_pool_t *pool;
    apr_status_t rv;
} people_t;

static int people_add(void *baton, const MDB_val *k, const MDB_val *v)
{
    people_t *p = baton;
    stp_org_person_t *person = apr_array_push(p->people);
    if ((p->rv = person_decode(person, k, v, p->pool)) != APR_SUCCESS)
        return MDB_CORRUPTED;
    return 0;
}

apr_status_t stp_org_people(apr_array_header_t **out, stp_state_t *st, const char *tenant, apr_pool_t *pool)
{
    MDB_txn *txn;
    people_t p = {apr_array_make(pool, 8, sizeof(stp_org_person_t)), pool, APR_SUCCESS};
    *out = p.people;
    if (!tenant_ok(tenant))
        return APR_SUCCESS;
    if (st->dbd) {
        apr_status_t rv = pg_people(p.people, st, tenant, pool);
        qsort(p.people->elts, (size_t)p.people->nelts, sizeof(stp_org_person_t), person_cmp);
        return rv;
    }
    int rc = stp_state_read_begin(st, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    rc = scan_tenant(txn, st->org_people, tenant, people_add, &p);
    stp_state_read_end(st, txn);
    qsort(p.people->elts, (size_t)p.people->nelts, sizeof(stp_org_person_t), person_cmp);
    return rc ? (p.rv != APR_SUCCESS ? p.rv : stp_lmdb_status(rc)) : APR_SUCCESS;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int stp_org_tenant_seen(stp_state_t *st, const char *tenant)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int seen = 0;
    if (!tenant_ok(tenant))
        return 0;
    if (st->dbd)
        return pg_tenant_seen(st, tenant);
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return -1;
    if (!(rc = mdb_cursor_open(txn, st->users, &cur))) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !seen; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            stp_dec_t dec;
            stp_codec_dec_init(&dec, v.mv_data, v.mv_size);
            (void)stp_codec_dec_uint(&dec);
            seen = !strcmp(stp_codec_dec_cstr(&dec), tenant);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return seen ? 1 : rc == MDB_NOTFOUND ? 0 : -1;
}

/* Sorted, without duplicates. */
static void domains_unique(apr_array_header_t *d)
{
    qsort(d->elts, (size_t)d->nelts, sizeof(const char *), str_cmp);
    int n = 0;
    for (int i = 0; i < d->nelts; i++)
        if (!n || strcmp(APR_ARRAY_IDX(d, n - 1, const char *), APR_ARRAY_IDX(d, i, const char *)))
            APR_ARRAY_IDX(d, n++, const char *) = APR_ARRAY_IDX(d, i, const char *);
    d->nelts = n;
}

apr_status_t stp_org_seen_domains(apr_array_header_t **out, stp_state_t *st, const char *tenant, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    apr_array_header_t *d = apr_array_make(pool, 4, sizeof(const char *));
    *out = d;
    if (!tenant_ok(tenant))
        return APR_SUCCESS;
    if (st->dbd) {
        apr_array_header_t *emails = apr_array_make(pool, 8, sizeof(const char *));
        apr_status_t rv = pg_verified_emails(emails, st, tenant, pool);
        for (int i = 0; i < emails->nelts; i++) {
            const char *e = stp_org_email_normal(APR_ARRAY_IDX(emails, i, const char *), pool);
            if (e)
                APR_ARRAY_PUSH(d, const char *) = stp_org_email_domain(e);
        }
        domains_unique(d);
        return rv;
    }
    /* The user records are keyed by user, not tenant: a scan, fine for a page administrators open. */
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    if (!(rc = mdb_cursor_open(txn, st->users, &cur))) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            stp_dec_t dec;
            stp_codec_dec_init(&dec, v.mv_data, v.mv_size);
            int verified = stp_codec_dec_uint(&dec) != 0;
            const char *t = stp_codec_dec_cstr(&dec);
            const char *email = stp_codec_dec_cstr(&dec);
            if (!verified || strcmp(t, tenant))
                continue;
            const char *e = stp_org_email_normal(email, pool);
            if (e)
                APR_ARRAY_PUSH(d, const char *) = stp_org_email_domain(e);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    domains_unique(d);
    return rc == MDB_NOTFOUND ? APR_SUCCESS : stp_lmdb_status(rc);
}

/* --- changes ------------------------------------------------------------------------------------ */

static int log_append(MDB_txn *txn, stp_state_t *st, const stp_org_change_t *c, apr_pool_t *pool)
{
    MDB_cursor *cur;
    MDB_val lk, lv;
    apr_uint64_t seq = 1;
    int rc = mdb_cursor_open(txn, st->org_log, &cur);
    if (rc)
        return rc;
    if (mdb_cursor_get(cur, &lk, &lv, MDB_LAST) == MDB_SUCCESS && lk.mv_size == sizeof seq)
        memcpy(&seq, lk.mv_data, sizeof seq), seq++;
    mdb_cursor_close(cur);
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_int(&enc, c->when);
    const char *fields[] = {c->tenant, c->actor, c->actor_email, c->action, c->subject, c->before, c->after};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        stp_codec_enc_str(&enc, fields[i]);
    lk = (MDB_val){sizeof seq, &seq};
    lv = (MDB_val){enc.len, enc.buf};
    return mdb_put(txn, st->org_log, &lk, &lv, MDB_APPEND);
}

static const char *join(const apr_array_header_t *a, apr_pool_t *pool)
{
    return a && a->nelts ? apr_array_pstrcat(pool, a, ' ') : "";
}

static const char *settings_text(const stp_org_settings_t *s, apr_pool_t *pool)
{
    return apr_psprintf(pool, "mode=%s industries=%s regions=%s", stp_org_mode_name(s->mode), join(s->industries, pool),
                        join(s->regions, pool));
}

static int tags_ok(const apr_array_header_t *a)
{
    if (a && a->nelts > STP_ORG_MAX_TAGS)
        return 0;
    for (int i = 0; a && i < a->nelts; i++) {
        const char *t = APR_ARRAY_IDX(a, i, const char *);
        if (!t || !*t || strlen(t) > TAG_MAX)
            return 0;
    }
    return 1;
}

struct change_t {
    stp_state_t *st;
    const char *tenant;
    const stp_org_actor_t *actor;
    apr_time_t when;
    apr_pool_t *pool;
    /* settings */
    const stp_org_settings_t *settings;
    /* people */
    const char *email;
    stp_role_t role;
    int is_admin;
    apr_status_t outcome; /* what the caller answers */
    int changed;
    int note; /* stp_org_administrator_note: the claim's listing, not a person's change */
};

static stp_org_change_t change_of(const change_t *c, const char *action, const char *subject, const char *before,
                                  const char *after)
{
    stp_org_change_t ch = {0,
                           c->when,
                           c->tenant,
                           c->actor ? c->actor->user_key : "",
                           c->actor && c->actor->email ? c->actor->email : "",
                           action,
                           subject ? subject : "",
                           before,
                           after};
    return ch;
}

static int settings_write(MDB_txn *txn, void *baton)
{
    change_t *c = baton;
    stp_org_settings_t old;
    MDB_val k = {strlen(c->tenant), (void *)c->tenant}, v;
    settings_empty(&old, c->pool);
    int rc = mdb_get(txn, c->st->orgs, &k, &v);
    if (rc == MDB_SUCCESS && settings_decode(&old, &v, c->pool) != APR_SUCCESS)
        return MDB_CORRUPTED;
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    const char *before = settings_text(&old, c->pool), *after = settings_text(c->settings, c->pool);
    if (!strcmp(before, after))
        return 0;
    MDB_val nv = settings_encode(c->settings, c->pool);
    /* "mode" when only the access mode changed: the log says what the change was about */
    stp_org_settings_t tags = *c->settings;
    tags.mode = old.mode;
    stp_org_change_t ch =
        change_of(c, strcmp(settings_text(&tags, c->pool), before) ? "settings" : "mode", "", before, after);
    c->changed = 1;
    return (rc = mdb_put(txn, c->st->orgs, &k, &nv, 0)) ? rc : log_append(txn, c->st, &ch, c->pool);
}

apr_status_t stp_org_settings_put(stp_state_t *st, const char *tenant, const stp_org_settings_t *s,
                                  const stp_org_actor_t *actor, apr_time_t when)
{
    if (!tenant_ok(tenant) || !s || !tags_ok(s->industries) || !tags_ok(s->regions) || !actor)
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch_of(st);
    change_t c = {st, tenant, actor, when, pool, s, NULL, STP_ROLE_NONE, 0, APR_SUCCESS, 0, 0};
    if (st->dbd) {
        apr_status_t rv = pg_change(st, &c, pg_settings_txn);
        apr_pool_destroy(pool);
        return rv;
    }
    int rc = stp_state_write(st, settings_write, &c);
    apr_pool_destroy(pool);
    return stp_lmdb_status(rc);
}

static int count_one(void *baton, const MDB_val *k, const MDB_val *v)
{
    (void)k, (void)v;
    ++*(int *)baton;
    return 0;
}

static int person_write(MDB_txn *txn, void *baton)
{
    change_t *c = baton;
    char buf[TENANT_MAX + STP_ORG_MAX_EMAIL + 2];
    MDB_val k = {person_key(buf, sizeof buf, c->tenant, c->email), buf}, v;
    int rc = mdb_get(txn, c->st->org_people, &k, &v);
    stp_role_t old = rc == MDB_SUCCESS ? role_of(&v) : STP_ROLE_NONE;
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (old == STP_ROLE_ADMINISTRATOR) { /* the claim's, not the portal's */
        c->outcome = APR_EACCES;
        return STP_STATE_REFUSED;
    }
    if (old == c->role)
        return 0;
    if (old == STP_ROLE_NONE) {
        int n = 0;
        if ((rc = scan_tenant(txn, c->st->org_people, c->tenant, count_one, &n)))
            return rc;
        if (n >= STP_ORG_MAX_PEOPLE) {
            c->outcome = APR_ENOSPC;
            return STP_STATE_REFUSED;
        }
    }
    MDB_val nv = person_encode(c->role, c->when, c->actor->email ? c->actor->email : c->actor->user_key, c->pool);
    stp_org_change_t ch = change_of(c, old == STP_ROLE_NONE ? "add" : "role", c->email,
                                    old == STP_ROLE_NONE ? "" : stp_org_role_name(old), stp_org_role_name(c->role));
    c->changed = 1;
    return (rc = mdb_put(txn, c->st->org_people, &k, &nv, 0)) ? rc : log_append(txn, c->st, &ch, c->pool);
}

static apr_status_t person_change(stp_state_t *st, const char *tenant, const char *email, stp_role_t role,
                                  const stp_org_actor_t *actor, apr_time_t when, stp_state_write_fn *fn)
{
    if (!tenant_ok(tenant) || !actor || !actor->user_key)
        return APR_EINVAL;
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *e = stp_org_email_normal(email, pool);
    if (!e) {
        apr_pool_destroy(pool);
        return APR_EINVAL;
    }
    change_t c = {st, tenant, actor, when, pool, NULL, e, role, 0, APR_SUCCESS, 0, 0};
    if (st->dbd) {
        apr_status_t rv = pg_change(st, &c, pg_person_txn);
        apr_pool_destroy(pool);
        return rv;
    }
    int rc = stp_state_write(st, fn, &c);
    apr_pool_destroy(pool);
    if (rc == STP_STATE_REFUSED)
        return c.outcome;
    return stp_lmdb_status(rc);
}

apr_status_t stp_org_person_put(stp_state_t *st, const char *tenant, const char *email, stp_role_t role,
                                const stp_org_actor_t *actor, apr_time_t when)
{
    if (role != STP_ROLE_USER && role != STP_ROLE_ADMIN)
        return APR_EINVAL;
    return person_change(st, tenant, email, role, actor, when, person_write);
}

static int revoke_write(MDB_txn *txn, void *baton)
{
    change_t *c = baton;
    char buf[TENANT_MAX + STP_ORG_MAX_EMAIL + 2];
    MDB_val k = {person_key(buf, sizeof buf, c->tenant, c->email), buf}, v;
    int rc = mdb_get(txn, c->st->org_people, &k, &v);
    if (rc)
        return rc; /* MDB_NOTFOUND: nothing to revoke */
    stp_role_t old = role_of(&v);
    if (old == STP_ROLE_ADMINISTRATOR) {
        c->outcome = APR_EACCES;
        return STP_STATE_REFUSED;
    }
    stp_org_change_t ch = change_of(c, "revoke", c->email, stp_org_role_name(old), "");
    c->changed = 1;
    return (rc = mdb_del(txn, c->st->org_people, &k, NULL)) ? rc : log_append(txn, c->st, &ch, c->pool);
}

apr_status_t stp_org_person_revoke(stp_state_t *st, const char *tenant, const char *email, const stp_org_actor_t *actor,
                                   apr_time_t when)
{
    return person_change(st, tenant, email, STP_ROLE_NONE, actor, when, revoke_write);
}

static int administrator_write(MDB_txn *txn, void *baton)
{
    change_t *c = baton;
    char buf[TENANT_MAX + STP_ORG_MAX_EMAIL + 2];
    MDB_val k = {person_key(buf, sizeof buf, c->tenant, c->email), buf}, v;
    int rc = mdb_get(txn, c->st->org_people, &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    stp_role_t old = rc == MDB_SUCCESS ? role_of(&v) : STP_ROLE_NONE;
    stp_role_t role = c->is_admin ? STP_ROLE_ADMINISTRATOR : STP_ROLE_ADMIN;
    if (c->is_admin ? old == STP_ROLE_ADMINISTRATOR : old != STP_ROLE_ADMINISTRATOR)
        return 0; /* another thread did it meanwhile */
    MDB_val nv = person_encode(role, c->when, "identity provider", c->pool);
    stp_org_change_t ch = change_of(c, "administrator", c->email, old == STP_ROLE_NONE ? "" : stp_org_role_name(old),
                                    stp_org_role_name(role));
    c->changed = 1;
    return (rc = mdb_put(txn, c->st->org_people, &k, &nv, 0)) ? rc : log_append(txn, c->st, &ch, c->pool);
}

apr_status_t stp_org_administrator_note(stp_state_t *st, const char *tenant, const char *email, int is_admin,
                                        apr_time_t when, int *changed)
{
    stp_role_t role;
    if (changed)
        *changed = 0;
    if (!tenant_ok(tenant) || !email || !*email)
        return APR_SUCCESS;
    apr_status_t rv = stp_org_role_get(&role, st, tenant, email);
    if (rv != APR_SUCCESS)
        return rv;
    if (is_admin ? role == STP_ROLE_ADMINISTRATOR : role != STP_ROLE_ADMINISTRATOR)
        return APR_SUCCESS;
    apr_pool_t *pool = stp_state_scratch_of(st);
    const char *e = stp_org_email_normal(email, pool);
    if (!e) { /* an address the portal cannot list: such an administrator is one by the claim alone */
        apr_pool_destroy(pool);
        return APR_SUCCESS;
    }
    stp_org_actor_t idp = {"identity provider", "", STP_ROLE_NONE, 0};
    change_t c = {st, tenant, &idp, when, pool, NULL, e, STP_ROLE_NONE, is_admin, APR_SUCCESS, 0, 1};
    if (st->dbd) {
        rv = pg_change(st, &c, pg_person_txn);
        if (changed)
            *changed = c.changed;
        apr_pool_destroy(pool);
        return rv;
    }
    int rc = stp_state_write(st, administrator_write, &c);
    apr_pool_destroy(pool);
    if (changed)
        *changed = c.changed;
    return stp_lmdb_status(rc);
}

/* --- the log ------------------------------------------------------------------------------------ */

static apr_status_t change_decode(stp_org_change_t *c, const MDB_val *k, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    if (k->mv_size != sizeof c->seq)
        return APR_EGENERAL;
    memcpy(&c->seq, k->mv_data, sizeof c->seq);
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    c->when = (apr_time_t)stp_codec_dec_int(&d);
    c->tenant = stp_codec_dec_str(&d, pool);
    c->actor = stp_codec_dec_str(&d, pool);
    c->actor_email = stp_codec_dec_str(&d, pool);
    c->action = stp_codec_dec_str(&d, pool);
    c->subject = stp_codec_dec_str(&d, pool);
    c->before = stp_codec_dec_str(&d, pool);
    c->after = stp_codec_dec_str(&d, pool);
    return stp_codec_dec_finish(&d);
}

apr_status_t stp_org_log(stp_state_t *st, const char *tenant, int limit, stp_org_change_fn *fn, void *baton,
                         apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    apr_status_t rv = APR_SUCCESS;
    if (st->dbd)
        return pg_log(st, tenant, limit, fn, baton, pool);
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->org_log, &cur))) {
        mdb_txn_abort(txn);
        return stp_lmdb_status(rc);
    }
    /* One organisation's newest first (the admin page); everything oldest first (the export). */
    MDB_cursor_op first = tenant ? MDB_LAST : MDB_FIRST, next = tenant ? MDB_PREV : MDB_NEXT;
    int n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, first); !rc; rc = mdb_cursor_get(cur, &k, &v, next)) {
        stp_org_change_t c;
        if ((rv = change_decode(&c, &k, &v, pool)) != APR_SUCCESS)
            break;
        if (tenant && strcmp(c.tenant, tenant))
            continue;
        if (fn(baton, &c) || (limit > 0 && ++n >= limit))
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rv;
}

/* --- on PostgreSQL (stp_dbd) ---------------------------------------------------------------------
 * The same rules over the tables of stp_dbd.c. A change runs in one transaction under a lock per
 * organisation, which orders the changes of one organisation across every node as LMDB's single
 * writer does on one machine. Industries and regions are stored one per line. */

static const char *pg_num(apr_int64_t v, apr_pool_t *pool)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

static apr_array_header_t *pg_lines(const char *text, apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    char *last, *copy = apr_pstrdup(pool, text ? text : "");
    for (char *t = apr_strtok(copy, "\n", &last); t; t = apr_strtok(NULL, "\n", &last))
        APR_ARRAY_PUSH(a, const char *) = t;
    return a;
}

static const char *pg_join(const apr_array_header_t *a, apr_pool_t *pool)
{
    return a && a->nelts ? apr_array_pstrcat(pool, a, '\n') : "";
}

static apr_status_t pg_settings_get(stp_org_settings_t *s, stp_state_t *st, const char *tenant, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant};
    apr_status_t rv = stp_pg_run(st, "stp_org_settings_get", 1, args, NULL, &res, pool);
    if (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        int mode = atoi(stp_dbd_col(st->dbd, row, 0));
        s->mode = mode >= 0 && mode <= STP_ORG_MODE_ASSIGNED ? (stp_org_mode_t)mode : STP_ORG_MODE_DEFAULT;
        s->industries = pg_lines(stp_dbd_col(st->dbd, row, 1), pool);
        s->regions = pg_lines(stp_dbd_col(st->dbd, row, 2), pool);
    }
    return rv;
}

static apr_status_t pg_role(stp_role_t *role, stp_state_t *st, const char *tenant, const char *email, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant, email};
    apr_status_t rv = stp_pg_run(st, "stp_org_role", 2, args, NULL, &res, pool);
    *role = STP_ROLE_NONE;
    if (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        int r = atoi(stp_dbd_col(st->dbd, row, 0));
        *role = r >= STP_ROLE_USER && r <= STP_ROLE_ADMINISTRATOR ? (stp_role_t)r : STP_ROLE_NONE;
    }
    return rv;
}

static const char *lower_ascii(const char *s, apr_pool_t *pool)
{
    char *l = apr_pstrdup(pool, s);
    for (char *p = l; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return l;
}

static apr_status_t pg_log_append(stp_dbd_conn_t *c, const stp_org_change_t *ch, const char **err, apr_pool_t *pool)
{
    const char *args[] = {
        pg_num(ch->when, pool), ch->tenant, ch->actor, ch->actor_email, ch->action, ch->subject, ch->before, ch->after};
    return stp_dbd_exec(c, "stp_org_log_add", 8, args, NULL, NULL, err, pool);
}

static apr_status_t pg_lock(stp_dbd_conn_t *c, const char *tenant, const char **err, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant};
    apr_status_t rv = stp_dbd_exec(c, "stp_org_lock", 1, args, NULL, &res, err, pool);
    if (rv == APR_SUCCESS)
        stp_dbd_row(c, res, &row, pool);
    return rv;
}

static apr_status_t pg_settings_txn(stp_dbd_conn_t *dbc, void *baton, const char **err, apr_pool_t *pool)
{
    change_t *c = baton;
    stp_org_settings_t old;
    settings_empty(&old, pool);
    apr_status_t rv = pg_lock(dbc, c->tenant, err, pool);
    if (rv == APR_SUCCESS)
        rv = pg_settings_get(&old, c->st, c->tenant, pool);
    if (rv != APR_SUCCESS)
        return rv;
    const char *before = settings_text(&old, pool), *after = settings_text(c->settings, pool);
    if (!strcmp(before, after))
        return APR_SUCCESS;
    stp_org_settings_t tags = *c->settings;
    tags.mode = old.mode;
    stp_org_change_t ch =
        change_of(c, strcmp(settings_text(&tags, pool), before) ? "settings" : "mode", "", before, after);
    const char *args[] = {c->tenant, pg_num(c->settings->mode, pool), pg_join(c->settings->industries, pool),
                          pg_join(c->settings->regions, pool)};
    if ((rv = stp_dbd_exec(dbc, "stp_org_settings_put", 4, args, NULL, NULL, err, pool)) == APR_SUCCESS)
        rv = pg_log_append(dbc, &ch, err, pool);
    c->changed = rv == APR_SUCCESS;
    return rv;
}

/* The people changes: c->role USER or ADMIN (put), NONE (revoke); c->is_admin for the claim's note. */
static apr_status_t pg_person_txn(stp_dbd_conn_t *dbc, void *baton, const char **err, apr_pool_t *pool)
{
    change_t *c = baton;
    stp_role_t old;
    apr_status_t rv = pg_lock(dbc, c->tenant, err, pool);
    if (rv == APR_SUCCESS)
        rv = pg_role(&old, c->st, c->tenant, c->email, pool);
    if (rv != APR_SUCCESS)
        return rv;
    const char *action, *by = c->actor->email && *c->actor->email ? c->actor->email : c->actor->user_key;
    stp_role_t role = c->role;
    if (c->note) {
        role = c->is_admin ? STP_ROLE_ADMINISTRATOR : STP_ROLE_ADMIN;
        if (c->is_admin ? old == STP_ROLE_ADMINISTRATOR : old != STP_ROLE_ADMINISTRATOR)
            return APR_SUCCESS;
        action = "administrator";
        by = "identity provider";
    } else if (old == STP_ROLE_ADMINISTRATOR) {
        return c->outcome = APR_EACCES;
    } else if (role == STP_ROLE_NONE) {
        if (old == STP_ROLE_NONE)
            return c->outcome = APR_NOTFOUND;
        action = "revoke";
    } else {
        if (old == role)
            return APR_SUCCESS;
        if (old == STP_ROLE_NONE) {
            apr_dbd_results_t *res;
            apr_dbd_row_t *row = NULL;
            const char *args[] = {c->tenant};
            if ((rv = stp_dbd_exec(dbc, "stp_org_people_count", 1, args, NULL, &res, err, pool)) != APR_SUCCESS)
                return rv;
            if (stp_dbd_row(dbc, res, &row, pool) && atoi(stp_dbd_col(dbc, row, 0)) >= STP_ORG_MAX_PEOPLE)
                return c->outcome = APR_ENOSPC;
        }
        action = old == STP_ROLE_NONE ? "add" : "role";
    }
    stp_org_change_t ch = change_of(c, action, c->email, old == STP_ROLE_NONE ? "" : stp_org_role_name(old),
                                    role == STP_ROLE_NONE ? "" : stp_org_role_name(role));
    if (role == STP_ROLE_NONE) {
        const char *args[] = {c->tenant, c->email};
        rv = stp_dbd_exec(dbc, "stp_org_person_delete", 2, args, NULL, NULL, err, pool);
    } else {
        const char *args[] = {c->tenant, c->email, pg_num(role, pool), pg_num(c->when, pool), by};
        rv = stp_dbd_exec(dbc, "stp_org_person_put", 5, args, NULL, NULL, err, pool);
    }
    if (rv == APR_SUCCESS)
        rv = pg_log_append(dbc, &ch, err, pool);
    c->changed = rv == APR_SUCCESS;
    return rv;
}

static apr_status_t pg_change(stp_state_t *st, change_t *c, stp_dbd_txn_fn *fn)
{
    const char *err = NULL;
    apr_status_t rv = stp_dbd_transaction(st->dbd, fn, c, &err, c->pool);
    if (rv != APR_SUCCESS && rv != c->outcome)
        st->dbd_error = apr_pstrdup(st->pool, err ? err : "changing an organisation");
    return rv;
}

static apr_status_t pg_member(stp_org_member_t *m, stp_state_t *st, const char *tenant, const char *email,
                              int claim_admin)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *low = email && *email && strlen(email) <= STP_ORG_MAX_EMAIL ? lower_ascii(email, pool) : "";
    const char *args[] = {tenant, low};
    apr_status_t rv = stp_pg_run(st, "stp_org_member", 2, args, NULL, &res, pool);
    if (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        int mode = atoi(stp_dbd_col(st->dbd, row, 0)), role = atoi(stp_dbd_col(st->dbd, row, 1));
        if (mode == STP_ORG_MODE_OPEN || mode == STP_ORG_MODE_ASSIGNED)
            m->mode = (stp_org_mode_t)mode;
        stp_role_t listed = role >= STP_ROLE_USER && role <= STP_ROLE_ADMINISTRATOR ? (stp_role_t)role : STP_ROLE_NONE;
        if (!claim_admin && *low)
            m->role = listed == STP_ROLE_ADMINISTRATOR ? STP_ROLE_ADMIN : listed;
    }
    apr_pool_destroy(pool);
    return rv;
}

static apr_status_t pg_people(apr_array_header_t *people, stp_state_t *st, const char *tenant, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant};
    apr_status_t rv = stp_pg_run(st, "stp_org_people", 1, args, NULL, &res, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        stp_org_person_t *p = apr_array_push(people);
        int role = atoi(stp_dbd_col(st->dbd, row, 1));
        p->email = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 0));
        p->role = role >= STP_ROLE_USER && role <= STP_ROLE_ADMINISTRATOR ? (stp_role_t)role : STP_ROLE_NONE;
        p->since = apr_strtoi64(stp_dbd_col(st->dbd, row, 2), NULL, 10);
        p->by = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 3));
    }
    return rv;
}

static int pg_tenant_seen(stp_state_t *st, const char *tenant)
{
    apr_pool_t *pool = stp_state_scratch_of(st);
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant};
    apr_status_t rv = stp_pg_run(st, "stp_org_tenant_seen", 1, args, NULL, &res, pool);
    int seen = rv == APR_SUCCESS ? stp_dbd_row(st->dbd, res, &row, pool) : -1;
    apr_pool_destroy(pool);
    return seen;
}

static apr_status_t pg_verified_emails(apr_array_header_t *emails, stp_state_t *st, const char *tenant,
                                       apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant};
    apr_status_t rv = stp_pg_run(st, "stp_org_verified_emails", 1, args, NULL, &res, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool))
        APR_ARRAY_PUSH(emails, const char *) = apr_pstrdup(pool, stp_dbd_col(st->dbd, row, 0));
    return rv;
}

static apr_status_t pg_log(stp_state_t *st, const char *tenant, int limit, stp_org_change_fn *fn, void *baton,
                           apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *args[] = {tenant, limit > 0 ? pg_num(limit, pool) : NULL};
    apr_status_t rv = tenant ? stp_pg_run(st, "stp_org_log_tenant", 2, args, NULL, &res, pool)
                             : stp_pg_run(st, "stp_org_log_all", 0, NULL, NULL, &res, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        stp_org_change_t c;
        c.seq = (apr_uint64_t)apr_strtoi64(stp_dbd_col(st->dbd, row, 0), NULL, 10);
        c.when = apr_strtoi64(stp_dbd_col(st->dbd, row, 1), NULL, 10);
        c.tenant = stp_dbd_col(st->dbd, row, 2);
        c.actor = stp_dbd_col(st->dbd, row, 3);
        c.actor_email = stp_dbd_col(st->dbd, row, 4);
        c.action = stp_dbd_col(st->dbd, row, 5);
        c.subject = stp_dbd_col(st->dbd, row, 6);
        c.before = stp_dbd_col(st->dbd, row, 7);
        c.after = stp_dbd_col(st->dbd, row, 8);
        if (fn(baton, &c))
            break;
    }
    return rv;
}

/* --- the dump (stp_state_dump.c): settings, people and the log --------------------------------- */

static apr_status_t dump_org(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit, void *baton,
                             apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_ORG};
    (void)t;
    r.key = apr_pstrmemdup(pool, k->mv_data, k->mv_size);
    if (settings_decode(&r.org, v, pool) != APR_SUCCESS)
        return APR_EGENERAL;
    return emit(baton, &r);
}

static apr_status_t dump_person(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                                void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_ORG_PERSON};
    (void)t;
    if (person_decode(&r.person, k, v, pool) != APR_SUCCESS)
        return APR_EGENERAL;
    r.key = apr_pstrdup(pool, k->mv_data); /* up to its NUL: person_decode checked there is one */
    return emit(baton, &r);
}

static apr_status_t dump_change(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                                void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_ORG_LOG};
    (void)t;
    if (change_decode(&r.change, k, v, pool) != APR_SUCCESS)
        return APR_EGENERAL;
    r.key = r.change.tenant;
    return emit(baton, &r);
}

static apr_status_t pg_dump_org(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_ORG};
    (void)t;
    int mode = atoi(stp_dbd_col(c, row, 1));
    r.key = stp_dbd_col(c, row, 0);
    r.org.mode = mode >= 0 && mode <= STP_ORG_MODE_ASSIGNED ? (stp_org_mode_t)mode : STP_ORG_MODE_DEFAULT;
    r.org.industries = pg_lines(stp_dbd_col(c, row, 2), pool);
    r.org.regions = pg_lines(stp_dbd_col(c, row, 3), pool);
    return emit(baton, &r);
}

static apr_status_t pg_dump_person(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                   void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_ORG_PERSON};
    (void)t, (void)pool;
    int role = atoi(stp_dbd_col(c, row, 2));
    r.key = stp_dbd_col(c, row, 0);
    r.person.email = stp_dbd_col(c, row, 1);
    r.person.role = role >= STP_ROLE_USER && role <= STP_ROLE_ADMINISTRATOR ? (stp_role_t)role : STP_ROLE_NONE;
    r.person.since = apr_strtoi64(stp_dbd_col(c, row, 3), NULL, 10);
    r.person.by = stp_dbd_col(c, row, 4);
    return emit(baton, &r);
}

static apr_status_t pg_dump_change(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                   void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_ORG_LOG};
    (void)t, (void)pool;
    r.change.seq = (apr_uint64_t)apr_strtoi64(stp_dbd_col(c, row, 0), NULL, 10);
    r.change.when = apr_strtoi64(stp_dbd_col(c, row, 1), NULL, 10);
    r.key = r.change.tenant = stp_dbd_col(c, row, 2);
    r.change.actor = stp_dbd_col(c, row, 3);
    r.change.actor_email = stp_dbd_col(c, row, 4);
    r.change.action = stp_dbd_col(c, row, 5);
    r.change.subject = stp_dbd_col(c, row, 6);
    r.change.before = stp_dbd_col(c, row, 7);
    r.change.after = stp_dbd_col(c, row, 8);
    return emit(baton, &r);
}

apr_status_t stp_org_dump_each(stp_dump_txn_t *t, stp_dump_kind_t kind, stp_dump_emit_fn *emit, void *baton)
{
    stp_state_t *st = t->st;
    if (st->dbd)
        return kind == STP_DUMP_ORG          ? stp_dump_rows(t, "stp_dump_orgs", pg_dump_org, emit, baton)
               : kind == STP_DUMP_ORG_PERSON ? stp_dump_rows(t, "stp_dump_org_people", pg_dump_person, emit, baton)
                                             : stp_dump_rows(t, "stp_org_log_all", pg_dump_change, emit, baton);
    return kind == STP_DUMP_ORG          ? stp_dump_scan(t, st->orgs, dump_org, emit, baton)
           : kind == STP_DUMP_ORG_PERSON ? stp_dump_scan(t, st->org_people, dump_person, emit, baton)
                                         : stp_dump_scan(t, st->org_log, dump_change, emit, baton);
}

/* Tags as both stores keep them: PostgreSQL one per line. */
static int dump_tags_ok(const apr_array_header_t *a)
{
    for (int i = 0; tags_ok(a) && i < a->nelts; i++)
        if (strchr(APR_ARRAY_IDX(a, i, const char *), '\n'))
            return 0;
    return tags_ok(a);
}

apr_status_t stp_org_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r)
{
    stp_state_t *st = t->st;
    apr_pool_t *pool = t->pool;
    if (!tenant_ok(r->key))
        return (t->err = "the tenant is empty or too long"), APR_EINVAL;
    if (r->kind == STP_DUMP_ORG) {
        if (!dump_tags_ok(r->org.industries) || !dump_tags_ok(r->org.regions))
            return (t->err = "too many industries or regions, or an empty, long or multi-line one"), APR_EINVAL;
        if (st->dbd) {
            const char *args[] = {r->key, pg_num(r->org.mode, pool), pg_join(r->org.industries, pool),
                                  pg_join(r->org.regions, pool)};
            return stp_dump_exec(t, "stp_org_settings_put", 4, args);
        }
        MDB_val k = {strlen(r->key), (void *)r->key}, v = settings_encode(&r->org, pool);
        return stp_dump_mdb_put(t, st->orgs, &k, &v);
    }
    if (r->kind == STP_DUMP_ORG_PERSON) {
        const stp_org_person_t *p = &r->person;
        char buf[TENANT_MAX + STP_ORG_MAX_EMAIL + 2];
        MDB_val k = {person_key(buf, sizeof buf, r->key, p->email), buf};
        if (!*p->email || strlen(p->email) > STP_ORG_MAX_EMAIL || !k.mv_size || p->role == STP_ROLE_NONE)
            return (t->err = "a person without an address or role, or with a long address"), APR_EINVAL;
        if (st->dbd) {
            const char *args[] = {r->key, p->email, pg_num(p->role, pool), pg_num(p->since, pool), p->by};
            return stp_dump_exec(t, "stp_org_person_put", 5, args);
        }
        MDB_val v = person_encode(p->role, p->since, p->by, pool);
        return stp_dump_mdb_put(t, st->org_people, &k, &v);
    }
    const stp_org_change_t *c = &r->change;
    if (!c->seq)
        return (t->err = "a change without a sequence number"), APR_EINVAL;
    if (st->dbd) {
        const char *args[] = {pg_num((apr_int64_t)c->seq, pool),
                              pg_num(c->when, pool),
                              c->tenant,
                              c->actor,
                              c->actor_email,
                              c->action,
                              c->subject,
                              c->before,
                              c->after};
        return stp_dump_exec(t, "stp_restore_org_log", 9, args);
    }
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_int(&enc, c->when);
    const char *fields[] = {c->tenant, c->actor, c->actor_email, c->action, c->subject, c->before, c->after};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        stp_codec_enc_str(&enc, fields[i]);
    apr_uint64_t seq = c->seq;
    MDB_val k = {sizeof seq, &seq}, v = {enc.len, enc.buf};
    return stp_dump_mdb_put(t, st->org_log, &k, &v);
}
