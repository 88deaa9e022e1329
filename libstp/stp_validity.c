#include "stp_validity.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

stp_validity_t stp_validity_on(const stp_doc_t *doc, stp_day_t today)
{
    if (!doc->valid_from && !doc->valid_until)
        return STP_VALIDITY_NONE;
    if (doc->valid_until && today > doc->valid_until)
        return STP_VALIDITY_EXPIRED;
    if (doc->valid_from && today < doc->valid_from)
        return STP_VALIDITY_PENDING;
    return STP_VALIDITY_IN_FORCE;
}

const char *stp_validity_name(stp_validity_t v)
{
    static const char *const names[] = {"none", "pending", "valid", "expired"};
    return (unsigned)v < 4 ? names[v] : "none";
}

int stp_validity_due(const stp_doc_t *doc, stp_day_t today, int days)
{
    /* An older version's certificate expiring is the normal course of things: its successor is
     * what readers get. */
    int current = doc->current && doc->id && !strcmp(doc->current, doc->id);
    return current && doc->valid_until && (int64_t)doc->valid_until - today <= days;
}

static int by_until(const void *a, const void *b)
{
    const stp_doc_t *x = *(const stp_doc_t *const *)a, *y = *(const stp_doc_t *const *)b;
    if (x->valid_until != y->valid_until)
        return x->valid_until < y->valid_until ? -1 : 1;
    return strcmp(x->id, y->id);
}

void stp_validity_sort(apr_array_header_t *docs)
{
    qsort(docs->elts, (size_t)docs->nelts, sizeof(const stp_doc_t *), by_until);
}

/* A title on one line: a report line must stay one line, whatever the editor wrote. */
static const char *one_line(const char *s, apr_pool_t *pool)
{
    char *out = apr_palloc(pool, strlen(s) + 1), *o = out;
    int space = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r') {
            space = o > out;
            continue;
        }
        if (*c < 0x20 || *c == 0x7f)
            continue;
        if (space)
            *o++ = ' ';
        space = 0;
        *o++ = (char)*c;
    }
    *o = '\0';
    return out;
}

const char *stp_validity_report_line(const stp_doc_t *doc, const char *lang, stp_day_t today, apr_pool_t *pool)
{
    char iso[11];
    long left = (long)doc->valid_until - (long)today;
    const stp_text_t *t = stp_catalog_text_pick(doc->titles, lang, NULL);
    const char *when = left > 1     ? apr_psprintf(pool, "%ld days left", left)
                       : left == 1  ? "1 day left"
                       : left == 0  ? "expires today"
                       : left == -1 ? "expired yesterday"
                                    : apr_psprintf(pool, "expired %ld days ago", -left);
    stp_date_format_iso(iso, doc->valid_until);
    return apr_psprintf(pool, "%s until %s (%s): %s", doc->id, iso, when, one_line(t ? t->text : doc->id, pool));
}
