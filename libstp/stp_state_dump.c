/* stp_state_dump: the portable dump of a state (JSON lines) and its export and import. The files of
 * the store read and write the records (stp_state_int.h); this file owns the format, the one
 * transaction on each side, and the counts. */
#include "stp_state_dump.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "stp_lmdb.h"
#include "stp_state_int.h"

static const char *const kind_names[STP_DUMP_KINDS] = {
    "user", "nda", "nda_log", "library", "notify", "org", "org_person", "org_log", "feedback",
};

const char *stp_dump_kind_name(stp_dump_kind_t kind)
{
    return kind < STP_DUMP_KINDS ? kind_names[kind] : "?";
}

/* --- the fields of each kind, in the order they are written ---------------------------------------- */

typedef enum { F_STR, F_INT, F_SEQ, F_BOOL, F_FREQ, F_MODE, F_ROLE, F_TAGS } field_type_t;

typedef struct {
    const char *name;
    field_type_t type;
    size_t off; /* in stp_dump_record_t */
} field_t;

#define R(m) offsetof(stp_dump_record_t, m)
static const field_t f_user[] = {{"user", F_STR, R(key)},
                                 {"tenant", F_STR, R(user.tenant)},
                                 {"email", F_STR, R(user.email)},
                                 {"email_verified", F_BOOL, R(user.email_verified)},
                                 {"since", F_INT, R(user.since)},
                                 {"tenant_admin", F_BOOL, R(user.tenant_admin)},
                                 {"unlisted", F_BOOL, R(user.unlisted)},
                                 {"claims", F_STR, R(user.claims)},
                                 {NULL, 0, 0}};
static const field_t f_nda[] = {{"user", F_STR, R(nda.user_key)},
                                {"tenant", F_STR, R(nda.tenant)},
                                {"version", F_STR, R(nda.version)},
                                {"accepted", F_INT, R(nda.when)},
                                {NULL, 0, 0}};
static const field_t f_nda_log[] = {{"seq", F_SEQ, R(nda.seq)},         {"at", F_INT, R(nda.when)},
                                    {"user", F_STR, R(nda.user_key)},   {"tenant", F_STR, R(nda.tenant)},
                                    {"version", F_STR, R(nda.version)}, {NULL, 0, 0}};
static const field_t f_library[] = {{"user", F_STR, R(key)},
                                    {"series", F_STR, R(library.series)},
                                    {"doc_id", F_STR, R(library.doc_id)},
                                    {"seen", F_STR, R(library.seen)},
                                    {"kept", F_STR, R(library.kept)},
                                    {"saved", F_INT, R(library.saved)},
                                    {NULL, 0, 0}};
static const field_t f_notify[] = {{"user", F_STR, R(key)},
                                   {"freq", F_FREQ, R(notify.freq)},
                                   {"address", F_STR, R(notify.address)},
                                   {"locale", F_STR, R(notify.locale)},
                                   {"tenant", F_STR, R(notify.tenant)},
                                   {"last_digest", F_INT, R(notify.last_digest)},
                                   {NULL, 0, 0}};
static const field_t f_org[] = {{"tenant", F_STR, R(key)},
                                {"mode", F_MODE, R(org.mode)},
                                {"industries", F_TAGS, R(org.industries)},
                                {"regions", F_TAGS, R(org.regions)},
                                {NULL, 0, 0}};
static const field_t f_person[] = {{"tenant", F_STR, R(key)},        {"email", F_STR, R(person.email)},
                                   {"role", F_ROLE, R(person.role)}, {"since", F_INT, R(person.since)},
                                   {"by", F_STR, R(person.by)},      {NULL, 0, 0}};
static const field_t f_change[] = {{"seq", F_SEQ, R(change.seq)},
                                   {"at", F_INT, R(change.when)},
                                   {"tenant", F_STR, R(change.tenant)},
                                   {"actor", F_STR, R(change.actor)},
                                   {"actor_email", F_STR, R(change.actor_email)},
                                   {"action", F_STR, R(change.action)},
                                   {"subject", F_STR, R(change.subject)},
                                   {"before", F_STR, R(change.before)},
                                   {"after", F_STR, R(change.after)},
                                   {NULL, 0, 0}};
static const field_t f_feedback[] = {{"seq", F_SEQ, R(feedback.seq)},
                                     {"at", F_INT, R(feedback.when)},
                                     {"page", F_STR, R(feedback.page)},
                                     {"lang", F_STR, R(feedback.lang)},
                                     {"answer", F_STR, R(feedback.answer)},
                                     {"comment", F_STR, R(feedback.comment)},
                                     {"user", F_STR, R(feedback.user_key)},
                                     {"ref", F_SEQ, R(feedback.ref)},
                                     {NULL, 0, 0}};
#undef R
static const field_t *const kind_fields[STP_DUMP_KINDS] = {f_user, f_nda,    f_nda_log, f_library, f_notify,
                                                           f_org,  f_person, f_change,  f_feedback};

#define AT(r, f, type) ((type *)((char *)(r) + (f)->off))

/* --- writing ----------------------------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, a surrogate, or past U+10FFFF */
    return n;
}

/* A JSON string: UTF-8 as it is, quotes, backslashes and control characters escaped. -1 for text
 * that is not UTF-8, which no JSON string can carry byte for byte. */
static int put_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    putc('"', out);
    while (*p) {
        int n = utf8_len(p);
        if (!n)
            return -1;
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            fprintf(out, "\\u%04x", 0x2000 | (p[2] & 0x3f)); /* line separators: some readers split lines there */
        else
            fwrite(p, 1, (size_t)n, out);
        p += n;
    }
    putc('"', out);
    return 0;
}

static const char *role_name(stp_role_t role)
{
    return role >= STP_ROLE_USER && role <= STP_ROLE_ADMINISTRATOR ? stp_org_role_name(role) : "none";
}

/* One record's line; -1 for a string that is not UTF-8. */
static int put_record(FILE *out, const stp_dump_record_t *r)
{
    fprintf(out, "{\"kind\":\"%s\"", kind_names[r->kind]);
    for (const field_t *f = kind_fields[r->kind]; f->name; f++) {
        fprintf(out, ",\"%s\":", f->name);
        switch (f->type) {
        case F_STR:
            if (put_string(out, *AT(r, f, const char *)))
                return -1;
            break;
        case F_INT:
            fprintf(out, "%" APR_INT64_T_FMT, (apr_int64_t)*AT(r, f, apr_time_t));
            break;
        case F_SEQ:
            fprintf(out, "%" APR_UINT64_T_FMT, *AT(r, f, apr_uint64_t));
            break;
        case F_BOOL:
            fputs(*AT(r, f, int) ? "true" : "false", out);
            break;
        case F_FREQ:
            fprintf(out, "\"%s\"", stp_notify_freq_name(*AT(r, f, stp_freq_t)));
            break;
        case F_MODE:
            fprintf(out, "\"%s\"", stp_org_mode_name(*AT(r, f, stp_org_mode_t)));
            break;
        case F_ROLE:
            fprintf(out, "\"%s\"", role_name(*AT(r, f, stp_role_t)));
            break;
        case F_TAGS: {
            const apr_array_header_t *a = *AT(r, f, apr_array_header_t *);
            putc('[', out);
            for (int i = 0; a && i < a->nelts; i++) {
                if (i)
                    putc(',', out);
                if (put_string(out, APR_ARRAY_IDX(a, i, const char *)))
                    return -1;
            }
            putc(']', out);
            break;
        }
        }
    }
    fputs("}\n", out);
    return 0;
}

/* --- the store's side (stp_state_int.h) -------------------------------------------------------------- */

const char *stp_dump_num(apr_int64_t v, apr_pool_t *pool)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

apr_status_t stp_dump_scan(stp_dump_txn_t *t, MDB_dbi dbi, stp_dump_scan_fn *fn, stp_dump_emit_fn *emit, void *baton)
{
    MDB_cursor *cur;
    MDB_val k, v;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    int rc = mdb_cursor_open(t->txn, dbi, &cur);
    if (rc)
        return stp_lmdb_status(rc);
    apr_pool_create(&iter, t->pool);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && rv == APR_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        apr_pool_clear(iter);
        rv = fn(t, &k, &v, emit, baton, iter);
        if (rv == APR_EGENERAL && !t->err)
            t->err = "a record of state.mdb does not decode";
    }
    mdb_cursor_close(cur);
    apr_pool_destroy(iter);
    return rv != APR_SUCCESS ? rv : rc == MDB_NOTFOUND ? APR_SUCCESS : stp_lmdb_status(rc);
}

apr_status_t stp_dump_rows(stp_dump_txn_t *t, const char *label, stp_dump_row_fn *fn, stp_dump_emit_fn *emit,
                           void *baton)
{
    apr_pool_t *pool, *iter;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL; /* kept across rows: apr_dbd counts them in it */
    apr_pool_create(&pool, t->pool);
    apr_pool_create(&iter, pool);
    apr_status_t rv = stp_dbd_exec(t->st->dbd, label, 0, NULL, NULL, &res, &t->err, pool);
    while (rv == APR_SUCCESS && stp_dbd_row(t->st->dbd, res, &row, pool)) {
        apr_pool_clear(iter);
        rv = fn(t, t->st->dbd, row, emit, baton, iter);
    }
    if (rv != APR_SUCCESS && t->err)
        t->err = apr_pstrdup(t->pool, t->err);
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t stp_dump_exec(stp_dump_txn_t *t, const char *label, int nargs, const char *const *args)
{
    return stp_dbd_exec(t->st->dbd, label, nargs, args, NULL, NULL, &t->err, t->pool);
}

apr_status_t stp_dump_mdb_put(stp_dump_txn_t *t, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    int rc = mdb_put(t->txn, dbi, k, v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        t->err = "a second record with the same key";
    else if (rc == MDB_BAD_VALSIZE)
        t->err = "a key longer than state.mdb takes";
    else if (rc == MDB_MAP_FULL)
        t->err = "state.mdb is full: raise its map size";
    else if (rc)
        t->err = mdb_strerror(rc);
    if (rc == MDB_KEYEXIST || rc == MDB_BAD_VALSIZE)
        return APR_EINVAL; /* the dump's fault, not the store's */
    return rc ? stp_lmdb_status(rc) : APR_SUCCESS;
}

/* --- counts ----------------------------------------------------------------------------------------- */

static apr_status_t count_in(stp_dump_txn_t *t, stp_dump_counts_t *counts)
{
    stp_state_t *st = t->st;
    memset(counts, 0, sizeof *counts);
    if (st->dbd) {
        apr_dbd_results_t *res;
        apr_dbd_row_t *row = NULL;
        apr_status_t rv = stp_dbd_exec(st->dbd, "stp_dump_counts", 0, NULL, NULL, &res, &t->err, t->pool);
        if (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, t->pool)) {
            for (int k = 0; k < STP_DUMP_KINDS; k++)
                counts->n[k] = (apr_uint64_t)apr_strtoi64(stp_dbd_col(st->dbd, row, k), NULL, 10);
            while (stp_dbd_row(st->dbd, res, &row, t->pool))
                ;
        }
        return rv;
    }
    const MDB_dbi dbis[STP_DUMP_KINDS] = {st->users, st->nda,        st->nda_log, st->library, st->notify,
                                          st->orgs,  st->org_people, st->org_log, st->feedback};
    for (int k = 0; k < STP_DUMP_KINDS; k++) {
        MDB_stat ms;
        int rc = mdb_stat(t->txn, dbis[k], &ms);
        if (rc)
            return stp_lmdb_status(rc);
        counts->n[k] = ms.ms_entries;
    }
    return APR_SUCCESS;
}

static const char *counts_text(const stp_dump_counts_t *c, apr_pool_t *pool)
{
    const char *s = "";
    for (int k = 0; k < STP_DUMP_KINDS; k++)
        s = apr_psprintf(pool, "%s%s%s %" APR_UINT64_T_FMT, s, k ? ", " : "", kind_names[k], c->n[k]);
    return s;
}

/* --- export ----------------------------------------------------------------------------------------- */

typedef struct {
    stp_dump_txn_t t;
    FILE *out;
    stp_dump_counts_t counts;
} export_t;

static apr_status_t export_record(void *baton, const stp_dump_record_t *r)
{
    export_t *x = baton;
    if (put_record(x->out, r)) {
        x->t.err = apr_psprintf(x->t.pool, "a %s record (%s) has text that is not UTF-8", kind_names[r->kind],
                                r->key ? r->key : "");
        return APR_EINVAL;
    }
    x->counts.n[r->kind]++;
    if (ferror(x->out)) {
        x->t.err = "cannot write the dump";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t export_all(export_t *x)
{
    apr_status_t rv = APR_SUCCESS;
    for (int k = 0; k < STP_DUMP_KINDS && rv == APR_SUCCESS; k++) {
        switch ((stp_dump_kind_t)k) {
        case STP_DUMP_USER:
        case STP_DUMP_NDA:
        case STP_DUMP_NDA_LOG:
            rv = stp_state_dump_each(&x->t, k, export_record, x);
            break;
        case STP_DUMP_LIBRARY:
        case STP_DUMP_NOTIFY:
            rv = stp_library_dump_each(&x->t, k, export_record, x);
            break;
        case STP_DUMP_ORG:
        case STP_DUMP_ORG_PERSON:
        case STP_DUMP_ORG_LOG:
            rv = stp_org_dump_each(&x->t, k, export_record, x);
            break;
        default:
            rv = stp_feedback_dump_each(&x->t, export_record, x);
        }
    }
    return rv;
}

static apr_status_t export_txn(stp_dbd_conn_t *c, void *baton, const char **err, apr_pool_t *pool)
{
    export_t *x = baton;
    (void)c, (void)pool;
    apr_status_t rv = export_all(x);
    *err = x->t.err;
    return rv;
}

apr_status_t stp_state_export(stp_state_t *st, FILE *out, stp_dump_counts_t *counts, const char **err, apr_pool_t *pool)
{
    export_t x = {{st, NULL, NULL, pool}, out, {{0}}};
    apr_status_t rv;
    *err = NULL;
    fprintf(out, "{\"kind\":\"header\",\"format\":%d,\"store\":\"%s\"}\n", STP_DUMP_FORMAT, st->dbd ? "pgsql" : "lmdb");
    if (st->dbd) {
        rv = stp_dbd_transaction_once(st->dbd, STP_DBD_TXN_SNAPSHOT, export_txn, &x, err, pool);
    } else {
        int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &x.t.txn);
        if (rc)
            return stp_lmdb_status(rc);
        rv = export_all(&x);
        mdb_txn_abort(x.t.txn);
        *err = x.t.err;
    }
    if (rv != APR_SUCCESS)
        return rv;
    fputs("{\"kind\":\"trailer\"", out);
    for (int k = 0; k < STP_DUMP_KINDS; k++)
        fprintf(out, ",\"%s\":%" APR_UINT64_T_FMT, kind_names[k], x.counts.n[k]);
    fputs("}\n", out);
    if (fflush(out) || ferror(out)) {
        *err = "cannot write the dump";
        return APR_EGENERAL;
    }
    if (counts)
        *counts = x.counts;
    return APR_SUCCESS;
}

/* --- reading a line ------------------------------------------------------------------------------------ */

typedef enum { V_STR, V_INT, V_BOOL, V_ARR } value_type_t;

typedef struct {
    const char *name;
    value_type_t type;
    const char *str;
    apr_int64_t num;
    apr_array_header_t *arr;
    int used;
} value_t;

typedef struct {
    const char *p;
    const char *why;
    apr_pool_t *pool;
} parser_t;

static void skip_ws(parser_t *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static int hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

static void put_utf8(char **w, unsigned cp)
{
    unsigned char *o = (unsigned char *)*w;
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xc0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xe0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (unsigned char)(0xf0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    }
    *w = (char *)o;
}

/* A JSON string at ps->p (its opening quote), decoded; NULL with ps->why. */
static const char *parse_string(parser_t *ps)
{
    const char *p = ps->p + 1;
    char *out = apr_palloc(ps->pool, strlen(p) + 1), *w = out; /* decoding never grows */
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (!c)
            return ps->why = "a string does not end", NULL;
        if (c < 0x20)
            return ps->why = "a control character in a string", NULL;
        if (c != '\\') {
            int n = utf8_len((const unsigned char *)p);
            if (!n)
                return ps->why = "text that is not UTF-8", NULL;
            memcpy(w, p, (size_t)n);
            w += n, p += n;
            continue;
        }
        p++;
        const char *simple = strchr("\"\\/bfnrt", *p);
        if (*p && simple) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            *w++ = to[simple - "\"\\/bfnrt"];
            p++;
            continue;
        }
        unsigned cp, lo;
        if (*p != 'u' || hex4(p + 1, &cp))
            return ps->why = "a bad escape in a string", NULL;
        p += 5;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                return ps->why = "a lone surrogate in a string", NULL;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return ps->why = "a lone surrogate in a string", NULL;
        }
        if (cp == 0)
            return ps->why = "a NUL character in a string", NULL;
        put_utf8(&w, cp);
    }
    *w = '\0';
    ps->p = p + 1;
    return out;
}

/* One line: a flat object of strings, integers, booleans and arrays of strings. */
static apr_array_header_t *parse_object(parser_t *ps)
{
    apr_array_header_t *vals = apr_array_make(ps->pool, 12, sizeof(value_t));
    skip_ws(ps);
    if (*ps->p != '{')
        return ps->why = "not a JSON object", NULL;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            value_t v = {0};
            skip_ws(ps);
            if (*ps->p != '"')
                return ps->why = "a field name is not a string", NULL;
            if (!(v.name = parse_string(ps)))
                return NULL;
            for (int i = 0; i < vals->nelts; i++)
                if (!strcmp(APR_ARRAY_IDX(vals, i, value_t).name, v.name))
                    return ps->why = apr_psprintf(ps->pool, "the field \"%s\" twice", v.name), NULL;
            skip_ws(ps);
            if (*ps->p != ':')
                return ps->why = "no ':' after a field name", NULL;
            ps->p++;
            skip_ws(ps);
            if (*ps->p == '"') {
                v.type = V_STR;
                if (!(v.str = parse_string(ps)))
                    return NULL;
            } else if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
                const char *s = ps->p + (*ps->p == '-');
                if (!(*s >= '0' && *s <= '9') || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
                    return ps->why = "a bad number", NULL;
                char *end;
                errno = 0;
                v.type = V_INT;
                v.num = (apr_int64_t)strtoll(ps->p, &end, 10);
                if (errno == ERANGE || *end == '.' || *end == 'e' || *end == 'E')
                    return ps->why = "a number that is not a 64-bit integer", NULL;
                ps->p = end;
            } else if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
                v.type = V_BOOL;
                v.num = *ps->p == 't';
                ps->p += v.num ? 4 : 5;
            } else if (*ps->p == '[') {
                v.type = V_ARR;
                v.arr = apr_array_make(ps->pool, 4, sizeof(const char *));
                ps->p++;
                skip_ws(ps);
                while (*ps->p != ']') {
                    const char *s;
                    if (v.arr->nelts) {
                        if (*ps->p != ',')
                            return ps->why = "no ',' between the strings of an array", NULL;
                        ps->p++;
                        skip_ws(ps);
                    }
                    if (*ps->p != '"')
                        return ps->why = "an array holds something other than strings", NULL;
                    if (!(s = parse_string(ps)))
                        return NULL;
                    APR_ARRAY_PUSH(v.arr, const char *) = s;
                    skip_ws(ps);
                }
                ps->p++;
            } else {
                return ps->why = apr_psprintf(ps->pool, "the field \"%s\" has no value this format uses", v.name), NULL;
            }
            *(value_t *)apr_array_push(vals) = v;
            skip_ws(ps);
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p != '}')
                return ps->why = "no ',' or '}' after a value", NULL;
            ps->p++;
            break;
        }
    }
    skip_ws(ps);
    if (*ps->p)
        return ps->why = "more after the object", NULL;
    return vals;
}

static value_t *value_of(apr_array_header_t *vals, const char *name)
{
    for (int i = 0; i < vals->nelts; i++) {
        value_t *v = &APR_ARRAY_IDX(vals, i, value_t);
        if (!strcmp(v->name, name)) {
            v->used = 1;
            return v;
        }
    }
    return NULL;
}

/* The record of `kind` from its values: every field there with its type, no other. */
static const char *record_of(stp_dump_record_t *r, stp_dump_kind_t kind, apr_array_header_t *vals, apr_pool_t *pool)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    for (const field_t *f = kind_fields[kind]; f->name; f++) {
        value_t *v = value_of(vals, f->name);
        const char *wrong = apr_psprintf(pool, "the field \"%s\" is missing or of the wrong type", f->name);
        value_type_t want = f->type == F_INT || f->type == F_SEQ ? V_INT
                            : f->type == F_BOOL                  ? V_BOOL
                            : f->type == F_TAGS                  ? V_ARR
                                                                 : V_STR;
        if (!v || v->type != want)
            return wrong;
        switch (f->type) {
        case F_STR:
            *AT(r, f, const char *) = v->str;
            break;
        case F_INT:
            *AT(r, f, apr_time_t) = v->num;
            break;
        case F_SEQ:
            if (v->num < 0)
                return apr_psprintf(pool, "the field \"%s\" is negative", f->name);
            *AT(r, f, apr_uint64_t) = (apr_uint64_t)v->num;
            break;
        case F_BOOL:
            *AT(r, f, int) = (int)v->num;
            break;
        case F_FREQ:
            if (stp_notify_freq_parse(AT(r, f, stp_freq_t), v->str) != APR_SUCCESS)
                return apr_psprintf(pool, "\"%s\" is no frequency", v->str);
            break;
        case F_MODE:
            if (!strcmp(v->str, "default"))
                *AT(r, f, stp_org_mode_t) = STP_ORG_MODE_DEFAULT;
            else if (stp_org_mode_parse(AT(r, f, stp_org_mode_t), v->str) != APR_SUCCESS)
                return apr_psprintf(pool, "\"%s\" is no access mode", v->str);
            break;
        case F_ROLE: {
            stp_role_t role = STP_ROLE_NONE;
            for (int i = STP_ROLE_USER; i <= STP_ROLE_ADMINISTRATOR; i++)
                if (!strcmp(v->str, stp_org_role_name((stp_role_t)i)))
                    role = (stp_role_t)i;
            if (role == STP_ROLE_NONE)
                return apr_psprintf(pool, "\"%s\" is no role", v->str);
            *AT(r, f, stp_role_t) = role;
            break;
        }
        case F_TAGS:
            *AT(r, f, apr_array_header_t *) = v->arr;
            break;
        }
    }
    for (int i = 0; i < vals->nelts; i++)
        if (!APR_ARRAY_IDX(vals, i, value_t).used)
            return apr_psprintf(pool, "a field this kind has not: \"%s\"", APR_ARRAY_IDX(vals, i, value_t).name);
    if (kind == STP_DUMP_NDA || kind == STP_DUMP_NDA_LOG)
        r->key = r->nda.user_key;
    else if (kind == STP_DUMP_ORG_LOG)
        r->key = r->change.tenant;
    else if (kind == STP_DUMP_FEEDBACK)
        r->key = r->feedback.page;
    return NULL;
}

/* --- import ----------------------------------------------------------------------------------------- */

typedef struct {
    stp_dump_txn_t t;
    FILE *in;
    char *line;
    size_t cap;
    long lineno;
    stp_dump_counts_t read, trailer, target;
    const char *why;
} import_t;

/* The next line without its newline, or NULL at the end. */
static const char *next_line(import_t *im)
{
    ssize_t n = getline(&im->line, &im->cap, im->in);
    if (n < 0)
        return NULL;
    im->lineno++;
    if (n > 0 && im->line[n - 1] == '\n')
        im->line[--n] = '\0';
    if ((size_t)n != strlen(im->line))
        return im->why = "a NUL byte", im->line; /* caught by the caller through why */
    return im->line;
}

static apr_status_t bad(import_t *im, const char *why)
{
    im->why = apr_psprintf(im->t.pool, "line %ld: %s", im->lineno, why);
    return STP_DUMP_EBAD;
}

static apr_status_t put_one(stp_dump_txn_t *t, const stp_dump_record_t *r)
{
    switch (r->kind) {
    case STP_DUMP_USER:
    case STP_DUMP_NDA:
    case STP_DUMP_NDA_LOG:
        return stp_state_dump_put(t, r);
    case STP_DUMP_LIBRARY:
    case STP_DUMP_NOTIFY:
        return stp_library_dump_put(t, r);
    case STP_DUMP_ORG:
    case STP_DUMP_ORG_PERSON:
    case STP_DUMP_ORG_LOG:
        return stp_org_dump_put(t, r);
    default:
        return stp_feedback_dump_put(t, r);
    }
}

/* Everything after the header, in the target's transaction. */
static apr_status_t import_all(import_t *im)
{
    stp_dump_txn_t *t = &im->t;
    apr_pool_t *iter;
    const char *line;
    int trailer = 0;
    apr_status_t rv;
    if (t->st->dbd && (rv = stp_dump_exec(t, "stp_dump_lock", 0, NULL)) != APR_SUCCESS)
        return rv;
    if ((rv = count_in(t, &im->target)) != APR_SUCCESS)
        return rv;
    for (int k = 0; k < STP_DUMP_KINDS; k++)
        if (im->target.n[k]) {
            im->why = apr_psprintf(t->pool, "the target already holds state (%s): import only into an empty one",
                                   counts_text(&im->target, t->pool));
            return STP_DUMP_ENOTEMPTY;
        }
    apr_pool_create(&iter, t->pool);
    rv = APR_SUCCESS;
    while (rv == APR_SUCCESS && (line = next_line(im)) != NULL) {
        parser_t ps = {line, NULL, iter};
        apr_array_header_t *vals;
        value_t *kind;
        apr_pool_clear(iter);
        if (im->why)
            return bad(im, im->why);
        if (trailer)
            return bad(im, "a line after the trailer");
        if (!(vals = parse_object(&ps)))
            return bad(im, ps.why);
        if (!(kind = value_of(vals, "kind")) || kind->type != V_STR)
            return bad(im, "no \"kind\"");
        if (!strcmp(kind->str, "trailer")) {
            for (int k = 0; k < STP_DUMP_KINDS; k++) {
                value_t *v = value_of(vals, kind_names[k]);
                if (!v || v->type != V_INT || v->num < 0)
                    return bad(im, apr_psprintf(iter, "the trailer has no count of \"%s\"", kind_names[k]));
                im->trailer.n[k] = (apr_uint64_t)v->num;
            }
            for (int i = 0; i < vals->nelts; i++)
                if (!APR_ARRAY_IDX(vals, i, value_t).used)
                    return bad(im, apr_psprintf(iter, "the trailer counts an unknown kind \"%s\"",
                                                APR_ARRAY_IDX(vals, i, value_t).name));
            trailer = 1;
            continue;
        }
        int k = 0;
        while (k < STP_DUMP_KINDS && strcmp(kind->str, kind_names[k]))
            k++;
        if (k == STP_DUMP_KINDS)
            return bad(im, apr_psprintf(iter, "unknown kind \"%s\"", kind->str));
        stp_dump_record_t r;
        const char *why = record_of(&r, (stp_dump_kind_t)k, vals, iter);
        if (why)
            return bad(im, apr_psprintf(iter, "%s: %s", kind_names[k], why));
        apr_pool_t *outer = t->pool;
        t->pool = iter; /* the record's encoding and arguments go with the line */
        t->err = NULL;
        rv = put_one(t, &r);
        t->pool = outer;
        if (rv != APR_SUCCESS) {
            im->why = apr_psprintf(t->pool, "line %ld (%s): %s", im->lineno, kind_names[k],
                                   t->err ? t->err : "cannot write it");
            return rv == APR_EINVAL ? STP_DUMP_EBAD : rv;
        }
        im->read.n[k]++;
    }
    if (ferror(im->in)) {
        im->why = apr_psprintf(t->pool, "cannot read the dump after line %ld", im->lineno);
        return APR_EGENERAL;
    }
    if (!trailer) {
        im->why = apr_psprintf(t->pool, "the dump is truncated: no trailer after line %ld", im->lineno);
        return STP_DUMP_EBAD;
    }
    if (t->st->dbd && (rv = stp_dump_exec(t, "stp_restore_sequences", 0, NULL)) != APR_SUCCESS)
        return rv;
    if ((rv = count_in(t, &im->target)) != APR_SUCCESS)
        return rv;
    for (int k = 0; k < STP_DUMP_KINDS; k++)
        if (im->target.n[k] != im->read.n[k] || im->read.n[k] != im->trailer.n[k]) {
            im->why =
                apr_psprintf(t->pool,
                             "the counts of %s do not agree: %" APR_UINT64_T_FMT " in the trailer, %" APR_UINT64_T_FMT
                             " lines read, %" APR_UINT64_T_FMT " in the target",
                             kind_names[k], im->trailer.n[k], im->read.n[k], im->target.n[k]);
            return STP_DUMP_ECOUNT;
        }
    return APR_SUCCESS;
}

static apr_status_t import_txn(stp_dbd_conn_t *c, void *baton, const char **err, apr_pool_t *pool)
{
    import_t *im = baton;
    (void)c, (void)pool;
    apr_status_t rv = import_all(im);
    if (rv != APR_SUCCESS && !im->why)
        im->why = im->t.err;
    *err = im->why;
    return rv;
}

apr_status_t stp_state_import(stp_state_t *st, FILE *in, stp_dump_counts_t *counts, const char **err, apr_pool_t *pool)
{
    import_t im = {{st, NULL, NULL, pool}, in, NULL, 0, 0, {{0}}, {{0}}, {{0}}, NULL};
    apr_status_t rv = APR_SUCCESS;
    const char *line = next_line(&im);
    *err = NULL;
    if (!line) {
        rv = STP_DUMP_EBAD;
        im.why = "the dump is empty";
    } else {
        parser_t ps = {line, NULL, pool};
        apr_array_header_t *vals = im.why ? NULL : parse_object(&ps);
        value_t *kind = vals ? value_of(vals, "kind") : NULL, *format = vals ? value_of(vals, "format") : NULL;
        value_t *store = vals ? value_of(vals, "store") : NULL;
        if (!vals)
            rv = bad(&im, im.why ? im.why : ps.why);
        else if (!kind || kind->type != V_STR || strcmp(kind->str, "header") || !store || store->type != V_STR)
            rv = bad(&im, "no header: this is not an STP state dump");
        else if (!format || format->type != V_INT || format->num != STP_DUMP_FORMAT)
            rv = bad(&im, apr_psprintf(pool, "the dump's format is not %d, the one this build reads", STP_DUMP_FORMAT));
    }
    if (rv == APR_SUCCESS && st->dbd) {
        rv = stp_dbd_transaction_once(st->dbd, STP_DBD_TXN_WRITE, import_txn, &im, err, pool);
        if (rv != APR_SUCCESS && !im.why)
            im.why = *err;
    } else if (rv == APR_SUCCESS) {
        int rc = mdb_txn_begin(st->env, NULL, 0, &im.t.txn);
        if (rc) {
            rv = stp_lmdb_status(rc);
        } else if ((rv = import_all(&im)) != APR_SUCCESS) {
            mdb_txn_abort(im.t.txn);
        } else if ((rc = mdb_txn_commit(im.t.txn)) != 0) {
            rv = stp_lmdb_status(rc);
            im.why = rc == MDB_MAP_FULL ? "state.mdb is full: raise its map size" : mdb_strerror(rc);
        }
    }
    free(im.line);
    *err = im.why ? im.why : im.t.err;
    if (counts) {
        *counts = im.target;
        if (rv != APR_SUCCESS)
            *counts = im.read;
    }
    return rv;
}
