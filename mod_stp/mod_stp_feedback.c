/* mod_stp_feedback: "Was this page helpful?" and the feedback form (GET/POST /stp/feedback).
 *
 * Every page, static or dynamic, ends with a plain form posting yes or no here; static pages can
 * carry no per-user token, so the rule is (docs/architecture.md, security):
 * - every POST must come from one of our own pages: Sec-Fetch-Site same-origin, or without Fetch
 *   Metadata an Origin of ours; anything else is refused (403) with nothing stored;
 * - an anonymous reader needs nothing more, and is limited per client address (StpFeedbackRate,
 *   counted in state.mdb so that every process shares the count: 429 past it);
 * - a signed-in user's POST needs their token for "feedback" as every state change does, checked
 *   before anything else in the form: a wrong or another user's token is a plain 403; without one
 *   (a static page without JavaScript) the answer is not stored and the 403 page is the form
 *   again, with the token, to confirm.
 * After an answer, the thanks page offers a comment, stored as its own entry that refers to the
 * answer (stp_feedback.h). stp.js does the same in place with Accept: application/json. */
#include <httpd.h>
#include <stdlib.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_feedback.h"
#include "stp_http.h"

/* The comment's 2,000 characters of up to four bytes, percent-encoded, and the rest. */
#define FORM_LIMIT (STP_FEEDBACK_COMMENT_MAX * 4 * 3 + STP_FEEDBACK_PAGE_MAX * 3 + 1024)

static int wants_json(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && strstr(accept, "application/json") != NULL;
}

/* Stricter than mod_stp_same_origin: a POST must say where it comes from (a browser always does). */
static int from_our_page(request_rec *r, stp_req_t *q)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    return (site ? !strcmp(site, "same-origin") : apr_table_get(r->headers_in, "Origin") != NULL) &&
           mod_stp_same_origin(r, q->conf);
}

static const char *field(apr_table_t *t, const char *name)
{
    const char *v = apr_table_get(t, name);
    return v ? v : "";
}

/* The page a form is about, when it is one the form may name (else ""). */
static const char *page_of(stp_req_t *q, const char *page)
{
    stp_feedback_t e = {0, 0, page, q->lang, "yes", "", "", 0};
    return stp_feedback_check(&e, NULL) ? "" : page;
}

/* The form (GET, a confirmation, or the comment after an answer) and the thanks. `fb` holds the
 * page, the answer, the comment and the reference; `mode` says which of them the page shows. */
typedef enum { FORM_NEW, FORM_CONFIRM, FORM_THANKS } form_mode_t;

static int feedback_page(request_rec *r, stp_req_t *q, int status, form_mode_t mode, const stp_feedback_t *fb)
{
    xmlNodePtr page = mod_stp_page_start(q, "feedback", mod_stp_msg(q, "feedback.title"));
    xmlNodePtr f = mod_stp_el(page, "feedback", NULL);
    mod_stp_attr(f, "page", fb->page);
    mod_stp_attr(f, "mode", mode == FORM_NEW ? "new" : mode == FORM_CONFIRM ? "confirm" : "thanks");
    if (fb->answer && *fb->answer)
        mod_stp_attr(f, "answer", fb->answer);
    if (fb->ref)
        mod_stp_attr(f, "ref", apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, fb->ref));
    if (fb->comment && *fb->comment)
        mod_stp_el(f, "comment", fb->comment);
    /* A form only where there is something to send: not after a comment was sent. */
    if (mode != FORM_THANKS || fb->ref) {
        mod_stp_attr(f, "form", "yes");
        if (q->user.key)
            mod_stp_attr_slot(q, f, "csrf", mod_stp_csrf_form_token(q, "feedback"));
    }
    return mod_stp_page_send(r, q, status, page);
}

static int feedback_get(request_rec *r, stp_req_t *q)
{
    if (q->query_error)
        return mod_stp_error_page(r, q, HTTP_BAD_REQUEST, "error.badrequest.title", "error.badrequest.body");
    if (wants_json(r)) /* for stp.js: a signed-in user's token */
        return mod_stp_json_send(
            r, apr_pstrcat(r->pool, "{\"token\":",
                           stp_http_json_string(q->user.key ? mod_stp_csrf_form_token(q, "feedback") : NULL, r->pool),
                           "}\n", NULL));
    const char *answer = field(q->query, "answer"), *ref = field(q->query, "ref");
    stp_feedback_t fb = {0,
                         0,
                         page_of(q, field(q->query, "page")),
                         q->lang,
                         !strcmp(answer, "yes") || !strcmp(answer, "no") ? answer : "",
                         "",
                         "",
                         0};
    if (apr_table_get(q->query, "thanks")) { /* after a POST without JavaScript (303 here) */
        apr_int64_t n = *fb.page ? apr_strtoi64(ref, NULL, 10) : 0;
        fb.ref = n > 0 ? (apr_uint64_t)n : 0; /* checked when the comment comes */
        return feedback_page(r, q, HTTP_OK, FORM_THANKS, &fb);
    }
    return feedback_page(r, q, HTTP_OK, FORM_NEW, &fb);
}

static int refused(request_rec *r, stp_req_t *q, int status, const char *why, const char *title, const char *body)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: feedback from %s refused: %s",
                  q->user.key       ? q->user.key
                  : r->useragent_ip ? r->useragent_ip
                                    : "-",
                  why);
    if (wants_json(r)) {
        r->status = status;
        return mod_stp_json_send(r, apr_pstrcat(r->pool, "{\"error\":", stp_http_json_string(body, r->pool),
                                                ",\"message\":", stp_http_json_string(mod_stp_msg(q, body), r->pool),
                                                "}\n", NULL));
    }
    return mod_stp_error_page(r, q, status, title, body);
}

static int feedback_post(request_rec *r, stp_req_t *q)
{
    apr_table_t *form;
    apr_uint64_t seq;
    if (!from_our_page(r, q)) /* before reading anything: another site's form stores nothing */
        return refused(r, q, HTTP_FORBIDDEN, "not from one of our pages", "error.forbidden.title",
                       "error.forbidden.body");
    int rc = mod_stp_form_read(&form, r, FORM_LIMIT);
    if (rc != OK)
        return rc;
    const char *ref = field(form, "ref");
    char *end;
    apr_int64_t n = *ref ? apr_strtoi64(ref, &end, 10) : 0;
    stp_feedback_t e = {0,
                        apr_time_now(),
                        field(form, "page"),
                        field(form, "lang"),
                        field(form, "answer"),
                        field(form, "comment"),
                        q->user.key ? q->user.key : "",
                        n > 0 ? (apr_uint64_t)n : 0};
    /* A signed-in user's token first: a wrong one is refused whatever else the form holds. */
    int has_token = apr_table_get(form, "csrf") != NULL;
    if (q->user.key && (has_token || wants_json(r)) && !mod_stp_csrf_valid(r, q, form, "feedback"))
        return wants_json(r)
                   ? refused(r, q, HTTP_FORBIDDEN, "bad token", "error.forbidden.title", "error.forbidden.body")
                   : mod_stp_forbidden(r, q);
    const char *why = stp_feedback_check(&e, q->build->locales);
    if (!why && (n < 0 || (*ref && *end)))
        why = "the reference is not a number";
    if (why)
        return refused(r, q, HTTP_BAD_REQUEST, why, "error.badrequest.title", "feedback.invalid");
    if (q->user.key && !has_token) {
        /* A static page's form: nothing stored; the same answer once more, with the token. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: feedback by %s without a token: asked to confirm",
                      q->user.key);
        return feedback_page(r, q, HTTP_FORBIDDEN, FORM_CONFIRM, &e);
    }
    if (!mod_stp_state(q))
        return mod_stp_state_error(r, q, APR_EGENERAL, "feedback");
    stp_feedback_rate_t rate = {r->useragent_ip ? r->useragent_ip : "-", (unsigned)q->conf->feedback_limit,
                                q->conf->feedback_window};
    apr_status_t rv = stp_feedback_add(&seq, mod_stp_state(q), &e, q->build->locales, q->user.key ? NULL : &rate);
    if (APR_STATUS_IS_EAGAIN(rv)) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(q->conf->feedback_window)));
        return refused(r, q, HTTP_TOO_MANY_REQUESTS, "too many answers from this address", "error.ratelimit.title",
                       "error.ratelimit.body");
    }
    if (APR_STATUS_IS_EINVAL(rv))
        return refused(r, q, HTTP_BAD_REQUEST, "the reference is not an earlier answer about this page",
                       "error.badrequest.title", "feedback.invalid");
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "storing feedback");
    /* Only an answer without a comment is followed by the offer to add one. */
    int offer = *e.answer && !*e.comment;
    if (wants_json(r))
        return mod_stp_json_send(r, apr_psprintf(r->pool,
                                                 "{\"stored\":true,\"seq\":%" APR_UINT64_T_FMT ",\"comment\":%s}\n",
                                                 seq, offer ? "true" : "false"));
    return mod_stp_redirect(r, HTTP_SEE_OTHER,
                            apr_psprintf(r->pool, "/stp/feedback?thanks=1&lang=%s&page=%s&ref=%" APR_UINT64_T_FMT,
                                         stp_http_url_escape(e.lang, r->pool), stp_http_url_escape(e.page, r->pool),
                                         offer ? seq : 0));
}

int mod_stp_feedback_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (!q->build)
        return HTTP_NOT_FOUND;
    if (r->method_number == M_POST)
        return feedback_post(r, q);
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    return feedback_get(r, q);
}
