#include "stp_feedback.h"

#include <string.h>

#include <apr_strings.h>

#include "stp_codec.h"
#include "stp_hash.h"
#include "stp_http.h"
#include "stp_identity.h"
#include "stp_lmdb.h"
#include "stp_state_int.h"

/* --- what may be stored --------------------------------------------------------------------------- */

/* The characters of a comment, or -1 when one is not allowed: C0 and C1 controls other than tab,
 * LF and the CR of a CRLF (what browsers send for a textarea's line breaks), DEL, and the
 * bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069), which make an
 * exported comment display other than it reads ("Trojan Source"); the marks LRM/RLM stay allowed,
 * since Arabic text may need them. UTF-8 is checked before. */
static long comment_chars(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue; /* counted with its LF */
        if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return -1;
        if (*p == 0xe2 &&
            ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
            return -1;
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}

const char *stp_feedback_check(const stp_feedback_t *e, const char *locales)
{
    const char *comment = e->comment ? e->comment : "", *answer = e->answer ? e->answer : "";
    if (!e->page || !*e->page)
        return "no page";
    if (strlen(e->page) > STP_FEEDBACK_PAGE_MAX)
        return "the page address is too long";
    if (!stp_http_utf8_valid(e->page, strlen(e->page)) || !stp_identity_return_ok(e->page))
        return "the page is not a local path";
    if (!e->lang || !*e->lang || strlen(e->lang) > 16 || strchr(e->lang, ','))
        return "no language";
    if (locales && !stp_http_locale_listed(locales, e->lang))
        return "not a language of the site";
    if (strcmp(answer, "yes") && strcmp(answer, "no") && *answer)
        return "the answer is neither yes nor no";
    if (!*answer && !*comment)
        return "neither an answer nor a comment";
    if (!stp_http_utf8_valid(comment, strlen(comment)))
        return "the comment is not UTF-8";
    long n = comment_chars(comment);
    if (n < 0)
        return "the comment holds control characters";
    if (n > STP_FEEDBACK_COMMENT_MAX)
        return "the comment is longer than 2000 characters";
    if (e->user_key && strlen(e->user_key) > STP_FEEDBACK_USER_MAX)
        return "the user key is too long";
    return NULL;
}

/* The comment as stored: CRLF as LF. */
static const char *text_of(const char *comment, apr_pool_t *pool)
{
    char *out = apr_pstrdup(pool, comment ? comment : ""), *w = out;
    for (const char *p = out; *p; p++)
        if (!(*p == '\r' && p[1] == '\n'))
            *w++ = *p;
    *w = '\0';
    return out;
}

/* --- the store -------------------------------------------------------------------------------------- */

static MDB_val encode(const stp_feedback_t *e, apr_pool_t *pool)
{
    stp_enc_t enc;
    stp_codec_enc_init(&enc, pool);
    stp_codec_enc_int(&enc, e->when);
    stp_codec_enc_str(&enc, e->page);
    stp_codec_enc_str(&enc, e->lang);
    stp_codec_enc_str(&enc, e->answer);
    stp_codec_enc_str(&enc, e->comment);
    stp_codec_enc_str(&enc, e->user_key);
    stp_codec_enc_uint(&enc, e->ref);
    MDB_val v = {enc.len, enc.buf};
    return v;
}

static apr_status_t decode(stp_feedback_t *e, const MDB_val *v, apr_pool_t *pool)
{
    stp_dec_t d;
    stp_codec_dec_init(&d, v->mv_data, v->mv_size);
    e->when = (apr_time_t)stp_codec_dec_int(&d);
    e->page = stp_codec_dec_str(&d, pool);
    e->lang = stp_codec_dec_str(&d, pool);
    e->answer = stp_codec_dec_str(&d, pool);
    e->comment = stp_codec_dec_str(&d, pool);
    e->user_key = stp_codec_dec_str(&d, pool);
    e->ref = stp_codec_dec_uint(&d);
    return stp_codec_dec_finish(&d);
}

/* A rate key: the window's number (big-endian, so that old windows sort first and are pruned
 * from the front) and the first bytes of the address's SHA-256 (no address is kept in the file). */
#define RATE_KEY 24
static void rate_key(unsigned char *k, apr_uint64_t window, const unsigned char *addr)
{
    for (int i = 0; i < 8; i++)
        k[i] = (unsigned char)(window >> (56 - 8 * i));
    memcpy(k + 8, addr, RATE_KEY - 8);
}

static int rate_get(MDB_txn *txn, MDB_dbi dbi, const unsigned char *k, apr_uint32_t *count)
{
    MDB_val key = {RATE_KEY, (void *)k}, v;
    int rc = mdb_get(txn, dbi, &key, &v);
    *count = 0;
    if (rc == MDB_SUCCESS && v.mv_size == sizeof *count)
        memcpy(count, v.mv_data, sizeof *count);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

typedef struct {
    stp_state_t *st;
    const stp_feedback_t *e;
    const stp_feedback_rate_t *rate;
    MDB_val val;
    apr_uint64_t seq;
    int limited, bad_ref;
} add_t;

/* Whether one more answer goes over the limit: the previous window weighs as much as it still
 * overlaps the last `w` of time. */
static int rate_over(apr_uint32_t prev_n, apr_uint32_t now_n, apr_interval_time_t into, apr_interval_time_t w,
                     unsigned limit)
{
    double estimate = (double)prev_n * (double)(w - into) / (double)w + (double)now_n;
    return estimate + 1 > (double)limit;
}

/* Counts one more answer of rate->client, unless that is over the limit (then STP_STATE_REFUSED),
 * and drops the counts of windows before the previous one. */
static int rate_count(MDB_txn *txn, add_t *a)
{
    const stp_feedback_rate_t *rate = a->rate;
    unsigned char addr[STP_HASH_LEN], cur[RATE_KEY], prev[RATE_KEY];
    apr_uint32_t now_n, prev_n;
    apr_interval_time_t w = rate->window > 0 ? rate->window : 1;
    apr_uint64_t window = (apr_uint64_t)(a->e->when > 0 ? a->e->when : 0) / (apr_uint64_t)w;
    apr_interval_time_t into = (a->e->when > 0 ? a->e->when : 0) % w;
    MDB_cursor *cur_c;
    MDB_val k, v;
    int rc;
    stp_hash_sha256(addr, rate->client, strlen(rate->client));
    rate_key(cur, window, addr);
    rate_key(prev, window - 1, addr);
    if ((rc = rate_get(txn, a->st->feedback_rate, cur, &now_n)) ||
        (rc = rate_get(txn, a->st->feedback_rate, prev, &prev_n)))
        return rc;
    if (rate_over(prev_n, now_n, into, w, rate->limit)) {
        a->limited = 1;
        return STP_STATE_REFUSED;
    }
    now_n++;
    MDB_val key = {RATE_KEY, cur}, nv = {sizeof now_n, &now_n};
    if ((rc = mdb_put(txn, a->st->feedback_rate, &key, &nv, 0)) ||
        (rc = mdb_cursor_open(txn, a->st->feedback_rate, &cur_c)))
        return rc;
    unsigned char oldest[8]; /* the previous window's number: everything before it goes */
    for (int i = 0; i < 8; i++)
        oldest[i] = (unsigned char)((window - 1) >> (56 - 8 * i));
    while (window && (rc = mdb_cursor_get(cur_c, &k, &v, MDB_FIRST)) == MDB_SUCCESS && k.mv_size >= 8 &&
           memcmp(k.mv_data, oldest, 8) < 0)
        if ((rc = mdb_cursor_del(cur_c, 0)))
            break;
    mdb_cursor_close(cur_c);
    return rc == MDB_NOTFOUND || rc == MDB_SUCCESS ? 0 : rc;
}

static int add_write(MDB_txn *txn, void *baton)
{
    add_t *a = baton;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;
    if (a->e->ref) { /* a comment after an answer: that answer, about the same page */
        stp_feedback_t ref;
        apr_uint64_t seq = a->e->ref;
        MDB_val rk = {sizeof seq, &seq};
        apr_pool_t *p = stp_state_scratch();
        rc = mdb_get(txn, a->st->feedback, &rk, &v);
        int same =
            rc == MDB_SUCCESS && decode(&ref, &v, p) == APR_SUCCESS && !strcmp(ref.page, a->e->page) && *ref.answer;
        apr_pool_destroy(p);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        if (!same) {
            a->bad_ref = 1;
            return STP_STATE_REFUSED;
        }
    }
    if (a->rate && (rc = rate_count(txn, a)))
        return rc;
    if ((rc = mdb_cursor_open(txn, a->st->feedback, &cur)))
        return rc;
    a->seq = 1;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == MDB_SUCCESS && k.mv_size == sizeof a->seq)
        memcpy(&a->seq, k.mv_data, sizeof a->seq), a->seq++;
    mdb_cursor_close(cur);
    MDB_val key = {sizeof a->seq, &a->seq};
    return mdb_put(txn, a->st->feedback, &key, &a->val, MDB_APPEND);
}

/* --- on PostgreSQL (stp_dbd): the same checks in one transaction; the rate under a lock per
 * client address (its hash), so that the count holds across every node. */

static const char *pg_num(apr_int64_t v, apr_pool_t *pool)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

static apr_status_t pg_rate(add_t *a, stp_dbd_conn_t *c, const char **err, apr_pool_t *pool)
{
    const stp_feedback_rate_t *rate = a->rate;
    char hex[STP_HASH_HEX_LEN + 1];
    apr_interval_time_t w = rate->window > 0 ? rate->window : 1, when = a->e->when > 0 ? a->e->when : 0;
    apr_int64_t window = when / w;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    stp_hash_sha256_hex(hex, rate->client, strlen(rate->client));
    const char *lock[] = {hex}, *get[] = {pg_num(window, pool), hex}, *prune[] = {pg_num(window - 1, pool)};
    apr_status_t rv = stp_dbd_exec(c, "stp_feedback_rate_lock", 1, lock, NULL, &res, err, pool);
    if (rv == APR_SUCCESS)
        rv = stp_dbd_exec(c, "stp_feedback_rate_get", 2, get, NULL, &res, err, pool);
    if (rv != APR_SUCCESS)
        return rv;
    apr_uint32_t now_n = 0, prev_n = 0;
    if (stp_dbd_row(c, res, &row, pool)) {
        now_n = (apr_uint32_t)apr_atoi64(stp_dbd_col(c, row, 0));
        prev_n = (apr_uint32_t)apr_atoi64(stp_dbd_col(c, row, 1));
    }
    if (rate_over(prev_n, now_n, when % w, w, rate->limit)) {
        a->limited = 1;
        return APR_EAGAIN;
    }
    if ((rv = stp_dbd_exec(c, "stp_feedback_rate_count", 2, get, NULL, NULL, err, pool)) == APR_SUCCESS)
        rv = stp_dbd_exec(c, "stp_feedback_rate_prune", 1, prune, NULL, NULL, err, pool);
    return rv;
}

static apr_status_t pg_add_txn(stp_dbd_conn_t *c, void *baton, const char **err, apr_pool_t *pool)
{
    add_t *a = baton;
    const stp_feedback_t *e = a->e;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_status_t rv;
    if (e->ref) { /* a comment after an answer: that answer, about the same page */
        const char *args[] = {pg_num((apr_int64_t)e->ref, pool)};
        if ((rv = stp_dbd_exec(c, "stp_feedback_answer", 1, args, NULL, &res, err, pool)) != APR_SUCCESS)
            return rv;
        if (!stp_dbd_row(c, res, &row, pool) || strcmp(stp_dbd_col(c, row, 0), e->page) || !*stp_dbd_col(c, row, 1)) {
            a->bad_ref = 1;
            return APR_EINVAL;
        }
        row = NULL;
    }
    if (a->rate && (rv = pg_rate(a, c, err, pool)) != APR_SUCCESS)
        return rv;
    const char *args[] = {
        pg_num(e->when, pool), e->page, e->lang, e->answer, e->comment, e->user_key, pg_num((apr_int64_t)e->ref, pool)};
    if ((rv = stp_dbd_exec(c, "stp_feedback_add", 7, args, NULL, &res, err, pool)) != APR_SUCCESS)
        return rv;
    if (!stp_dbd_row(c, res, &row, pool))
        return APR_EGENERAL;
    a->seq = (apr_uint64_t)apr_strtoi64(stp_dbd_col(c, row, 0), NULL, 10);
    return APR_SUCCESS;
}

static apr_status_t pg_add(add_t *a, apr_pool_t *pool)
{
    const char *err = NULL;
    apr_status_t rv = stp_dbd_transaction(a->st->dbd, pg_add_txn, a, &err, pool);
    if (rv != APR_SUCCESS && !a->limited && !a->bad_ref)
        a->st->dbd_error = apr_pstrdup(a->st->pool, err ? err : "storing feedback");
    return rv;
}

static apr_status_t pg_each(stp_state_t *st, stp_feedback_fn *fn, void *baton, apr_pool_t *pool)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *err = NULL;
    apr_status_t rv = stp_dbd_exec(st->dbd, "stp_feedback_all", 0, NULL, NULL, &res, &err, pool);
    if (rv != APR_SUCCESS)
        st->dbd_error = apr_pstrdup(st->pool, err ? err : "reading feedback");
    while (rv == APR_SUCCESS && stp_dbd_row(st->dbd, res, &row, pool)) {
        stp_feedback_t e;
        e.seq = (apr_uint64_t)apr_strtoi64(stp_dbd_col(st->dbd, row, 0), NULL, 10);
        e.when = apr_strtoi64(stp_dbd_col(st->dbd, row, 1), NULL, 10);
        e.page = stp_dbd_col(st->dbd, row, 2);
        e.lang = stp_dbd_col(st->dbd, row, 3);
        e.answer = stp_dbd_col(st->dbd, row, 4);
        e.comment = stp_dbd_col(st->dbd, row, 5);
        e.user_key = stp_dbd_col(st->dbd, row, 6);
        e.ref = (apr_uint64_t)apr_strtoi64(stp_dbd_col(st->dbd, row, 7), NULL, 10);
        if (fn(baton, &e))
            break;
    }
    return rv;
}

apr_status_t stp_feedback_add(apr_uint64_t *seq, stp_state_t *st, const stp_feedback_t *e, const char *locales,
                              const stp_feedback_rate_t *rate)
{
    *seq = 0;
    if (stp_feedback_check(e, locales) || (rate && !rate->client))
        return APR_EINVAL;
    if (rate && !rate->limit) /* anonymous feedback is switched off */
        return APR_EAGAIN;
    apr_pool_t *pool = stp_state_scratch_of(st);
    stp_feedback_t stored = *e;
    stored.answer = e->answer ? e->answer : "";
    stored.comment = text_of(e->comment, pool);
    stored.user_key = e->user_key ? e->user_key : "";
    add_t a = {st, &stored, rate, encode(&stored, pool), 0, 0, 0};
    if (st->dbd) {
        apr_status_t rv = pg_add(&a, pool);
        apr_pool_destroy(pool);
        if (rv == APR_SUCCESS)
            *seq = a.seq;
        return rv;
    }
    int rc = stp_state_write(st, add_write, &a);
    apr_pool_destroy(pool);
    if (rc == STP_STATE_REFUSED)
        return a.limited ? APR_EAGAIN : APR_EINVAL;
    if (rc == MDB_SUCCESS)
        *seq = a.seq;
    return stp_lmdb_status(rc);
}

apr_status_t stp_feedback_each(stp_state_t *st, stp_feedback_fn *fn, void *baton, apr_pool_t *pool)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    if (st->dbd)
        return pg_each(st, fn, baton, pool);
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return stp_lmdb_status(rc);
    if ((rc = mdb_cursor_open(txn, st->feedback, &cur))) {
        mdb_txn_abort(txn);
        return stp_lmdb_status(rc);
    }
    apr_pool_create(&iter, pool);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        stp_feedback_t e;
        apr_pool_clear(iter);
        if (k.mv_size != sizeof e.seq) {
            rv = APR_EGENERAL;
            break;
        }
        memcpy(&e.seq, k.mv_data, sizeof e.seq);
        if ((rv = decode(&e, &v, iter)) != APR_SUCCESS || fn(baton, &e))
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    apr_pool_destroy(iter);
    return rv;
}

/* --- the dump (stp_state_dump.c): the log as it is, sequence numbers kept (comments refer to them) */

static apr_status_t dump_entry(stp_dump_txn_t *t, const MDB_val *k, const MDB_val *v, stp_dump_emit_fn *emit,
                               void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_FEEDBACK};
    (void)t;
    if (k->mv_size != sizeof r.feedback.seq)
        return APR_EGENERAL;
    memcpy(&r.feedback.seq, k->mv_data, sizeof r.feedback.seq);
    if (decode(&r.feedback, v, pool) != APR_SUCCESS)
        return APR_EGENERAL;
    r.key = r.feedback.page;
    return emit(baton, &r);
}

static apr_status_t pg_dump_entry(stp_dump_txn_t *t, stp_dbd_conn_t *c, apr_dbd_row_t *row, stp_dump_emit_fn *emit,
                                  void *baton, apr_pool_t *pool)
{
    stp_dump_record_t r = {.kind = STP_DUMP_FEEDBACK};
    stp_feedback_t *e = &r.feedback;
    (void)t, (void)pool;
    e->seq = (apr_uint64_t)apr_strtoi64(stp_dbd_col(c, row, 0), NULL, 10);
    e->when = apr_strtoi64(stp_dbd_col(c, row, 1), NULL, 10);
    r.key = e->page = stp_dbd_col(c, row, 2);
    e->lang = stp_dbd_col(c, row, 3);
    e->answer = stp_dbd_col(c, row, 4);
    e->comment = stp_dbd_col(c, row, 5);
    e->user_key = stp_dbd_col(c, row, 6);
    e->ref = (apr_uint64_t)apr_strtoi64(stp_dbd_col(c, row, 7), NULL, 10);
    return emit(baton, &r);
}

apr_status_t stp_feedback_dump_each(stp_dump_txn_t *t, stp_dump_emit_fn *emit, void *baton)
{
    return t->st->dbd ? stp_dump_rows(t, "stp_feedback_all", pg_dump_entry, emit, baton)
                      : stp_dump_scan(t, t->st->feedback, dump_entry, emit, baton);
}

apr_status_t stp_feedback_dump_put(stp_dump_txn_t *t, const stp_dump_record_t *r)
{
    const stp_feedback_t *e = &r->feedback;
    apr_pool_t *pool = t->pool;
    /* As the log holds it: not stp_feedback_check, whose rules (the build's languages) may have
     * changed since an entry was written. */
    if (!e->seq || strlen(e->page) > STP_FEEDBACK_PAGE_MAX || strlen(e->user_key) > STP_FEEDBACK_USER_MAX)
        return (t->err = "a feedback entry without a sequence number, or with a long page or user"), APR_EINVAL;
    if (t->st->dbd) {
        const char *args[] = {pg_num((apr_int64_t)e->seq, pool),
                              pg_num(e->when, pool),
                              e->page,
                              e->lang,
                              e->answer,
                              e->comment,
                              e->user_key,
                              pg_num((apr_int64_t)e->ref, pool)};
        return stp_dump_exec(t, "stp_restore_feedback", 8, args);
    }
    apr_uint64_t seq = e->seq;
    MDB_val k = {sizeof seq, &seq}, v = encode(e, pool);
    return stp_dump_mdb_put(t, t->st->feedback, &k, &v);
}
