"""Shared pieces of the integration suites: TAP output, a published fixture site, a real httpd
with the built module, and a plain HTTP client that never follows redirects.

Every suite prints TAP ("ok N - name" / "not ok N - name"); ./stp test counts them."""

import datetime
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITEGEN = os.environ.get("SITEGEN", os.path.join(ROOT, "sitegen", "sitegen"))
STPCTL = os.environ.get("STPCTL", os.path.join(ROOT, "stpctl", "stpctl"))
HTTPD = os.environ.get("HTTPD", "/usr/sbin/apache2")
# The module under test; the sanitizer run points this at its own build and preloads the ASan
# runtime into httpd (STP_PRELOAD), which was not built with it.
MODULE = os.environ.get("STP_MODULE", os.path.join(ROOT, "mod_stp", ".libs", "mod_stp.so"))


def version():
    """The package version configure.ac gives (what the module logs at start)."""
    with open(os.path.join(ROOT, "configure.ac"), encoding="utf-8") as fh:
        return re.search(r"AC_INIT\(\[stp\], \[([^\]]+)\]", fh.read()).group(1)


def httpd_env():
    env = dict(os.environ)
    if os.environ.get("STP_PRELOAD"):
        env["LD_PRELOAD"] = os.environ["STP_PRELOAD"]
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return env


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, *diag):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            for d in diag:
                for line in str(d).splitlines()[:40]:
                    print(f"#   {line}", flush=True)
        return cond

    def eq(self, expected, actual, name):
        return self.ok(expected == actual, name, f"expected: {expected!r}", f"actual:   {actual!r}")

    def done(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


def months_ago(today, n):
    """The same day n months earlier (clamped to the month's end)."""
    y, m = divmod(today.year * 12 + today.month - 1 - n, 12)
    m += 1
    for d in range(today.day, 0, -1):
        try:
            return datetime.date(y, m, d)
        except ValueError:
            continue
    raise ValueError("no such day")


def copy_fixture(name, dest, today=None, extend=None):
    """Copies tests/fixtures/NAME to dest, filling @TODAY-N@ with the date N months before today.
    extend(dest), when given, adds to the copy first (its files get their dates filled too)."""
    today = today or datetime.date.today()
    shutil.copytree(os.path.join(ROOT, "tests", "fixtures", name), dest)
    if extend:
        extend(dest)
    for d, _, files in os.walk(dest):
        for f in files:
            if f.endswith(".xml"):
                p = os.path.join(d, f)
                with open(p, encoding="utf-8") as fh:
                    s = fh.read()
                s = re.sub(r"@TODAY-(\d+)@", lambda m: months_ago(today, int(m.group(1))).isoformat(), s)
                with open(p, "w", encoding="utf-8") as fh:
                    fh.write(s)
    return dest


def publish(content, site):
    r = subprocess.run([SITEGEN, "-q", "-o", site, content], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"sitegen failed ({r.returncode}): {r.stderr}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, cond, timeout=20.0):
    """Polls cond() until it holds: readiness of another process, not a timing assumption."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def answers(port):
    try:
        request(port, "GET", "/stp/whoami")
        return True
    except OSError:
        return False


def module_dir():
    return subprocess.run(["apxs", "-q", "LIBEXECDIR"], capture_output=True, text=True, check=True).stdout.strip()


class Httpd:
    """A real httpd running a template from tests/ in the foreground."""

    def __init__(self, run, template, values):
        self.run = run
        self.conf = os.path.join(run, "httpd.conf")
        values = dict(values, RUN=run, ROOT=ROOT, MODDIR=module_dir(), MODULE=MODULE)
        with open(os.path.join(ROOT, template), encoding="utf-8") as fh:
            text = fh.read()
        for k, v in values.items():
            text = text.replace(f"@{k}@", str(v))
        with open(self.conf, "w", encoding="utf-8") as fh:
            fh.write(text)
        self.ports = [int(p) for p in re.findall(r"^Listen 127\.0\.0\.1:(\d+)", text, re.M)]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([HTTPD, "-DFOREGROUND", "-f", self.conf], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=httpd_env(),
                                     start_new_session=True)  # prefork signals its whole process group
        try:
            # The port opens before post_config has run: only an answer means httpd is serving.
            wait_until("httpd to answer", lambda: self.proc.poll() is not None or all(map(answers, self.ports)))
        except RuntimeError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            out = self.proc.stdout.read()
            raise RuntimeError(f"httpd exited with {self.proc.returncode}: {out}\n{self.error_log()}")
        return self

    def children(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def error_log(self):
        try:
            with open(os.path.join(self.run, "error.log"), encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def stop(self):
        """A graceful stop (SIGWINCH), as Debian's apache2.service stops httpd: SIGTERM's
        ungraceful stop makes the event MPM close the sockets of connections still in lingering
        close from under their worker threads, and a child now and then dies of it (httpd's own
        race; seen as a segfault in apr_os_sock_get, no module on the stack)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGWINCH)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")


def request(port, method, target, headers=None, body=None):
    """One request on a fresh connection; the target is sent exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def make_run_dir(prefix):
    run = tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("TMPDIR", "/tmp"))
    os.chmod(run, 0o755)  # httpd's children run as www-data and read the published site
    return run


def main_guard(fn):
    """Runs a suite; an exception is a failed test, not a silent stop."""
    tap = Tap()
    try:
        fn(tap)
    except Exception as e:  # noqa: BLE001 - reported as a TAP failure
        import traceback

        tap.ok(False, f"suite aborted: {e}", traceback.format_exc())
    sys.exit(tap.done())


# --- the state store a suite runs on ---------------------------------------------------------------
# The suites that exercise the users' state run on state.mdb by default and on PostgreSQL with
# `--store dbd` (or STP_TEST_STORE=dbd): ./stp test runs both.


def suite_args(argv=None):
    """Splits a suite's arguments into its positional ones and the store: (args, "lmdb"|"dbd")."""
    argv = list(sys.argv[1:] if argv is None else argv)
    store = os.environ.get("STP_TEST_STORE", "lmdb")
    args = []
    while argv:
        a = argv.pop(0)
        if a == "--store" and argv:
            store = argv.pop(0)
        elif a.startswith("--store="):
            store = a.split("=", 1)[1]
        else:
            args.append(a)
    if store not in ("lmdb", "dbd"):
        raise SystemExit(f"--store {store}: lmdb or dbd")
    return args, store


class DbdStore:
    """A throw-away PostgreSQL (tests/lib/pg.py) with the STP schema (stpctl state-init), and the
    httpd lines that put the module's state there (mod_dbd, StpStateStore dbd)."""

    def __init__(self):
        import pg

        self.db = pg.Postgres().init()
        try:
            r = subprocess.run([STPCTL, "state-init", "--dbd", self.db.params()], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"stpctl state-init failed ({r.returncode}): {r.stdout}{r.stderr}")
        except Exception:
            self.db.close()
            raise

    def params(self):
        return self.db.params()

    def httpd_conf(self):
        # DBDMax is per process: the event MPM of httpd.conf.in runs 16 threads in each child, so
        # that each thread has its own connection (64 clients over 4 children); prefork's
        # children hold one connection each whatever the setting.
        return (f"LoadModule dbd_module {module_dir()}/mod_dbd.so\n"
                f"DBDriver pgsql\nDBDParams \"{self.db.params()} connect_timeout=2\"\n"
                "DBDMin 0\nDBDKeep 16\nDBDMax 16\nStpStateStore dbd\n")

    def psql(self, sql):
        return self.db.psql(sql)

    def close(self):
        self.db.close()


def open_store(store):
    """None for state.mdb (the default), a DbdStore for --store dbd."""
    return DbdStore() if store == "dbd" else None
