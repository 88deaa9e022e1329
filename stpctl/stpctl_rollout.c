/* stpctl rollout: one published build onto several nodes (docs/operations.md, "Several nodes").
 * First the build's content manifest is made from the source. Then each node gets a copy, sent
 * with rsync into SITE/.rollout-BUILD/ beside what it serves (--link-dest against the node's
 * current build and store, so that unchanged files are hard links, not transfers). Then each node
 * whose copy arrived switches: stpctl_activate (stpctl_activate.c) checks the copy against the
 * manifest on the node itself (over ssh for a remote node) and only then renames `current` to it.
 * Copying every node before switching any keeps the nodes on different builds for as short a
 * time as the checks take. Programs are run with argument vectors, never through a shell here;
 * the one command line a remote shell reads is built from names checked against a short set of
 * characters and quoted. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_proc.h>

#include "stp_layout.h"
#include "stpctl.h"

typedef struct {
    const char *spec;   /* as given */
    const char *host;   /* [user@]host, or NULL for a local path */
    const char *path;   /* the node's site directory */
    const char *status; /* what became of it */
    int copied, serving;
} node_t;

typedef struct {
    const char *name; /* build-N */
    const char *site; /* the source site directory */
    char *manifest;
    apr_size_t mlen;
    const char *filter; /* rsync rules naming the store shards the build links */
    apr_array_header_t *ssh_opts;
    const char *remote_stpctl;
} rollout_t;

static void rollout_usage(FILE *f)
{
    fprintf(f, "Usage: stpctl rollout [options] BUILD_DIR NODE...\n"
               "\n"
               "Copies one published build to each NODE and switches the node's `current` to it once the\n"
               "copy is complete and matches the build's content manifest (SHA-256 of every file), checked\n"
               "on the node. A node never serves a partial copy; one that fails keeps what it served.\n"
               "\n"
               "  BUILD_DIR  a build sitegen published (SITE/build-N, or SITE/current, or SITE)\n"
               "  NODE       /path/to/site                a site directory on this machine\n"
               "             [user@]host:/path/to/site    over ssh; the node needs rsync and stpctl\n"
               "\n"
               "Options:\n"
               "  --ssh-option KEY=VALUE  pass -o KEY=VALUE to ssh (repeatable; BatchMode=yes is always set)\n"
               "  --remote-stpctl PATH    stpctl on ssh nodes (default: stpctl, from the remote PATH)\n"
               "  -h, --help              show this help\n"
               "\n"
               "Every node is copied first (rsync -a --delete into SITE/.rollout-BUILD, hard-linking what the\n"
               "node already has), then each copied node switches (stpctl rollout-activate on the node).\n"
               "Running it again resumes: a node that serves the build says so, a partial copy is completed.\n"
               "\n"
               "Exit status: 0 every node serves the build, 1 some did not switch (listed at the end; they\n"
               "serve what they served before), 2 usage error or the build could not be read.\n");
}

/* Characters for names a remote shell or ssh reads: no spaces, quotes, globs or expansions. */
static int only(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr(extra, *s)))
            return 0;
    return 1;
}

static int remote_path_ok(const char *p)
{
    return p[0] == '/' && strlen(p) < 1024 && only(p, "._/+-") && !strstr(p, "/../") &&
           (strlen(p) < 3 || strcmp(p + strlen(p) - 3, "/.."));
}

/* NODE: an absolute local path, or [user@]host:/path. */
static const char *parse_node(node_t *n, const char *spec, apr_pool_t *pool)
{
    n->spec = spec;
    if (spec[0] == '/') {
        for (const char *p = spec; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return "a control character in the path";
        n->path = spec;
    } else {
        const char *colon = strchr(spec, ':');
        if (!colon)
            return "neither /path nor [user@]host:/path";
        const char *at = memchr(spec, '@', (size_t)(colon - spec));
        const char *host = at ? at + 1 : spec;
        const char *user = at ? apr_pstrmemdup(pool, spec, (size_t)(at - spec)) : NULL;
        const char *h = apr_pstrmemdup(pool, host, (size_t)(colon - host));
        if (user && (!*user || user[0] == '-' || strlen(user) > 32 || !only(user, "._-")))
            return "not a user name";
        if (!*h || !(isalnum((unsigned char)h[0])) || strlen(h) > 253 || !only(h, ".-_"))
            return "not a host name (letters, digits, '.', '-', '_'; an ssh_config Host alias works)";
        if (!remote_path_ok(colon + 1))
            return "the remote path must be absolute, of letters, digits and ._/+- only";
        n->host = apr_pstrmemdup(pool, spec, (size_t)(colon - spec));
        n->path = colon + 1;
    }
    char *path = apr_pstrdup(pool, n->path);
    for (size_t l = strlen(path); l > 1 && path[l - 1] == '/'; l--)
        path[l - 1] = '\0';
    n->path = path;
    return NULL;
}

/* In the child, when exec fails: the parent only sees status 255. */
static void exec_failed(apr_pool_t *pool, apr_status_t err, const char *what)
{
    char buf[256];
    (void)pool;
    fprintf(stderr, "stpctl rollout: %s: %s\n", what, apr_strerror(err, buf, sizeof buf));
}

/* Runs argv[0] found in PATH, without a shell: `in` on its standard input when not NULL, its
 * standard output into `out` when not NULL, its standard error ours. NULL when it exits 0, else
 * why not. */
static const char *run(const char *const *argv, const char *in, apr_size_t inlen, char **out, apr_pool_t *pool)
{
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_status_t rv;
    char err[256];
    if ((rv = apr_procattr_create(&attr, pool)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, in ? APR_FULL_BLOCK : APR_NO_PIPE, out ? APR_FULL_BLOCK : APR_NO_PIPE,
                                  APR_NO_PIPE)) != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_PATH)) != APR_SUCCESS ||
        (rv = apr_procattr_error_check_set(attr, 1)) != APR_SUCCESS ||
        (rv = apr_procattr_child_errfn_set(attr, exec_failed)) != APR_SUCCESS ||
        (rv = apr_proc_create(&proc, argv[0], argv, NULL, attr, pool)) != APR_SUCCESS)
        return apr_psprintf(pool, "cannot run %s: %s", argv[0], apr_strerror(rv, err, sizeof err));
    if (in) {
        /* A node that stops reading must not end the rollout of the others; the child was started
         * with the default disposition, which it keeps. */
        void (*was)(int) = signal(SIGPIPE, SIG_IGN);
        apr_size_t n;
        apr_file_write_full(proc.in, in, inlen, &n); /* a child that stops reading says why itself */
        apr_file_close(proc.in);
        signal(SIGPIPE, was);
    }
    if (out) {
        apr_size_t cap = 4096, len = 0;
        char *buf = apr_palloc(pool, cap);
        for (;;) {
            apr_size_t n = cap - len - 1;
            if (apr_file_read(proc.out, buf + len, &n) != APR_SUCCESS)
                break;
            len += n;
            if (len + 1 == cap) {
                char *bigger = apr_palloc(pool, cap * 2);
                memcpy(bigger, buf, len);
                buf = bigger;
                cap *= 2;
            }
        }
        buf[len] = '\0';
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        *out = buf;
        apr_file_close(proc.out);
    }
    int code;
    apr_exit_why_e why;
    if (apr_proc_wait(&proc, &code, &why, APR_WAIT) != APR_CHILD_DONE)
        return apr_psprintf(pool, "lost %s", argv[0]);
    if (why == APR_PROC_SIGNAL || why == APR_PROC_SIGNAL_CORE)
        return apr_psprintf(pool, "%s was killed by signal %d", argv[0], code);
    return code ? apr_psprintf(pool, "%s exited with status %d", argv[0], code) : NULL;
}

/* ssh's options: every run batch mode (no prompt can hang a rollout), then the operator's. */
static void push_ssh_options(apr_array_header_t *args, const rollout_t *ro)
{
    APR_ARRAY_PUSH(args, const char *) = "-o";
    APR_ARRAY_PUSH(args, const char *) = "BatchMode=yes";
    for (int i = 0; i < ro->ssh_opts->nelts; i++) {
        APR_ARRAY_PUSH(args, const char *) = "-o";
        APR_ARRAY_PUSH(args, const char *) = APR_ARRAY_IDX(ro->ssh_opts, i, const char *);
    }
}

static const char *const *argv_of(apr_array_header_t *args)
{
    APR_ARRAY_PUSH(args, const char *) = NULL;
    return (const char *const *)args->elts;
}

/* rsync's arguments up to the paths; `link_dest` relative to the destination directory.
 * `by_content`: rsync's quick check (same size and mtime: unchanged) is wrong for a build's files,
 * since two builds published within a second can hold a file of the same size with other bytes;
 * the node's copy would then never match its manifest. Store shards are named by their content,
 * so the quick check is right for them. */
static apr_array_header_t *rsync_args(const rollout_t *ro, const node_t *n, const char *link_dest, int by_content,
                                      apr_pool_t *pool)
{
    apr_array_header_t *a = apr_array_make(pool, 16, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = "rsync";
    APR_ARRAY_PUSH(a, const char *) = "-a";
    APR_ARRAY_PUSH(a, const char *) = "--delete";
    if (by_content)
        APR_ARRAY_PUSH(a, const char *) = "--checksum";
    if (link_dest)
        APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, "--link-dest=", link_dest, NULL);
    if (n->host) {
        /* rsync splits -e itself, honouring single quotes; the options hold none. */
        const char *e = "ssh -o BatchMode=yes";
        for (int i = 0; i < ro->ssh_opts->nelts; i++)
            e = apr_pstrcat(pool, e, " -o '", APR_ARRAY_IDX(ro->ssh_opts, i, const char *), "'", NULL);
        APR_ARRAY_PUSH(a, const char *) = "-e";
        APR_ARRAY_PUSH(a, const char *) = e;
    }
    return a;
}

/* Sends the store shards, then the build, into the node's SITE/.rollout-BUILD/. */
static const char *copy(const rollout_t *ro, const node_t *n, apr_pool_t *pool)
{
    const char *staging = apr_pstrcat(pool, n->path, "/" STP_SITE_ROLLOUT_PREFIX, ro->name, NULL);
    const char *dest = n->host ? apr_pstrcat(pool, n->host, ":", staging, NULL) : staging;
    const char *cur_link = "../../" STP_SITE_CURRENT;
    if (!n->host) {
        struct stat st;
        if (stat(n->path, &st) != 0 || !S_ISDIR(st.st_mode))
            return apr_psprintf(pool, "%s is not a directory", n->path);
        if (stat(apr_pstrcat(pool, n->path, "/" STP_SITE_CURRENT, NULL), &st) != 0)
            cur_link = NULL; /* a new node: nothing to link against */
    }
    /* The shards first: this also makes the staging directory (the node's site must exist). */
    apr_array_header_t *a = rsync_args(ro, n, "..", 0, pool);
    APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, "--include-from=", ro->filter, NULL);
    APR_ARRAY_PUSH(a, const char *) = "--exclude=*";
    APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, ro->site, "/", NULL);
    APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, dest, "/", NULL);
    const char *why = run(argv_of(a), NULL, 0, NULL, pool);
    if (why)
        return why;
    a = rsync_args(ro, n, cur_link, 1, pool);
    APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, ro->site, "/", ro->name, "/", NULL);
    APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, dest, "/", ro->name, "/", NULL);
    return run(argv_of(a), NULL, 0, NULL, pool);
}

/* Single quotes for the remote shell; the names were checked to hold none. */
static const char *sq(const char *s, apr_pool_t *pool)
{
    return apr_pstrcat(pool, "'", s, "'", NULL);
}

/* Checks and switches the node; 0 when it serves the build. */
static int activate(const rollout_t *ro, node_t *n, apr_pool_t *pool)
{
    if (!n->host) {
        char msg[1024];
        int rc = stpctl_activate(n->path, ro->name, ro->manifest, ro->mlen, msg, sizeof msg, pool);
        n->status = apr_pstrdup(pool, msg);
        return rc;
    }
    apr_array_header_t *a = apr_array_make(pool, 16, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = "ssh";
    push_ssh_options(a, ro);
    APR_ARRAY_PUSH(a, const char *) = "--";
    APR_ARRAY_PUSH(a, const char *) = n->host;
    APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(pool, sq(ro->remote_stpctl, pool), " rollout-activate --manifest - ",
                                                  sq(n->path, pool), " ", sq(ro->name, pool), NULL);
    char *out = NULL;
    const char *why = run(argv_of(a), ro->manifest, ro->mlen, &out, pool);
    n->status = out && *out ? (why ? apr_psprintf(pool, "%s (%s)", out, why) : out) : why ? why : "switched";
    return why ? 1 : 0;
}

/* BUILD_DIR may name the build, SITE/current or SITE. */
static const char *resolve_build(rollout_t *ro, const char *arg, apr_pool_t *pool)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(arg, real))
        return apr_psprintf(pool, "%s: %s", arg, strerror(errno));
    const char *base = strrchr(real, '/') + 1;
    if (!stpctl_build_name_ok(base)) {
        const char *cur = apr_pstrcat(pool, real, "/" STP_SITE_CURRENT, NULL);
        if (lstat(cur, &st) != 0 || !realpath(cur, real))
            return apr_psprintf(pool, "%s is not a build that sitegen published (SITE/build-N)", arg);
        base = strrchr(real, '/') + 1;
        if (!stpctl_build_name_ok(base))
            return apr_psprintf(pool, "%s is not a build that sitegen published (SITE/build-N)", arg);
    }
    ro->name = apr_pstrdup(pool, base);
    ro->site = apr_pstrmemdup(pool, real, (apr_size_t)(base - 1 - real));
    return NULL;
}

/* rsync rules for the store shards the manifest lists ("d MODE ../store/FP"). */
static const char *write_filter(apr_file_t **f, const char **name, const rollout_t *ro, apr_pool_t *pool)
{
    const char *tmp;
    char err[256];
    apr_status_t rv;
    if ((rv = apr_temp_dir_get(&tmp, pool)) != APR_SUCCESS ||
        (rv = apr_file_mktemp(f, apr_pstrcat(pool, tmp, "/stp-rollout.XXXXXX", NULL),
                              APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL | APR_FOPEN_DELONCLOSE, pool)) !=
            APR_SUCCESS)
        return apr_psprintf(pool, "cannot make a temporary file: %s", apr_strerror(rv, err, sizeof err));
    apr_file_puts("/" STP_SITE_STORE "/\n", *f);
    static const char prefix[] = "\nd ";
    for (const char *p = ro->manifest; (p = strstr(p, prefix));) {
        p += sizeof prefix - 1;
        const char *sp = strchr(p, ' '), *nl = strchr(p, '\n');
        const char *dir = "../" STP_SITE_STORE "/";
        if (!sp || !nl || strncmp(sp + 1, dir, strlen(dir)))
            continue;
        const char *fp = apr_pstrmemdup(pool, sp + 1 + strlen(dir), (apr_size_t)(nl - (sp + 1 + strlen(dir))));
        if (!strchr(fp, '/'))
            apr_file_printf(*f, "/" STP_SITE_STORE "/%s/***\n", fp);
    }
    if ((rv = apr_file_flush(*f)) != APR_SUCCESS)
        return apr_psprintf(pool, "cannot write a temporary file: %s", apr_strerror(rv, err, sizeof err));
    apr_file_name_get(name, *f);
    return NULL;
}

int stpctl_rollout(int argc, const char *const *argv, apr_pool_t *pool)
{
    rollout_t ro = {0};
    ro.ssh_opts = apr_array_make(pool, 4, sizeof(const char *));
    ro.remote_stpctl = "stpctl";
    apr_array_header_t *nodes = apr_array_make(pool, 8, sizeof(node_t));
    const char *build = NULL, *why;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            rollout_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--ssh-option") && i + 1 < argc) {
            const char *o = argv[++i], *eq = strchr(o, '=');
            if (!eq || eq == o || !only(apr_pstrmemdup(pool, o, (apr_size_t)(eq - o)), "") ||
                !only(eq + 1, "._/+,:=@%-")) {
                fprintf(stderr, "stpctl rollout: --ssh-option takes KEY=VALUE without spaces or quotes\n");
                return 2;
            }
            APR_ARRAY_PUSH(ro.ssh_opts, const char *) = o;
        } else if (!strcmp(a, "--remote-stpctl") && i + 1 < argc) {
            ro.remote_stpctl = argv[++i];
            if (ro.remote_stpctl[0] == '-' || !*ro.remote_stpctl || !only(ro.remote_stpctl, "._/+-")) {
                fprintf(stderr, "stpctl rollout: --remote-stpctl takes a path of letters, digits and ._/+-\n");
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "stpctl rollout: '%s' is neither an option nor a node (stpctl rollout --help)\n", a);
            return 2;
        } else if (!build) {
            build = a;
        } else {
            node_t *n = apr_array_push(nodes);
            memset(n, 0, sizeof *n);
            if ((why = parse_node(n, a, pool))) {
                fprintf(stderr, "stpctl rollout: node '%s': %s\n", a, why);
                return 2;
            }
        }
    }
    if (!build || !nodes->nelts) {
        rollout_usage(stderr);
        return 2;
    }
    if ((why = resolve_build(&ro, build, pool))) {
        fprintf(stderr, "stpctl rollout: %s\n", why);
        return 2;
    }
    char err[512];
    long entries;
    if (stpctl_manifest_make(&ro.manifest, &ro.mlen, &entries, apr_pstrcat(pool, ro.site, "/", ro.name, NULL), err,
                             sizeof err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl rollout: %s\n", err);
        return 2;
    }
    apr_file_t *filter;
    if ((why = write_filter(&filter, &ro.filter, &ro, pool))) {
        fprintf(stderr, "stpctl rollout: %s\n", why);
        return 2;
    }
    printf("rollout %s from %s: %ld entries, %d node%s\n", ro.name, ro.site, entries, nodes->nelts,
           nodes->nelts == 1 ? "" : "s");
    fflush(stdout);

    for (int i = 0; i < nodes->nelts; i++) {
        node_t *n = &APR_ARRAY_IDX(nodes, i, node_t);
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        const char *failed = copy(&ro, n, p);
        n->copied = !failed;
        n->status = failed ? apr_pstrcat(pool, "copy failed: ", failed, NULL) : NULL;
        printf("%s: %s\n", n->spec, failed ? n->status : "copied");
        fflush(stdout);
        apr_pool_destroy(p);
    }
    int serving = 0;
    for (int i = 0; i < nodes->nelts; i++) {
        node_t *n = &APR_ARRAY_IDX(nodes, i, node_t);
        if (!n->copied)
            continue;
        n->serving = activate(&ro, n, pool) == 0;
        serving += n->serving;
        printf("%s: %s\n", n->spec, n->status);
        fflush(stdout);
    }
    apr_file_close(filter);

    printf("%s is served by %d of %d node%s", ro.name, serving, nodes->nelts, nodes->nelts == 1 ? "" : "s");
    if (serving < nodes->nelts) {
        printf("; not switched (each serves what it served before):");
        for (int i = 0; i < nodes->nelts; i++)
            if (!APR_ARRAY_IDX(nodes, i, node_t).serving)
                printf(" %s", APR_ARRAY_IDX(nodes, i, node_t).spec);
    }
    printf("\n");
    return fflush(stdout) == 0 && serving == nodes->nelts ? 0 : 1;
}
