#!/usr/bin/env python3
"""My Library and notification settings over a real httpd: the forms with and without a token,
the anonymous sign-in round trip, access rules, bad input, 64 concurrent clients, and children
killed under load. Usage: library.py prefork|event [--store lmdb|dbd]  (prints TAP; --store dbd
runs it all on a throw-away PostgreSQL through mod_dbd, StpStateStore dbd)."""

import json
import os
import random
import re
import signal
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from gate import Gate  # noqa: E402
from harness import request  # noqa: E402

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Accept": "application/json"}
# The series a member of t1 may see in the gate fixture.
T1_SERIES = ["nda-pentest", "public-report", "signin-policy", "soc", "t1-nda-pack", "t1-pack"]


class Library(Gate):
    # These steps republish while httpd runs and expect the very next request to see it.
    EXTRA = "StpSiteCheckInterval 0"

    def lib(self, who, headers=None):
        r = self.get("/stp/library", who, dict(JSON, **(headers or {})))
        return json.loads(r.body) if r.status == 200 else {"status": r.status}

    def post(self, who, fields, headers=None, port=None):
        body = urllib.parse.urlencode(fields).encode()
        return self.get("/stp/library", who, dict(FORM, **(headers or {})), "POST", body, port)

    def basics(self):
        t, m = self.tap, self.mpm
        r = self.get("/stp/library")
        t.ok(r.status == 302 and r.header("location").startswith("/stp/login?"), f"{m}: anonymous library -> sign in")
        t.eq({"token": None, "series": []}, self.lib("anonymous"), f"{m}: anonymous library JSON has no token")
        tok = self.lib("t1")["token"]
        t.ok(tok and len(tok) == 80, f"{m}: a signed-in user gets a library token")
        r = self.post("t1", {"csrf": tok, "action": "add", "doc": "public-report"}, JSON)
        t.ok(r.status == 200 and json.loads(r.body) == {"series": "public-report", "saved": True},
             f"{m}: POST add with a token (JavaScript) answers JSON", r.text)
        r = self.post("t1", {"csrf": tok, "action": "add", "doc": "soc-2025", "return": "/en/docs/soc-2025/"})
        t.ok(r.status == 303 and r.header("location") == "/en/docs/soc-2025/",
             f"{m}: POST add without JavaScript returns to the page", f"{r.status} {r.header('location')}")
        page = self.get("/stp/library", "t1")
        t.ok(page.status == 200 and "Public report" in page.text and "SOC report 2026" in page.text
             and "SOC report 2025" not in page.text and 'href="/download/soc-2026?lang=en"' in page.text,
             f"{m}: the library shows the series' current version with a download link", page.text[-1500:])
        t.ok(page.text.index("SOC report 2026") < page.text.index("Public report"),
             f"{m}: newest update first")
        t.eq(["public-report", "soc"], sorted(self.lib("t1")["series"]), f"{m}: saving a version subscribes to its series")
        # Not for this user's eyes, unknown, malformed: 404 or 400 and nothing stored.
        for doc in ("t2-pack", "no-such-doc", "../t1-pack", "x" * 300):
            r = self.post("t1", {"csrf": tok, "action": "add", "doc": doc}, JSON)
            t.eq(404, r.status, f"{m}: POST add {doc[:20]} -> 404")
        t.eq(400, self.post("t1", {"csrf": tok, "action": "hoard", "doc": "public-report"}).status,
             f"{m}: an unknown action -> 400")
        body = b"csrf=" + tok.encode() + b"&action=add&doc=public-report&doc=t1-pack"
        t.eq(400, self.get("/stp/library", "t1", FORM, "POST", body).status, f"{m}: repeated keys -> 400")
        body = b"csrf=" + tok.encode() + b"&action=add&doc=t1-pack&x=%ff%fe"
        t.eq(400, self.get("/stp/library", "t1", FORM, "POST", body).status, f"{m}: invalid UTF-8 -> 400")
        t.eq(413, self.get("/stp/library", "t1", FORM, "POST", b"a=" + b"x" * 10000).status,
             f"{m}: an oversize body -> 413")
        t.eq(415, self.get("/stp/library", "t1", {"Content-Type": "text/plain"}, "POST", b"action=add").status,
             f"{m}: not a form -> 415")
        r = self.post("t1", {"csrf": "0" * 64, "action": "add", "doc": "t1-pack"})
        t.eq(403, r.status, f"{m}: a wrong token -> 403")
        r = self.post("t1", {"csrf": self.lib("t2")["token"], "action": "add", "doc": "t1-pack"})
        t.eq(403, r.status, f"{m}: another user's token -> 403")
        t.eq(["public-report", "soc"], sorted(self.lib("t1")["series"]), f"{m}: ... and nothing was stored")
        # A static page's form has no token: a signed-in user confirms once.
        r = self.post("t1", {"action": "add", "doc": "t1-pack", "return": "/en/org/docs/t1-pack/"})
        confirm = re.search(r'action="/stp/library">.*?name="csrf" value="([0-9a-f]{80})"', r.text, re.S)
        t.ok(r.status == 200 and confirm and "Tenant one pack" in r.text,
             f"{m}: a form without a token asks to confirm", r.text[-800:])
        t.eq(["public-report", "soc"], sorted(self.lib("t1")["series"]), f"{m}: ... without saving yet")
        r = self.post("t1", {"csrf": tok, "action": "remove", "doc": "soc-2026"}, JSON)
        t.ok(r.status == 200 and json.loads(r.body)["saved"] is False, f"{m}: remove")
        t.eq(["public-report"], self.lib("t1")["series"], f"{m}: ... removes the series")

    def anonymous_round_trip(self):
        t, m = self.tap, self.mpm
        fields = {"action": "add", "doc": "signin-policy", "return": "/en/docs/signin-policy/"}
        for label, origin in (("another site's form", {"Origin": "http://evil.example"}),
                              ("a cross-site request", {"Sec-Fetch-Site": "cross-site"}),
                              ("a request without Origin", {})):
            r = self.post("anonymous", fields, origin)
            t.ok(r.status == 303 and r.header("location") == "/stp/login?return=%2Fen%2Fdocs%2Fsignin-policy%2F"
                 and not r.header("set-cookie"), f"{m}: an anonymous save from {label} is not remembered",
                 f"{r.status} {r.headers}")
        r = self.post("anonymous", fields, {"Origin": f"http://127.0.0.1:{self.port}", "Sec-Fetch-Site": "same-origin"})
        loc = r.header("location") or ""
        cookie = (r.header("set-cookie") or "").split(";")[0]
        t.ok(r.status == 303 and loc.startswith("/stp/login?return=") and cookie.startswith("stp_pending="),
             f"{m}: an anonymous save signs in first and remembers the intent", f"{r.status} {loc} {cookie}")
        resume = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["return"][0]
        t.ok(resume.startswith("/stp/library/resume?"), f"{m}: ... coming back to resume the save", resume)
        t.eq(403, self.get(resume, "t2").status, f"{m}: the intent without its cookie -> 403")
        t.eq(403, self.get(resume, "t2", {"Cookie": "stp_pending=" + "0" * 32}).status,
             f"{m}: the intent with another browser's cookie -> 403")
        forged = resume.replace("signin-policy", "nda-pentest", 1)
        t.eq(403, self.get(forged, "t2", {"Cookie": cookie}).status, f"{m}: a changed intent -> 403")
        t.eq([], self.lib("t2")["series"], f"{m}: ... and nothing was stored")
        r = self.get(resume, "t2", {"Cookie": cookie})
        t.ok(r.status == 303 and r.header("location") == "/en/docs/signin-policy/"
             and "Max-Age=0" in (r.header("set-cookie") or ""),
             f"{m}: after sign-in the save is done and the user is back on the page", f"{r.status} {r.headers}")
        t.eq(["signin-policy"], self.lib("t2")["series"], f"{m}: ... saved")

    def access_lost(self):
        t, m = self.tap, self.mpm
        tok = self.lib("t1admin")["token"]
        for doc in ("t1-pack", "public-report"):
            self.post("t1admin", {"csrf": tok, "action": "add", "doc": doc}, JSON)
        t.eq(["public-report", "t1-pack"], sorted(self.lib("t1admin")["series"]), f"{m}: t1admin saved two")
        # The tenant document moves to t2, and soc gets a new version.
        xml = os.path.join(self.content, "docs", "t1-pack", "doc.xml")
        with open(xml, encoding="utf-8") as fh:
            s = fh.read()
        with open(xml, "w", encoding="utf-8") as fh:
            fh.write(s.replace('<tenant ref="t1"/>', '<tenant ref="t2"/>'))
        pr = os.path.join(self.content, "docs", "public-report", "public-report.txt")
        with open(pr, "a", encoding="utf-8") as fh:
            fh.write("An amendment.\n")
        harness.publish(self.content, self.site)
        page = self.get("/stp/library", "t1admin")
        t.ok("Tenant one pack" not in page.text and "t1-pack" not in page.text,
             f"{m}: a document whose access the user lost is not shown")
        t.ok("Updated since you saved it" in page.text, f"{m}: an updated document is marked as changed", page.text[-1200:])

    def notifications(self):
        t, m = self.tap, self.mpm
        r = self.get("/stp/notifications")
        t.eq(302, r.status, f"{m}: anonymous notifications -> sign in")
        r = self.get("/stp/notifications", "t1")
        tok = re.search(r'action="/stp/notifications">.*?name="csrf" value="([0-9a-f]{80})"', r.text, re.S)
        t.ok(r.status == 200 and tok and 'value="alice@t1.example"' in r.text,
             f"{m}: the settings form suggests the sign-in address", r.text[-1500:])
        tok = tok.group(1) if tok else ""

        def post(fields, who="t1"):
            body = urllib.parse.urlencode(fields).encode()
            return self.get("/stp/notifications", who, FORM, "POST", body)

        r = post({"csrf": tok, "frequency": "weekly", "address": "alice@evil.example", "locale": "de"})
        t.ok(r.status == 400 and "t1.example" in r.text and 'aria-invalid="true"' in r.text
             and 'value="alice@evil.example"' in r.text,
             f"{m}: an address outside the organisation's domain is refused next to the field", r.text[-1500:])
        r = post({"csrf": tok, "frequency": "daily", "address": "", "locale": "en"})
        t.eq(400, r.status, f"{m}: notifications without an address are refused")
        t.eq(400, post({"csrf": tok, "frequency": "hourly", "address": "a@t1.example", "locale": "en"}).status,
             f"{m}: an unknown frequency -> 400")
        t.eq(400, post({"csrf": tok, "frequency": "daily", "address": "a@t1.example", "locale": "xx"}).status,
             f"{m}: an unknown language -> 400")
        t.eq(403, post({"frequency": "daily", "address": "a@t1.example", "locale": "en"}).status,
             f"{m}: no token -> 403")
        r = self.get("/stp/notifications", "t1")
        t.ok('<option value="off" selected>' in r.text, f"{m}: ... and nothing was stored")
        r = post({"csrf": tok, "frequency": "weekly", "address": "Alice.Reports@T1.example", "locale": "de"})
        t.ok(r.status == 303 and r.header("location").startswith("/stp/notifications?saved=1"),
             f"{m}: valid settings are stored", f"{r.status} {r.text[-500:]}")
        r = self.get("/stp/notifications?saved=1", "t1")
        t.ok('<option value="weekly" selected>' in r.text and 'value="Alice.Reports@T1.example"' in r.text
             and '<option value="de" lang="de" selected>' in r.text and 'role="status"' in r.text,
             f"{m}: ... and shown again", r.text[-1500:])

    def concurrency(self):
        """64 clients, each its own user, add and remove at random; then every library equals
        what its client was last told. Children are SIGKILLed midway: a save the client saw
        acknowledged must survive."""
        t, m = self.tap, self.mpm
        docs = {"public-report": "public-report", "signin-policy": "signin-policy", "nda-pentest": "nda-pentest",
                "soc-2026": "soc", "t1-nda-pack": "t1-nda-pack"}
        expected, errors = {}, []
        barrier = threading.Barrier(65)
        acked, lock, midway = [0], threading.Lock(), threading.Event()

        def client(i):
            rnd = random.Random(i)
            who = {"X-Test-Sub": f"load-{i}", "X-Test-Tid": "t1", "Cookie": "stp_sid=%032x" % (0x10ad + i)}
            lib = json.loads(request(self.port, "GET", "/stp/library", dict(who, **JSON)).body)
            mine, unknown = set(), set()
            barrier.wait()
            for _ in range(30):
                doc = rnd.choice(list(docs))
                action = rnd.choice(["add", "remove"])
                body = urllib.parse.urlencode({"csrf": lib["token"], "action": action, "doc": doc}).encode()
                try:
                    r = request(self.port, "POST", "/stp/library", dict(who, **FORM, **JSON), body)
                except OSError:
                    # The child died with the request: not acknowledged, so either outcome is right
                    # for this document until an acknowledged change settles it again.
                    unknown.add(docs[doc])
                    continue
                if r.status == 200:
                    (mine.add if action == "add" else mine.discard)(docs[doc])
                    unknown.discard(docs[doc])
                    with lock:
                        acked[0] += 1
                        if acked[0] == 400:
                            midway.set()
                elif r.status not in (500, 503):
                    errors.append(f"{i}: {r.status} {r.text[:200]}")
                else:
                    mine = None  # unknown outcome for this series: stop checking this client
                    break
            expected[i] = (mine, unknown)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
        for th in threads:
            th.start()
        barrier.wait()
        midway.wait(timeout=120)  # 400 of the 1920 changes acknowledged
        killed = self.httpd.children()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        for th in threads:
            th.join()
        # A full restart: the environment must open clean after the kill.
        self.httpd.stop()
        self.httpd.start()
        t.ok(midway.is_set() and killed, f"{m}: {len(killed)} children killed with SIGKILL after 400 acknowledged "
             f"changes (of {acked[0]})")
        t.eq([], errors, f"{m}: 64 concurrent clients get only acknowledgements")
        wrong = []
        for i, (mine, unknown) in expected.items():
            if mine is None:
                continue
            got = set(self.lib_of(f"load-{i}")) - unknown
            if got != mine - unknown:
                wrong.append((i, sorted(mine), sorted(got), sorted(unknown)))
        checked = sum(1 for v in expected.values() if v[0] is not None)
        t.ok(not wrong and checked >= 32, f"{m}: every library equals its acknowledged saves "
             f"({checked} clients checked, children killed midway)", wrong[:5])
        if self.store:
            # The same from the database itself, not only as the module reads it back.
            rows = {}
            for line in self.store.psql("SELECT user_key || E'\\t' || series FROM stp_library "
                                        "WHERE user_key LIKE 'https://idp.test/|load-%'").splitlines():
                user, series = line.split("\t")
                rows.setdefault(int(user.rsplit("-", 1)[1]), set()).add(series)
            wrong = [(i, sorted(mine), sorted(rows.get(i, ())), sorted(unknown))
                     for i, (mine, unknown) in expected.items()
                     if mine is not None and rows.get(i, set()) - unknown != mine - unknown]
            t.ok(not wrong, f"{m}: PostgreSQL's stp_library holds exactly the acknowledged saves", wrong[:5])
        self.no_crash()

    def lib_of(self, sub):
        r = request(self.port, "GET", "/stp/library", dict({"X-Test-Sub": sub, "X-Test-Tid": "t1"}, **JSON))
        return json.loads(r.body)["series"]

    def run_library(self):
        self.serving(self.basics, self.anonymous_round_trip, self.notifications, self.concurrency, self.access_lost)

def main(tap):
    args, store = harness.suite_args()
    mpm = args[0] if args else "event"
    db = harness.open_store(store)
    try:
        Library(tap, mpm, db).run_library()
    finally:
        if db:
            db.close()


if __name__ == "__main__":
    harness.main_guard(main)
