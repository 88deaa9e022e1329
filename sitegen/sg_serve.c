/* sitegen serve: the content editor's preview (sg_serve.h). One process: it runs each build as a
 * child sitegen (its output captured for the page), httpd as another child, and waits on inotify
 * and on its signals in between. */
#include "sg_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stp_layout.h"
#include "stp_preview.h"

/* How long the content directory must stay quiet before a rebuild: an editor's save is often a
 * burst of events (a temporary file, a rename, a chmod). */
#define DEBOUNCE_MS 150
#define START_TIMEOUT_S 30
#define OUTPUT_MAX (256 * 1024)

/* The sitegen options a preview build adds to a normal one: drafts and embargoed documents are
 * shown, with their banners. */
static const char *const preview_build_args[] = {"--preview", NULL};

typedef struct {
    const char *self;      /* this sitegen, which runs the builds */
    const char *content;   /* the content directory, absolute */
    const char *templates; /* -t, or NULL for sitegen's default */
    const char *module;    /* mod_stp.so */
    const char *httpd;     /* the httpd binary */
    const char *tmp;       /* the temporary directory: site/, state/, httpd.conf, error.log */
    const char *site;
    int port;
    int keep;     /* --keep: leave the temporary directory */
    int quiet;    /* -q */
    unsigned seq; /* build attempts so far */
    long run;     /* this run's start, part of every build id */
    pid_t httpd_pid;
    sigset_t old_mask;
} serve_t;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sitegen serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (!s)
        abort();
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* mod_stp.so: --module, $STP_MODULE, the build tree's when this sitegen is the build tree's,
 * else the installed one. */
static const char *find_module(const char *given)
{
    if (given)
        return given;
    const char *env = getenv("STP_MODULE");
    if (env && *env)
        return env;
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0 && *SG_BUILD_DIR && realpath(SG_BUILD_DIR, dir)) {
        exe[n] = '\0';
        size_t d = strlen(dir);
        const char *built = SG_BUILD_DIR "/mod_stp/.libs/mod_stp.so";
        if (!strncmp(exe, dir, d) && exe[d] == '/' && file_exists(built))
            return built;
    }
    return SG_HTTPD_MODULE_DIR "/mod_stp.so";
}

/* A port nobody listens on now: the kernel's choice for a socket bound to port 0. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* --- builds ------------------------------------------------------------------------------------- */

/* Runs one build as a child sitegen; its output (the errors, path:line: message) is copied to the
 * terminal and kept for the page. Returns 1 when it published. */
static int build(serve_t *s)
{
    int fds[2];
    const char *argv[16];
    int n = 0;
    argv[n++] = s->self;
    argv[n++] = "-q";
    for (const char *const *a = preview_build_args; *a; a++)
        argv[n++] = *a;
    if (s->templates) {
        argv[n++] = "-t";
        argv[n++] = s->templates;
    }
    argv[n++] = "-o";
    argv[n++] = s->site;
    argv[n++] = s->content;
    argv[n] = NULL;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s->seq++;
    if (pipe2(fds, O_CLOEXEC))
        return say("cannot start a build: %s", strerror(errno)), 0;
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execv(s->self, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", s->self, strerror(errno));
        _exit(2);
    }
    close(fds[1]);
    char *out = malloc(OUTPUT_MAX + 1);
    size_t len = 0;
    if (!out)
        abort();
    for (;;) {
        char buf[4096];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        fwrite(buf, 1, (size_t)r, stderr);
        size_t keep = len + (size_t)r > OUTPUT_MAX ? OUTPUT_MAX - len : (size_t)r;
        memcpy(out + len, buf, keep);
        len += keep;
    }
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    char id[64];
    snprintf(id, sizeof id, "%lx-%u", s->run, s->seq);
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    apr_status_t rv = stp_preview_status_write(join(s->site, STP_PREVIEW_STATUS), id, !ok,
                                               pid > 0 ? out : "sitegen could not be started\n", p);
    apr_pool_destroy(p);
    if (rv != APR_SUCCESS)
        say("cannot write %s/%s (the page will not know of this build)", s->site, STP_PREVIEW_STATUS);
    free(out);
    if (ok && !s->quiet)
        say("build %u published in %.2f s", s->seq, secs);
    else if (!ok)
        say("build %u failed (above)%s", s->seq, s->httpd_pid ? "; still serving the build before it" : "");
    return ok;
}

/* --- httpd -------------------------------------------------------------------------------------- */

/* 1 when `path` can stand between double quotes in httpd.conf as it is: no quote, backslash or
 * line break that would end it or start a directive of its own, no ${ that httpd would expand. */
static int conf_path_ok(const char *what, const char *path)
{
    for (const char *p = path; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '\n' || *p == '\r' || (p[0] == '$' && p[1] == '{'))
            return say("%s %s cannot be written into httpd.conf (it holds a quote, a backslash, a line break or "
                       "${); use another%s",
                       what, path, !strcmp(what, "temporary directory") ? " TMPDIR" : " path"),
                   0;
    return 1;
}

static int write_conf(serve_t *s, const char *path)
{
    if (!conf_path_ok("temporary directory", s->tmp) || !conf_path_ok("module", s->module))
        return 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return say("cannot write %s: %s", path, strerror(errno)), 0;
    fprintf(f,
            "# Written by sitegen serve for this preview only; removed when it stops.\n"
            "ServerRoot \"%s\"\n"
            "PidFile \"%s/httpd.pid\"\n"
            "Listen 127.0.0.1:%d\n"
            "ServerName 127.0.0.1\n"
            "LimitRequestLine 32768\n"
            "%s"
            "LoadModule mpm_event_module %s/mod_mpm_event.so\n"
            "LoadModule authz_core_module %s/mod_authz_core.so\n"
            "LoadModule mime_module %s/mod_mime.so\n"
            "LoadModule dir_module %s/mod_dir.so\n"
            "LoadModule alias_module %s/mod_alias.so\n"
            "LoadModule stp_module \"%s\"\n"
            "StartServers 1\nThreadsPerChild 16\nMaxRequestWorkers 32\nServerLimit 2\n"
            "TypesConfig /etc/mime.types\n"
            "AddDefaultCharset UTF-8\n"
            "ErrorLog \"%s/error.log\"\n"
            "LogLevel warn stp:info\n"
            "StpSite \"%s\"\n"
            "StpStateDir \"%s/state\"\n"
            "StpSiteCheckInterval 0\n"
            "# Development only: identities from the preview bar, loopback clients only.\n"
            "StpPreview On\n"
            "DocumentRoot \"%s/" STP_SITE_CURRENT "/" STP_BUILD_PUBLIC "\"\n"
            "<Directory \"%s\">\n"
            "    Options FollowSymLinks\n"
            "    AllowOverride None\n"
            "    Require all granted\n"
            "</Directory>\n"
            "DirectoryIndex index.html\n"
            "RedirectMatch 404 /\\.\n",
            s->tmp, s->tmp, s->port, geteuid() == 0 ? "User www-data\nGroup www-data\n" : "", SG_HTTPD_MODULE_DIR,
            SG_HTTPD_MODULE_DIR, SG_HTTPD_MODULE_DIR, SG_HTTPD_MODULE_DIR, SG_HTTPD_MODULE_DIR, s->module, s->tmp,
            s->site, s->tmp, s->site, s->site);
    return fclose(f) == 0;
}

/* 1 once httpd answers a request on the port (the port opens before the module is set up). */
static int answers(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = 0;
    if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a)) {
        static const char req[] = "GET /stp/preview/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        char buf[16];
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ok = write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1) && read(fd, buf, sizeof buf) >= 12 &&
             !strncmp(buf, "HTTP/1.", 7);
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

static void print_log(const serve_t *s)
{
    char *path = join(s->tmp, "error.log");
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        fprintf(stderr, "  %s", line);
    if (f)
        fclose(f);
    free(path);
}

static int start_httpd(serve_t *s)
{
    char *conf = join(s->tmp, "httpd.conf");
    if (!write_conf(s, conf))
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
        setsid(); /* httpd signals its whole process group when it stops */
        execl(s->httpd, s->httpd, "-DFOREGROUND", "-f", conf, (char *)NULL);
        fprintf(stderr, "sitegen serve: cannot run %s: %s\n", s->httpd, strerror(errno));
        _exit(2);
    }
    if (pid < 0)
        return say("cannot start httpd: %s", strerror(errno)), 0;
    s->httpd_pid = pid;
    for (int i = 0; i < START_TIMEOUT_S * 20; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->httpd_pid = 0;
            say("httpd (%s) stopped at once; its configuration is %s%s", s->httpd, conf,
                s->keep ? "" : " (kept: --keep is implied)");
            s->keep = 1;
            print_log(s);
            return 0;
        }
        if (answers(s->port))
            return 1;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    say("httpd did not answer on 127.0.0.1:%d within %d s", s->port, START_TIMEOUT_S);
    print_log(s);
    return 0;
}

static int start_serving(serve_t *s)
{
    if (!start_httpd(s))
        return 0;
    say("previewing %s on http://127.0.0.1:%d/ (Ctrl-C stops)", s->content, s->port);
    fflush(stderr);
    return 1;
}

static void stop_httpd(serve_t *s)
{
    if (s->httpd_pid <= 0)
        return;
    kill(s->httpd_pid, SIGTERM);
    int status;
    while (waitpid(s->httpd_pid, &status, 0) < 0 && errno == EINTR)
        ;
    s->httpd_pid = 0;
}

/* --- watching ----------------------------------------------------------------------------------- */

#define WATCH_MASK                                                                                                     \
    (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MODIFY)

static int inotify_fd = -1;

static int watch_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type == FTW_D && inotify_add_watch(inotify_fd, path, WATCH_MASK | IN_ONLYDIR) < 0 && errno != ENOENT)
        say("cannot watch %s: %s", path, strerror(errno));
    return 0;
}

/* Every directory below `dir`, new ones included (adding a watch twice is harmless). */
static void watch_tree(const char *dir)
{
    nftw(dir, watch_one, 16, FTW_PHYS);
}

/* Editors' scratch files (.x.swp, x~, .#x, vim's 4913) change nothing sitegen reads. */
static int scratch(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n && name[n - 1] == '~') || !strcmp(name, "4913");
}

/* Reads what inotify has; 1 when something sitegen reads changed. New directories are watched. */
static int drain(void)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int changed = 0;
    for (;;) {
        ssize_t n = read(inotify_fd, buf, sizeof buf);
        if (n <= 0)
            return changed;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->len && scratch(ev->name))
                continue;
            changed = 1;
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
                changed = 2;
        }
        if (changed == 2) {
            /* A new directory (a new document): watch it and what it already holds. */
            return 2;
        }
    }
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void cleanup(serve_t *s)
{
    stop_httpd(s);
    if (s->tmp && !s->keep)
        nftw(s->tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    else if (s->tmp)
        say("kept %s", s->tmp);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: sitegen serve [options] CONTENT_DIR\n"
               "\n"
               "Previews CONTENT_DIR: builds it into a temporary site and serves it on 127.0.0.1 through\n"
               "httpd with mod_stp in preview mode, rebuilding on every change and reloading the open page.\n"
               "The bar on every page views it as anonymous, a personal account or a member of any\n"
               "organisation of site.xml, with or without the NDA, in any language. Ctrl-C stops it.\n"
               "\n"
               "Options:\n"
               "      --port N          listen on 127.0.0.1:N (default: a free port)\n"
               "      --module PATH     mod_stp.so (default: $STP_MODULE, this build's, the installed one)\n"
               "      --httpd PATH      the httpd binary (default: $HTTPD or /usr/sbin/apache2)\n"
               "  -t, --templates DIR   templates, UI strings and schemas for the builds\n"
               "      --keep            keep the temporary directory when stopping\n"
               "  -q, --quiet           print errors only\n");
}

int sg_serve_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},  {"module", required_argument, NULL, 'm'},
        {"httpd", required_argument, NULL, 'H'}, {"templates", required_argument, NULL, 't'},
        {"keep", no_argument, NULL, 'k'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    serve_t s = {0};
    const char *module = NULL;
    int c;
    char self[PATH_MAX], content[PATH_MAX];
    s.httpd = getenv("HTTPD") && *getenv("HTTPD") ? getenv("HTTPD") : "/usr/sbin/apache2";
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 65535) {
                say("--port takes a port number from 1 to 65535");
                return 2;
            }
            s.port = (int)n;
            break;
        }
        case 'm':
            module = optarg;
            break;
        case 'H':
            s.httpd = optarg;
            break;
        case 't':
            s.templates = optarg;
            break;
        case 'k':
            s.keep = 1;
            break;
        case 'q':
            s.quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        say("give exactly one CONTENT_DIR");
        usage(stderr);
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !realpath(argv[optind], content)) {
        say("%s: %s", argv[optind], strerror(errno));
        return 2;
    }
    self[n] = '\0';
    s.self = self;
    s.content = content;
    s.module = find_module(module);
    s.run = (long)time(NULL);
    if (!file_exists(s.module)) {
        say("no mod_stp at %s: build it (make) or give --module PATH", s.module);
        return 2;
    }
    if (!s.port && (s.port = free_port()) < 0) {
        say("cannot find a free port on 127.0.0.1: %s", strerror(errno));
        return 2;
    }

    /* Signals arrive through a descriptor, between builds, never in the middle of one. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &s.old_mask);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (sfd < 0 || inotify_fd < 0) {
        say("cannot watch %s: %s", s.content, strerror(errno));
        return 2;
    }
    char tmpl[] = "/tmp/stp-preview-XXXXXX";
    const char *tmpdir = getenv("TMPDIR");
    char *tmp = tmpdir && *tmpdir ? join(tmpdir, "stp-preview-XXXXXX") : strdup(tmpl);
    if (!tmp || !mkdtemp(tmp)) {
        say("cannot create a temporary directory: %s", strerror(errno));
        return 2;
    }
    chmod(tmp, 0755); /* httpd's children (www-data when started as root) read the site */
    s.tmp = tmp;
    s.site = join(tmp, "site");
    mkdir(s.site, 0755);

    say("temporary site in %s", tmp);
    watch_tree(s.content);
    /* httpd starts with the first build that publishes: before it there is no site to serve. */
    if (build(&s) && !start_serving(&s)) {
        cleanup(&s);
        return 2;
    }
    if (!s.httpd_pid)
        say("fix the errors above: the preview starts with the first build that publishes");
    struct pollfd fds[2] = {{sfd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    int status = 0, pending = 0;
    for (;;) {
        int r = poll(fds, 2, pending ? DEBOUNCE_MS : 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                say("stopping (%s)", strsignal((int)si.ssi_signo));
            break;
        }
        if (r > 0 && (fds[1].revents & POLLIN)) {
            int d = drain();
            if (d == 2)
                watch_tree(s.content);
            pending |= d != 0;
            continue; /* wait until it has been quiet for DEBOUNCE_MS */
        }
        if (pending) {
            pending = 0;
            if (build(&s) && !s.httpd_pid && !start_serving(&s)) {
                status = 2;
                break;
            }
        }
        int st;
        if (s.httpd_pid > 0 && waitpid(s.httpd_pid, &st, WNOHANG) == s.httpd_pid) {
            s.httpd_pid = 0;
            say("httpd stopped unexpectedly; its log:");
            print_log(&s);
            status = 2;
            break;
        }
    }
    cleanup(&s);
    return status;
}
