/* Builds small content trees in a temporary directory for the generator's unit tests. */
#ifndef CONTENT_FIXTURE_H
#define CONTENT_FIXTURE_H

#include <apr_pools.h>

#include "sg_content.h"

#define FIXTURE_SITE_XML                                                                                               \
    "<site><label xml:lang='en'>Test portal</label><label xml:lang='de'>Testportal</label>"                            \
    "<base-url>https://trust.test/</base-url>"                                                                         \
    "<locales><locale id='en' name='English'/><locale id='de' name='Deutsch'/>"                                        \
    "<locale id='ar' name='Arabic' dir='rtl'/></locales>"                                                              \
    "<retention months='12'/>%s"                                                                                       \
    "<tenants><tenant id='t1'><label xml:lang='en'>Tenant One</label></tenant></tenants>"                              \
    "<sections><section id='certs'><label xml:lang='en'>Certifications</label>"                                        \
    "<tile id='soc'><label xml:lang='en'>SOC</label></tile></section></sections>"                                      \
    "<services><service id='compute'><label xml:lang='en'>Compute</label></service></services>"                        \
    "<regions/><industries/></site>"

/* A fresh directory with site.xml (extra elements spliced in) and no documents. */
const char *fixture_make(apr_pool_t *pool, const char *site_extra);
/* Adds docs/<id>/ with doc.xml, en.md and report.pdf. */
void fixture_add_doc(const char *dir, const char *id, const char *series, const char *version, const char *published,
                     const char *access, const char *title, const char *body, apr_pool_t *pool);
void fixture_write(const char *path, const char *text);
void fixture_remove(const char *dir);
/* Loads and validates; fails the test on a system error. */
sg_site_t *fixture_load(const char *dir, sg_errors_t *errs, apr_pool_t *pool);

#endif
