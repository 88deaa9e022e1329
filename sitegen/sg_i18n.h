/* sg_i18n: the UI message catalogs (xslt/i18n/<lang>.xml), locale-aware dates and sizes. */
#ifndef SG_I18N_H
#define SG_I18N_H

#include <apr_hash.h>

#include "sg_content.h"
#include "stp_date.h"

typedef struct sg_i18n_t sg_i18n_t;

/* Loads the catalog of every site locale; a locale without a catalog, or a key missing from one,
 * falls back to the default locale's string (and is reported as an error when strict). */
apr_status_t sg_i18n_load(sg_i18n_t **i18n, const sg_site_t *site, const char *dir, sg_errors_t *errs,
                          apr_pool_t *pool);
/* The string for key in lang; the key itself when no catalog has it. */
const char *sg_msg(const sg_i18n_t *i18n, const char *lang, const char *key);
const char *sg_date_format(const sg_i18n_t *i18n, const char *lang, stp_day_t day, apr_pool_t *pool);
/* A month of a year, such as "October 2026" (date.month.format). */
const char *sg_month_format(const sg_i18n_t *i18n, const char *lang, int year, int month, apr_pool_t *pool);
const char *sg_size_format(const sg_i18n_t *i18n, const char *lang, apr_uint64_t size, apr_pool_t *pool);
/* All keys of the default catalog, in file order (for writing the catalog's strings). */
const apr_array_header_t *sg_i18n_keys(const sg_i18n_t *i18n);

#endif
