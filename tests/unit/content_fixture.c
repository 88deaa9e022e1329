#include "content_fixture.h"
#include "test_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <apr_strings.h>

void fixture_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

const char *fixture_make(apr_pool_t *pool, const char *site_extra)
{
    const char *dir = test_tmpdir("content", pool);
    ck_assert_int_eq(mkdir(apr_pstrcat(pool, dir, "/docs", NULL), 0755), 0);
    fixture_write(apr_pstrcat(pool, dir, "/site.xml", NULL),
                  apr_psprintf(pool, FIXTURE_SITE_XML, site_extra ? site_extra : ""));
    return dir;
}

void fixture_add_doc(const char *dir, const char *id, const char *series, const char *version, const char *published,
                     const char *access, const char *title, const char *body, apr_pool_t *pool)
{
    const char *d = apr_pstrcat(pool, dir, "/docs/", id, NULL);
    ck_assert_int_eq(mkdir(d, 0755), 0);
    const char *xml = apr_psprintf(
        pool,
        "<document id='%s'%s%s%s%s%s%s>\n<published>%s</published><tile ref='soc'/>%s\n"
        "<title xml:lang='en'>%s</title><summary xml:lang='en'>Summary of %s</summary>\n"
        "<services><service ref='compute'/></services><files><file href='report.pdf'/></files></document>\n",
        id, series ? " series='" : "", series ? series : "", series ? "'" : "", version ? " version='" : "",
        version ? version : "", version ? "'" : "", published, access, title, id);
    fixture_write(apr_pstrcat(pool, d, "/doc.xml", NULL), xml);
    fixture_write(apr_pstrcat(pool, d, "/en.md", NULL), body);
    fixture_write(apr_pstrcat(pool, d, "/report.pdf", NULL), "%PDF-1.4\n%%EOF\n");
}

void fixture_remove(const char *dir)
{
    test_rmtree(dir);
}

sg_site_t *fixture_load(const char *dir, sg_errors_t *errs, apr_pool_t *pool)
{
    sg_site_t *site = NULL;
    ck_assert_int_eq(sg_content_load(&site, errs, dir, TEST_SRCDIR "/xslt/schema", 2, pool), APR_SUCCESS);
    return site;
}
