#!/usr/bin/env python3
"""Embargo and drafts over a real httpd with the built module (docs/content-format.md, Embargo and
drafts). A document published tomorrow (and a new version of a series a user keeps in My Library)
is absent from every page, feed, sitemap, search result, library, notification mail and download,
answering 404 exactly as an unknown id, until the module's clock (StpTestClockFile, read on every
request) passes its moment; then it is there without a new publication, and the next publication
lists it. A draft is in no normal build and in a --preview build with its banner; a preview build is
never published over a normal site. Usage: embargo.py [prefork|event] (prints TAP)."""

import datetime
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from gate import Gate  # noqa: E402
from harness import request  # noqa: E402

CAPTURE = os.path.join(harness.ROOT, "tests", "lib", "capture_sendmail.py")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Accept": "application/json"}
WORD = "zephyrine"  # only the embargoed documents have it
NOW = datetime.datetime.now(datetime.timezone.utc)
TOMORROW = (NOW + datetime.timedelta(days=1, minutes=10)).date()  # at least 10 minutes away
BEFORE = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
AT = TOMORROW.isoformat() + "T00:00:00Z"  # the moment: tomorrow's midnight, UTC
AFTER = TOMORROW.isoformat() + "T00:00:01Z"
USER = {"X-Test-Sub": "uma", "X-Test-Tid": "t1", "X-Test-Email": "uma@t1.example", "X-Test-Email-Verified": "true",
        "Cookie": "stp_sid=%032x" % 4242}

NEW_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<document id="{id}"{series}>
  <published>{published}</published>
  {draft}<tile ref="audits"/>
  <access level="public"/>
  <title xml:lang="en">{title}</title>
  <summary xml:lang="en">The {word} summary of {id}.</summary>
  <change xml:lang="en">What is new in {id}.</change>
  <files><file href="{id}.txt" type="text/plain"/></files>
</document>
"""

# Every static page and feed that lists documents, and the sitemap.
LISTINGS = ["/en/", "/de/", "/en/whats-new/", "/en/reports/audits/", "/en/feed.xml", "/sitemap.xml"]


def add_doc(content, doc_id, published, title, series="", draft=False):
    d = os.path.join(content, "docs", doc_id)
    os.makedirs(d)
    with open(os.path.join(d, "doc.xml"), "w", encoding="utf-8") as fh:
        fh.write(NEW_DOC.format(id=doc_id, series=series, published=published, title=title, word=WORD,
                                draft="<draft/>\n  " if draft else ""))
    with open(os.path.join(d, "en.md"), "w", encoding="utf-8") as fh:
        fh.write(f"The body of {doc_id}, about {WORD}.\n")
    with open(os.path.join(d, f"{doc_id}.txt"), "w", encoding="utf-8") as fh:
        fh.write(f"The file of {doc_id}.\n")


class Embargo(Gate):
    EXTRA = 'StpTestClockFile "@RUN@/clock"'

    def __init__(self, tap, mpm):
        super().__init__(tap, mpm)
        self.clock(BEFORE)
        self.capture = os.path.join(self.run, "capture")
        # A new standalone report, the next version of the "soc" series, and a draft.
        add_doc(self.content, "embargo-report", TOMORROW.isoformat(), "Embargoed report")
        add_doc(self.content, "soc-2027", TOMORROW.isoformat(), "SOC report 2027", ' series="soc" version="2027"')
        add_doc(self.content, "draft-note", NOW.date().isoformat(), "Draft note", draft=True)

    def clock(self, moment):
        with open(os.path.join(self.run, "clock"), "w", encoding="ascii") as fh:
            fh.write(moment + "\n")

    def sitegen(self, *args):
        return subprocess.run([harness.SITEGEN, *args], capture_output=True, text=True)

    def notify(self, now):
        cmd = [harness.STPCTL, "notify", "--state", os.path.join(self.run, "state"), "--site", self.site,
               "--sendmail", f"python3 {CAPTURE}", "--now", now]
        return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, CAPTURE_DIR=self.capture))

    @staticmethod
    def text(m):
        """A message's decoded text parts."""
        return "\n".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text")

    def mails(self):
        out = []
        for f in sorted(os.listdir(self.capture)) if os.path.isdir(self.capture) else []:
            if f.endswith(".eml"):
                with open(os.path.join(self.capture, f), "rb") as fh:
                    out.append(email.message_from_bytes(fh.read(), policy=email.policy.default))
        return out

    def keep_soc(self):
        """uma keeps soc-2026 in My Library and wants a daily digest."""
        tok = json.loads(request(self.port, "GET", "/stp/library", dict(USER, **JSON)).body)["token"]
        r = request(self.port, "POST", "/stp/library", dict(USER, **FORM),
                    urllib.parse.urlencode({"csrf": tok, "action": "add", "doc": "soc-2026"}).encode())
        assert r.status == 303, r.status
        page = request(self.port, "GET", "/stp/notifications", USER).text
        ntok = re.search(r'action="/stp/notifications">.*?name="csrf" value="([0-9a-f]{80})"', page, re.S).group(1)
        body = urllib.parse.urlencode({"csrf": ntok, "frequency": "daily", "address": USER["X-Test-Email"],
                                       "locale": "en"}).encode()
        r = request(self.port, "POST", "/stp/notifications", dict(USER, **FORM), body)
        assert r.status == 303, r.status
        return tok

    def library_ids(self):
        """The document pages My Library links to."""
        return " ".join(sorted(set(re.findall(r'href="/en/docs/([a-z0-9-]+)/"',
                                              request(self.port, "GET", "/stp/library?lang=en", USER).text))))

    def search(self, who=None):
        r = request(self.port, "GET", f"/stp/search?q={WORD}", dict(who or {}, **JSON))
        return r.status, json.loads(r.body) if r.status == 200 else {}

    def same_as_unknown(self, path, unknown, phase, who=None):
        a, b = request(self.port, "GET", path, who), request(self.port, "GET", unknown, who)
        self.tap.ok(a.status == 404 and b.status == 404 and a.body == b.body.replace(
            unknown.encode(), path.encode()), f"{phase}: {path} answers 404 as the unknown {unknown}",
            f"status {a.status} / {b.status}")

    # --- before the moment ------------------------------------------------------------------

    def before(self):
        t = self.tap
        r = self.sitegen("--check", self.content)
        c = os.path.join(self.content, "docs")
        t.ok(r.returncode == 0 and f"{c}/embargo-report/doc.xml: embargoed until {AT}" in r.stdout.splitlines()
             and f"{c}/soc-2027/doc.xml: embargoed until {AT}" in r.stdout.splitlines()
             and f"{c}/draft-note/doc.xml: draft: only in preview builds (sitegen --preview)" in r.stdout.splitlines(),
             "sitegen --check says what is embargoed until when, and what is a draft, one line each", r.stdout)
        harness.publish(self.content, self.site)
        self.httpd.start()
        self.keep_soc()
        for path in LISTINGS:
            body = request(self.port, "GET", path).text
            t.ok(not re.search(r"embargo-report|soc-2027|draft-note|" + WORD, body),
                 f"before: {path} names no embargoed document and no draft")
        for doc in ("embargo-report", "soc-2027", "draft-note"):
            self.same_as_unknown(f"/en/docs/{doc}/", "/en/docs/no-such-doc/", "before")
            self.same_as_unknown(f"/download/{doc}", "/download/no-such-doc", "before")
        self.same_as_unknown("/download/soc-2026/2027", "/download/soc-2026/1999", "before")
        self.same_as_unknown("/download/embargo-report", "/download/no-such-doc", "before, signed in", USER)
        soc = request(self.port, "GET", "/en/docs/soc-2026/").text
        t.ok("soc-2027" not in soc and "newer" not in soc.lower(), "before: soc-2026's page is the current version")
        for who in (None, USER):
            st, res = self.search(who)
            t.ok(st == 200 and res.get("total") == 0 and not res.get("results"),
                 f"before: search for '{WORD}' finds nothing ({'signed in' if who else 'anonymous'})", str(res)[:300])
        tok = json.loads(request(self.port, "GET", "/stp/library", dict(USER, **JSON)).body)["token"]
        r = request(self.port, "POST", "/stp/library", dict(USER, **FORM),
                    urllib.parse.urlencode({"csrf": tok, "action": "add", "doc": "embargo-report"}).encode())
        u = request(self.port, "POST", "/stp/library", dict(USER, **FORM),
                    urllib.parse.urlencode({"csrf": tok, "action": "add", "doc": "no-such-doc"}).encode())
        t.ok(r.status == 404 and u.status == 404, "before: saving the embargoed document answers 404 as an unknown id",
             f"{r.status} / {u.status}")
        lib = self.library_ids()
        t.ok("soc-2026" in lib and "soc-2027" not in lib and "embargo-report" not in lib,
             "before: My Library shows soc-2026 as the series' current version", lib[:400])
        r = self.notify(BEFORE)
        mails = self.mails()
        t.ok(r.returncode == 0 and not any("soc-2027" in self.text(m) or WORD in self.text(m) for m in mails),
             "before: no digest names the embargoed version", r.stdout + r.stderr)

    # --- after the moment, without publishing ---------------------------------------------------

    def after(self):
        t = self.tap
        self.clock(AFTER)
        r = request(self.port, "GET", "/en/docs/embargo-report/")
        t.ok(r.status == 200 and "Embargoed report" in r.text and "notice preview" not in r.text,
             "after: the document page is served (no republish), without a banner", f"status {r.status}")
        r = request(self.port, "GET", "/en/docs/soc-2027/")
        t.ok(r.status == 200 and "SOC report 2027" in r.text, "after: the new version's page is served",
             f"status {r.status}")
        for doc in ("embargo-report", "soc-2027"):
            r = request(self.port, "GET", f"/download/{doc}")
            t.ok(r.status == 200 and r.body == self.source(doc), f"after: /download/{doc} serves the file",
                 f"status {r.status}")
        r = request(self.port, "GET", "/download/soc-2026/2027")
        t.ok(r.status == 200 and r.body == self.source("soc-2027"), "after: /download/soc-2026/2027 serves it",
             f"status {r.status}")
        self.same_as_unknown("/en/docs/draft-note/", "/en/docs/no-such-doc/", "after")
        self.same_as_unknown("/download/draft-note", "/download/no-such-doc", "after")
        st, res = self.search()
        found = sorted(h.get("id") or h.get("doc") for h in res.get("results", []))
        t.ok(st == 200 and res.get("total") == 2 and found == ["embargo-report", "soc-2027"],
             f"after: search for '{WORD}' finds both documents", str(res)[:400])
        st, res = self.search()
        r = request(self.port, "GET", "/stp/search?q=soc&category=audits", JSON)
        ids = [h.get("id") or h.get("doc") for h in json.loads(r.body).get("results", [])]
        t.ok("soc-2027" in ids and "soc-2026" not in ids, "after: search offers the series' new current version only",
             str(ids))
        lib = self.library_ids()
        t.ok("soc-2027" in lib, "after: My Library shows soc-2027 as the series' current version", lib[:400])
        before = len(self.mails())
        r = self.notify(AFTER)
        new = self.mails()[before:]
        t.ok(r.returncode == 0 and len(new) == 1 and "soc-2027" in self.text(new[0]),
             "after: the digest names the new version", r.stdout + r.stderr + (self.text(new[0]) if new else ""))
        for path in LISTINGS:
            body = request(self.port, "GET", path).text
            t.ok("embargo-report" not in body, f"after: {path} lists it only from the next publication")
        # The next publication, on the day after the moment, lists it.
        r = self.sitegen("-q", "--today", TOMORROW.isoformat(), "-o", self.site, self.content)
        t.ok(r.returncode == 0, "the next publication succeeds", r.stderr)
        for path in LISTINGS:
            body = request(self.port, "GET", path).text
            t.ok("embargo-report" in body and "draft-note" not in body,
                 f"next publication: {path} lists the report (and still no draft)")

    # --- drafts and preview builds ------------------------------------------------------------

    def preview(self):
        t = self.tap
        r = self.sitegen("-q", "--preview", "-o", self.site, self.content)
        t.ok(r.returncode == 2 and "is never published over it" in r.stderr and
             not os.path.exists(os.path.join(self.site, "current", ".preview")),
             "a preview build is refused over a normal site", r.stderr)
        prev = os.path.join(self.run, "preview")
        self.clock(BEFORE)
        content = os.path.join(self.run, "content-preview")
        shutil.copytree(self.content, content)
        site_xml = os.path.join(content, "site.xml")  # the banners in all five locales of the UI
        with open(site_xml, encoding="utf-8") as fh:
            s = fh.read()
        with open(site_xml, "w", encoding="utf-8") as fh:
            fh.write(s.replace('<locale id="de" name="Deutsch"/>',
                               '<locale id="de" name="Deutsch"/><locale id="fr" name="Français"/>'))
        with open(os.path.join(content, "docs", "embargo-report", "doc.xml"), encoding="utf-8") as fh:
            s = fh.read()
        with open(os.path.join(content, "docs", "embargo-report", "doc.xml"), "w", encoding="utf-8") as fh:
            fh.write(re.sub(r"<published>[^<]+</published>", "<published>2099-01-01T09:30:00+01:00</published>", s))
        r = self.sitegen("-q", "--preview", "-o", prev, content)
        t.ok(r.returncode == 0 and os.path.exists(os.path.join(prev, "current", ".preview")),
             "sitegen --preview publishes a marked preview build", r.stderr)
        cur = os.path.join(prev, "current", "public")

        def page(lang, doc):
            for d, _, files in os.walk(os.path.join(cur, lang, "docs"), followlinks=True):
                if f"{doc}.html" in files:
                    with open(os.path.join(d, f"{doc}.html"), encoding="utf-8") as fh:
                        return fh.read()
            return ""

        banners = {"en": ("Draft: not published.", "Embargoed until January 1, 2099 \u206608:30 UTC\u2069"),
                   "de": ("Entwurf", "Gesperrt bis"), "fr": ("Brouillon", "Sous embargo"),
                   "ja": ("下書き", "公開禁止"), "ar": ("مسودة", "محظور النشر حتى 1 يناير 2099 \u206608:30 UTC\u2069")}
        for lang, (draft, embargoed) in banners.items():
            t.ok(draft in page(lang, "draft-note"), f"preview: draft-note's page has the Draft banner in {lang}")
            t.ok(embargoed in page(lang, "embargo-report"),
                 f"preview: embargo-report's page has the Embargoed banner in {lang}", page(lang, "embargo-report")[:0])
        with open(os.path.join(cur, "en", "feed.xml"), encoding="utf-8") as fh:
            feed = fh.read()
        t.ok("draft-note" in feed and "embargo-report" in feed, "preview: the feed lists the draft and the embargoed")
        with open(os.path.join(cur, "en", "index.html"), encoding="utf-8") as fh:
            t.ok("this site shows drafts and embargoed documents" in fh.read(), "preview: every page says it is one")
        r = subprocess.run([harness.STPCTL, "doc", self.site, "draft-note"], capture_output=True, text=True)
        t.ok(r.returncode != 0, "the normal build's catalog has no draft", r.stdout)


def main(tap):
    mpm = sys.argv[1] if len(sys.argv) > 1 else "event"
    e = Embargo(tap, mpm)
    try:
        e.before()
        e.after()
        e.preview()
    finally:
        e.httpd.stop()
        if os.environ.get("STP_KEEP") is None:
            shutil.rmtree(e.run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
