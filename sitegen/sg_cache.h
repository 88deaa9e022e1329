/* sg_cache: what the previous build learnt about each document folder, so that an incremental
 * build re-reads only folders whose files changed. A folder's signature covers the name, size,
 * modification time and inode of every file in it and of every file it references, plus the
 * site, schema and generator fingerprint: any change there means a fresh load. A folder whose
 * files were all rewritten in place with the same size within the file system's timestamp
 * resolution would be missed; that is the trade every make-like tool makes. */
#ifndef SG_CACHE_H
#define SG_CACHE_H

#include <apr_hash.h>

#include "sg_content.h"

/* Marks a body that is on disk but not in memory: read it when a page needs it. */
extern const char sg_body_lazy[];

/* The signature of the document folder `folder` of the docs folder open as `docs_fd`: the
 * folder's own stat (which changes when a file is added, removed or renamed) and the stat of each
 * of the document's files (`names`, relative to the folder). NULL when one cannot be read. */
const char *sg_cache_signature(int docs_fd, const char *folder, const apr_array_header_t *names, const char *salt,
                               apr_pool_t *pool);

/* What a build learnt of one document for the next build's cache: its folder's signature and,
 * when it came from the cache, its record (written back as is). Kept beside the documents, never
 * in them: sg_doc_t is the content model only. */
typedef struct {
    const char *sig;
    const void *rec;
    apr_size_t len;
} sg_cache_note_t;

/* Notes per document (keyed by the sg_doc_t pointer), filled by the loader. */
typedef struct sg_cache_notes_t sg_cache_notes_t;
sg_cache_notes_t *sg_cache_notes_make(apr_pool_t *pool);
void sg_cache_notes_set(sg_cache_notes_t *notes, const sg_doc_t *d, const sg_cache_note_t *note);

/* The signature of a freshly loaded document, into note->sig. */
void sg_cache_sign(sg_cache_note_t *note, const sg_doc_t *d, int docs_fd, const char *salt, apr_pool_t *pool);

/* Reads a cache written by sg_cache_write: folder -> record. An absent or foreign file is empty.
 * The records stay mapped for the life of `pool`. */
apr_hash_t *sg_cache_read(const char *path, apr_pool_t *pool);
/* The document of `folder` from the cache, when its signature still holds (its note filled in);
 * else NULL. */
sg_doc_t *sg_cache_lookup(sg_cache_note_t *note, apr_hash_t *cache, const sg_site_t *site, int docs_fd,
                          const char *folder, const char *dir, const char *salt, apr_pool_t *pool);
/* Writes every document of the site with its signature from `notes` (NULL or none: unsigned,
 * so that the next build reads it afresh). */
apr_status_t sg_cache_write(const sg_site_t *site, const sg_cache_notes_t *notes, const char *path, apr_pool_t *pool);

/* The Markdown of a body, reading a lazy one from disk. */
const char *sg_body_text(const sg_doc_t *d, const char *lang, apr_pool_t *pool);

#endif
