/* sg_explain: the content schemas' rules in the content editor's words. libxml2's RELAX NG
 * validator stays the judge of what is valid, but its messages name neither the element nor the
 * rule ("Invalid sequence in interleave", "Element document failed to validate attributes") and it
 * stops at the first missing element of an <interleave>. This module reads the same .rng file into
 * a simple model (per element name: the child elements and attributes it may have, which are
 * required, what an attribute's value must look like) and walks a document that the validator
 * rejected, reporting every problem it can name, one line each. */
#ifndef SG_EXPLAIN_H
#define SG_EXPLAIN_H

#include <apr_pools.h>
#include <libxml/tree.h>

#include "sg_util.h"

typedef struct sg_explainer_t sg_explainer_t;

/* The model of the RELAX NG schema at `rng_path`; NULL when it cannot be read (then the
 * validator's own messages are all there is). */
sg_explainer_t *sg_explainer_load(const char *rng_path, apr_pool_t *pool);

/* Records every problem of `doc` that the model can name as `path:line: message`; returns how
 * many. 0 means the problem is one the model does not know: the caller reports the validator's. */
int sg_explain(const sg_explainer_t *ex, xmlDocPtr doc, const char *path, sg_errors_t *errs);

/* The closest of the n `candidates` to `word` if it is close enough to be a typo (a swapped pair of
 * letters counts as one edit; one edit in a name of up to 4 letters, two up to 8, else three), or NULL. */
const char *sg_did_you_mean(const char *word, const char *const *candidates, int n);

#endif
