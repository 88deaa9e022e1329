#!/usr/bin/env python3
"""Two nodes on one PostgreSQL (StpStateStore dbd, docs/operations.md "Several nodes"): two real
httpd, each with its own published site and the same CSRF key, sharing the state through mod_dbd.
A save on node A is listed on node B; an NDA accepted on A lets the user download on B; with
PostgreSQL killed, state pages answer 503 with the site's error page while public downloads and
static pages keep working and NDA downloads answer 503; after a restart both nodes recover by
themselves; every save acknowledged under load while PostgreSQL restarts is in the database.
Usage: dbdnodes.py prefork|event (prints TAP)."""

import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import pg  # noqa: E402
from gate import ACCOUNTS, PASSWORD  # noqa: E402,F401
from harness import request  # noqa: E402

# A save is kept by series (stp_library.h): the SOC reports are one series.
SERIES = {"soc-2026": "soc"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Accept": "application/json"}


class Node:
    def __init__(self, name, mpm, db, key):
        self.run = harness.make_run_dir(f"stp-dbd-{name}-{mpm}.")
        content = harness.copy_fixture("gate", os.path.join(self.run, "content"))
        harness.publish(content, os.path.join(self.run, "site"))
        self.source = lambda doc: open(os.path.join(content, "docs", doc, f"{doc}.txt"), "rb").read()
        os.makedirs(os.path.join(self.run, "state"), mode=0o700)
        with open(os.path.join(self.run, "state", "csrf.key"), "wb") as fh:  # the key every node shares
            fh.write(key)
        open(os.path.join(self.run, "users"), "w").close()
        self.port = harness.free_port()
        extra = (f"LoadModule dbd_module {harness.module_dir()}/mod_dbd.so\n"
                 f"DBDriver pgsql\nDBDParams \"{db.params()} connect_timeout=2\"\nStpStateStore dbd")
        self.httpd = harness.Httpd(self.run, "tests/integration/httpd.conf.in",
                                   {"PORT": self.port, "PORT2": harness.free_port(), "MPM": mpm, "EXTRA": extra})

    def get(self, path, who="anonymous", headers=None, method="GET", body=None):
        h = dict(ACCOUNTS[who])
        h.update(headers or {})
        return request(self.port, method, path, h, body)

    def library(self, who):
        r = self.get("/stp/library", who, JSON)
        return json.loads(r.body) if r.status == 200 else {"status": r.status}

    def save(self, who, token, doc):
        body = urllib.parse.urlencode({"csrf": token, "action": "add", "doc": doc}).encode()
        return self.get("/stp/library", who, dict(FORM, **JSON), "POST", body)


def main(tap):
    mpm = sys.argv[1] if len(sys.argv) > 1 else "event"
    db = pg.Postgres().init()
    nodes = []
    try:
        r = subprocess.run([harness.STPCTL, "state-init", "--dbd", db.params()], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "stpctl state-init creates the schema", r.stdout, r.stderr)
        key = os.urandom(32)
        a, b = Node("a", mpm, db, key), Node("b", mpm, db, key)
        nodes = [a, b]
        a.httpd.start()
        b.httpd.start()

        # My Library: saved on A, listed on B (and the token of A is good on B: the same key).
        tok = a.library("t1").get("token")
        tap.ok(tok and len(tok) == 80, f"{mpm}: node A gives a library token", tok)
        r = a.save("t1", tok, "public-report")
        tap.eq(200, r.status, f"{mpm}: save on node A")
        tap.eq(["public-report"], b.library("t1").get("series"),
               f"{mpm}: node B lists what was saved on node A")
        r = b.save("t1", tok, "t1-pack")
        tap.eq(200, r.status, f"{mpm}: node A's token saves on node B (the shared key)")
        tap.eq(["public-report", "t1-pack"], sorted(a.library("t1").get("series", [])),
               f"{mpm}: ... and node A lists it")
        tap.eq("2", db.psql("SELECT count(*) FROM stp_library"), f"{mpm}: two rows in stp_library")

        # NDA: accepted on A, downloads on B.
        tap.eq(302, b.get("/download/nda-pentest", "t2").status, f"{mpm}: before accepting, node B asks for the NDA")
        page = a.get("/stp/nda?return=%2Fdownload%2Fnda-pentest", "t2")
        m = re.search(r'action="/stp/nda">.*?name="csrf" value="([0-9a-f]+)"', page.text, re.S)
        version = re.search(r'name="version" value="([^"]+)"', page.text)
        tap.ok(m and version, f"{mpm}: node A shows the NDA form", page.text[:500])
        body = urllib.parse.urlencode({"csrf": m.group(1) if m else "", "version": version.group(1) if version else "",
                                       "return": "/download/nda-pentest"}).encode()
        r = a.get("/stp/nda", "t2", FORM, "POST", body)
        tap.eq(303, r.status, f"{mpm}: NDA accepted on node A")
        r = b.get("/download/nda-pentest", "t2")
        tap.ok(r.status == 200 and r.body == b.source("nda-pentest"), f"{mpm}: node B serves the NDA document",
               r.status)

        # PostgreSQL down: state pages 503 in the site's layout; public files and pages go on.
        db.kill()
        r = a.get("/stp/library", "t1")
        tap.ok(r.status == 503 and "<html" in r.text and 'lang="en"' in r.text,
               f"{mpm}: PostgreSQL down: the library answers 503 with the site's error page", r.status, r.text[:300])
        r = b.get("/download/public-report", "t1")
        tap.ok(r.status == 200 and r.body == b.source("public-report"),
               f"{mpm}: PostgreSQL down: a public download still works", r.status)
        tap.eq(200, a.get("/en/", "anonymous").status, f"{mpm}: PostgreSQL down: static pages still work")
        r = b.get("/download/nda-pentest", "t2")
        tap.eq(503, r.status, f"{mpm}: PostgreSQL down: an NDA download answers 503 rather than guessing")
        r = b.get("/download/t1-pack", "t1")
        tap.eq(503, r.status, f"{mpm}: PostgreSQL down: the member's own organisation's document answers 503, not 404")
        tap.eq(404, b.get("/download/t1-pack", "t2").status, f"{mpm}: PostgreSQL down: another organisation's is 404")
        r = a.get("/stp/library", "t1", JSON)
        tap.eq(503, r.status, f"{mpm}: PostgreSQL down: the library as JSON answers 503")
        log = a.httpd.error_log()
        tap.ok("PostgreSQL state store" in log, f"{mpm}: the error log says the state store is unreachable",
               log[-1500:])

        # Back: both nodes recover without a restart.
        db.start()
        try:
            harness.wait_until("node A's library", lambda: a.get("/stp/library", "t1", JSON).status == 200)
        except RuntimeError:
            print("\n".join("# " + line for line in a.httpd.error_log().splitlines()[-30:]))
            raise
        harness.wait_until("node B's library", lambda: b.get("/stp/library", "t1", JSON).status == 200)
        tap.eq(["public-report", "t1-pack"], sorted(b.library("t1").get("series", [])),
               f"{mpm}: after the restart node B lists the library again")
        r = a.get("/download/nda-pentest", "t2")
        tap.eq(200, r.status, f"{mpm}: after the restart the NDA acceptance still counts")

        # Saves from 16 clients on both nodes while PostgreSQL is killed and restarted: every
        # acknowledged save is in the database, and failures are 503s, never anything else.
        docs = ["public-report", "signin-policy", "soc-2026"]
        acked, others, lock = set(), [], threading.Lock()
        stop = threading.Event()

        def client(i):
            node = nodes[i % 2]
            who = "personal" if i % 2 else "t2"
            n = 0
            while not stop.is_set() and n < 400:
                user = dict(ACCOUNTS[who])
                user["X-Test-Sub"] = f"load-{i}"
                user["Cookie"] = "stp_sid=%032x" % (0x1000 + i)
                r = request(node.port, "GET", "/stp/library", dict(user, **JSON))
                if r.status != 200:
                    with lock:
                        if r.status != 503:
                            others.append(r.status)
                    n += 1
                    continue
                tok = json.loads(r.body)["token"]
                doc = docs[n % len(docs)]
                body = urllib.parse.urlencode({"csrf": tok, "action": "add", "doc": doc}).encode()
                r = request(node.port, "POST", "/stp/library", dict(user, **FORM, **JSON), body)
                with lock:
                    if r.status == 200:
                        acked.add((f"https://idp.test/|load-{i}", SERIES.get(doc, doc)))
                    elif r.status != 503:
                        others.append(r.status)
                n += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        harness.wait_until("some saves", lambda: len(acked) >= 20, timeout=60)
        db.kill()
        db.start()
        for t in threads:
            t.join()
        stop.set()
        rows = set(tuple(line.split("\t")) for line in
                   db.psql("SELECT user_key || E'\\t' || series FROM stp_library WHERE user_key LIKE '%load-%'")
                   .splitlines())
        missing = acked - rows
        tap.ok(len(acked) >= 20 and not missing,
               f"{mpm}: every one of {len(acked)} acknowledged saves survived PostgreSQL's crash", sorted(missing)[:10])
        tap.ok(not others, f"{mpm}: under the restart, failures were 503s only", others[:10])
        harness.wait_until("node A recovers", lambda: a.get("/stp/library", "t1", JSON).status == 200)
        tap.eq(["public-report", "t1-pack"], sorted(a.library("t1").get("series", [])),
               f"{mpm}: after the crash node A lists the library again")
    finally:
        for n in nodes:
            n.httpd.stop()
        db.close()


if __name__ == "__main__":
    harness.main_guard(main)
