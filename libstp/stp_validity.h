/* stp_validity: a document's validity period and last review (<valid from until/>, <reviewed>
 * in doc.xml): whether it is in force on a day, and the expiry report that `sitegen --report`
 * prints and `stpctl report` mails (docs/content-format.md#validity). Pure functions over
 * catalog records, so that both tools say the same. */
#ifndef STP_VALIDITY_H
#define STP_VALIDITY_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "stp_catalog.h"

typedef enum {
    STP_VALIDITY_NONE = 0, /* no <valid> */
    STP_VALIDITY_PENDING,  /* before its from date */
    STP_VALIDITY_IN_FORCE, /* from its from date (if any) through its until date (if any) */
    STP_VALIDITY_EXPIRED   /* after its until date: the until day itself is still valid */
} stp_validity_t;

stp_validity_t stp_validity_on(const stp_doc_t *doc, stp_day_t today);
/* "none", "pending", "valid", "expired": the page input's word for it. */
const char *stp_validity_name(stp_validity_t v);

/* Whether the report names the document: the current version of its series, with an until date
 * at most `days` days after `today` (already expired ones too). */
int stp_validity_due(const stp_doc_t *doc, stp_day_t today, int days);

/* Sorts documents (const stp_doc_t *) by until date, then id: the report's order. */
void stp_validity_sort(apr_array_header_t *docs);

/* One line of the report, without its newline: "ID until YYYY-MM-DD (N days left): TITLE", or
 * "(expires today)", "(expired N days ago)". The title is the one in `lang` (else the first), on
 * one line: white space runs become one space and control characters are dropped. */
const char *stp_validity_report_line(const stp_doc_t *doc, const char *lang, stp_day_t today, apr_pool_t *pool);

#endif
