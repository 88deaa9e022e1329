/* sg_media: what a document's bodies reference in its own folder. A relative image names an image
 * file of the folder, which is published beside the document's pages in the same tree (public/ or
 * each tenant's tenants/<tid>/), under a name made of its digest; a relative link names one of the
 * document's files, and goes through the download gate (/download/<id>?lang=), or one of its
 * published images. Anything else relative is an error at its line, so that no body shows a
 * broken image or link (docs/content-format.md, "Images and links in bodies"). */
#ifndef SG_MEDIA_H
#define SG_MEDIA_H

#include "sg_content.h"

/* The largest image published: bodies are read on screens, not printed. */
#define SG_IMAGE_MAX ((apr_uint64_t)10 * 1024 * 1024)

/* Checks every relative image and link of the document's bodies against its folder, open as
 * `dfd` (after its files were hashed); fills d->images and records each problem. */
void sg_media_check(sg_doc_t *d, int dfd, sg_errors_t *errs, apr_pool_t *pool);

/* The name an image is published under: the first 32 hex digits of its SHA-256 and the type's
 * extension (png, jpg, gif, webp) from `rel`; NULL when rel has none of the image extensions. */
const char *sg_media_name(const char *sha256, const char *rel, apr_pool_t *pool);

/* The address a body's `url` takes on the document's page in `lang` (org: the tenants' page),
 * or NULL to keep it: /<lang>/docs/<id>/<name> for an image (/<lang>/org/docs/... on tenant pages),
 * /download/<id>?lang=<file's language> for a file. */
const char *sg_media_url(const sg_doc_t *d, const char *url, int image, const char *lang, int org, apr_pool_t *pool);

#endif
