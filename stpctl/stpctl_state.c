/* stpctl state-check and backup: the state directory's owners and modes, which httpd sets at
 * start and a restore (or a tool run as root) may have changed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lmdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include "stp_state.h"
#include "stpctl.h"
#include "stp_layout.h"

typedef struct {
    uid_t uid;
    gid_t gid;
    const char *user, *group;
    int fix, problems, fixed;
} check_t;

static const char *owner_name(uid_t uid, gid_t gid, apr_pool_t *pool)
{
    struct passwd *pw = getpwuid(uid);
    struct group *gr = getgrgid(gid);
    return apr_psprintf(pool, "%s:%s", pw ? pw->pw_name : apr_ltoa(pool, (long)uid),
                        gr ? gr->gr_name : apr_ltoa(pool, (long)gid));
}

/* One entry: through a descriptor opened without following links, so that --fix, run as root,
 * never changes what a link planted in the (httpd user's) directory points to. */
static void check_entry(check_t *ck, int dirfd, const char *dir, const char *name, int is_dir, apr_pool_t *pool)
{
    const char *path = name ? apr_pstrcat(pool, dir, "/", name, NULL) : dir;
    mode_t want = is_dir ? 0700 : 0600;
    struct stat sb;
    int fd = name ? openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : dup(dirfd);
    if (fd < 0) {
        if (errno == ENOENT) {
            printf("%s: missing (httpd creates it at start)\n", path);
            return;
        }
        ck->problems++;
        printf("%s: %s\n", path, errno == ELOOP ? "a symbolic link: remove it" : strerror(errno));
        return;
    }
    if (fstat(fd, &sb) || (is_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))) {
        ck->problems++;
        printf("%s: not a %s\n", path, is_dir ? "directory" : "regular file");
        close(fd);
        return;
    }
    if (sb.st_uid != ck->uid || sb.st_gid != ck->gid) {
        ck->problems++;
        int ok = ck->fix && !fchown(fd, ck->uid, ck->gid);
        ck->fixed += ok;
        printf("%s: owner %s, want %s:%s%s\n", path, owner_name(sb.st_uid, sb.st_gid, pool), ck->user, ck->group,
               ok        ? " (fixed)"
               : ck->fix ? apr_pstrcat(pool, " (cannot fix: ", strerror(errno), ")", NULL)
                         : "");
    }
    if ((sb.st_mode & 07777) != want) {
        ck->problems++;
        int ok = ck->fix && !fchmod(fd, want);
        ck->fixed += ok;
        printf("%s: mode %04o, want %04o%s\n", path, (unsigned)(sb.st_mode & 07777), (unsigned)want,
               ok        ? " (fixed)"
               : ck->fix ? apr_pstrcat(pool, " (cannot fix: ", strerror(errno), ")", NULL)
                         : "");
    }
    if (name && !strcmp(name, STP_STATE_CSRF_KEY) && sb.st_size != 32) {
        ck->problems++;
        printf("%s: %lld bytes, want 32: delete it and restart httpd for a new one\n", path, (long long)sb.st_size);
    }
    close(fd);
}

/* Opens state.mdb read-only and without the lock file, which root would otherwise create or
 * write through whatever a planted link points to. */
static int state_opens(const char *dir, apr_pool_t *pool)
{
    MDB_env *env;
    MDB_txn *txn;
    int rc = mdb_env_create(&env);
    if (!rc) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, apr_pstrcat(pool, dir, "/" STP_STATE_DB, NULL), MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK,
                          0600);
        if (!rc && !(rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)))
            mdb_txn_abort(txn);
        mdb_env_close(env);
    }
    if (rc)
        printf("%s/" STP_STATE_DB ": does not open: %s\n", dir, mdb_strerror(rc));
    else
        printf("%s/" STP_STATE_DB " opens\n", dir);
    return rc;
}

static int state_check(const char *dir, const char *user, int fix, apr_pool_t *pool)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        fprintf(stderr, "stpctl: no user '%s' (--user: the User httpd's children run as)\n", user);
        return 2;
    }
    struct group *gr = getgrgid(pw->pw_gid);
    check_t ck = {pw->pw_uid,
                  pw->pw_gid,
                  apr_pstrdup(pool, user),
                  gr ? apr_pstrdup(pool, gr->gr_name) : apr_ltoa(pool, (long)pw->pw_gid),
                  fix,
                  0,
                  0};
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) {
        fprintf(stderr, "stpctl: cannot open the state directory %s: %s\n", dir, strerror(errno));
        return 2;
    }
    check_entry(&ck, dirfd, dir, NULL, 1, pool);
    static const char *const files[] = {STP_STATE_DB, STP_STATE_DB_LOCK, STP_STATE_CSRF_KEY};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        check_entry(&ck, dirfd, dir, files[i], 0, pool);
    struct stat sb;
    if (!fstatat(dirfd, STP_STATE_DB, &sb, AT_SYMLINK_NOFOLLOW) && S_ISREG(sb.st_mode) && state_opens(dir, pool))
        ck.problems++;
    close(dirfd);
    printf("state-check %s: %d problem%s%s\n", dir, ck.problems, ck.problems == 1 ? "" : "s",
           ck.fixed ? apr_psprintf(pool, ", %d fixed", ck.fixed) : "");
    return ck.problems > ck.fixed ? 1 : 0;
}

/* A consistent copy while httpd runs (LMDB readers never block the writer), compacted, 0600. */
static int backup(const char *dir, const char *dest, apr_pool_t *pool)
{
    MDB_env *env;
    struct stat sb;
    int rc = mdb_env_create(&env), fd = -1;
    if (!lstat(apr_pstrcat(pool, dir, "/" STP_STATE_DB_LOCK, NULL), &sb) && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "stpctl: %s/" STP_STATE_DB_LOCK " is not a regular file; run stpctl state-check\n", dir);
        mdb_env_close(env);
        return 2;
    }
    if (!rc) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, apr_pstrcat(pool, dir, "/" STP_STATE_DB, NULL), MDB_NOSUBDIR | MDB_RDONLY, 0600);
    }
    if (rc) {
        fprintf(stderr, "stpctl: cannot open %s/" STP_STATE_DB ": %s\n", dir, mdb_strerror(rc));
        mdb_env_close(env);
        return 2;
    }
    if ((fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "stpctl: cannot create %s: %s\n", dest, strerror(errno));
        mdb_env_close(env);
        return 2;
    }
    rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    mdb_env_close(env);
    if (rc || fsync(fd) || close(fd)) {
        fprintf(stderr, "stpctl: writing %s failed: %s\n", dest, rc ? mdb_strerror(rc) : strerror(errno));
        unlink(dest);
        return 2;
    }
    printf("%s: a copy of %s/" STP_STATE_DB "\n", dest, dir);
    return 0;
}

int stpctl_state(int argc, const char *const *argv, apr_pool_t *pool)
{
    if (argc >= 2 && !strcmp(argv[0], "state-check")) {
        const char *user = "www-data";
        int fix = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--fix"))
                fix = 1;
            else if (!strcmp(argv[i], "--user") && i + 1 < argc)
                user = argv[++i];
            else
                return -1;
        }
        return state_check(argv[1], user, fix, pool);
    }
    if (argc == 3 && !strcmp(argv[0], "backup"))
        return backup(argv[1], argv[2], pool);
    return -1;
}
