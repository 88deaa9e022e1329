/* stpctl check, backup and restore: the state directory (docs/operations.md, Backup and restore).
 *
 * "In use" is LMDB's own rule: every process that has state.mdb open (httpd's processes, a running
 * stpctl) holds a shared fcntl lock on byte 0 of state.mdb-lock for as long as it has it open, and
 * LMDB takes that byte exclusively only when no other process has it. restore takes it
 * exclusively itself (refusing when it cannot: the state is in use), and holds it until the new
 * files are in place, so that a process starting meanwhile waits and then opens the restored
 * state, never half of it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lmdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "stp_state.h"
#include "stpctl.h"
#include "stp_layout.h"

#define DB "/" STP_STATE_DB
#define DB_LOCK "/" STP_STATE_DB_LOCK
#define KEY "/" STP_STATE_CSRF_KEY
#define KEY_SIZE 32

/* Root acts as a file's owner while LMDB opens files in a directory that owner controls: whatever
 * a link planted there points to, root then writes nothing that owner could not. */
static int act_as(uid_t uid, gid_t gid)
{
    if (getuid() != 0)
        return 0;
    return setegid(gid) || seteuid(uid) ? -1 : 0;
}

static void act_as_root(void)
{
    if (getuid() == 0 && (seteuid(0) || setegid(0)))
        abort(); /* cannot happen for root; never go on with the wrong identity */
}

static const char *owner_name(uid_t uid, gid_t gid, apr_pool_t *pool)
{
    struct passwd *pw = getpwuid(uid);
    struct group *gr = getgrgid(gid);
    return apr_psprintf(pool, "%s:%s", pw ? pw->pw_name : apr_ltoa(pool, (long)uid),
                        gr ? gr->gr_name : apr_ltoa(pool, (long)gid));
}

/* --- check -------------------------------------------------------------------------------------- */

typedef struct {
    uid_t uid;
    gid_t gid;
    const char *user, *group;
    int fix, problems, fixed;
} check_t;

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
    int bad = 0;
    if (sb.st_uid != ck->uid || sb.st_gid != ck->gid) {
        ck->problems++, bad++;
        int ok = ck->fix && !fchown(fd, ck->uid, ck->gid);
        ck->fixed += ok;
        printf("%s: owner %s, want %s:%s%s\n", path, owner_name(sb.st_uid, sb.st_gid, pool), ck->user, ck->group,
               ok        ? " (fixed)"
               : ck->fix ? apr_pstrcat(pool, " (cannot fix: ", strerror(errno), ")", NULL)
                         : "");
    }
    if ((sb.st_mode & 07777) != want) {
        ck->problems++, bad++;
        int ok = ck->fix && !fchmod(fd, want);
        ck->fixed += ok;
        printf("%s: mode %04o, want %04o%s\n", path, (unsigned)(sb.st_mode & 07777), (unsigned)want,
               ok        ? " (fixed)"
               : ck->fix ? apr_pstrcat(pool, " (cannot fix: ", strerror(errno), ")", NULL)
                         : "");
    }
    if (name && !strcmp(name, STP_STATE_CSRF_KEY) && sb.st_size != KEY_SIZE) {
        ck->problems++, bad++;
        printf("%s: %lld bytes, want %d: delete it and restart httpd for a new one\n", path, (long long)sb.st_size,
               KEY_SIZE);
    }
    if (!bad)
        printf("%s: ok (%s, %04o)\n", path, owner_name(sb.st_uid, sb.st_gid, pool), (unsigned)(sb.st_mode & 07777));
    close(fd);
}

/* The reader table's slots, from mdb_reader_list's lines ("pid thread txnid"). */
typedef struct {
    int lockfd, stale, live; /* slots */
    apr_hash_t *dead;        /* the processes of the stale slots */
    apr_pool_t *pool;
    const char *pids;
} readers_t;

/* A slot is stale when its process no longer holds its LMDB lock on byte `pid` of the lock file:
 * the test mdb_reader_check makes, made here without clearing anything. */
static int reader_line(const char *line, void *baton)
{
    readers_t *r = baton;
    char *end;
    long pid = strtol(line, &end, 10);
    if (end == line || pid <= 0 || pid == (long)getpid())
        return 0; /* the header line, or this process */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = pid, .l_len = 1};
    if (fcntl(r->lockfd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK) {
        const char *key = apr_ltoa(r->pool, pid);
        r->stale++;
        if (!apr_hash_get(r->dead, key, APR_HASH_KEY_STRING)) { /* a process has a slot per thread */
            apr_hash_set(r->dead, key, APR_HASH_KEY_STRING, key);
            r->pids = apr_pstrcat(r->pool, r->pids, *r->pids ? ", " : "", key, NULL);
        }
    } else {
        r->live++;
    }
    return 0;
}

/* Opens state.mdb as its owner would (with its lock file, as httpd does), and reports the format
 * and the stale readers; --fix clears those (as httpd does at start). */
static void check_db(check_t *ck, const char *dir, uid_t owner, gid_t group, apr_pool_t *pool)
{
    MDB_env *env = NULL;
    MDB_txn *txn;
    apr_uint64_t format = 0;
    int rc, lockfd = -1;
    const char *path = apr_pstrcat(pool, dir, DB, NULL);
    if (act_as(owner, group)) {
        printf("%s: cannot act as its owner: %s\n", path, strerror(errno));
        ck->problems++;
        return;
    }
    /* Opened first and closed last: closing any descriptor of the lock file drops this process's
     * LMDB locks on it. */
    lockfd = open(apr_pstrcat(pool, dir, DB_LOCK, NULL), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (!(rc = mdb_env_create(&env))) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY, 0600);
    }
    if (!rc && !(rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
        rc = stp_state_format_read(txn, &format);
        mdb_txn_abort(txn);
    }
    if (rc) {
        ck->problems++;
        printf("%s: does not open: %s\n", path, mdb_strerror(rc));
    } else {
        printf("%s opens\n", path);
        if (format > STP_STATE_FORMAT) {
            ck->problems++;
            printf("%s: format %" APR_UINT64_T_FMT ", newer than this stpctl's (%d): written by a newer version of "
                   "STP; install it again, or restore the backup taken before the upgrade\n",
                   path, format, STP_STATE_FORMAT);
        } else if (format < STP_STATE_FORMAT) {
            printf("%s: format %" APR_UINT64_T_FMT ", older than %d: upgraded in place when httpd starts (take a "
                   "backup first)\n",
                   path, format, STP_STATE_FORMAT);
        } else {
            printf("%s: format %d (current)\n", path, STP_STATE_FORMAT);
        }
        readers_t r = {lockfd, 0, 0, apr_hash_make(pool), pool, ""};
        if (lockfd >= 0)
            mdb_reader_list(env, reader_line, &r);
        if (r.stale) {
            int cleared = 0;
            ck->problems++;
            if (ck->fix && !mdb_reader_check(env, &cleared) && cleared)
                ck->fixed++;
            int procs = (int)apr_hash_count(r.dead);
            printf("%s: %d stale reader%s (process%s %s, gone, left a read transaction open: it keeps old pages "
                   "from reuse)%s\n",
                   path, r.stale, r.stale == 1 ? "" : "s", procs == 1 ? "" : "es", r.pids,
                   cleared   ? " (cleared)"
                   : ck->fix ? " (not cleared)"
                             : "; stpctl check --fix or a restart of httpd clears them");
        } else {
            printf("%s: no stale readers (%d reader slot%s in use)\n", path, r.live, r.live == 1 ? "" : "s");
        }
    }
    if (env)
        mdb_env_close(env);
    if (lockfd >= 0)
        close(lockfd);
    act_as_root();
}

static int check(const char *dir, const char *user, int fix, apr_pool_t *pool)
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
    struct stat db, lock;
    /* Only with both in place and real files: LMDB would create a missing lock file. */
    if (!fstatat(dirfd, STP_STATE_DB, &db, AT_SYMLINK_NOFOLLOW) && S_ISREG(db.st_mode)) {
        if (!fstatat(dirfd, STP_STATE_DB_LOCK, &lock, AT_SYMLINK_NOFOLLOW) && S_ISREG(lock.st_mode))
            check_db(&ck, dir, db.st_uid, db.st_gid, pool);
        else
            printf("%s" DB ": not opened without its lock file (httpd creates it at start)\n", dir);
    }
    close(dirfd);
    printf("check %s: %d problem%s%s\n", dir, ck.problems, ck.problems == 1 ? "" : "s",
           ck.fixed ? apr_psprintf(pool, ", %d fixed", ck.fixed) : "");
    return ck.problems > ck.fixed ? 1 : 0;
}

/* --- backup ------------------------------------------------------------------------------------- */

/* Copies the open file `from` to a new file `to` (0600), synced. */
static int copy_fd_to(int from, const char *to)
{
    char buf[65536];
    ssize_t n;
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while ((n = read(from, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    int err = n < 0 ? errno : 0;
    if (!err && fsync(fd))
        err = errno;
    close(fd);
    if (err) {
        unlink(to);
        errno = err;
        return -1;
    }
    return 0;
}

/* Gives `path` (just written by this process) the owner the original had; only root can. */
static int give(const char *path, const struct stat *orig)
{
    if (geteuid() != 0)
        return 0;
    return lchown(path, orig->st_uid, orig->st_gid);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = fd < 0 ? -1 : fsync(fd);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int backup_fail(const char *what, const char *why, const char *out, apr_pool_t *pool)
{
    fprintf(stderr, "stpctl backup: %s: %s\n", what, why);
    unlink(apr_pstrcat(pool, out, DB, NULL));
    unlink(apr_pstrcat(pool, out, KEY, NULL));
    rmdir(out);
    return 2;
}

/* OUT/state.mdb: a consistent, compacted copy made in one read transaction while httpd goes on
 * writing (LMDB readers never block the writer); OUT/csrf.key; 0700 and 0600, with the owners of
 * the originals when run as root. */
static int backup(const char *dir, const char *out, apr_pool_t *pool)
{
    struct stat db, lock, key, dsb;
    const char *db_path = apr_pstrcat(pool, dir, DB, NULL), *key_path = apr_pstrcat(pool, dir, KEY, NULL);
    if (lstat(db_path, &db) || !S_ISREG(db.st_mode)) {
        fprintf(stderr, "stpctl backup: %s: %s\n", db_path, errno ? strerror(errno) : "not a regular file");
        return 2;
    }
    if (lstat(apr_pstrcat(pool, dir, DB_LOCK, NULL), &lock) || !S_ISREG(lock.st_mode)) {
        fprintf(stderr, "stpctl backup: %s" DB_LOCK " is missing or not a regular file; run stpctl check %s\n", dir,
                dir);
        return 2;
    }
    int keyfd = open(key_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (keyfd < 0 || fstat(keyfd, &key) || !S_ISREG(key.st_mode) || key.st_size != KEY_SIZE) {
        fprintf(stderr, "stpctl backup: %s: %s; run stpctl check %s\n", key_path,
                keyfd < 0 ? strerror(errno) : "not a 32-byte file", dir);
        if (keyfd >= 0)
            close(keyfd);
        return 2;
    }
    if (mkdir(out, 0700)) {
        fprintf(stderr, "stpctl backup: cannot create %s: %s (it must not exist)\n", out, strerror(errno));
        close(keyfd);
        return 2;
    }
    if (lstat(dir, &dsb) || chmod(out, 0700) || give(out, &dsb)) {
        close(keyfd);
        return backup_fail(out, strerror(errno), out, pool);
    }
    const char *out_db = apr_pstrcat(pool, out, DB, NULL), *out_key = apr_pstrcat(pool, out, KEY, NULL);
    int rc = copy_fd_to(keyfd, out_key);
    close(keyfd);
    if (rc || give(out_key, &key))
        return backup_fail(out_key, strerror(errno), out, pool);
    int fd = open(out_db, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return backup_fail(out_db, strerror(errno), out, pool);
    MDB_env *env = NULL;
    if (act_as(db.st_uid, db.st_gid)) {
        close(fd);
        return backup_fail(db_path, "cannot act as its owner", out, pool);
    }
    if (!(rc = mdb_env_create(&env))) {
        mdb_env_set_maxdbs(env, 16);
        if (!(rc = mdb_env_open(env, db_path, MDB_NOSUBDIR | MDB_RDONLY, 0600)))
            rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    }
    if (env)
        mdb_env_close(env);
    act_as_root();
    if (rc || fsync(fd) || close(fd) || give(out_db, &db) || sync_dir(out))
        return backup_fail(out_db, rc ? mdb_strerror(rc) : strerror(errno), out, pool);
    printf("%s: a copy of %s (state.mdb, compacted, and csrf.key; owner %s)\n", out, dir,
           owner_name(db.st_uid, db.st_gid, pool));
    return 0;
}

/* --- restore ------------------------------------------------------------------------------------ */

/* The backup's state.mdb opens and is not of a newer format; read without its lock file (a
 * backup is nobody's live state). */
static int backup_readable(const char *path, apr_uint64_t *format)
{
    MDB_env *env;
    MDB_txn *txn;
    int rc = mdb_env_create(&env);
    if (rc)
        return rc;
    mdb_env_set_maxdbs(env, 16);
    if (!(rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0600)) &&
        !(rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
        rc = stp_state_format_read(txn, format);
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

/* Writes `from` beside its destination as `tmp` (0600, the owner of `orig`). */
static int stage(const char *from, const char *tmp, const struct stat *orig)
{
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    unlink(tmp); /* a leftover of an interrupted restore, or a planted link: O_EXCL makes a fresh file */
    int rc = copy_fd_to(in, tmp);
    close(in);
    if (!rc && give(tmp, orig))
        rc = -1;
    return rc;
}

static int restore(const char *from, const char *dir, apr_pool_t *pool)
{
    struct stat db, key, dsb;
    apr_uint64_t format = 0;
    const char *from_db = apr_pstrcat(pool, from, DB, NULL), *from_key = apr_pstrcat(pool, from, KEY, NULL);
    if (lstat(from_db, &db) || !S_ISREG(db.st_mode) || lstat(from_key, &key) || !S_ISREG(key.st_mode) ||
        key.st_size != KEY_SIZE || lstat(from, &dsb)) {
        fprintf(stderr, "stpctl restore: %s is not a backup made by stpctl backup (state.mdb and a 32-byte csrf.key)\n",
                from);
        return 2;
    }
    int rc = backup_readable(from_db, &format);
    if (rc) {
        fprintf(stderr, "stpctl restore: %s does not open: %s\n", from_db, mdb_strerror(rc));
        return 2;
    }
    if (format > STP_STATE_FORMAT) {
        fprintf(stderr,
                "stpctl restore: %s is of format %" APR_UINT64_T_FMT
                ", made by a newer version of STP than this one (%d): restore it with that version\n",
                from_db, format, STP_STATE_FORMAT);
        return 1;
    }
    /* The state directory: the module's (0700, the backup's owner) when it is missing. */
    if (mkdir(dir, 0700) == 0) {
        if (chmod(dir, 0700) || give(dir, &dsb)) {
            fprintf(stderr, "stpctl restore: %s: %s\n", dir, strerror(errno));
            return 2;
        }
    } else if (errno != EEXIST) {
        fprintf(stderr, "stpctl restore: cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    } else {
        /* An existing state directory keeps its owner (httpd's User), whoever copied the backup in. */
        struct stat cur;
        if (lstat(dir, &cur) || !S_ISDIR(cur.st_mode)) {
            fprintf(stderr, "stpctl restore: %s is not a directory\n", dir);
            return 2;
        }
        db.st_uid = key.st_uid = cur.st_uid;
        db.st_gid = key.st_gid = cur.st_gid;
    }
    const char *lock_path = apr_pstrcat(pool, dir, DB_LOCK, NULL);
    int lockfd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lockfd < 0) {
        fprintf(stderr, "stpctl restore: %s: %s\n", lock_path, strerror(errno));
        return 2;
    }
    struct stat lsb;
    if (fstat(lockfd, &lsb) || !S_ISREG(lsb.st_mode) || (geteuid() == 0 && fchown(lockfd, db.st_uid, db.st_gid)) ||
        fchmod(lockfd, 0600)) {
        fprintf(stderr, "stpctl restore: %s: not a regular file of the state's owner\n", lock_path);
        close(lockfd);
        return 2;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(lockfd, F_SETLK, &fl)) {
        struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
        const char *pid = !fcntl(lockfd, F_GETLK, &who) && who.l_type != F_UNLCK
                              ? apr_psprintf(pool, " (process %ld has it open)", (long)who.l_pid)
                              : "";
        fprintf(stderr,
                "stpctl restore: %s" DB " is in use%s: stop httpd (and any stpctl running on it), then restore\n", dir,
                pid);
        close(lockfd);
        return 1;
    }
    /* Beside, then renamed over: each file is either the old one or the whole new one. The key
     * first: with a new state.mdb, the old key only costs forms open at that moment. */
    const char *tmp_db = apr_pstrcat(pool, dir, "/.", STP_STATE_DB, ".restore", NULL);
    const char *tmp_key = apr_pstrcat(pool, dir, "/.", STP_STATE_CSRF_KEY, ".restore", NULL);
    const char *failed = NULL;
    if (stage(from_key, tmp_key, &key))
        failed = tmp_key;
    else if (stage(from_db, tmp_db, &db))
        failed = tmp_db;
    else if (rename(tmp_key, apr_pstrcat(pool, dir, KEY, NULL)))
        failed = KEY + 1;
    else if (rename(tmp_db, apr_pstrcat(pool, dir, DB, NULL)))
        failed = DB + 1;
    else if (sync_dir(dir))
        failed = dir;
    if (failed) {
        fprintf(stderr, "stpctl restore: %s: %s\n", failed, strerror(errno));
        unlink(tmp_key);
        unlink(tmp_db);
        close(lockfd);
        return 2;
    }
    /* The lock file still describes the old state.mdb. Opened here, by this process, which holds
     * the exclusive lock, LMDB sets it up afresh for the new file before it lets the processes
     * waiting on it in; its close then drops the lock. */
    MDB_env *env = NULL;
    if (act_as(db.st_uid, db.st_gid))
        rc = errno;
    else if (!(rc = mdb_env_create(&env))) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, apr_pstrcat(pool, dir, DB, NULL), MDB_NOSUBDIR | MDB_RDONLY, 0600);
    }
    if (env)
        mdb_env_close(env);
    act_as_root();
    close(lockfd);
    if (rc) {
        fprintf(stderr, "stpctl restore: the restored %s" DB " does not open: %s\n", dir, mdb_strerror(rc));
        return 2;
    }
    printf("%s: restored from %s (format %" APR_UINT64_T_FMT "%s; owner %s)\n", dir, from, format,
           format < STP_STATE_FORMAT ? ", upgraded when httpd next starts" : "",
           owner_name(db.st_uid, db.st_gid, pool));
    return 0;
}

/* --- commands ----------------------------------------------------------------------------------- */

static const char *const help_check =
    "Usage: stpctl check STATE_DIR [--fix] [--user NAME]\n"
    "\n"
    "Checks a state directory (StpStateDir): that it is 0700 and state.mdb, state.mdb-lock and\n"
    "csrf.key are 0600 regular files, all owned by httpd's User (--user, default www-data); that\n"
    "csrf.key has 32 bytes; that state.mdb opens and is of a format this version reads; and that no\n"
    "process that died left a read transaction in the reader table (a stale reader keeps old pages\n"
    "from reuse, so the file grows). Safe while httpd runs; changes nothing without --fix.\n"
    "\n"
    "  --fix        set owners and modes, and clear stale readers\n"
    "  --user NAME  the user httpd's children run as (default www-data)\n"
    "\n"
    "Exit status: 0 no problem left, 1 problems found (and not all fixed), 2 usage or system error.\n"
    "`state-check` is the older name of this command.\n";

static const char *const help_backup =
    "Usage: stpctl backup STATE_DIR OUT\n"
    "\n"
    "Copies the state in STATE_DIR into the new directory OUT (0700): state.mdb, a consistent and\n"
    "compacted copy made in one read transaction, and csrf.key, both 0600. Safe while httpd runs and\n"
    "writes: the copy holds every change acknowledged before it began. Run as root, the copies keep\n"
    "the owners of the originals. OUT must not exist.\n"
    "\n"
    "Exit status: 0 done, 2 usage or system error (OUT is then removed).\n";

static const char *const help_restore =
    "Usage: stpctl restore BACKUP STATE_DIR\n"
    "\n"
    "Puts the state saved by `stpctl backup` in BACKUP in place in STATE_DIR (created when missing):\n"
    "each file is written beside its destination and renamed over it, with the owner it had when\n"
    "saved (run as root) and mode 0600. Refuses while the state is in use, that is while any process\n"
    "(httpd, stpctl) has STATE_DIR/state.mdb open: stop httpd first. A backup of an older format is\n"
    "upgraded when httpd next starts; one of a newer format is refused.\n"
    "\n"
    "Exit status: 0 restored, 1 refused (in use, newer format), 2 usage or system error.\n";

static int wants_help(int argc, const char *const *argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

int stpctl_state(int argc, const char *const *argv, apr_pool_t *pool)
{
    int is_check = !strcmp(argv[0], "check") || !strcmp(argv[0], "state-check");
    const char *help = is_check ? help_check : !strcmp(argv[0], "backup") ? help_backup : help_restore;
    if (wants_help(argc, argv)) {
        fputs(help, stdout);
        return 0;
    }
    if (is_check && argc >= 2) {
        const char *user = "www-data";
        int fix = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--fix"))
                fix = 1;
            else if (!strcmp(argv[i], "--user") && i + 1 < argc)
                user = argv[++i];
            else
                return fputs(help, stderr), 2;
        }
        return check(argv[1], user, fix, pool);
    }
    if (argc == 3 && !strcmp(argv[0], "backup"))
        return backup(argv[1], argv[2], pool);
    if (argc == 3 && !strcmp(argv[0], "restore"))
        return restore(argv[1], argv[2], pool);
    fputs(help, stderr);
    return 2;
}
