#!/usr/bin/env python3
"""Feedback over a real httpd: the widget on static and module pages, the form, same-origin POSTs
only, the signed-in user's token, bad input, the per-address limit of anonymous answers shared by
every process (parallel clients), JSON for stp.js, and stpctl feedback's exports.
Usage: feedback.py prefork|event  (prints TAP)."""

import csv
import http.client
import io
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
from gate import Gate  # noqa: E402

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Accept": "application/json"}
LIMIT = 6  # StpFeedbackRate below: anonymous answers per address and window


def request_from(source, port, method, target, headers=None, body=None):
    """One request from another loopback address (the limit is per client address)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, target, body, dict(headers or {}))
        resp = conn.getresponse()
        return harness.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


class Feedback(Gate):
    EXTRA = f"StpFeedbackRate {LIMIT} 600"

    def ours(self):
        return {"Sec-Fetch-Site": "same-origin", "Origin": f"http://127.0.0.1:{self.port}"}

    def post(self, fields, who="anonymous", headers=None):
        body = urllib.parse.urlencode(fields).encode()
        return self.get("/stp/feedback", who, dict(FORM, **(headers if headers is not None else self.ours())),
                        "POST", body)

    def export(self, *args):
        return subprocess.run([harness.STPCTL, "feedback", *args, os.path.join(self.run, "state")],
                              capture_output=True, text=True)

    def stored(self):
        r = self.export("--format", "jsonl")
        return [json.loads(line) for line in r.stdout.splitlines()]

    def widget(self):
        t, m = self.tap, self.mpm
        r = self.get("/en/")
        t.ok(r.status == 200 and '<form class="feedback" method="post" action="/stp/feedback"' in r.text
             and '<input type="hidden" name="page" value="/en/">' in r.text
             and 'href="/stp/feedback?lang=en&amp;page=/en/"' in r.text and "Was this page helpful?" in r.text,
             f"{m}: a static page ends with the feedback question and link", r.text[-1500:])
        r = self.get("/stp/search?lang=de&q=report")
        t.ok('<input type="hidden" name="page" value="/stp/search">' in r.text and "q=report" not in r.text.split("War diese Seite")[1]
             and "War diese Seite hilfreich?" in r.text, f"{m}: ... and so does a module page, in its language, about its path without the query")
        r = self.get("/stp/feedback?lang=en&page=%2Fen%2Fdocs%2Fsoc-2026%2F")
        t.ok(r.status == 200 and 'name="page" value="/en/docs/soc-2026/"' in r.text and 'maxlength="2000"' in r.text
             and "Please do not include personal data" in r.text and 'class="feedback"' not in r.text,
             f"{m}: the feedback form has the page pre-filled and the privacy note", r.text[-2000:])

    def anonymous(self):
        t, m = self.tap, self.mpm
        r = self.post({"page": "/en/docs/soc-2026/", "lang": "en", "answer": "yes"})
        loc = r.header("location") or ""
        t.ok(r.status == 303 and loc.startswith("/stp/feedback?thanks=1&") and "ref=1" in loc,
             f"{m}: an anonymous Yes from our page is stored and thanked", f"{r.status} {loc}")
        r = self.get(loc)
        t.ok(r.status == 200 and "Thank you for your feedback." in r.text and 'name="ref" value="1"' in r.text,
             f"{m}: ... the thanks page offers a comment", r.text[-1500:])
        r = self.post({"page": "/en/docs/soc-2026/", "lang": "en", "ref": "1",
                       "comment": '=HYPERLINK("http://evil.example","x"), and "quotes"\r\n+1 <b>bold</b>'})
        t.eq(303, r.status, f"{m}: ... and the comment is stored")
        r = self.post({"page": "/de/", "lang": "de", "answer": "no"}, headers=dict(self.ours(), **JSON))
        res = json.loads(r.body) if r.status == 200 else {}
        t.ok(res.get("stored") is True and res.get("comment") is True and res.get("seq") == 3
             and r.header("content-type") == "application/json" and r.header("cache-control") == "no-store",
             f"{m}: with Accept: application/json the answer is JSON (stp.js)", r.text)
        # Another site's forms and requests that do not say where they come from store nothing.
        for label, hdrs in (("a cross-site form", {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}),
                            ("a same-site subdomain", {"Sec-Fetch-Site": "same-site"}),
                            ("another Origin without Fetch Metadata", {"Origin": "http://evil.example"}),
                            ("Origin null", {"Origin": "null"}),
                            ("no Origin and no Fetch Metadata", {})):
            r = self.post({"page": "/en/", "lang": "en", "answer": "no"}, headers=hdrs)
            t.ok(r.status == 403 and 'class="page-error"' in r.text, f"{m}: {label} -> 403", f"{r.status}")
        t.eq(3, len(self.stored()), f"{m}: ... and nothing of them was stored")

    def bad_input(self):
        t, m = self.tap, self.mpm
        cases = [("a comment of 2,001 characters", {"page": "/en/", "lang": "en", "comment": "a" * 2001}),
                 ("a page of another site", {"page": "//evil.example/", "lang": "en", "answer": "yes"}),
                 ("an unknown language", {"page": "/en/", "lang": "xx", "answer": "yes"}),
                 ("an answer other than yes or no", {"page": "/en/", "lang": "en", "answer": "maybe"}),
                 ("neither answer nor comment", {"page": "/en/", "lang": "en"}),
                 ("a control character", {"page": "/en/", "lang": "en", "comment": "a\x1b[31m"}),
                 ("a comment after a missing answer", {"page": "/en/", "lang": "en", "comment": "x", "ref": "99"})]
        for label, fields in cases:
            r = self.post(fields)
            t.ok(r.status == 400 and "Your feedback was not stored" in r.text, f"{m}: {label} -> 400 saying why",
                 f"{r.status} {r.text[-600:]}")
        body = b"page=%2Fen%2F&lang=en&answer=yes&comment=%ff%fe"
        r = self.get("/stp/feedback", "anonymous", dict(FORM, **self.ours()), "POST", body)
        t.ok(r.status == 400 and 'class="page-error"' in r.text, f"{m}: invalid UTF-8 -> 400 in the site layout")
        r = self.get("/stp/feedback", "anonymous", dict(FORM, **self.ours()), "POST", b"comment=" + b"a" * 40000)
        t.eq(413, r.status, f"{m}: an oversize body -> 413")
        ja = "あ" * 2000  # 2,000 characters of three bytes each
        r = self.post({"page": "/ja/", "lang": "ja", "comment": ja})
        t.eq(303, r.status, f"{m}: 2,000 characters are fine, whatever their bytes")
        t.eq(4, len(self.stored()), f"{m}: ... and nothing else was stored")

    def signed_in(self):
        t, m = self.tap, self.mpm
        fields = {"page": "/en/docs/public-report/", "lang": "en", "answer": "no", "comment": "Needs a summary"}
        r = self.post(fields, "t1")
        tok = re.search(r'action="/stp/feedback">.*?name="csrf" value="([0-9a-f]{80})"', r.text, re.S)
        t.ok(r.status == 403 and tok and "Please confirm" in r.text and ">Needs a summary</textarea>" in r.text,
             f"{m}: a signed-in user's POST without a token is not stored and asks to confirm", r.text[-1500:])
        other = json.loads(self.get("/stp/feedback", "t2", JSON).body)["token"]
        for label, csrf in (("a wrong token", "0" * 80), ("another user's token", other), ("an empty token", "")):
            r = self.post(dict(fields, csrf=csrf), "t1")
            t.eq(403, r.status, f"{m}: {label} -> 403")
        t.eq(4, len(self.stored()), f"{m}: ... nothing stored")
        r = self.post(dict(fields, csrf=tok.group(1) if tok else ""), "t1")
        t.eq(303, r.status, f"{m}: with the confirmation's token it is stored")
        last = self.stored()[-1]
        t.ok(last["user"] == "https://idp.test/|alice" and last["comment"] == "Needs a summary",
             f"{m}: ... with the user", last)

    def rate(self):
        """30 clients of one address at once, spread over the server's processes: exactly the
        limit is stored, the rest is 429; another address is not affected."""
        t, m = self.tap, self.mpm
        before = len(self.stored())
        statuses, lock = [], threading.Lock()
        barrier = threading.Barrier(30)
        body = urllib.parse.urlencode({"page": "/en/", "lang": "en", "answer": "yes"}).encode()

        def client():
            barrier.wait()
            r = request_from("127.0.0.3", self.port, "POST", "/stp/feedback", dict(FORM, **self.ours()), body)
            with lock:
                statuses.append((r.status, r.header("retry-after"), "Too many requests" in r.text))

        threads = [threading.Thread(target=client) for _ in range(30)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ok = [s for s in statuses if s[0] == 303]
        limited = [s for s in statuses if s[0] == 429]
        t.ok(len(ok) == LIMIT and len(limited) == 30 - LIMIT, f"{m}: 30 parallel answers from one address: "
             f"{LIMIT} stored, the rest 429", sorted(statuses))
        t.ok(all(s[1] == "600" and s[2] for s in limited), f"{m}: ... 429 in the site layout with Retry-After")
        t.eq(before + LIMIT, len(self.stored()), f"{m}: ... and only those were stored")
        r = request_from("127.0.0.4", self.port, "POST", "/stp/feedback", dict(FORM, **self.ours()), body)
        t.eq(303, r.status, f"{m}: another address is not limited by it")
        tok = json.loads(self.get("/stp/feedback", "t2", JSON).body)["token"]
        for _ in range(LIMIT + 1):
            r = self.post({"page": "/en/", "lang": "en", "answer": "yes", "csrf": tok}, "t2")
        t.eq(303, r.status, f"{m}: signed-in users are not limited per address")

    def stpctl_export(self):
        t, m = self.tap, self.mpm
        r = self.export()
        rows = list(csv.reader(io.StringIO(r.stdout)))
        t.ok(r.returncode == 0 and rows and rows[0] == ["seq", "time", "page", "lang", "answer", "comment", "user", "ref"],
             f"{m}: stpctl feedback prints CSV with a header", r.stdout[:300], r.stderr[:300])
        comment = [row for row in rows[1:] if row[0] == "2"]
        t.ok(comment and comment[0][5] == "'=HYPERLINK(\"http://evil.example\",\"x\"), and \"quotes\"\n+1 <b>bold</b>"
             and comment[0][7] == "1", f"{m}: ... a formula gets an apostrophe, quotes and line breaks survive", comment)
        t.ok(re.search(r"^\d+ 1 /de/$", r.stderr, re.M) and re.search(r"^1 0 /en/docs/soc-2026/$", r.stderr, re.M),
             f"{m}: ... then per-page helpful / not helpful counts on standard error", r.stderr)
        lines = self.export("--format", "jsonl").stdout.splitlines()
        entries = [json.loads(line) for line in lines]
        second = [e for e in entries if e["seq"] == 2]
        t.ok(second and second[0]["comment"] == '=HYPERLINK("http://evil.example","x"), and "quotes"\n+1 <b>bold</b>'
             and second[0]["answer"] is None and second[0]["user"] is None and second[0]["ref"] == 1
             and "<" not in lines[1], f"{m}: JSON lines keep the text exactly, escaped", lines[:3])
        r = self.export("--counts")
        counts = {row[0]: (row[1], row[2]) for row in csv.reader(io.StringIO(r.stdout))}
        yes = sum(1 for e in entries if e["page"] == "/en/" and e["answer"] == "yes")
        t.ok(counts.get("page") == ("yes", "no") and counts.get("/en/") == (str(yes), "0") and not r.stderr,
             f"{m}: --counts prints only the counts, as CSV", r.stdout)
        r = self.export("--counts", "--format", "jsonl")
        t.ok(json.loads(r.stdout.splitlines()[0]).keys() == {"page", "yes", "no"}, f"{m}: ... or JSON lines", r.stdout)
        r = subprocess.run([harness.STPCTL, "feedback", os.path.join(self.run, "no-such-state")],
                           capture_output=True, text=True)
        t.ok(r.returncode == 2 and "cannot open" in r.stderr and not os.path.exists(os.path.join(self.run, "no-such-state")),
             f"{m}: stpctl feedback without a state says so and creates nothing", r.stderr)
        r = subprocess.run([harness.STPCTL, "feedback", "--format", "xml", "x"], capture_output=True, text=True)
        t.ok(r.returncode == 2 and "Usage: stpctl feedback" in r.stderr, f"{m}: an unknown format -> usage, 2")

    def run_feedback(self):
        self.serving(self.widget, self.anonymous, self.bad_input, self.signed_in, self.rate, self.stpctl_export,
                     self.no_crash)


def main(tap):
    mpm = sys.argv[1] if len(sys.argv) > 1 else "event"
    Feedback(tap, mpm).run_feedback()


if __name__ == "__main__":
    harness.main_guard(main)
