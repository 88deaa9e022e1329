/* stp_feedback: "Was this page helpful?" and the feedback form's answers, in state.mdb
 * (docs/architecture.md). An append-only log keyed by a sequence number; every write is one
 * short, fully durable transaction. Anonymous answers are counted per client address in the same
 * transaction, so that the limit holds across every process of every MPM. Everything a reader
 * types is kept as text: the store never interprets it, and exports escape it for their format. */
#ifndef STP_FEEDBACK_H
#define STP_FEEDBACK_H

#include <apr_pools.h>
#include <apr_time.h>

#include "stp_state.h"

/* The longest page address (bytes) and comment (characters, a CRLF counting as one). */
#define STP_FEEDBACK_PAGE_MAX 1024
#define STP_FEEDBACK_COMMENT_MAX 2000
#define STP_FEEDBACK_USER_MAX 512

typedef struct {
    apr_uint64_t seq;     /* set by the store */
    apr_time_t when;      /* set by the caller */
    const char *page;     /* the page's local path, "/en/docs/x/" */
    const char *lang;     /* the page's language */
    const char *answer;   /* "yes", "no", or "" for a comment alone */
    const char *comment;  /* "" for none; line breaks are LF once stored */
    const char *user_key; /* "" for an anonymous reader */
    apr_uint64_t ref;     /* the answer this comment follows (0: none) */
} stp_feedback_t;

/* NULL when `e` may be stored, else why not (for the log; the reader gets a 400). `locales` is
 * the build's comma-separated list, which e->lang must be on (NULL: any short language tag).
 * The page is a local path (one leading '/', no control characters, valid UTF-8, at most
 * STP_FEEDBACK_PAGE_MAX bytes); the answer yes, no or empty, and then a comment is needed; the
 * comment valid UTF-8 of at most STP_FEEDBACK_COMMENT_MAX characters without control characters
 * other than tab and line breaks (LF or CRLF). */
const char *stp_feedback_check(const stp_feedback_t *e, const char *locales);

/* How many anonymous answers one client address may send: at most `limit` per `window`
 * (a sliding estimate over the current and the previous window). */
typedef struct {
    const char *client; /* the address, as the server sees it */
    unsigned limit;
    apr_interval_time_t window;
} stp_feedback_rate_t;

/* Appends `e` (with its `when`) to the log and sets *seq to its number. With `rate` (an anonymous
 * reader), the answer first counts against rate->client in the same transaction. APR_EINVAL when
 * stp_feedback_check refuses it or e->ref names no earlier answer about the same page;
 * APR_EAGAIN when the client is over its limit; nothing is stored in either case. */
apr_status_t stp_feedback_add(apr_uint64_t *seq, stp_state_t *st, const stp_feedback_t *e, const char *locales,
                              const stp_feedback_rate_t *rate);

typedef int stp_feedback_fn(void *baton, const stp_feedback_t *e);
/* Calls fn for every entry in order (strings valid for that call only); non-zero stops. */
apr_status_t stp_feedback_each(stp_state_t *st, stp_feedback_fn *fn, void *baton, apr_pool_t *pool);

#endif
