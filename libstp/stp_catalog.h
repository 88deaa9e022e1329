/* stp_catalog: the published catalog (catalog.mdb). sitegen writes it once per build; the module
 * and stpctl open it read-only. One component so that writer and reader cannot drift apart. */
#ifndef STP_CATALOG_H
#define STP_CATALOG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stdint.h>

#include "stp_date.h"

/* Bumped whenever the record encoding or the set of databases changes; readers refuse other
 * versions. */
#define STP_CATALOG_FORMAT 6

typedef enum { STP_ACCESS_PUBLIC = 0, STP_ACCESS_SIGNIN = 1, STP_ACCESS_NDA = 2, STP_ACCESS_TENANT = 3 } stp_access_t;

const char *stp_catalog_access_name(stp_access_t access);
apr_status_t stp_catalog_access_parse(stp_access_t *access, const char *name);

/* One <require> of a document's <access>: a role the user must hold, or a value one of their
 * claims must contain. Every requirement of a document must hold (docs/content-format.md). */
typedef enum { STP_REQUIRE_ROLE = 0, STP_REQUIRE_CLAIM = 1 } stp_require_kind_t;
typedef struct {
    stp_require_kind_t kind;
    const char *name;  /* the role ("tenant-admin") or the claim's name */
    const char *value; /* the claim value; "" for a role */
} stp_require_t;

/* A text in one locale. */
typedef struct {
    const char *lang;
    const char *text;
} stp_text_t;

/* One downloadable file of a document: a locale variant. */
typedef struct {
    const char *lang;       /* the locale of this variant */
    const char *path;       /* relative to the site's files/ directory */
    const char *name;       /* the file name offered to the browser */
    const char *media_type; /* e.g. application/pdf */
    uint64_t size;
    char sha256[65]; /* lowercase hex */
} stp_file_t;

/* One version of one document, as published. */
typedef struct {
    const char *id;
    const char *series;
    const char *version;
    const char *section;
    const char *tile;
    stp_access_t access;
    int nda;                      /* tenant documents: the NDA is required as well */
    apr_array_header_t *tenants;  /* const char *: tenant ids (access == TENANT) */
    apr_array_header_t *requires; /* stp_require_t; NULL or empty: none */
    stp_day_t published;
    /* The moment it goes live (docs/content-format.md, embargo): <published>'s day at midnight UTC,
     * or its time. Until then it is absent everywhere, as an unknown id; the module compares it
     * with its clock on every request. 0 in a preview build: live. */
    apr_time_t live;
    stp_day_t retired;             /* the first day it is gone (0: never, it is current) */
    const char *current;           /* the id of its series' current version */
    apr_array_header_t *titles;    /* stp_text_t */
    apr_array_header_t *summaries; /* stp_text_t */
    apr_array_header_t *changes;   /* stp_text_t: what is new in this version */
    apr_array_header_t *services;  /* const char * */
    apr_array_header_t *regions;
    apr_array_header_t *industries;
    apr_array_header_t *files; /* stp_file_t */
} stp_doc_t;

/* The text for `lang`, else the one for `fallback`, else the first; NULL when there is none. */
const stp_text_t *stp_catalog_text_pick(const apr_array_header_t *texts, const char *lang, const char *fallback);
/* Likewise for a document's file variants. */
const stp_file_t *stp_catalog_file_pick(const apr_array_header_t *files, const char *lang, const char *fallback);

typedef struct stp_catalog_t stp_catalog_t;

/* Writing (sitegen): creates a new catalog file at `path` (it must not exist); everything put
 * becomes visible at stp_catalog_commit; with `sync` it is also on disk when that returns (a
 * caller that syncs the whole tree afterwards, as sitegen does, passes 0). */
apr_status_t stp_catalog_create(stp_catalog_t **cat, const char *path, apr_pool_t *pool);
apr_status_t stp_catalog_put_doc(stp_catalog_t *cat, const stp_doc_t *doc, apr_pool_t *scratch);
/* A series' versions, newest first. */
apr_status_t stp_catalog_put_series(stp_catalog_t *cat, const char *series, const apr_array_header_t *ids,
                                    apr_pool_t *scratch);
apr_status_t stp_catalog_put_meta(stp_catalog_t *cat, const char *key, const char *value);
/* Localized UI strings for the module's dynamic pages and stpctl's mails. */
apr_status_t stp_catalog_put_string(stp_catalog_t *cat, const char *lang, const char *key, const char *value,
                                    apr_pool_t *scratch);
apr_status_t stp_catalog_commit(stp_catalog_t *cat, int sync);

/* Reading (module, stpctl): opens a published catalog read-only. The file is immutable once
 * published, so readers take no lock. Fails on a format other than STP_CATALOG_FORMAT. */
apr_status_t stp_catalog_open(stp_catalog_t **cat, const char *path, apr_pool_t *pool);
/* APR_NOTFOUND when there is no such document. */
apr_status_t stp_catalog_get_doc(stp_doc_t **doc, stp_catalog_t *cat, const char *id, apr_pool_t *pool);
apr_status_t stp_catalog_get_series(apr_array_header_t **ids, stp_catalog_t *cat, const char *series, apr_pool_t *pool);
/* The version `version` of the series `doc` belongs to (doc itself when it is that version);
 * APR_NOTFOUND when the series has none such. */
apr_status_t stp_catalog_get_version(stp_doc_t **out, stp_catalog_t *cat, stp_doc_t *doc, const char *version,
                                     apr_pool_t *pool);
/* The series' current version at `now`: its newest version that is live then (stp_catalog_live);
 * APR_NOTFOUND when there is no such series or none of its versions is live yet. */
apr_status_t stp_catalog_get_current(stp_doc_t **doc, stp_catalog_t *cat, const char *series, apr_time_t now,
                                     apr_pool_t *pool);
/* Whether a document is live at `now` (past its embargo): everything that lists, finds, mails or
 * serves a document asks this first, and treats a document that is not as an unknown id. */
int stp_catalog_live(const stp_doc_t *doc, apr_time_t now);
/* NULL when unset. */
const char *stp_catalog_get_meta(stp_catalog_t *cat, const char *key, apr_pool_t *pool);
const char *stp_catalog_get_string(stp_catalog_t *cat, const char *lang, const char *key, apr_pool_t *pool);
uint64_t stp_catalog_generation(const stp_catalog_t *cat);

/* Calls fn for every document in id order; a non-zero return stops and is returned. */
typedef int stp_catalog_doc_fn(void *baton, const stp_doc_t *doc);
apr_status_t stp_catalog_foreach_doc(stp_catalog_t *cat, stp_catalog_doc_fn *fn, void *baton, apr_pool_t *pool);

void stp_catalog_close(stp_catalog_t *cat);

/* Record encoding, exposed for sitegen's document cache, the fuzz target and the tests. The
 * decoded document's strings point into `data` (no copies): it must outlive the document. */
const char *stp_catalog_doc_encode(apr_size_t *len, const stp_doc_t *doc, apr_pool_t *pool);
apr_status_t stp_catalog_doc_decode(stp_doc_t **doc, const void *data, apr_size_t len, apr_pool_t *pool);

#endif
