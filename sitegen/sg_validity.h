/* sg_validity: a document's <valid from until/> and <reviewed> (docs/content-format.md#validity),
 * read into its catalog record with the rules the schema cannot say; and the expiry report of
 * sitegen --report, whose lines stpctl report mails too (libstp/stp_validity.h). */
#ifndef SG_VALIDITY_H
#define SG_VALIDITY_H

#include <stdio.h>

#include <libxml/tree.h>

#include "sg_content.h"

/* Reads <valid> or <reviewed> element `n` of the doc.xml at `path` into `doc`, recording what is
 * wrong with it in `errs`. */
void sg_validity_read(stp_doc_t *doc, xmlNodePtr n, const char *path, sg_errors_t *errs, apr_pool_t *pool);

/* Writes to `out` one line for each current document whose validity ends within `days` days of
 * `today` or has ended (sg_content_resolve has run), soonest first; returns how many. */
int sg_validity_report(FILE *out, const sg_site_t *site, stp_day_t today, int days, apr_pool_t *pool);

#endif
