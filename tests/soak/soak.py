#!/usr/bin/env python3
"""./stp soak [MINUTES]: a mixed load for MINUTES (default 10) against two nodes that share their
state in one PostgreSQL, with a publication every minute and digests every two minutes.

Two real httpd with the built module (StpStateStore dbd, the same CSRF key) on two loopback ports,
one throw-away PostgreSQL (tests/lib/pg.py), the gate fixture published on node A and rolled out to
node B (stpctl rollout). Users are signed in as in the integration suites: the test server turns
X-Test-* headers into the claims mod_auth_openidc would set (tests/integration/httpd.conf.in).

Reports: errors (any unexpected answer; must be 0), the p99 latency of each kind of request in
each minute, each httpd child's memory at the start and the end (VmRSS from /proc; must not grow
more than 10%). Exit status 0 when all holds, 1 otherwise, 2 when it could not run.
See tests/soak/README.md."""

import base64
import collections
import email
import email.policy
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
import pg  # noqa: E402
from gate import PASSWORD  # noqa: E402

CAPTURE = os.path.join(harness.ROOT, "tests", "lib", "capture_sendmail.py")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Accept": "application/json"}
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "8"))
WARMUP = float(os.environ.get("SOAK_WARMUP", "60"))  # seconds of load before the memory baseline
# Publications in the warm-up: a child's memory rises with its first builds (glibc keeps what each
# freed build leaves in its arenas for reuse; see README.md) and levels off after about ten.
WARMUP_PUBLICATIONS = int(os.environ.get("SOAK_WARMUP_PUBLICATIONS", "10"))
MPM = os.environ.get("SOAK_MPM", "event")
SETUP_SUBSCRIBERS = 20  # users with daily digests and public-report saved before the load
GROWTH_LIMIT = 0.10
PUBLISH_EVERY = int(os.environ.get("SOAK_PUBLISH_EVERY", "60"))  # seconds; 60 is the soak's mix
SETTINGS_EVERY = 100  # rounds: a client signs up a new digest subscriber every 100th round
# glibc gives each thread that allocates concurrently an arena of its own (up to 8 per core) and
# keeps what is freed there: a build is opened by whichever thread first sees it, so under the
# event MPM each publication can leave a build's worth in another arena until every arena has
# had one. That bounded growth is not a leak; with the arenas capped the soak sees leaks instead.
# SOAK_MALLOC_ARENA_MAX= (empty) runs httpd with glibc's default.
ARENAS = os.environ.get("SOAK_MALLOC_ARENA_MAX", "2")

# One client's fixed round of requests: the mix, by kind (20 requests a round).
ROUND = ["anon-download", "page", "search", "nda-download", "library-save", "anon-download", "page",
         "search", "library-view", "nda-download", "library-remove", "page", "anon-download", "search",
         "nda-accept", "page", "library-save", "nda-download", "library-remove", "settings"]
KINDS = ["anon-download", "nda-download", "page", "search", "library-view", "library-save", "library-remove",
         "nda-accept", "settings"]
PAGES = [("/en/docs/public-report/", "anonymous"), ("/en/", "anonymous"), ("/de/docs/soc-2026/", "anonymous"),
         ("/en/whats-new/", "anonymous"), ("/en/org/", "member"), ("/en/org/docs/t1-pack/", "member")]
SEARCHES = ["report", "soc", "policy", "pentest", "region", "\"public report\""]
LIBRARY_DOCS = {"public-report": "public-report", "signin-policy": "signin-policy", "soc-2026": "soc",
                "nda-pentest": "nda-pentest", "t1-pack": "t1-pack"}
SERIES_DOC = {series: doc for doc, series in LIBRARY_DOCS.items()}


class Soak:
    def __init__(self, minutes):
        self.minutes = minutes
        self.run = harness.make_run_dir("stp-soak.")
        self.errors, self.lock = [], threading.Lock()
        self.error_count = 0
        self.lat = collections.defaultdict(list)  # (minute, kind) -> seconds
        self.counts = collections.Counter()
        self.retries = 0
        self.phase_start = None  # monotonic time the measured phase began; None in the warm-up
        self.stop = threading.Event()
        self.seq = collections.Counter()  # unique user numbers per kind
        self.events = []  # what the operations thread did, for the report
        self.digest_runs = []
        self.measured_publications = 0

    # --- setup -------------------------------------------------------------------------------

    def setup(self):
        self.db = pg.Postgres().init()
        r = subprocess.run([harness.STPCTL, "state-init", "--dbd", self.db.params()], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"stpctl state-init: {r.stdout}{r.stderr}")
        self.content = harness.copy_fixture("gate", os.path.join(self.run, "content"))
        with open(os.path.join(self.content, "docs", "public-report", "public-report.txt"), "rb") as fh:
            self.public_report = fh.read()
        with open(os.path.join(self.content, "docs", "nda-pentest", "nda-pentest.txt"), "rb") as fh:
            self.nda_doc = fh.read()
        key = os.urandom(32)
        self.nodes = []
        for name in ("a", "b"):
            run = os.path.join(self.run, name)
            os.makedirs(os.path.join(run, "state"), mode=0o700)
            os.makedirs(os.path.join(run, "site"))  # rollout's node: a site directory that exists
            os.chmod(run, 0o755)
            with open(os.path.join(run, "state", "csrf.key"), "wb") as fh:  # the key every node shares
                fh.write(key)
            with open(os.path.join(run, "users"), "w", encoding="ascii") as fh:
                sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
                fh.write(f"alice:{{SHA}}{sha}\n")
            # Children live the whole run (the memory comparison is per child): no recycling, and
            # every child the MPM may have is started at once and never reaped as spare.
            if MPM == "event":
                procs = "StartServers 4\nServerLimit 4\nThreadsPerChild 16\nMaxRequestWorkers 64\n" \
                        "MinSpareThreads 1\nMaxSpareThreads 64\n"
            else:
                procs = "StartServers 8\nMinSpareServers 1\nMaxSpareServers 8\nMaxRequestWorkers 8\n"
            extra = (f"LoadModule dbd_module {harness.module_dir()}/mod_dbd.so\n"
                     f"DBDriver pgsql\nDBDParams \"{self.db.params()} connect_timeout=2\"\n"
                     "DBDMin 0\nDBDKeep 16\nDBDMax 16\nStpStateStore dbd\n"
                     f"MaxConnectionsPerChild 0\n{procs}")
            port = harness.free_port()
            httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                                  {"PORT": port, "PORT2": harness.free_port(), "MPM": MPM, "EXTRA": extra})
            self.nodes.append({"name": name, "run": run, "site": os.path.join(run, "site"), "port": port,
                               "httpd": httpd})
        self.publication = 0
        self.publish()  # node A's site from the content, rolled out to node B
        saved = os.environ.get("MALLOC_ARENA_MAX")
        if ARENAS:
            os.environ["MALLOC_ARENA_MAX"] = ARENAS  # httpd only (harness.httpd_env)
        try:
            for n in self.nodes:
                n["httpd"].start()
        finally:
            os.environ.pop("MALLOC_ARENA_MAX", None)
            if saved is not None:
                os.environ["MALLOC_ARENA_MAX"] = saved

    def publish(self):
        """Publishes the content on node A (sitegen) and rolls the build out to node B."""
        a, b = self.nodes
        r = subprocess.run([harness.SITEGEN, "-q", "-o", a["site"], self.content], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sitegen: {r.stderr}")
        r = subprocess.run([harness.STPCTL, "rollout", os.path.join(a["site"], "current"), b["site"]],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"stpctl rollout: {r.stdout}{r.stderr}")

    # --- the clients ---------------------------------------------------------------------------

    def error(self, what):
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 30:
                self.errors.append(what)

    def record(self, kind, t0, seconds):
        if self.phase_start is None or t0 < self.phase_start:
            return  # the warm-up is not reported
        minute = int((t0 - self.phase_start) // 60) + 1
        with self.lock:
            self.lat[(minute, kind)].append(seconds)
            self.counts[kind] += 1

    def unique(self, kind):
        with self.lock:
            self.seq[kind] += 1
            return self.seq[kind]


class Client:
    """One simulated reader: keep-alive connections to both nodes, its own signed-in user for the
    library (whose saves it tracks exactly), new users for NDA acceptances and settings."""

    def __init__(self, soak, i):
        self.soak, self.i = soak, i
        self.conns = {}
        self.used = {}
        self.user = self.identity(f"soak-client-{i}", 0x50a0 + i)
        self.saved = set()
        self.token = None
        self.nda_users = []  # users of this client who accepted the NDA
        self.turn = 0

    @staticmethod
    def identity(sub, sid, tenant="t1"):
        return {"X-Test-Sub": sub, "X-Test-Tid": tenant, "X-Test-Email": f"{sub}@{tenant}.example",
                "Cookie": "stp_sid=%032x" % sid}

    def node(self):
        self.turn += 1
        return self.soak.nodes[self.turn % 2]

    def request(self, kind, node, method, path, headers, body=None, record=True):
        """One request on this client's keep-alive connection to the node. A connection the server
        closed while idle (keep-alive timeout, or the event MPM closing idle connections when busy)
        fails before any answer: the request is sent again once on a new connection, as browsers do."""
        port = node["port"]
        for attempt in (0, 1):
            conn = self.conns.get(port)
            if conn is None:
                conn = self.conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                self.used[port] = False
            reused = self.used[port]
            t0 = time.monotonic()
            try:
                conn.request(method, path, body, headers)
                r = conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                conn.close()
                self.conns.pop(port, None)
                if reused and attempt == 0:
                    with self.soak.lock:
                        self.soak.retries += 1
                    continue
                self.soak.error(f"{kind}: {method} {path} on node {node['name']}: {e!r}")
                return None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self.conns.pop(port, None)
                self.soak.error(f"{kind}: {method} {path} on node {node['name']}: {e!r}")
                return None
            self.used[port] = True
            if r.will_close:
                conn.close()
                self.conns.pop(port, None)
            if record:
                self.soak.record(kind, t0, time.monotonic() - t0)
            return harness.Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        return None

    def expect(self, kind, r, ok, what):
        if r is not None and not ok:
            self.soak.error(f"{kind}: {what}: {r.status} {r.text[:160]!r}")

    def step(self, kind):
        getattr(self, kind.replace("-", "_"))(kind)

    def anon_download(self, kind):
        n = self.node()
        r = self.request(kind, n, "GET", "/download/public-report", {})
        # Publications append to the report: any published version starts with the first.
        self.expect(kind, r, r and r.status == 200 and r.body.startswith(self.soak.public_report),
                    f"anonymous /download/public-report on node {n['name']}")

    def nda_download(self, kind):
        if not self.nda_users:
            return self.nda_accept("nda-accept")
        who = self.nda_users[self.turn % len(self.nda_users)]
        n = self.node()
        r = self.request(kind, n, "GET", "/download/nda-pentest", who)
        self.expect(kind, r, r and r.status == 200 and r.body == self.soak.nda_doc,
                    f"{who['X-Test-Sub']} /download/nda-pentest on node {n['name']}")

    def page(self, kind):
        path, who = PAGES[self.turn % len(PAGES)]
        h = {}
        if who == "member":
            h = self.identity("alice", 0x5e57)
            h["Authorization"] = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        n = self.node()
        r = self.request(kind, n, "GET", path, h)
        self.expect(kind, r, r and r.status == 200 and b"<html" in r.body, f"GET {path} on node {n['name']}")

    def search(self, kind):
        q = SEARCHES[self.turn % len(SEARCHES)]
        n = self.node()
        path = "/stp/search?" + urllib.parse.urlencode({"q": q})
        r = self.request(kind, n, "GET", path, dict(self.user, **JSON))
        ok = False
        if r is not None and r.status == 200:
            try:
                j = json.loads(r.body)
                ok = isinstance(j, dict) and "results" in j
            except ValueError:
                ok = False
        self.expect(kind, r, ok, f"GET {path} on node {n['name']}")

    def library_view(self, kind, node=None):
        """The library as the other node lists it must be exactly what this client saved."""
        n = node or self.node()
        r = self.request(kind, n, "GET", "/stp/library", dict(self.user, **JSON))
        if r is None:
            return None
        try:
            j = json.loads(r.body) if r.status == 200 else None
        except ValueError:
            j = None
        if j is None:
            self.expect(kind, r, False, f"GET /stp/library on node {n['name']}")
            return None
        self.token = j["token"]
        if set(j["series"]) != self.saved:
            self.soak.error(f"{kind}: node {n['name']} lists {sorted(j['series'])} for {self.user['X-Test-Sub']}, "
                            f"acknowledged: {sorted(self.saved)}")
        return j

    def change(self, kind, action):
        if self.token is None and self.library_view("library-view") is None:
            return
        if action == "add":
            doc = list(LIBRARY_DOCS)[self.turn % len(LIBRARY_DOCS)]
        else:
            mine = sorted(self.saved)
            if not mine:
                return self.change(kind, "add")
            # A save is kept by series; removing names one of its documents.
            doc = SERIES_DOC[mine[self.turn % len(mine)]]
        n = self.node()
        body = urllib.parse.urlencode({"csrf": self.token, "action": action, "doc": doc}).encode()
        r = self.request(kind, n, "POST", "/stp/library", dict(self.user, **FORM, **JSON), body)
        if r is None:
            self.saved = None  # the outcome is unknown: the model cannot go on
            return
        try:
            j = json.loads(r.body) if r.status == 200 else {}
        except ValueError:
            j = {}
        want = action == "add"
        if j.get("saved") is not want:
            self.expect(kind, r, False, f"POST /stp/library {action} {doc} on node {n['name']}")
            return
        (self.saved.add if want else self.saved.discard)(LIBRARY_DOCS.get(doc, doc))
        # Read back on the other node: the shared store, not a node's cache.
        self.library_view("library-view", self.soak.nodes[(self.turn + 1) % 2])

    def library_save(self, kind):
        if self.saved is not None:
            self.change(kind, "add")

    def library_remove(self, kind):
        if self.saved is not None:
            self.change(kind, "remove")

    def nda_accept(self, kind):
        """A new user accepts the NDA on one node and downloads on the other."""
        k = self.soak.unique("nda")
        who = self.identity(f"soak-nda-{k}", 0x10000000 + k)
        n = self.node()
        page = self.request(kind, n, "GET", "/stp/nda?return=%2Fdownload%2Fnda-pentest", who)
        if page is None:
            return
        tok = re.search(r'action="/stp/nda">.*?name="csrf" value="([0-9a-f]+)"', page.text, re.S)
        version = re.search(r'name="version" value="([^"]+)"', page.text)
        if page.status != 200 or not tok or not version:
            return self.expect(kind, page, False, f"GET /stp/nda on node {n['name']}")
        body = urllib.parse.urlencode({"csrf": tok.group(1), "version": version.group(1),
                                       "return": "/download/nda-pentest"}).encode()
        r = self.request(kind, n, "POST", "/stp/nda", dict(who, **FORM), body)
        if r is None:
            return
        if r.status != 303 or "accepted=1" not in (r.header("location") or ""):
            return self.expect(kind, r, False, f"POST /stp/nda on node {n['name']}")
        self.nda_users.append(who)
        del self.nda_users[:-8]
        other = self.node()
        d = self.request("nda-download", other, "GET", "/download/nda-pentest", who)
        self.expect("nda-download", d, d and d.status == 200 and d.body == self.soak.nda_doc,
                    f"/download/nda-pentest on node {other['name']} right after accepting on node {n['name']}")

    def settings(self, kind):
        """A new user saves public-report and asks for daily digests (stpctl notify sends them one
        after the next publication changes it)."""
        k = self.soak.unique("settings")
        subscribe(self, f"soak-sub-{k}", 0x20000000 + k, kind)

    def loop(self):
        k = 0
        while not self.soak.stop.is_set():
            kind = ROUND[k % len(ROUND)]
            # New subscribers are rarer than the rest: each is a digest for stpctl notify to send.
            if kind != "settings" or (k // len(ROUND)) % SETTINGS_EVERY == self.i % SETTINGS_EVERY:
                self.step(kind)
            k += 1
        for c in self.conns.values():
            c.close()


def subscribe(client, sub, sid, kind):
    """Signs in a user, saves public-report and sets daily digests; True when all was acknowledged."""
    who = Client.identity(sub, sid)
    n = client.node()
    r = client.request(kind, n, "GET", "/stp/library", dict(who, **JSON))
    if r is None or r.status != 200:
        return client.expect(kind, r, False, f"GET /stp/library for {sub}")
    body = urllib.parse.urlencode({"csrf": json.loads(r.body)["token"], "action": "add",
                                   "doc": "public-report"}).encode()
    r = client.request(kind, n, "POST", "/stp/library", dict(who, **FORM, **JSON), body)
    if r is None or r.status != 200:
        return client.expect(kind, r, False, f"POST /stp/library for {sub}")
    n = client.node()
    page = client.request(kind, n, "GET", "/stp/notifications", who)
    tok = page and re.search(r'action="/stp/notifications">.*?name="csrf" value="([0-9a-f]{80})"', page.text, re.S)
    if not tok:
        return client.expect(kind, page, False, f"GET /stp/notifications for {sub}")
    body = urllib.parse.urlencode({"csrf": tok.group(1), "frequency": "daily", "address": who["X-Test-Email"],
                                   "locale": "en"}).encode()
    r = client.request(kind, n, "POST", "/stp/notifications", dict(who, **FORM), body)
    if r is None or r.status != 303:
        return client.expect(kind, r, False, f"POST /stp/notifications for {sub}")
    return True


# --- operations: publications, digests --------------------------------------------------------


def operations(soak, what):
    """Publications every minute (at 0:30, 1:30, ...), or stpctl notify every two minutes (at
    1:45, 3:45, ...), timed from the start of the measured phase; each in its own thread, as
    the publishing job and cron are independent."""
    if what == "publish":
        plan = list(range(30, soak.minutes * 60, PUBLISH_EVERY))
    else:
        plan = [m * 60 + 45 for m in range(1, soak.minutes, 2)]
    for at in plan:
        wait = soak.phase_start + at - time.monotonic()
        if wait > 0 and soak.stop.wait(wait):
            return
        try:
            publish_step(soak) if what == "publish" else notify_step(soak)
        except Exception as e:  # noqa: BLE001 - reported as an error of the run
            soak.error(f"{what}: {e}")


def publish_step(soak, measured=True):
    soak.publication += 1
    soak.measured_publications += measured
    n = soak.publication
    mark = f"Soak publication {n}.\n".encode()
    with open(os.path.join(soak.content, "docs", "public-report", "public-report.txt"), "ab") as fh:
        fh.write(mark)
    t0 = time.monotonic()
    soak.publish()
    published = time.monotonic() - t0

    def serves(node):
        r = harness.request(node["port"], "GET", "/download/public-report")
        return r.status == 200 and r.body.endswith(mark)

    try:
        for node in soak.nodes:
            harness.wait_until(f"node {node['name']} to serve publication {n}", lambda: serves(node), timeout=30)
    except RuntimeError as e:
        soak.error(f"publish: {e}")
        return
    soak.events.append(f"publication {n} at {elapsed(soak) if measured else 'warm-up'}: sitegen + rollout {published:.1f} s, both nodes "
                       f"serving it {time.monotonic() - t0:.1f} s after the start")


def notify_step(soak):
    capture = os.path.join(soak.run, "mail")
    a = soak.nodes[0]
    argv = [harness.STPCTL, "notify", "--dbd", soak.db.params(), "--state", os.path.join(a["run"], "state"),
            "--site", a["site"], "--sendmail", f"python3 {CAPTURE}", "--base-url", "https://trust.example.com", "-q"]
    t0, started = time.monotonic(), elapsed(soak)
    r = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, CAPTURE_DIR=capture))
    took = time.monotonic() - t0
    m = re.search(r"(\d+) digests sent, (\d+) failed", r.stdout)
    soak.digest_runs.append(int(m.group(1)) if m else -1)
    if r.returncode != 0 or not m or m.group(2) != "0" or r.stderr.strip():
        soak.error(f"notify: exit {r.returncode}: {r.stdout.strip()} {r.stderr.strip()[:300]}")
    soak.events.append(f"stpctl notify at {started}: {r.stdout.strip().splitlines()[-1] if r.stdout else '?'}"
                       f" ({took:.1f} s)")


def elapsed(soak):
    s = int(time.monotonic() - soak.phase_start)
    return f"{s // 60}:{s % 60:02d}"


def mailed(soak):
    """recipient -> number of digests the capture command was given."""
    d = os.path.join(soak.run, "mail")
    got = collections.Counter()
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if f.endswith(".eml"):
            with open(os.path.join(d, f), "rb") as fh:
                msg = email.message_from_bytes(fh.read(), policy=email.policy.default)
            got[msg["To"].addresses[0].addr_spec] += 1
    return got


# --- memory ----------------------------------------------------------------------------------


def children_memory(soak):
    """(node, pid) -> {VmRSS, RssAnon} in kB, of every child of each node's httpd."""
    out = {}
    for node in soak.nodes:
        for pid in node["httpd"].children():
            try:
                with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                    fields = dict(line.split(":", 1) for line in fh if ":" in line)
            except OSError:
                continue
            out[(node["name"], pid)] = {k: int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon") if k in fields}
    return out


def sample_memory(soak):
    """Every 10 s, each node's children's memory summed: a leak shows as a steady climb, a
    one-off allocation (a publication's new build) as a step."""
    soak.memory_samples = []
    while not soak.stop.wait(10):
        mem = children_memory(soak)
        soak.memory_samples.append((elapsed(soak), {n["name"]: sum(v["VmRSS"] for k, v in mem.items() if k[0] == n["name"])
                                                   for n in soak.nodes}))


# --- the run ---------------------------------------------------------------------------------


def p99(values):
    v = sorted(values)
    return v[min(len(v) - 1, int(0.99 * len(v)))] if v else None


def main():
    minutes = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    if minutes < 1:
        print("usage: soak.py [MINUTES]  (1 or more)", file=sys.stderr)
        return 2
    soak = Soak(minutes)
    failures = []
    try:
        soak.setup()
        print(f"soak: {minutes} min, 2 nodes ({MPM} MPM) on 127.0.0.1:{soak.nodes[0]['port']} and "
              f":{soak.nodes[1]['port']}, one PostgreSQL, {CLIENTS} clients; warm-up {WARMUP:.0f} s with "
              f"{WARMUP_PUBLICATIONS} publications; httpd with MALLOC_ARENA_MAX={ARENAS or '(glibc default)'}", flush=True)
        clients = [Client(soak, i) for i in range(CLIENTS)]
        setup_client = Client(soak, CLIENTS)
        subscribed = [f"soak-early-{k}@t1.example" for k in range(SETUP_SUBSCRIBERS)
                      if subscribe(setup_client, f"soak-early-{k}", 0x30000000 + k, "settings")]
        threads = [threading.Thread(target=c.loop, daemon=True) for c in clients]
        for t in threads:
            t.start()
        # The warm-up: the same load, with publications, so that the baseline has every kind of
        # request and the first switches of builds behind it.
        for _ in range(WARMUP_PUBLICATIONS):
            soak.stop.wait(WARMUP / (WARMUP_PUBLICATIONS + 1))
            publish_step(soak, measured=False)
        soak.stop.wait(WARMUP / (WARMUP_PUBLICATIONS + 1))
        before = children_memory(soak)
        soak.phase_start = time.monotonic()
        ops = [threading.Thread(target=operations, args=(soak, what), daemon=True) for what in ("publish", "notify")]
        for t in ops:
            t.start()
        samples = threading.Thread(target=sample_memory, args=(soak,), daemon=True)
        samples.start()
        soak.stop.wait(minutes * 60)
        soak.stop.set()
        for t in threads:
            t.join(timeout=90)
        for t in ops:
            t.join(timeout=300)  # a notify run under way finishes; a publication too
        after = children_memory(soak)

        # Requests and their latency.
        total = sum(soak.counts.values())
        print(f"\nrequests: {total} in {minutes} min ({total / (minutes * 60):.0f}/s); "
              f"{soak.retries} resent once after the server had closed an idle keep-alive connection")
        for kind in KINDS:
            print(f"  {kind:15} {soak.counts[kind]:7}")
        print("\np99 latency (ms) by minute:")
        print("  minute " + " ".join(f"{k:>14}" for k in KINDS))
        for m in range(1, minutes + 1):
            row = []
            for kind in KINDS:
                v = p99(soak.lat.get((m, kind), []))
                row.append(f"{v * 1000:14.1f}" if v is not None else f"{'-':>14}")
            print(f"  {m:6} " + " ".join(row))

        print("\noperations:")
        for e in soak.events:
            print(f"  {e}")
        want_pubs = len(range(30, minutes * 60, PUBLISH_EVERY))
        if soak.measured_publications != want_pubs:
            failures.append(f"{soak.measured_publications} publications, {want_pubs} planned")
        if len(soak.digest_runs) != minutes // 2:
            failures.append(f"{len(soak.digest_runs)} notify runs, {minutes // 2} planned")
        got = mailed(soak)
        twice = sorted(a for a, c in got.items() if c > 1)
        print(f"  digests: {sum(got.values())} to {len(got)} addresses over {len(soak.digest_runs)} runs "
              f"({', '.join(map(str, soak.digest_runs)) or 'none'}); the {len(subscribed)} early subscribers got "
              f"{sum(1 for a in subscribed if got[a] == 1)}")
        if twice:
            failures.append(f"a daily digest went out twice to {twice[:5]}")
        if soak.digest_runs and soak.publication and len(subscribed) == SETUP_SUBSCRIBERS:
            missing = [a for a in subscribed if got[a] != 1]
            if missing:
                failures.append(f"{len(missing)} early subscribers did not get exactly one digest: {missing[:5]}")
        elif soak.digest_runs:
            failures.append(f"only {len(subscribed)} of {SETUP_SUBSCRIBERS} early subscribers were set up")

        print("\nhttpd children's VmRSS summed per node (kB), every 10 s:")
        print("  " + "  ".join(f"{t}: {m['a']}/{m['b']}" for t, m in getattr(soak, "memory_samples", [])))
        # Memory of each child, start (after the warm-up) and end.
        print("\nhttpd children, memory in kB (VmRSS; RssAnon in brackets), after the warm-up and at the end:")
        for key in sorted(set(before) | set(after)):
            node, pid = key
            b, a = before.get(key), after.get(key)
            if b and a:
                growth = (a["VmRSS"] - b["VmRSS"]) / b["VmRSS"]
                flag = ""
                if growth > GROWTH_LIMIT:
                    flag = "  GREW MORE THAN 10%"
                    failures.append(f"node {node} child {pid}: VmRSS {b['VmRSS']} -> {a['VmRSS']} kB ({growth:+.1%})")
                print(f"  node {node} pid {pid:7}: {b['VmRSS']:7} ({b.get('RssAnon', 0):6}) -> {a['VmRSS']:7} "
                      f"({a.get('RssAnon', 0):6})  {growth:+6.1%}{flag}")
            elif b:
                print(f"  node {node} pid {pid:7}: {b['VmRSS']:7} -> gone (recycled or died)")
                failures.append(f"node {node} child {pid} did not live the whole run")
            else:
                print(f"  node {node} pid {pid:7}: started during the run -> {a['VmRSS']:7} (not compared)")
                failures.append(f"node {node} child {pid} was started during the run")
        if not before:
            failures.append("no httpd child found")

        for node in soak.nodes:
            log = node["httpd"].error_log()
            bad = [line for line in log.splitlines()
                   if re.search(r"\[[\w.]*:(error|crit|alert|emerg)\]|exit signal|AH00052", line)]
            if bad:
                failures.append(f"node {node['name']}: {len(bad)} error lines in error.log, e.g. {bad[0][:300]}")

        print(f"\nerrors: {soak.error_count}")
        for e in soak.errors:
            print(f"  {e}")
        if soak.error_count:
            failures.append(f"{soak.error_count} errors")
    except Exception as e:  # noqa: BLE001 - the run could not be made
        import traceback

        traceback.print_exc()
        print(f"soak: could not run: {e}", file=sys.stderr)
        return 2
    finally:
        soak.stop.set()
        for n in getattr(soak, "nodes", []):
            n["httpd"].stop()
        if getattr(soak, "db", None):
            soak.db.close()
        if os.environ.get("KEEP"):
            print(f"kept {soak.run}")
        else:
            shutil.rmtree(soak.run, ignore_errors=True)
    if failures:
        print("\nFAILED:")
        for f in failures:
            print(f"  {f}")
        return 1
    print("\nPASSED: no errors, every child within 10% of its memory after the warm-up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
