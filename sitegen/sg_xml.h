/* sg_xml: reading the content model out of a parsed XML tree, shared by the site and document loaders. */
#ifndef SG_XML_H
#define SG_XML_H

#include <libxml/tree.h>

#include "sg_content.h"

/* (Parsing itself is sg_xml_parse, beside schema validation in sg_validate.h.) */

/* Whether n is the element `name`. */
int sg_xml_is_elem(xmlNodePtr n, const char *name);
/* An attribute's value with all white space removed, or NULL when absent. */
const char *sg_xml_attr(xmlNodePtr n, const char *name, apr_pool_t *pool);
/* An attribute value of token type: the schema allows surrounding white space, the model does not. */
const char *sg_xml_token_attr(xmlNodePtr n, const char *name, apr_pool_t *pool);
/* The xml:lang in force at n, or NULL. */
const char *sg_xml_node_lang(xmlNodePtr n, apr_pool_t *pool);
/* Element text with runs of white space folded to one space, trimmed. */
const char *sg_xml_node_text(xmlNodePtr n, apr_pool_t *pool);

/* Records an error at n when text holds a bidirectional control character (then 1); `what` names the text. */
int sg_xml_check_bidi(const char *text, const char *what, xmlNodePtr n, const char *path, sg_errors_t *errs);
/* Adds the localized text of element n to texts (stp_text_t), checking its locale is declared and
 * not given twice. */
void sg_xml_add_text(apr_array_header_t *texts, xmlNodePtr n, const sg_site_t *site, const char *path,
                     sg_errors_t *errs, apr_pool_t *pool);
/* Records an error at n when texts has none in the site's default locale; `what` names the text. */
void sg_xml_need_default(const apr_array_header_t *texts, const char *what, xmlNodePtr n, const sg_site_t *site,
                         const char *path, sg_errors_t *errs);

#endif
