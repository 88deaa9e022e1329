#include "sg_validity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sg_xml.h"
#include "stp_validity.h"

/* Years outside this range are typos (0226, 2206): they would also make a day number of 0, which
 * the catalog reads as "not given". */
#define FIRST_YEAR 2000
#define LAST_YEAR 2199

/* Parses one date of `<valid>` or `<reviewed>`; 0 after recording why not. `what` names it as the
 * editor wrote it: "until '2026-13-01' in <valid>". */
static stp_day_t read_day(const char *text, const char *what, int line, const char *path, sg_errors_t *errs)
{
    stp_day_t day;
    int y, m, d;
    /* The year first: 0226-12-31 is written right, and a typo. */
    if (strlen(text) == 10 && sscanf(text, "%4d-%2d-%2d", &y, &m, &d) == 3 && (y < FIRST_YEAR || y > LAST_YEAR)) {
        sg_error(errs, path, line, "%s is out of range: give a year from %d to %d", what, FIRST_YEAR, LAST_YEAR);
        return 0;
    }
    if (stp_date_parse(&day, text) != APR_SUCCESS) {
        /* Without the schema (the fuzz target and tests parse doc.xml on their own). */
        sg_error(errs, path, line, "%s must be a date written YYYY-MM-DD", what);
        return 0;
    }
    stp_date_to_ymd(&y, &m, &d, day);
    if (y < FIRST_YEAR || y > LAST_YEAR) {
        sg_error(errs, path, line, "%s is out of range: give a year from %d to %d", what, FIRST_YEAR, LAST_YEAR);
        return 0;
    }
    return day;
}

static void read_valid(stp_doc_t *doc, xmlNodePtr n, const char *path, sg_errors_t *errs, apr_pool_t *pool)
{
    int line = xmlGetLineNo(n);
    const char *from = sg_xml_token_attr(n, "from", pool), *until = sg_xml_token_attr(n, "until", pool);
    if (!from && !until) {
        sg_error(errs, path, line,
                 "<valid> needs from, until or both, such as <valid from=\"2026-01-01\" until=\"2026-12-31\"/>");
        return;
    }
    stp_day_t f = from ? read_day(from, apr_psprintf(pool, "from '%s' in <valid>", from), line, path, errs) : 0;
    stp_day_t u = until ? read_day(until, apr_psprintf(pool, "until '%s' in <valid>", until), line, path, errs) : 0;
    if (f && u && u < f) {
        sg_error(errs, path, line, "<valid> until %s is before from %s: a validity ends on or after the day it starts",
                 until, from);
        return;
    }
    doc->valid_from = f;
    doc->valid_until = u;
}

void sg_validity_read(stp_doc_t *doc, xmlNodePtr n, const char *path, sg_errors_t *errs, apr_pool_t *pool)
{
    if (sg_xml_is_elem(n, "valid")) {
        read_valid(doc, n, path, errs, pool);
    } else if (sg_xml_is_elem(n, "reviewed")) {
        const char *text = sg_xml_node_text(n, pool);
        doc->reviewed = read_day(text, apr_psprintf(pool, "<reviewed> '%s'", text), xmlGetLineNo(n), path, errs);
    }
}

int sg_validity_report(FILE *out, const sg_site_t *site, stp_day_t today, int days, apr_pool_t *pool)
{
    apr_array_header_t *due = apr_array_make(pool, 8, sizeof(const stp_doc_t *));
    for (int i = 0; i < site->docs->nelts; i++) {
        const sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        if (stp_validity_due(&d->cat, today, days))
            APR_ARRAY_PUSH(due, const stp_doc_t *) = &d->cat;
    }
    stp_validity_sort(due);
    for (int i = 0; i < due->nelts; i++)
        fprintf(out, "%s\n",
                stp_validity_report_line(APR_ARRAY_IDX(due, i, const stp_doc_t *), site->default_locale, today, pool));
    return due->nelts;
}
