#!/usr/bin/env python3
"""The gate over a real httpd with the built module: the visibility matrix of docs/architecture.md
over downloads, document pages and organisation pages; conditional and range requests; the NDA
click-through with its CSRF token; path tricks; claims sent as headers; durability and catalog
switches; documents that require a licence claim or the tenant administrator role; unlisted members
of organisations in access mode `assigned` (a second server). Usage: gate.py prefork|event  (prints TAP)."""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from harness import request  # noqa: E402

# The account kinds of the decision table, as the claims the test server turns into environment.
ACCOUNTS = {
    "anonymous": {},
    "personal": {"X-Test-Sub": "pat", "X-Test-Email": "pat@example.net"},
    "t1": {"X-Test-Sub": "alice", "X-Test-Tid": "t1", "X-Test-Email": "alice@t1.example", "X-Test-Licence": "e3,e5"},
    "t2": {"X-Test-Sub": "bob", "X-Test-Tid": "t2", "X-Test-Email": "bob@t2.example"},
    "t1admin": {"X-Test-Sub": "carol", "X-Test-Tid": "t1", "X-Test-Roles": "Reader,GlobalAdmin"},
}
PASSWORD = "pw"
for _i, _h in enumerate(ACCOUNTS.values()):
    if "X-Test-Sub" in _h:  # the Basic credentials that authenticate on the organisation pages
        _h["Authorization"] = "Basic " + base64.b64encode(f"{_h['X-Test-Sub']}:{PASSWORD}".encode()).decode()
        # Each account's browser session: CSRF tokens are bound to it (the stp_sid cookie).
        _h["Cookie"] = "stp_sid=%032x" % (0x5e55 + _i)
KINDS = list(ACCOUNTS)

# Expected download outcome per document, before and after the NDA is accepted (docs/architecture.md).
S, I, A, P, G, N, R = "serve", "signin", "nda", "personal", "gone", "notfound", "requirement"
CASES = {
    #                 anonymous personal t1 t2 t1admin
    "public-report": ([S, S, S, S, S], [S, S, S, S, S]),
    "signin-policy": ([I, S, S, S, S], [I, S, S, S, S]),
    "nda-pentest": ([I, P, A, A, A], [I, P, S, S, S]),
    "t1-pack": ([N, N, S, N, S], [N, N, S, N, S]),
    "t1-nda-pack": ([N, N, A, N, A], [N, N, S, N, S]),
    "t2-pack": ([N, N, N, S, N], [N, N, N, S, N]),
    "soc-2025": ([S, S, S, S, S], [S, S, S, S, S]),  # superseded, within retention
    "soc-2024": ([G, G, G, G, G], [G, G, G, G, G]),  # past retention
    "no-such-doc": ([N, N, N, N, N], [N, N, N, N, N]),
    # <require claim="licence" value="e5"/> (only alice has it) and <require role="tenant-admin"/>.
    "licence-guide": ([I, R, S, R, R], [I, R, S, R, R]),
    "t1-admin-pack": ([N, N, R, N, S], [N, N, R, N, S]),
    # A tenant series: every version, and every way of naming one, is t2's alone.
    "t2-series-2026": ([N, N, N, S, N], [N, N, N, S, N]),
    "t2-series-2025": ([N, N, N, S, N], [N, N, N, S, N]),  # superseded, within retention
    "t2-series-2024": ([N, N, N, G, N], [N, N, N, G, N]),  # past retention
    "t2-series-2026/2025": ([N, N, N, S, N], [N, N, N, S, N]),
    "t2-series-2025/2026": ([N, N, N, S, N], [N, N, N, S, N]),
    "t2-series-2026/2024": ([N, N, N, G, N], [N, N, N, G, N]),
    "t2-series-2026/1999": ([N, N, N, N, N], [N, N, N, N, N]),
}
# The file a versioned URL serves, and the current version a 410 page links.
SERVES = {"t2-series-2026/2025": "t2-series-2025", "t2-series-2025/2026": "t2-series-2026"}
GONE_CURRENT = {"soc-2024": ("soc-2026", "/en/docs/"), "t2-series-2024": ("t2-series-2026", "/en/org/docs/"),
                "t2-series-2026/2024": ("t2-series-2026", "/en/org/docs/")}
# Which documents have a public page, and which have a page in which tenant's tree.
PUBLIC_PAGES = {"public-report", "signin-policy", "nda-pentest", "soc-2025", "soc-2026", "licence-guide"}
TENANT_PAGES = {"t1-pack": "t1", "t1-nda-pack": "t1", "t2-pack": "t2", "t2-series-2026": "t2", "t1-admin-pack": "t1"}
# What the 403 of a requirement names.
REQUIRES = {"licence-guide": "Requires: licence e5", "t1-admin-pack": "Requires: tenant administrator role"}



# Error pages are site pages that carry nothing of the URL asked for and no token: an outsider's
# answer for a hidden document is the unknown id's, byte for byte.
def same_body(a, b):
    return a.body == b.body


class Gate:
    # Extra configuration for the server; the gate runs with the defaults (StpSiteCheckInterval 1).
    EXTRA = ""

    def __init__(self, tap, mpm, store=None):
        """store: None for state.mdb in the run directory, or a harness.DbdStore (PostgreSQL)."""
        self.tap = tap
        self.mpm = mpm
        self.store = store
        self.run = harness.make_run_dir(f"stp-gate-{mpm}.")
        self.content = harness.copy_fixture("gate", os.path.join(self.run, "content"))
        self.site = os.path.join(self.run, "site")
        harness.publish(self.content, self.site)
        self.port, self.port2 = harness.free_port(), harness.free_port()
        with open(os.path.join(self.run, "users"), "w", encoding="ascii") as fh:
            sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
            fh.writelines(f"{name}:{{SHA}}{sha}\n" for name in ("pat", "alice", "bob", "carol", "dave"))
        self.httpd = harness.Httpd(self.run, "tests/integration/httpd.conf.in",
                                   {"PORT": self.port, "PORT2": self.port2, "MPM": mpm,
                                    "EXTRA": self.EXTRA + "\n" + (store.httpd_conf() if store else "")})

    def get(self, path, who="anonymous", headers=None, method="GET", body=None, port=None):
        h = dict(ACCOUNTS[who])
        extra = dict(headers or {})
        if "Cookie" in extra and "Cookie" in h:  # the test's cookies and the account's session
            extra["Cookie"] = extra["Cookie"] + "; " + h["Cookie"]
        h.update(extra)
        return request(port or self.port, method, path, h, body)

    def source(self, doc, name=None):
        with open(os.path.join(self.content, "docs", doc, name or f"{doc}.txt"), "rb") as fh:
            return fh.read()

    def whoami(self, who, port=None):
        import json

        r = self.get("/stp/whoami", who, port=port)
        return json.loads(r.body) if r.status == 200 else {"status": r.status}

    def nda_token(self, who, target="/en/"):
        r = self.get("/stp/nda?return=" + urllib.parse.quote(target, safe=""), who)
        m = re.search(r'action="/stp/nda">.*?name="csrf" value="([0-9a-f]+)"', r.text, re.S)
        return m.group(1) if m else None

    def post_nda(self, who, fields):
        body = urllib.parse.urlencode(fields).encode()
        return self.get("/stp/nda", who, {"Content-Type": "application/x-www-form-urlencoded"}, "POST", body)

    # --- the suites ------------------------------------------------------------------------------

    def check_download(self, doc, who, want, phase):
        t = self.tap
        path = f"/download/{doc}"
        r = self.get(path, who)
        name = f"{self.mpm} {phase}: {who} GET {path} -> {want}"
        if want == S:
            served = SERVES.get(doc, doc)
            t.ok(r.status == 200 and r.body == self.source(served), name, f"status {r.status}", r.text[:300])
        elif want == I:
            loc = r.header("location") or ""
            ret = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("return", [""])[0]
            t.ok(r.status == 302 and loc.startswith("/stp/login?") and ret == path, name, f"status {r.status}",
                 f"location {loc}")
        elif want == A:
            loc = r.header("location") or ""
            ret = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("return", [""])[0]
            t.ok(r.status == 302 and loc.startswith("/stp/nda?") and ret == path, name, f"status {r.status}",
                 f"location {loc}")
        elif want == P:
            t.ok(r.status == 403 and self.source(doc) not in r.body, name, f"status {r.status}")
        elif want == R:
            t.ok(r.status == 403 and self.source(doc) not in r.body and REQUIRES[doc] in r.text
                 and "no-store" in (r.header("cache-control") or ""), name, f"status {r.status}", r.text[:500])
        elif want == G:
            cur, tree = GONE_CURRENT[doc]
            t.ok(r.status == 410 and f'/download/{cur}"' in r.text and f'{tree}{cur}/' in r.text, name,
                 f"status {r.status}", r.text[:500])
        else:
            unknown = self.get("/download/no-such-doc" + ("/2025" if "/" in doc else ""), who)
            same = r.status == unknown.status == 404 and same_body(r, unknown)
            same = same and all(r.header(h) == unknown.header(h) for h in ("content-type", "cache-control", "vary"))
            t.ok(same, name, f"status {r.status}", r.text[:300])

    def matrix(self, phase, column):
        for doc, outcomes in CASES.items():
            for who, want in zip(KINDS, outcomes[column]):
                self.check_download(doc, who, want, phase)

    def pages(self, phase):
        t = self.tap
        for doc in [d for d in CASES if "/" not in d and d not in ("t2-series-2025", "t2-series-2024")] + ["soc-2026"]:
            for who in KINDS:
                r = self.get(f"/en/docs/{doc}/", who)
                want = 200 if doc in PUBLIC_PAGES else 404
                t.eq(want, r.status, f"{self.mpm} {phase}: {who} GET /en/docs/{doc}/")
                if want == 404:
                    t.ok(same_body(r, self.get("/en/docs/no-such-doc/", who)),
                         f"{self.mpm} {phase}: {who} /en/docs/{doc}/ answers like an unknown id")
                r = self.get(f"/en/org/docs/{doc}/", who)
                owner = TENANT_PAGES.get(doc)
                tid = ACCOUNTS[who].get("X-Test-Tid")
                if who == "anonymous":
                    want = 401  # no provider on this test server; mod_auth_openidc would send it to sign in
                elif tid is None:
                    want = 403  # Require stp-tenant: a personal account has no organisation
                else:
                    want = 200 if owner == tid else 404
                t.eq(want, r.status, f"{self.mpm} {phase}: {who} GET /en/org/docs/{doc}/")
                if want == 404:
                    same = self.get("/en/org/docs/no-such-doc/", who)
                    t.ok(same_body(r, same) and r.status == same.status,
                         f"{self.mpm} {phase}: {who} /en/org/docs/{doc}/ answers like an unknown id")
        for who, tid in (("t1", "t1"), ("t2", "t2"), ("t1admin", "t1")):
            r = self.get("/en/org/", who)
            mine = [d for d, o in TENANT_PAGES.items() if o == tid]
            theirs = [d for d, o in TENANT_PAGES.items() if o != tid]
            t.ok(r.status == 200 and all(f"/en/org/docs/{d}/" in r.text for d in mine)
                 and not any(d in r.text for d in theirs),
                 f"{self.mpm} {phase}: {who} /en/org/ lists its tenant's documents and no other's",
                 f"status {r.status}")

    def nda_flow(self):
        t, m = self.tap, self.mpm
        # Anonymous users are sent to sign in first; personal accounts are refused.
        r = self.get("/stp/nda?return=%2Fdownload%2Fnda-pentest")
        t.ok(r.status == 302 and r.header("location", ).startswith("/stp/login?"), f"{m}: anonymous /stp/nda -> sign in")
        t.eq(403, self.get("/stp/nda", "personal").status, f"{m}: personal account /stp/nda -> 403")
        # The page names the pending download and the NDA version, in the user's language.
        r = self.get("/stp/nda?return=%2Fdownload%2Fnda-pentest", "t1")
        t.ok(r.status == 200 and "NDA pentest" in r.text and "Gate NDA, version one" in r.text and "v1" in r.text,
             f"{m}: /stp/nda shows the agreement and the pending document", r.text[:800])
        r = self.get("/stp/nda?return=%2Fdownload%2Fnda-pentest", "t1", {"Accept-Language": "de"})
        t.ok(r.status == 200 and "Gate-NDA, Version eins" in r.text and 'lang="de"' in r.text,
             f"{m}: /stp/nda in German for Accept-Language: de", r.text[:600])
        # A pending download the user may not know of is not named.
        r = self.get("/stp/nda?return=%2Fdownload%2Ft2-pack", "t1")
        t.ok(r.status == 200 and "Tenant two pack" not in r.text, f"{m}: /stp/nda does not name another tenant's document")

        tok_alice = self.nda_token("t1")
        tok_bob = self.nda_token("t2")
        t.ok(tok_alice and tok_bob and tok_alice != tok_bob, f"{m}: CSRF tokens are per user")
        base = {"version": "v1", "return": "/download/nda-pentest", "lang": "en"}
        for label, fields in (("missing", base), ("wrong", dict(base, csrf="0" * 64)),
                              ("another user's", dict(base, csrf=tok_alice))):
            r = self.post_nda("t2", fields)
            t.eq(403, r.status, f"{m}: POST /stp/nda with a {label} CSRF token -> 403")
            t.eq(False, self.whoami("t2")["nda"]["accepted"], f"{m}: ... and nothing is stored")
        r = self.get("/stp/nda", "t2", {"Content-Type": "text/plain"}, "POST", b"csrf=" + tok_bob.encode())
        t.ok(r.status in (400, 415) and not self.whoami("t2")["nda"]["accepted"],
             f"{m}: POST /stp/nda that is not a form -> {r.status}, nothing stored")
        # A stale version (the page was shown before a new NDA was published) asks again.
        r = self.post_nda("t2", dict(base, csrf=tok_bob, version="v0"))
        t.ok(r.status == 303 and r.header("location").startswith("/stp/nda?")
             and not self.whoami("t2")["nda"]["accepted"], f"{m}: POST with an old NDA version shows the NDA again",
             f"status {r.status} location {r.header('location')}")
        # An open redirect is not possible through the return field.
        r = self.post_nda("t2", dict(base, csrf=tok_bob, **{"return": "//evil.example/x"}))
        t.ok(r.status == 303 and r.header("location") == "/stp/nda?accepted=1&lang=en&return=%2Fen%2F",
             f"{m}: POST /stp/nda ignores a non-local return",
             f"status {r.status} location {r.header('location')}")
        t.eq(True, self.whoami("t2")["nda"]["accepted"], f"{m}: t2 accepted")
        r = self.post_nda("t1", dict(base, csrf=tok_alice))
        confirm = "/stp/nda?accepted=1&lang=en&return=%2Fdownload%2Fnda-pentest"
        t.ok(r.status == 303 and r.header("location") == confirm,
             f"{m}: POST /stp/nda answers with the confirmation", f"status {r.status} location {r.header('location')}")
        r = self.get(confirm, "t1")
        t.ok(r.status == 200 and 'content="0;url=/download/nda-pentest"' in r.text and 'href="/download/nda-pentest"' in r.text
             and 'href="/en/docs/nda-pentest/"' in r.text and 'action="/stp/nda"' not in r.text,
             f"{m}: ... which starts the download and links back to the document", r.text[-1500:])
        r = self.post_nda("t1admin", dict(base, csrf=self.nda_token("t1admin")))
        t.eq(303, r.status, f"{m}: t1admin accepts")
        # One user's acceptance is not another's, even in the same tenant.
        other = {"X-Test-Sub": "dave", "X-Test-Tid": "t1"}
        r = request(self.port, "GET", "/download/nda-pentest", other)
        t.ok(r.status == 302 and r.header("location").startswith("/stp/nda?"),
             f"{m}: an NDA accepted by alice does not count for dave of the same tenant")
        r = request(self.port, "GET", "/download/nda-pentest", {"X-Test-Sub": "alice", "X-Test-Tid": "t1",
                                                                "X-Test-Iss": "x"})
        t.eq(200, r.status, f"{m}: alice downloads after accepting")
        # The acceptance is alice's in t1: moved to another organisation, she accepts again there.
        moved = dict(ACCOUNTS["t1"], **{"X-Test-Tid": "t2"})
        r = request(self.port, "GET", "/download/nda-pentest", moved)
        t.ok(r.status == 302 and r.header("location") == "/stp/nda?return=%2Fdownload%2Fnda-pentest",
             f"{m}: an NDA accepted in t1 does not count when alice signs in with t2",
             f"status {r.status} location {r.header('location')}")
        t.eq(False, json.loads(request(self.port, "GET", "/stp/whoami", moved).body)["nda"]["accepted"],
             f"{m}: whoami in t2 says not accepted")
        t.eq(200, self.get("/download/nda-pentest", "t1").status, f"{m}: ... while in t1 it still counts")
        # The acceptance is acknowledged only once durable: killing every child loses nothing.
        kids = self.httpd.children()
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
        harness.wait_until("children to be replaced", lambda: set(self.httpd.children()) - set(kids)
                           and harness.answers(self.port))
        who = self.whoami("t1")
        t.ok(who.get("nda", {}).get("accepted") is True, f"{m}: acceptance survives SIGKILL of every child", who)

    def downloads(self):
        t, m = self.tap, self.mpm
        src = self.source("nda-pentest")
        r = self.get("/download/nda-pentest", "t1")
        t.eq(200, r.status, f"{m}: NDA download after acceptance")
        t.eq("text/plain; charset=utf-8", r.header("content-type").lower(), f"{m}: media type")
        t.eq(str(len(src)), r.header("content-length"), f"{m}: Content-Length")
        etag = '"' + hashlib.sha256(src).hexdigest() + '"'
        t.eq(etag, r.header("etag"), f"{m}: strong ETag from the SHA-256")
        t.ok(r.header("last-modified") is not None, f"{m}: Last-Modified")
        t.eq('attachment; filename="nda-pentest.txt"', r.header("content-disposition"), f"{m}: Content-Disposition")
        t.eq("no-store", r.header("cache-control"), f"{m}: gated files are kept by no cache")
        t.eq("bytes", r.header("accept-ranges"), f"{m}: Accept-Ranges: bytes")
        r = self.get("/download/nda-pentest", "t1", {"If-None-Match": etag})
        t.ok(r.status == 304 and r.body == b"", f"{m}: If-None-Match -> 304", f"status {r.status}")
        r = self.get("/download/nda-pentest", "t1", {"Range": "bytes=100-199"})
        t.ok(r.status == 206 and r.body == src[100:200]
             and r.header("content-range") == f"bytes 100-199/{len(src)}", f"{m}: Range -> 206 with the bytes",
             f"status {r.status} {r.header('content-range')}")
        r = self.get("/download/nda-pentest", "t1", {"Range": "bytes=0-9,20-29"})
        t.ok(r.status == 206 and "multipart/byteranges" in r.header("content-type") and src[20:30] in r.body,
             f"{m}: multiple ranges -> multipart 206")
        r = self.get("/download/nda-pentest", "t1", method="HEAD")
        t.ok(r.status == 200 and r.body == b"" and r.header("content-length") == str(len(src)),
             f"{m}: HEAD has the headers and no body")
        t.eq(302, self.get("/download/nda-pentest", "anonymous", {"Range": "bytes=0-9"}).status,
             f"{m}: a Range request does not get around the gate")
        t.eq(302, self.get("/download/nda-pentest", "anonymous", method="HEAD").status, f"{m}: nor does HEAD")
        # Language variants: ?lang, then the user's languages, then the default locale.
        pr = "public-report"
        en, de, ja = self.source(pr), self.source(pr, "bericht.txt"), self.source(pr, "報告書.txt")
        t.eq(de, self.get(f"/download/{pr}?lang=de").body, f"{m}: ?lang=de picks the German file")
        r = self.get(f"/download/{pr}", headers={"Accept-Language": "de-CH, en;q=0.5"})
        t.ok(r.body == de and "Accept-Language" in (r.header("vary") or ""),
             f"{m}: Accept-Language picks the variant and says Vary", r.headers)
        t.eq(en, self.get(f"/download/{pr}?lang=fr").body, f"{m}: a locale without a file falls back to English")
        r = self.get(f"/download/{pr}?lang=ja")
        t.ok(r.body == ja and r.header("content-disposition")
             == "attachment; filename=\"___.txt\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.txt",
             f"{m}: a non-ASCII file name comes with filename*", r.header("content-disposition"))
        # Versions: the series' current version and an earlier one by version name.
        t.eq(self.source("soc-2026"), self.get("/download/soc-2026").body, f"{m}: the current version")
        r = self.get("/download/soc-2026/2025")
        t.ok(r.status == 200 and r.body == self.source("soc-2025"), f"{m}: /download/<id>/<version> serves 2025",
             f"status {r.status}")
        t.eq(410, self.get("/download/soc-2026/2024").status, f"{m}: a retired version by name -> 410")
        t.eq(404, self.get("/download/soc-2026/1999").status, f"{m}: an unknown version -> 404")
        t.eq(404, self.get("/download/t1-pack/1", "t2").status, f"{m}: another tenant's document by version -> 404")
        # The audit trail: the environment each download sets, through the operator's LogFormat.
        with open(os.path.join(self.run, "access.log"), encoding="utf-8") as fh:
            log = fh.read()
        t.ok(re.search(r'^200 "GET /download/nda-pentest HTTP/1.1" doc=nda-pentest version=\S+ '
                       r'user=https://idp.test/\|alice tenant=t1 decision=serve$', log, re.M),
             f"{m}: the access log records document, version, user, tenant and decision", log[-1500:])
        t.ok(re.search(r'^200 "GET /download/soc-2026 HTTP/1.1" doc=soc-2026 version=2026 .* decision=serve$', log, re.M)
             and re.search(r'^200 "GET /download/soc-2026/2025 HTTP/1.1" doc=soc-2026 version=2025 ', log, re.M),
             f"{m}: the access log names the version served, the current one included")
        t.ok(re.search(r'^404 "GET /download/t2-pack HTTP/1.1" doc=t2-pack .* decision=not-found$', log, re.M),
             f"{m}: refusals are logged with their decision")

    def path_tricks(self):
        t, m = self.tap, self.mpm
        secret = self.source("t1-pack")
        for target in ("/download/../files/t1-pack", "/download/%2e%2e/t1-pack", "/download/t1-pack%00",
                       "/download/t1%2dpack", "/download/%252e%252e%252ft1-pack", "/download/t1-pack/../t1-pack",
                       "/download/" + "a" * 5000, "/download/t1-pack/" + "1" * 40, "/download//t1-pack",
                       "/download/T1-PACK", "/download/t1-pack;x", "/files/", "/../files/",
                       "/en/org/docs/%2e%2e/%2e%2e/t1/en/index.html", "/en/docs/..%2ft1-pack/",
                       "/tenants/t1/en/index.html", "/catalog.mdb", "/current/catalog.mdb", "/.manifest"):
            r = self.get(target, "t2")
            t.ok(r.status in (400, 403, 404) and secret not in r.body and b"Tenant one" not in r.body,
                 f"{m}: path trick {target[:60]} -> {r.status}")
        r = self.get("/download/public-report", headers={"X-Test-Sub": "x" * 9000})
        t.ok(r.status in (200, 400), f"{m}: an oversized claim is handled ({r.status})")

    def headers_ignored(self):
        t, m = self.tap, self.mpm
        forged = {"OIDC_CLAIM_sub": "alice", "OIDC-CLAIM-sub": "alice", "OIDC_CLAIM_tid": "t1", "X-Test-Sub": "alice",
                  "X-Test-Tid": "t1", "Remote-User": "alice", "X-Remote-User": "alice", "OIDC_access_token": "x"}
        r = request(self.port2, "GET", "/stp/whoami", forged)
        t.ok(r.status == 200 and '"kind":"anonymous"' in r.text, f"{m}: claims sent as request headers are ignored",
             r.text)
        t.eq(302, request(self.port2, "GET", "/download/nda-pentest", forged).status,
             f"{m}: ... and the gate still asks to sign in")
        t.eq(404, request(self.port2, "GET", "/download/t1-pack", forged).status,
             f"{m}: ... and tenant documents stay hidden")

    def whoami_check(self):
        t, m = self.tap, self.mpm
        w = self.whoami("t1admin")
        t.ok(w.get("kind") == "tenant-admin" and w.get("tenant") == "t1" and w.get("user") == "https://idp.test/|carol",
             f"{m}: whoami for a tenant administrator", w)
        w = self.whoami("personal")
        t.ok(w.get("kind") == "personal" and w.get("tenant") is None and w.get("email") == "pat@example.net",
             f"{m}: whoami for a personal account", w)
        w = self.whoami("anonymous")
        t.ok(w.get("kind") == "anonymous" and w.get("user") is None, f"{m}: whoami for anonymous", w)
        r = self.get("/stp/whoami", "t1")
        t.ok(r.header("content-type", ).startswith("application/json") and "no-store" in r.header("cache-control"),
             f"{m}: whoami is JSON and not stored")

    def republish(self):
        t, m = self.tap, self.mpm
        # A new document is served from the next request on, without a restart.
        extra = os.path.join(self.content, "docs", "late-addition")
        shutil.copytree(os.path.join(self.content, "docs", "public-report"), extra)
        xml = os.path.join(extra, "doc.xml")
        with open(xml, encoding="utf-8") as fh:
            s = fh.read().replace('id="public-report"', 'id="late-addition"')
        with open(xml, "w", encoding="utf-8") as fh:
            fh.write(s)
        t.eq(404, self.get("/download/late-addition").status, f"{m}: not there before publishing")
        gen = self.whoami("anonymous")["catalog"]["generation"]
        harness.publish(self.content, self.site)
        # Each process looks at `current` again once StpSiteCheckInterval (1 s) has passed since
        # its last look, so the new build is served from within a second on. Until then the old
        # one answers, whole.
        seen = []
        t.ok(self.poll(lambda: seen.append(self.get("/download/late-addition").status) or seen[-1] == 200),
             f"{m}: a new publish is served without a restart", seen[-20:])
        t.ok(set(seen) <= {404, 200}, f"{m}: ... and until then the previous build answers", seen[-20:])
        t.ok(self.poll(lambda: self.whoami("anonymous")["catalog"]["generation"] > gen),
             f"{m}: ... from a newer catalog generation")
        new_build = os.readlink(os.path.join(self.site, "current"))
        # A process that served the old build says so when it switches; one that prefork started
        # after the publish opens the new build at once, so requests go on until an older one answers.
        switched = re.compile(r"\[stp:notice\].*: switched from \S+/build-\d+ to \S+/" + re.escape(new_build) +
                              r", catalog generation \d+")
        t.ok(self.poll(lambda: self.get("/en/").status and switched.search(self.httpd.error_log())),
             f"{m}: ... and the process that switched says so (level notice)", self.httpd.error_log()[-1500:])
        # A broken catalog keeps the last good one serving, and says why in the error log.
        good = os.readlink(os.path.join(self.site, "current"))
        broken = os.path.join(self.site, "broken-build")
        os.makedirs(broken)
        with open(os.path.join(broken, "catalog.mdb"), "wb") as fh:
            fh.write(b"not an LMDB file" * 512)
        os.symlink("broken-build", os.path.join(self.site, "next"))
        os.replace(os.path.join(self.site, "next"), os.path.join(self.site, "current"))
        seen = []
        t.ok(self.poll(lambda: seen.append(self.get("/download/late-addition").status) or
                       ("broken-build" in self.httpd.error_log() and seen[-1] == 200)),
             f"{m}: ... a broken catalog is noticed and the error log says which build", self.httpd.error_log()[-1000:])
        # Every answer comes from a good build: the newest good one (200), or, in a process that has
        # not looked at `current` since the publish above (it does within StpSiteCheckInterval),
        # the build before it (404: the document is new). Never an error, never the broken one.
        t.ok(seen and set(seen) <= {200, 404} and seen[-1] == 200, f"{m}: ... while the last good one keeps serving",
             seen[-20:])
        os.symlink(good, os.path.join(self.site, "next"))
        os.replace(os.path.join(self.site, "next"), os.path.join(self.site, "current"))

    @staticmethod
    def poll(cond, timeout=20.0):
        """Whether cond() comes to hold within timeout: waits for another process, not a timing
        assumption (the timeout is far beyond any interval the server is configured with)."""
        try:
            harness.wait_until("a condition", cond, timeout)
            return True
        except RuntimeError:
            return False

    def audit_export(self):
        t, m = self.tap, self.mpm
        r = subprocess.run([harness.STPCTL, "nda-audit", os.path.join(self.run, "state")],
                           capture_output=True, text=True)
        lines = r.stdout.splitlines()
        t.ok(r.returncode == 0 and lines and lines[0].startswith("time,user,tenant,version"),
             f"{m}: stpctl nda-audit prints CSV with a header", r.stdout[:500], r.stderr[:500])
        users = [ln.split(",")[1] for ln in lines[1:]]
        t.ok(sorted(users) == sorted(["https://idp.test/|alice", "https://idp.test/|bob", "https://idp.test/|carol"]),
             f"{m}: ... one line per acceptance", r.stdout)
        r = subprocess.run([harness.STPCTL, "nda-audit", os.path.join(self.run, "no-such-state")],
                           capture_output=True, text=True)
        t.ok(r.returncode == 2 and "cannot open" in r.stderr and not r.stdout
             and not os.path.exists(os.path.join(self.run, "no-such-state")),
             f"{m}: stpctl nda-audit without a state says so and creates nothing", r.stderr)

    def serving(self, *steps):
        """Runs the steps against the started server; stops it and removes the run directory after."""
        self.httpd.start()
        try:
            for step in steps:
                step()
        finally:
            self.httpd.stop()
            if os.environ.get("STP_KEEP") is None:
                shutil.rmtree(self.run, ignore_errors=True)

    def no_crash(self):
        log = self.httpd.error_log()
        self.tap.ok(not re.search(r"exit signal (?!Killed)|AddressSanitizer|runtime error|\[\w*:(crit|alert|emerg)\]", log),
                    f"{self.mpm}: no crash in the error log", log[-2000:])

    def security_headers(self):
        """Every answer carries the security headers, redirects and errors too; the module's own
        answers are no-store and vary on Cookie; an outsider's 404 equals an unknown id's."""
        t, m = self.tap, self.mpm
        personal = [("/download/nda-pentest", "anonymous", 302), ("/download/nda-pentest", "personal", 403),
                    ("/download/t2-pack", "t1", 404), ("/download/no-such-doc", "anonymous", 404),
                    ("/download/soc-2024", "anonymous", 410), ("/stp/nda", "t2", 200), ("/stp/nda", "anonymous", 302),
                    ("/stp/library", "t1", 200), ("/stp/whoami", "t1", 200), ("/stp/nothing", "anonymous", 404),
                    ("/", "anonymous", 302), ("/en/org/", "t1", 200), ("/en/org/", "personal", 403),
                    ("/download/signin-policy", "personal", 200)]
        for path, who, status in personal:
            r = self.get(path, who)
            csp = r.header("content-security-policy") or ""
            t.ok(r.status == status and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
                 and r.header("referrer-policy") == "same-origin" and r.header("x-content-type-options") == "nosniff"
                 and r.header("cache-control") == "no-store" and "Cookie" in (r.header("vary") or ""),
                 f"{m}: {path} as {who}: {status} with CSP, Referrer-Policy, nosniff, no-store, Vary: Cookie",
                 f"{r.status} {r.headers}")
        for path in ("/en/", "/assets/stp.css", "/download/public-report"):
            r = self.get(path)
            t.ok(r.status == 200 and "frame-ancestors 'none'" in (r.header("content-security-policy") or "")
                 and r.header("cache-control") != "no-store",
                 f"{m}: {path}: secured, and cacheable (the same for everyone)", f"{r.status} {r.headers}")
        hidden, unknown = self.get("/download/t2-pack", "t1"), self.get("/download/no-such-doc", "t1")
        strip = lambda r: sorted((k, v) for k, v in r.headers.items() if k not in ("date",))  # noqa: E731
        t.ok(hidden.status == unknown.status == 404 and strip(hidden) == strip(unknown) and same_body(hidden, unknown),
             f"{m}: another tenant's document answers the unknown id's 404, headers and body",
             f"{strip(hidden)} vs {strip(unknown)}")
        # The test server's redirect URI path: mod_auth_openidc would sign out on this GET.
        for label, hdrs, want in (("cross-site", {"Sec-Fetch-Site": "cross-site"}, 403),
                                  ("a foreign Origin", {"Sec-Fetch-Site": "same-site", "Origin": "http://evil.example"},
                                   403),
                                  ("a foreign Referer", {"Referer": "http://evil.example/x"}, 403)):
            r = self.get("/stp/oidc-callback?logout=%2Fen%2F", "t1", hdrs)
            t.eq(want, r.status, f"{m}: a sign-out through the redirect URI from {label} is refused")
        t.ok("refused" in self.httpd.error_log(), f"{m}: ... and logged")

    def body_images(self):
        """Images of bodies: a public document's beside its pages in every locale, typed and not
        sniffable; a tenant document's only on its organisation's URL, for its members."""
        t, m = self.tap, self.mpm
        src = self.source("public-report", "chart.png")
        name = hashlib.sha256(src).hexdigest()[:32] + ".png"
        for lang in ("en", "ar"):
            r = self.get(f"/{lang}/docs/public-report/{name}")
            t.ok(r.status == 200 and r.body == src and r.header("Content-Type") == "image/png"
                 and r.header("X-Content-Type-Options") == "nosniff",
                 f"{m}: anonymous GET /{lang}/docs/public-report/<digest>.png: the image, image/png, nosniff",
                 f"status {r.status} type {r.header('Content-Type')}")
        page = self.get("/en/docs/public-report/")
        t.ok(f'<img src="/en/docs/public-report/{name}" alt="Chart">' in page.text,
             f"{m}: the public page shows it at that URL")
        src = self.source("t1-pack", "diagram.png")
        name = hashlib.sha256(src).hexdigest()[:32] + ".png"
        r = self.get(f"/en/org/docs/t1-pack/{name}", "t1")
        t.ok(r.status == 200 and r.body == src and r.header("Content-Type") == "image/png"
             and r.header("Cache-Control") == "no-store",
             f"{m}: a member GETs its tenant document's image on the organisation URL (no-store)",
             f"status {r.status} type {r.header('Content-Type')}")
        t.ok(f'<img src="/en/org/docs/t1-pack/{name}" alt="Diagram">' in self.get("/en/org/docs/t1-pack/", "t1").text,
             f"{m}: the organisation page shows it at that URL")
        r, same = self.get(f"/en/org/docs/t1-pack/{name}", "t2"), self.get(f"/en/org/docs/no-such-doc/{name}", "t2")
        t.ok(r.status == 404 and same_body(r, same), f"{m}: another tenant's member: 404 like an unknown id")
        for who in ("anonymous", "t1", "t2"):
            r, same = self.get(f"/en/docs/t1-pack/{name}", who), self.get(f"/en/docs/no-such-doc/{name}", who)
            t.ok(r.status == 404 and same_body(r, same),
                 f"{m}: {who} GET /en/docs/t1-pack/<digest>.png (public URL of a tenant image): 404 like an unknown id",
                 f"status {r.status}")
        for bad in (name[:-4] + ".svg", name.upper(), "diagram.png", "../../tenants/t1/docs/"):
            t.eq(404, self.get(f"/en/docs/public-report/{bad}").status, f"{m}: /en/docs/public-report/{bad} is 404")

    def run_all(self):
        self.serving(self.whoami_check, lambda: self.matrix("before NDA", 0), lambda: self.pages("before NDA"),
                     self.body_images,
                     self.nda_flow, lambda: self.matrix("after NDA", 1), self.downloads, self.path_tricks,
                     self.headers_ignored, self.security_headers, self.republish, self.audit_export, self.no_crash)


class AssignedGate(Gate):
    """Every organisation in access mode `assigned` and nobody listed: its members (alice, bob) are
    unlisted, its administrators (carol, by the admin claim) are not."""
    EXTRA = "StpTenantAccessDefault assigned\n"

    def unlisted(self):
        t, m = self.tap, self.mpm
        ask = "have not given you access to your organization"
        t.eq(True, self.whoami("t1").get("user") is not None, f"{m} assigned: alice is signed in")
        for doc in ("t1-pack", "t1-nda-pack"):
            r, unknown = self.get(f"/download/{doc}", "t1"), self.get("/download/no-such-doc", "t1")
            t.ok(r.status == unknown.status == 404 and same_body(r, unknown),
                 f"{m} assigned: unlisted alice GET /download/{doc} -> the unknown id's 404", f"status {r.status}")
            r = self.get(f"/en/org/docs/{doc}/", "t1")
            t.ok(r.status == 403 and ask in r.text and "Tenant one" not in r.text,
                 f"{m} assigned: unlisted alice GET /en/org/docs/{doc}/ -> 403, the unlisted page", f"status {r.status}")
        r = self.get("/download/nda-pentest", "t1")
        t.ok(r.status == 403 and ask in r.text and self.source("nda-pentest") not in r.body
             and "no-store" in (r.header("cache-control") or ""),
             f"{m} assigned: unlisted alice GET /download/nda-pentest -> 403, the unlisted page", f"status {r.status}")
        r = self.get("/en/org/", "t1")
        t.ok(r.status == 403 and ask in r.text and "/en/org/docs/" not in r.text,
             f"{m} assigned: unlisted alice GET /en/org/ -> 403, the unlisted page", f"status {r.status}", r.text[:400])
        for doc in ("public-report", "signin-policy", "licence-guide"):
            r = self.get(f"/download/{doc}", "t1")
            t.ok(r.status == 200 and r.body == self.source(doc),
                 f"{m} assigned: unlisted alice still gets {doc}", f"status {r.status}")
        r = self.get("/stp/search?q=pack&lang=en", "t1", {"Accept": "application/json"})
        t.ok(r.status == 200 and "t1-pack" not in r.text, f"{m} assigned: unlisted alice finds no t1 document",
             r.text[:300])
        # The organisation's administrator is listed by the claim: everything of t1 as before.
        for doc in ("t1-pack", "t1-admin-pack"):
            r = self.get(f"/download/{doc}", "t1admin")
            t.ok(r.status == 200 and r.body == self.source(doc), f"{m} assigned: carol (administrator) gets {doc}",
                 f"status {r.status}")
        t.eq(200, self.get("/en/org/", "t1admin").status, f"{m} assigned: carol opens /en/org/")

    def run_all(self):
        self.serving(self.unlisted, self.no_crash)


def main(tap):
    mpm = sys.argv[1] if len(sys.argv) > 1 else "event"
    Gate(tap, mpm).run_all()
    AssignedGate(tap, mpm).run_all()


if __name__ == "__main__":
    harness.main_guard(main)
