/* sg_series: a loaded site's documents grouped into series, and (sg_content_resolve) its listings. */
#ifndef SG_SERIES_H
#define SG_SERIES_H

#include "sg_content.h"

/* Groups site->docs into site->series, newest first, recording an error for a version given twice
 * in a series and for versions of one series that differ in access. */
void sg_series_group(sg_site_t *site, sg_errors_t *errs, apr_pool_t *pool);

#endif
