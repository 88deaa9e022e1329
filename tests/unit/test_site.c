/* stp_site: which build a request gets while sitegen publishes, switches `current`, or leaves a
 * broken build behind. The builds are written with the catalog writer, as sitegen does; no
 * generator runs here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include "stp_catalog.h"
#include "stp_log.h"
#include "stp_site.h"
#include "test_util.h"
#include "tests.h"

static apr_pool_t *pool, *site_pool, *requests;
static const char *dir;

/* What the site logged at error level, to check that a broken build is reported. */
static int errors;
static char last_error[1024];

static void capture(void *baton, stp_log_level_t level, apr_status_t rv, const char *msg)
{
    (void)baton, (void)rv;
    if (level == STP_LOG_ERR) {
        errors++;
        snprintf(last_error, sizeof last_error, "%s", msg);
    }
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    /* Requests end before the sites that served them are destroyed. */
    apr_pool_create(&site_pool, NULL);
    apr_pool_create(&requests, NULL);
    dir = test_tmpdir("site", pool);
    errors = 0;
    last_error[0] = '\0';
    stp_log_set(capture, NULL);
}

static void teardown(void)
{
    stp_log_set(NULL, NULL);
    apr_pool_destroy(requests);
    apr_pool_destroy(site_pool);
    test_rmtree(dir);
    apr_pool_destroy(pool);
}

/* SITE/<name>/catalog.mdb of catalog generation `gen`, with the meta the module reads. */
static void make_build(const char *name, unsigned gen)
{
    const char *root = apr_pstrcat(pool, dir, "/", name, NULL);
    stp_catalog_t *cat;
    ck_assert_int_eq(mkdir(root, 0755), 0);
    ck_assert_int_eq(stp_catalog_create(&cat, apr_pstrcat(pool, root, "/catalog.mdb", NULL), pool), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_meta(cat, "generation", apr_psprintf(pool, "%u", gen)), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_meta(cat, "default-locale", "en"), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_meta(cat, "locales", "en,de"), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_meta(cat, "nda-version", apr_psprintf(pool, "nda-%u", gen)), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_meta(cat, "base-url", "https://trust.example.test"), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_meta(cat, "retention-months", "24"), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_put_string(cat, "en", "build.name", name, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_commit(cat, 0), APR_SUCCESS);
    stp_catalog_close(cat);
}

/* A build directory whose catalog does not open: absent, or not a catalog. */
static void make_broken_build(const char *name, int with_junk)
{
    const char *root = apr_pstrcat(pool, dir, "/", name, NULL);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    if (with_junk) {
        FILE *f = fopen(apr_pstrcat(pool, root, "/catalog.mdb", NULL), "w");
        ck_assert_ptr_nonnull(f);
        fputs("half a catalog", f);
        fclose(f);
    }
}

/* Switches SITE/current to `target` the way sitegen does: a new link renamed over the old. */
static void set_current(const char *target)
{
    const char *tmp = apr_pstrcat(pool, dir, "/.current.tmp", NULL);
    unlink(tmp);
    ck_assert_int_eq(symlink(target, tmp), 0);
    ck_assert_int_eq(rename(tmp, apr_pstrcat(pool, dir, "/current", NULL)), 0);
}

static stp_site_t *new_site(void)
{
    stp_site_t *site;
    ck_assert_int_eq(stp_site_create(&site, dir, 0, site_pool), APR_SUCCESS);
    return site;
}

static apr_pool_t *request_pool(void)
{
    apr_pool_t *p;
    apr_pool_create(&p, requests);
    return p;
}

/* Acquires and checks that the build is SITE/<name> with the catalog of that name. */
static const stp_build_t *acquire_expect(stp_site_t *site, apr_pool_t *req, const char *name)
{
    const stp_build_t *b = NULL;
    ck_assert_int_eq(stp_site_acquire(&b, site, req), APR_SUCCESS);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b->root, apr_pstrcat(pool, dir, "/", name, NULL));
    ck_assert_ptr_nonnull(b->cat);
    ck_assert_str_eq(stp_catalog_get_string(b->cat, "en", "build.name", req), name);
    return b;
}

/* Whether this process still maps SITE/<name>/catalog.mdb: whether that catalog is still open. */
static int mapped(const char *name)
{
    const char *path = apr_pstrcat(pool, dir, "/", name, "/catalog.mdb", NULL);
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        if (strstr(line, path))
            found = 1;
    fclose(f);
    return found;
}

START_TEST(test_acquire_current)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *site = new_site();
    apr_pool_t *req = request_pool();
    const stp_build_t *b = acquire_expect(site, req, "build-1");
    ck_assert_uint_eq(stp_catalog_generation(b->cat), 1);
    ck_assert_str_eq(b->default_locale, "en");
    ck_assert_str_eq(b->locales, "en,de");
    ck_assert_str_eq(b->nda_version, "nda-1");
    ck_assert_str_eq(b->base_url, "https://trust.example.test");
    ck_assert_int_eq(b->retention_months, 24);
    /* the same build for the next request, without reopening it */
    apr_pool_t *req2 = request_pool();
    ck_assert_ptr_eq(acquire_expect(site, req2, "build-1"), b);
    ck_assert_int_eq(errors, 0);
    apr_pool_destroy(req2);
    apr_pool_destroy(req);
    /* the site's own reference keeps it open between requests */
    ck_assert_int_eq(mapped("build-1"), 1);
}
END_TEST

/* Meta a catalog does not carry reads as "" (and 0), never NULL. */
START_TEST(test_acquire_meta_missing)
{
    const char *root = apr_pstrcat(pool, dir, "/build-1", NULL);
    stp_catalog_t *cat;
    ck_assert_int_eq(mkdir(root, 0755), 0);
    ck_assert_int_eq(stp_catalog_create(&cat, apr_pstrcat(pool, root, "/catalog.mdb", NULL), pool), APR_SUCCESS);
    ck_assert_int_eq(stp_catalog_commit(cat, 0), APR_SUCCESS);
    stp_catalog_close(cat);
    set_current("build-1");
    const stp_build_t *b;
    ck_assert_int_eq(stp_site_acquire(&b, new_site(), request_pool()), APR_SUCCESS);
    ck_assert_str_eq(b->root, root);
    ck_assert_str_eq(b->default_locale, "");
    ck_assert_str_eq(b->locales, "");
    ck_assert_str_eq(b->nda_version, "");
    ck_assert_str_eq(b->base_url, "");
    ck_assert_int_eq(b->retention_months, 0);
}
END_TEST

/* A new publication reaches the next request; one in flight keeps its build until it ends. */
START_TEST(test_switch)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *site = new_site();
    apr_pool_t *req1 = request_pool();
    const stp_build_t *b1 = acquire_expect(site, req1, "build-1");

    make_build("build-2", 2);
    set_current("build-2");
    apr_pool_t *req2 = request_pool();
    const stp_build_t *b2 = acquire_expect(site, req2, "build-2");
    ck_assert_ptr_ne(b1, b2);
    ck_assert_uint_eq(stp_catalog_generation(b2->cat), 2);
    ck_assert_str_eq(b2->nda_version, "nda-2");

    /* the earlier request still reads its own build, even once sitegen has deleted it */
    test_rmtree(apr_pstrcat(pool, dir, "/build-1", NULL));
    ck_assert_str_eq(b1->root, apr_pstrcat(pool, dir, "/build-1", NULL));
    ck_assert_uint_eq(stp_catalog_generation(b1->cat), 1);
    ck_assert_str_eq(b1->nda_version, "nda-1");
    ck_assert_str_eq(stp_catalog_get_string(b1->cat, "en", "build.name", req1), "build-1");
    ck_assert_str_eq(stp_catalog_get_meta(b1->cat, "generation", req1), "1");
    ck_assert_int_eq(mapped("build-1"), 1);

    /* every later request gets the new one */
    apr_pool_t *req3 = request_pool();
    ck_assert_ptr_eq(acquire_expect(site, req3, "build-2"), b2);

    /* the last request on build-1 ends: its catalog is closed; build-2 is unaffected */
    apr_pool_destroy(req1);
    ck_assert_int_eq(mapped("build-1"), 0);
    ck_assert_int_eq(mapped("build-2"), 1);
    ck_assert_str_eq(stp_catalog_get_string(b2->cat, "en", "build.name", req2), "build-2");
    apr_pool_destroy(req2);
    apr_pool_destroy(req3);
    ck_assert_int_eq(mapped("build-2"), 1); /* still the site's current build */
    ck_assert_int_eq(errors, 0);
}
END_TEST

/* With a recheck interval, a switch within it is not seen (no readlink); the first acquire and
 * every one after the interval look again. An hour-long interval makes this independent of the
 * machine's speed; the readlink itself is what test_switch covers. */
START_TEST(test_recheck_interval)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *site;
    ck_assert_int_eq(stp_site_create(&site, dir, apr_time_from_sec(3600), site_pool), APR_SUCCESS);
    apr_pool_t *req1 = request_pool();
    const stp_build_t *b1 = acquire_expect(site, req1, "build-1");
    make_build("build-2", 2);
    set_current("build-2");
    apr_pool_t *req2 = request_pool();
    ck_assert_ptr_eq(acquire_expect(site, req2, "build-1"), b1);
    apr_pool_destroy(req1);
    apr_pool_destroy(req2);
    ck_assert_int_eq(mapped("build-1"), 1); /* still this process's build */

    /* the same switch seen by a site that looks every time */
    stp_site_t *eager;
    ck_assert_int_eq(stp_site_create(&eager, dir, 0, site_pool), APR_SUCCESS);
    apr_pool_t *req3 = request_pool();
    acquire_expect(eager, req3, "build-2");
    apr_pool_destroy(req3);

    /* nothing published when the first look is taken: not found for the interval */
    stp_site_t *empty;
    const stp_build_t *b = NULL;
    ck_assert_int_eq(
        stp_site_create(&empty, apr_pstrcat(pool, dir, "/missing", NULL), apr_time_from_sec(3600), site_pool),
        APR_SUCCESS);
    ck_assert_int_eq(stp_site_acquire(&b, empty, request_pool()), APR_NOTFOUND);
    ck_assert_int_eq(stp_site_acquire(&b, empty, request_pool()), APR_NOTFOUND);
    ck_assert_int_eq(errors, 1); /* "no published site", once */
}
END_TEST

/* A request that outlives two switches holds its build; the one in between is closed. */
START_TEST(test_switch_twice)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *site = new_site();
    apr_pool_t *req1 = request_pool();
    const stp_build_t *b1 = acquire_expect(site, req1, "build-1");
    make_build("build-2", 2);
    set_current("build-2");
    apr_pool_t *req2 = request_pool();
    acquire_expect(site, req2, "build-2");
    apr_pool_destroy(req2);
    make_build("build-3", 3);
    set_current("build-3");
    apr_pool_t *req3 = request_pool();
    acquire_expect(site, req3, "build-3");
    ck_assert_int_eq(mapped("build-2"), 0);
    ck_assert_int_eq(mapped("build-1"), 1);
    ck_assert_str_eq(stp_catalog_get_string(b1->cat, "en", "build.name", req1), "build-1");
    apr_pool_destroy(req1);
    ck_assert_int_eq(mapped("build-1"), 0);
    apr_pool_destroy(req3);
}
END_TEST

/* `current` names a build whose catalog does not open: the last good build keeps serving. */
START_TEST(test_broken_current)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *site = new_site();
    apr_pool_t *req1 = request_pool();
    const stp_build_t *b1 = acquire_expect(site, req1, "build-1");

    /* no catalog at all */
    make_broken_build("build-2", 0);
    set_current("build-2");
    ck_assert_ptr_eq(acquire_expect(site, request_pool(), "build-1"), b1);
    ck_assert_int_ge(errors, 1); /* logged */
    ck_assert_ptr_nonnull(strstr(last_error, "build-2"));
    ck_assert_ptr_eq(acquire_expect(site, request_pool(), "build-1"), b1);

    /* a file that is not a catalog */
    make_broken_build("build-3", 1);
    set_current("build-3");
    ck_assert_ptr_eq(acquire_expect(site, request_pool(), "build-1"), b1);
    ck_assert_ptr_nonnull(strstr(last_error, "build-3"));

    /* a link to nothing */
    set_current("build-9");
    ck_assert_ptr_eq(acquire_expect(site, request_pool(), "build-1"), b1);

    /* `current` gone altogether: the last good build still serves */
    ck_assert_int_eq(unlink(apr_pstrcat(pool, dir, "/current", NULL)), 0);
    ck_assert_ptr_eq(acquire_expect(site, request_pool(), "build-1"), b1);

    /* the next good publication is taken up */
    make_build("build-4", 4);
    set_current("build-4");
    acquire_expect(site, request_pool(), "build-4");
    /* the request that started on build-1 still has it */
    ck_assert_str_eq(stp_catalog_get_string(b1->cat, "en", "build.name", req1), "build-1");
}
END_TEST

/* A broken build deleted and its name reused by the next publication (sitegen numbers builds
 * from the highest existing one) is opened, not skipped as the failed name. */
START_TEST(test_failed_name_reused)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *site = new_site();
    acquire_expect(site, request_pool(), "build-1");
    make_broken_build("build-2", 1);
    set_current("build-2");
    acquire_expect(site, request_pool(), "build-1");
    test_rmtree(apr_pstrcat(pool, dir, "/build-2", NULL));
    make_build("build-2", 2);
    acquire_expect(site, request_pool(), "build-2");
}
END_TEST

/* Every process agrees on the last good build: the other build with the highest generation, not
 * whatever one process happened to serve before, and never a staging directory. */
START_TEST(test_broken_agreement)
{
    make_build("build-1", 1);
    set_current("build-1");
    stp_site_t *old = new_site();
    acquire_expect(old, request_pool(), "build-1");

    /* two publications while `old` serves no request; the second is broken */
    make_build("build-2", 2);
    set_current("build-2");
    make_broken_build("build-3", 1);
    set_current("build-3");
    make_build(".staging-4", 4); /* a run still writing */
    ck_assert_int_eq(mkdir(apr_pstrcat(pool, dir, "/store", NULL), 0755), 0);

    acquire_expect(old, request_pool(), "build-2");
    stp_site_t *fresh = new_site(); /* a process started now */
    acquire_expect(fresh, request_pool(), "build-2");
    /* and they stay there */
    acquire_expect(old, request_pool(), "build-2");
    acquire_expect(fresh, request_pool(), "build-2");
}
END_TEST

/* Nothing good was ever published: an error, and no build; a later good one is taken up. */
START_TEST(test_no_build)
{
    const stp_build_t *b = NULL;
    /* no such site directory */
    stp_site_t *site;
    ck_assert_int_eq(stp_site_create(&site, apr_pstrcat(pool, dir, "/missing", NULL), 0, site_pool), APR_SUCCESS);
    ck_assert_int_eq(stp_site_acquire(&b, site, request_pool()), APR_NOTFOUND);
    ck_assert_int_eq(stp_site_acquire(&b, site, request_pool()), APR_NOTFOUND);
    ck_assert_ptr_null(b);

    /* an empty site directory */
    site = new_site();
    errors = 0;
    ck_assert_int_eq(stp_site_acquire(&b, site, request_pool()), APR_NOTFOUND);
    ck_assert_int_ge(errors, 1); /* logged */
    ck_assert_ptr_null(b);

    /* `current` names nothing, then a broken build, and there is no other */
    set_current("build-1");
    ck_assert_int_eq(stp_site_acquire(&b, site, request_pool()), APR_NOTFOUND);
    make_broken_build("build-2", 1);
    set_current("build-2");
    ck_assert_int_eq(stp_site_acquire(&b, site, request_pool()), APR_NOTFOUND);
    ck_assert_int_eq(stp_site_acquire(&b, new_site(), request_pool()), APR_NOTFOUND);
    ck_assert_ptr_null(b);

    /* the first good publication */
    make_build("build-3", 3);
    set_current("build-3");
    acquire_expect(site, request_pool(), "build-3");
}
END_TEST

Suite *site_suite(void)
{
    Suite *s = suite_create("site");
    TCase *tc = tcase_create("builds");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_acquire_current);
    tcase_add_test(tc, test_acquire_meta_missing);
    tcase_add_test(tc, test_switch);
    tcase_add_test(tc, test_switch_twice);
    tcase_add_test(tc, test_recheck_interval);
    tcase_add_test(tc, test_broken_current);
    tcase_add_test(tc, test_broken_agreement);
    tcase_add_test(tc, test_no_build);
    tcase_add_test(tc, test_failed_name_reused);
    suite_add_tcase(s, tc);
    return s;
}
