/* stpctl_activate: the node's side of a rollout. `stpctl rollout` has copied a build into
 * SITE/.rollout-NAME/ (the build as NAME/, the store shards it links as store/FP/); here, under
 * the site's lock (the one sitegen takes), the shards the node lacks move into SITE/store, the build
 * is renamed to SITE/NAME and checked against the source's content manifest, and only then does
 * `current` switch to it, with symlink + rename(2) as sitegen does. A copy that does not match is
 * never served. The previous build is kept; older ones, unused shards and staging are removed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "stp_layout.h"
#include "stpctl.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT ? -1 : 0;
}

apr_status_t stpctl_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
}

int stpctl_build_name_ok(const char *name)
{
    const size_t pl = sizeof STP_SITE_BUILD_PREFIX - 1;
    size_t n = strlen(name);
    return n > pl && n <= pl + 18 && !strncmp(name, STP_SITE_BUILD_PREFIX, pl) &&
           strspn(name + pl, "0123456789") == n - pl;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The name of the build `current` points to, or "". */
static const char *current_name(const char *site, apr_pool_t *pool)
{
    char target[PATH_MAX];
    ssize_t n = readlink(apr_pstrcat(pool, site, "/" STP_SITE_CURRENT, NULL), target, sizeof target - 1);
    if (n <= 0)
        return "";
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    return apr_pstrdup(pool, slash ? slash + 1 : target);
}

static apr_status_t sync_dir(const char *path, int whole_fs)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return APR_FROM_OS_ERROR(errno);
    int rc = whole_fs ? syncfs(fd) : fsync(fd);
    int e = errno;
    close(fd);
    return rc ? APR_FROM_OS_ERROR(e) : APR_SUCCESS;
}

/* Moves the staged shards the node does not have into SITE/store. A shard the node has is kept:
 * it is named by the same fingerprint, and the check of the whole build below covers it. */
static apr_status_t move_shards(const char *site, const char *staging, char *msg, apr_size_t msglen, apr_pool_t *pool)
{
    const char *from = apr_pstrcat(pool, staging, "/" STP_SITE_STORE, NULL);
    const char *to = apr_pstrcat(pool, site, "/" STP_SITE_STORE, NULL);
    apr_dir_t *dir;
    apr_finfo_t fi;
    if (apr_dir_open(&dir, from, pool) != APR_SUCCESS)
        return APR_SUCCESS; /* a build without shards */
    if (mkdir(to, 0755) != 0 && errno != EEXIST) {
        apr_snprintf(msg, msglen, "cannot make %s: %s", to, strerror(errno));
        apr_dir_close(dir);
        return APR_FROM_OS_ERROR(errno);
    }
    apr_status_t rv = APR_SUCCESS;
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
        if (fi.filetype != APR_DIR || fi.name[0] == '.')
            continue;
        const char *dst = apr_pstrcat(pool, to, "/", fi.name, NULL);
        if (!exists(dst) && rename(apr_pstrcat(pool, from, "/", fi.name, NULL), dst) != 0) {
            apr_snprintf(msg, msglen, "cannot move the shard %s into %s: %s", fi.name, to, strerror(errno));
            rv = APR_FROM_OS_ERROR(errno);
            break;
        }
    }
    apr_dir_close(dir);
    return rv;
}

/* Checks SITE/NAME against the manifest; NULL when it matches, else why not. */
static const char *check(const char *site, const char *name, const char *manifest, apr_size_t mlen, apr_pool_t *pool)
{
    char *have, err[512];
    apr_size_t hlen;
    if (stpctl_manifest_make(&have, &hlen, NULL, apr_pstrcat(pool, site, "/", name, NULL), err, sizeof err, pool) !=
        APR_SUCCESS)
        return apr_pstrdup(pool, err);
    return stpctl_manifest_diff(manifest, mlen, have, hlen, pool);
}

/* The shards the kept builds link, gathered by nftw (which passes no baton; stpctl is one thread). */
static apr_hash_t *g_used;
static apr_pool_t *g_pool;

/* Collects the shards a kept build links, by their links alone (nothing is read). */
static int collect_shards(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_SL)
        return 0;
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    const char *at = strstr(target, STP_SITE_STORE "/");
    if (at && (at == target || at[-1] == '/')) {
        const char *fp = at + sizeof STP_SITE_STORE;
        apr_hash_set(g_used, apr_pstrdup(g_pool, fp), APR_HASH_KEY_STRING, "");
    }
    return 0;
}

/* Keeps `name` and `previous`; removes older builds, every staging directory and the shards no
 * kept build links. Runs under the lock, so nobody else is writing here. */
static void collect(const char *site, const char *name, const char *previous, apr_pool_t *pool)
{
    apr_dir_t *dir;
    apr_finfo_t fi;
    if (apr_dir_open(&dir, site, pool) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME, dir) == APR_SUCCESS) {
            int old = stpctl_build_name_ok(fi.name) && strcmp(fi.name, name) && strcmp(fi.name, previous);
            if (old || !strncmp(fi.name, STP_SITE_ROLLOUT_PREFIX, sizeof STP_SITE_ROLLOUT_PREFIX - 1))
                stpctl_rm_rf(apr_pstrcat(pool, site, "/", fi.name, NULL));
        }
        apr_dir_close(dir);
    }
    g_used = apr_hash_make(pool);
    g_pool = pool;
    const char *kept[] = {name, previous};
    for (int i = 0; i < 2; i++)
        if (*kept[i] && nftw(apr_pstrcat(pool, site, "/", kept[i], NULL), collect_shards, 16, FTW_PHYS) != 0)
            return; /* not sure what is used: remove nothing */
    const char *store = apr_pstrcat(pool, site, "/" STP_SITE_STORE, NULL);
    if (apr_dir_open(&dir, store, pool) != APR_SUCCESS)
        return;
    while (apr_dir_read(&fi, APR_FINFO_NAME, dir) == APR_SUCCESS)
        if (fi.name[0] != '.' && !apr_hash_get(g_used, fi.name, APR_HASH_KEY_STRING))
            stpctl_rm_rf(apr_pstrcat(pool, store, "/", fi.name, NULL));
    apr_dir_close(dir);
}

int stpctl_activate(const char *site_arg, const char *name, const char *manifest, apr_size_t mlen, char *msg,
                    apr_size_t msglen, apr_pool_t *pool)
{
    char real[PATH_MAX];
    struct stat st;
    if (!stpctl_build_name_ok(name)) {
        apr_snprintf(msg, msglen, "'%s' is not a build name (build-N)", name);
        return 2;
    }
    if (!realpath(site_arg, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        apr_snprintf(msg, msglen, "%s is not a site directory", site_arg);
        return 2;
    }
    const char *site = apr_pstrdup(pool, real);
    int lock = open(apr_pstrcat(pool, site, "/" STP_SITE_LOCK, NULL), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
        apr_snprintf(msg, msglen, "%s is locked by a running sitegen or rollout (%s)", site,
                     lock < 0 ? strerror(errno) : "try again");
        if (lock >= 0)
            close(lock);
        return 2;
    }
    int rc = 0;
    const char *staging = apr_pstrcat(pool, site, "/" STP_SITE_ROLLOUT_PREFIX, name, NULL);
    const char *staged = apr_pstrcat(pool, staging, "/", name, NULL);
    const char *target = apr_pstrcat(pool, site, "/", name, NULL);
    const char *previous = current_name(site, pool);
    const char *why;

    if (move_shards(site, staging, msg, msglen, pool) != APR_SUCCESS) {
        rc = 2;
        goto out;
    }
    if (exists(target)) {
        /* Already here: the build served now, or the one kept from before (a rollback). */
        why = check(site, name, manifest, mlen, pool);
        if (!why && !strcmp(name, previous)) {
            apr_snprintf(msg, msglen, "already serves %s", name);
            stpctl_rm_rf(staging);
            goto out;
        }
        if (why && !strcmp(name, previous)) {
            apr_snprintf(msg, msglen, "serves a %s that is not this build (%s); not switched", name, why);
            rc = 1;
            goto out;
        }
        if (why && stpctl_rm_rf(target) != APR_SUCCESS) {
            apr_snprintf(msg, msglen, "cannot remove the stale %s: %s", target, strerror(errno));
            rc = 2;
            goto out;
        }
    }
    if (!exists(target)) {
        if (rename(staged, target) != 0) {
            apr_snprintf(msg, msglen, "no copy of %s to switch to (%s: %s)", name, staged, strerror(errno));
            rc = 2;
            goto out;
        }
        if ((why = check(site, name, manifest, mlen, pool))) {
            /* Back to staging, so that the next rollout only sends what is missing. */
            rename(target, staged);
            apr_snprintf(msg, msglen, "the copy of %s does not match its source (%s); not switched", name, why);
            rc = 1;
            goto out;
        }
    }
    /* Everything the new build holds must be on disk before the switch makes it visible. */
    const char *link_tmp = apr_pstrcat(pool, site, "/" STP_SITE_CURRENT_TMP, NULL);
    unlink(link_tmp);
    if (sync_dir(site, 1) != APR_SUCCESS || symlink(name, link_tmp) != 0 ||
        rename(link_tmp, apr_pstrcat(pool, site, "/" STP_SITE_CURRENT, NULL)) != 0) {
        apr_snprintf(msg, msglen, "cannot switch %s/" STP_SITE_CURRENT ": %s", site, strerror(errno));
        rc = 2;
        goto out;
    }
    sync_dir(site, 0);
    collect(site, name, previous, pool);
    if (*previous)
        apr_snprintf(msg, msglen, "switched to %s (%s kept)", name, previous);
    else
        apr_snprintf(msg, msglen, "switched to %s", name);
out:
    close(lock);
    return rc;
}

static void activate_usage(FILE *f)
{
    fprintf(f, "Usage: stpctl rollout-activate [--manifest FILE|-] SITE BUILD\n"
               "\n"
               "The node's side of `stpctl rollout` (which runs it, over ssh for a remote node): under\n"
               "SITE's lock, moves the copy staged in SITE/" STP_SITE_ROLLOUT_PREFIX "BUILD into place, checks it\n"
               "against the build's content manifest (from FILE, default standard input; `stpctl\n"
               "build-manifest` makes one) and only then points SITE/current at it. Keeps the build served\n"
               "before; removes older builds, staging and unused shards. Prints one line.\n"
               "\n"
               "Exit status: 0 BUILD is served, 1 the copy does not match (nothing switched), 2 error.\n");
}

static apr_status_t read_all(char **data, apr_size_t *len, const char *path, apr_pool_t *pool)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return APR_FROM_OS_ERROR(errno);
    apr_size_t cap = 1 << 16, n = 0;
    char *buf = apr_palloc(pool, cap);
    for (;;) {
        if (n + 1 >= cap) {
            char *bigger = apr_palloc(pool, cap * 2);
            memcpy(bigger, buf, n);
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad)
        return APR_EGENERAL;
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return APR_SUCCESS;
}

int stpctl_rollout_activate(int argc, const char *const *argv, apr_pool_t *pool)
{
    const char *file = "-", *site = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            activate_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--manifest") && i + 1 < argc) {
            file = argv[++i];
        } else if (argv[i][0] != '-' && !site) {
            site = argv[i];
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            activate_usage(stderr);
            return 2;
        }
    }
    if (!name) {
        activate_usage(stderr);
        return 2;
    }
    char *manifest, msg[1024];
    apr_size_t mlen;
    if (read_all(&manifest, &mlen, file, pool) != APR_SUCCESS) {
        printf("cannot read the manifest %s\n", file);
        return 2;
    }
    int rc = stpctl_activate(site, name, manifest, mlen, msg, sizeof msg, pool);
    printf("%s\n", msg);
    return rc;
}

int stpctl_build_manifest(int argc, const char *const *argv, apr_pool_t *pool)
{
    if (argc != 2 && !(argc == 4 && !strcmp(argv[2], "--check"))) {
        fprintf(stderr, "Usage: stpctl build-manifest BUILD_DIR [--check MANIFEST]\n");
        return 2;
    }
    char *text, err[512];
    apr_size_t len;
    if (stpctl_manifest_make(&text, &len, NULL, argv[1], err, sizeof err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: %s\n", err);
        return 2;
    }
    if (argc == 2)
        return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 2;
    char *want;
    apr_size_t wlen;
    if (read_all(&want, &wlen, argv[3], pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: cannot read %s\n", argv[3]);
        return 2;
    }
    const char *why = stpctl_manifest_diff(want, wlen, text, len, pool);
    if (why) {
        printf("%s does not match: %s\n", argv[1], why);
        return 1;
    }
    printf("%s matches\n", argv[1]);
    return 0;
}
