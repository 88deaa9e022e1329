/* stp_paths: where a published build keeps what. sitegen writes these paths and the module maps
 * URLs onto them, so both take them from here.
 *
 * Document pages and downloads are grouped into 64 shards by a hash of the document id. A shard
 * is a content-addressed directory under SITE/store/ that builds share through a symlink, so an
 * incremental build creates a few hundred symlinks and rewrites only the shards that changed,
 * instead of one entry per page. */
#ifndef STP_PATHS_H
#define STP_PATHS_H

#include <apr_pools.h>

#define STP_SHARDS 64

/* The shard of a document id: two lowercase hex digits plus NUL. */
void stp_paths_shard(char out[3], const char *id);

/* A document page, relative to the build root: public/<lang>/docs/<shard>/<id>.html, or
 * tenants/<tid>/<lang>/docs/<shard>/<id>.html when tenant is not NULL. */
const char *stp_paths_doc_page(const char *tenant, const char *lang, const char *id, apr_pool_t *pool);
/* An image a document's body shows, relative to the build root: public/docs/<shard>/<id>/<name>,
 * or tenants/<tid>/docs/<shard>/<id>/<name> when tenant is not NULL: one copy per tree, whatever
 * the locale of the page (its URL is the page's, /<lang>/docs/<id>/<name>). */
const char *stp_paths_doc_image(const char *tenant, const char *id, const char *name, apr_pool_t *pool);
/* The length of a published image's name at the start of s (32 lowercase hex digits, a dot and
 * png, jpg, gif or webp, then the end), or 0; and its media type (NULL when it is none). */
apr_size_t stp_paths_image_len(const char *s);
const char *stp_paths_image_type(const char *name);

/* A download, relative to the build's files/ directory: <shard>/<id>/<name>. */
const char *stp_paths_file(const char *id, const char *name, apr_pool_t *pool);

/* Maps a public document page URL, "/<lang>/docs/<id>/", to its path in a build, and an image
 * of its body, "/<lang>/docs/<id>/<name>", to the image's (stp_paths_doc_image). Returns
 * APR_SUCCESS and sets *rel; APR_INCOMPLETE for "/<lang>/docs/<id>" (redirect to the slash);
 * APR_NOTFOUND for any other URL (not ours to map). Ids and locales are checked against the
 * content format's syntax, so nothing but a page name can reach the file system. */
apr_status_t stp_paths_from_url(const char **rel, const char *uri, apr_pool_t *pool);

/* Maps an organisation URL for the user's tenant: "/<lang>/org/" to tenants/<tenant>/<lang>/index.html,
 * "/<lang>/org/docs/<id>/" to that tenant's page of the document, "/<lang>/org/docs/<id>/<name>"
 * to that tenant's copy of an image of its body. APR_SUCCESS sets *rel unless
 * tenant is NULL (then it only says the URL is a page's); APR_INCOMPLETE: the same without the
 * trailing slash (redirect); APR_ENOENT: under /<lang>/org but no page (404); APR_NOTFOUND: not
 * an organisation URL. */
apr_status_t stp_paths_from_org_url(const char **rel, const char *tenant, const char *uri, apr_pool_t *pool);

/* The length of the content format's id ([a-z0-9] with inner hyphens, at most 64) at the start
 * of s, and of a locale id ([a-z]{2,3} with an optional -Region); 0 when there is none. */
apr_size_t stp_paths_ident_len(const char *s);
apr_size_t stp_paths_lang_len(const char *s);
/* The same for a tenant id: [A-Za-z0-9] with inner hyphens, at most 64. */
apr_size_t stp_paths_tenant_len(const char *s);
#endif
