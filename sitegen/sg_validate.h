/* sg_validate: XML parsing and RELAX NG validation with every error collected as path:line. */
#ifndef SG_VALIDATE_H
#define SG_VALIDATE_H

#include <libxml/relaxng.h>
#include <libxml/tree.h>

#include "sg_util.h"

typedef struct sg_schema_t sg_schema_t;

/* NULL (with an error recorded) when the schema cannot be loaded. */
sg_schema_t *sg_schema_load(const char *path, sg_errors_t *errs, apr_pool_t *pool);
/* Returns the number of errors found (0: valid). */
int sg_schema_validate(sg_schema_t *schema, xmlDocPtr doc, const char *path, sg_errors_t *errs);

/* Parses XML safely (no network, no DTD loading, no entity expansion); NULL after recording errors. */
xmlDocPtr sg_xml_parse(const char *data, apr_size_t len, const char *path, sg_errors_t *errs);

/* What sitegen says about a symbolic link it meets where it reads content. */
#define SG_LINK_REFUSED "a symbolic link is not allowed in the content tree"

/* Opens `rel`, a file of the document folder open as `dirfd`, for reading: a plain relative path
 * (no "..", not absolute), every component real (no symbolic link), a regular file. Returns NULL
 * with *fd set, else a message for the content editor. */
const char *sg_path_open(int *fd, int dirfd, const char *rel, apr_pool_t *pool);

#endif
