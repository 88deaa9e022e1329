/* stp_layout: the names of a published site's and a state directory's parts, defined once for
 * sitegen, the module and stpctl (docs/architecture.md). Paths inside a build are relative to the
 * build root; where a build keeps each document's page and file is stp_paths.h. */
#ifndef STP_LAYOUT_H
#define STP_LAYOUT_H

/* SITE/: what sitegen publishes to (the operator's StpSiteDir). */
#define STP_SITE_CURRENT "current"          /* symlink to the newest complete build */
#define STP_SITE_CURRENT_TMP ".current.tmp" /* the new link before it is renamed over `current` */
#define STP_SITE_BUILD_PREFIX "build-"      /* build-<generation>: one complete build */
#define STP_SITE_STAGING_PREFIX ".staging-" /* a build being written */
#define STP_SITE_STORE "store"              /* content-addressed shards that builds share */
#define STP_SITE_STORE_TMP_PREFIX ".tmp-"   /* a shard being written in the store */
#define STP_SITE_LOCK ".sitegen.lock"       /* held by the running sitegen (and rollout's switch) */
#define STP_SITE_ROLLOUT_PREFIX ".rollout-" /* .rollout-<build>: a copy `stpctl rollout` is sending */

/* SITE/build-<n>/: one build. */
#define STP_BUILD_PUBLIC "public"               /* public/<lang>/...: the static pages */
#define STP_BUILD_TENANTS "tenants"             /* tenants/<tid>/<lang>/...: organisations' pages */
#define STP_BUILD_FILES "files"                 /* the downloads, served only through the module */
#define STP_BUILD_CATALOG "catalog.mdb"         /* documents, series, UI strings (stp_catalog.h) */
#define STP_BUILD_TEMPLATES "templates"         /* the stylesheets the build was published with */
#define STP_BUILD_PAGE_XSL "templates/page.xsl" /* the one page stylesheet (stp_view.h) */
#define STP_BUILD_MANIFEST ".manifest"          /* sitegen: fingerprints of what the build holds */
#define STP_BUILD_DOCCACHE ".doccache"          /* sitegen: the document cache */
#define STP_BUILD_SEARCH "search.db"            /* the search index (stp_search.h) */
/* embargo/<page path>: the pages of documents that go live after the build (public/... and
 * tenants/... below it, as stp_paths.h names them), never under public/: the module serves one
 * only once its document is live (docs/content-format.md, embargo). */
#define STP_BUILD_EMBARGO "embargo"
#define STP_BUILD_PREVIEW ".preview" /* present in a preview build (sitegen --preview) */

/* The input of pages the module personalises (a member's home page with the organisation's
 * recommendations): models/<lang>/home.xml; an organisation page's is its index.xml. */
#define STP_BUILD_MODELS "models"
#define STP_STORE_FPS ".fps" /* sitegen: a shard's own fingerprints */

/* STATE/: the module's state directory (StpStateDir). */
#define STP_STATE_DB "state.mdb"
#define STP_STATE_DB_LOCK "state.mdb-lock"
#define STP_STATE_CSRF_KEY "csrf.key"

#endif
