#!/usr/bin/env python3
"""stpctl notify over the state a real httpd wrote: digests due after a publish, in each user's
language, multipart text and HTML with absolute links and deterministic Message-IDs, recorded only
after the mail command succeeds, exactly once across a run killed between two digests.
Usage: notify.py [--store lmdb|dbd]  (prints TAP; --store dbd: the state in a throw-away PostgreSQL,
written by httpd through mod_dbd and read by stpctl notify --dbd)."""

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from gate import Gate  # noqa: E402
from harness import request  # noqa: E402

CAPTURE = os.path.join(harness.ROOT, "tests", "lib", "capture_sendmail.py")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# user -> (tenant, frequency, language, saved documents)
USERS = {
    "nina": ("t1", "daily", "de", ["soc-2026", "public-report"]),
    "omar": ("t1", "weekly", "ar", ["soc-2025"]),
    "yuki": ("t1", "monthly", "ja", ["soc-2026", "t1-pack"]),
    "lena": ("t2", "daily", "en", ["public-report"]),
    "paul": ("t1", "daily", "en", ["soc-2026"]),
    "quiet": ("t1", "off", "en", ["soc-2026"]),
}


def claims(user):
    tid = USERS[user][0]
    return {"X-Test-Sub": user, "X-Test-Tid": tid, "X-Test-Email": f"{user}@{tid}.example",
            "Cookie": "stp_sid=%032x" % sum(map(ord, user))}  # the user's browser session (CSRF tokens)


class Notify(Gate):
    def setup_users(self):
        for user, (tid, freq, lang, docs) in USERS.items():
            h = claims(user)
            tok = json.loads(request(self.port, "GET", "/stp/library", dict(h, Accept="application/json")).body)["token"]
            for doc in docs:
                body = urllib.parse.urlencode({"csrf": tok, "action": "add", "doc": doc}).encode()
                r = request(self.port, "POST", "/stp/library", dict(h, **FORM), body)
                assert r.status == 303, (user, doc, r.status)
            page = request(self.port, "GET", "/stp/notifications", h).text
            ntok = re.search(r'action="/stp/notifications">.*?name="csrf" value="([0-9a-f]{80})"', page, re.S).group(1)
            body = urllib.parse.urlencode({"csrf": ntok, "frequency": freq, "address": f"{user}@{tid}.example",
                                           "locale": lang}).encode()
            r = request(self.port, "POST", "/stp/notifications", dict(h, **FORM), body)
            assert r.status == 303, (user, r.status, r.text)

    def state_args(self):
        """Where stpctl notify finds the state: the state directory (state.mdb, and StpBaseURL as
        the module records it), and with the PostgreSQL store the database too."""
        dbd = ["--dbd", self.store.params()] if self.store else []
        return ["--state", os.path.join(self.run, "state"), *dbd]

    def notify(self, *args, env=None):
        cmd = [harness.STPCTL, "notify", *self.state_args(), "--site", self.site,
               "--sendmail", f"python3 {CAPTURE}", *args]
        e = dict(os.environ, CAPTURE_DIR=self.capture, **(env or {}))
        return subprocess.run(cmd, capture_output=True, text=True, env=e)

    def messages(self):
        out = []
        for f in sorted(os.listdir(self.capture)):
            if f.endswith(".eml"):
                with open(os.path.join(self.capture, f), "rb") as fh:
                    out.append(email.message_from_bytes(fh.read(), policy=email.policy.default))
        return out

    def publish_changes(self):
        # A new SOC version, and an amended tenant pack that t1 no longer has.
        src = os.path.join(self.content, "docs", "soc-2026")
        dst = os.path.join(self.content, "docs", "soc-2027")
        shutil.copytree(src, dst)
        os.rename(os.path.join(dst, "soc-2026.txt"), os.path.join(dst, "soc-2027.txt"))
        xml = os.path.join(dst, "doc.xml")
        with open(xml, encoding="utf-8") as fh:
            s = fh.read()
        s = (s.replace('id="soc-2026"', 'id="soc-2027"').replace('version="2026"', 'version="2027"')
             .replace("soc-2026.txt", "soc-2027.txt").replace("SOC report 2026", "SOC report 2027")
             .replace(re.search(r"<published>[^<]+</published>", s).group(0),
                      f"<published>{harness.months_ago(__import__('datetime').date.today(), 0).isoformat()}</published>")
             .replace("<files>", '<change xml:lang="en">Covers the new region.</change>\n'
                                 '  <change xml:lang="de">Umfasst die neue Region.</change>\n  <files>'))
        with open(xml, "w", encoding="utf-8") as fh:
            fh.write(s)
        pack = os.path.join(self.content, "docs", "t1-pack")
        with open(os.path.join(pack, "doc.xml"), encoding="utf-8") as fh:
            s = fh.read()
        with open(os.path.join(pack, "doc.xml"), "w", encoding="utf-8") as fh:
            fh.write(s.replace('<tenant ref="t1"/>', '<tenant ref="t2"/>'))
        with open(os.path.join(pack, "t1-pack.txt"), "a", encoding="utf-8") as fh:
            fh.write("Amended.\n")
        harness.publish(self.content, self.site)

    def run_notify(self):
        t = self.tap
        self.capture = os.path.join(self.run, "capture")
        self.httpd.start()
        try:
            self.setup_users()
        finally:
            self.httpd.stop()
        r = self.notify()
        t.ok(r.returncode == 0 and "0 digests sent" in r.stdout and not os.path.exists(self.capture),
             "nothing changed since the saves: no digest", r.stdout + r.stderr)
        if self.store:
            t.eq("0", self.store.psql("SELECT count(*) FROM stp_notify WHERE claimed_by <> '' OR lease_until <> 0"),
                 "... and no claim is left behind on the users it looked at")
        self.publish_changes()
        r = self.notify("--dry-run")
        due = re.findall(r"^would send (<[0-9a-f]{32}@trust\.example\.com>) to (\S+) ", r.stdout, re.M)
        t.ok(r.returncode == 0 and sorted(a for _, a in due) == ["nina@t1.example", "omar@t1.example",
                                                                  "paul@t1.example", "yuki@t1.example"],
             "dry run: one digest due per subscribed user whose documents changed", r.stdout + r.stderr)
        t.ok(not os.path.exists(self.capture), "dry run: nothing sent")
        t.eq(due, re.findall(r"^would send (<[0-9a-f]{32}@trust\.example\.com>) to (\S+) ",
                             self.notify("--dry-run").stdout, re.M), "dry run: records nothing, plans the same")
        ids = dict((a, i) for i, a in due)

        r = self.notify(env={"CAPTURE_FAIL": "1"})
        t.ok(r.returncode == 1 and "tried again on the next run" in r.stderr and "4 failed" in r.stdout,
             "a failing mail command: exit 1, each failure named", r.stdout + r.stderr)
        shutil.rmtree(self.capture)
        r = self.notify(env={"CAPTURE_KILL_AT": "3"})
        t.ok(r.returncode == -9 and len(self.messages()) == 2, "a run killed before its third digest",
             f"rc {r.returncode}, {len(self.messages())} messages")
        os.remove(os.path.join(self.capture, "calls"))
        r = self.notify()
        if self.store:
            # PostgreSQL: the killed run still holds its claim on the third digest (its lease,
            # default 600 s); the restarted run sends the fourth, and the first run after the
            # lease sends the third.
            t.ok(r.returncode == 0 and "1 digests sent" in r.stdout and "1 claimed by another run" in r.stdout,
                 "the restarted run sends the rest but the digest the killed run claimed", r.stdout + r.stderr)
            later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=601)
            r = self.notify("--now", later.strftime("%Y-%m-%dT%H:%M:%SZ"))
            t.ok(r.returncode == 0 and "1 digests sent" in r.stdout and "claimed by another run" not in r.stdout,
                 "after the lease the next run sends the claimed digest", r.stdout + r.stderr)
        else:
            t.ok(r.returncode == 0 and "2 digests sent" in r.stdout, "the restarted run sends the rest",
                 r.stdout + r.stderr)
        msgs = self.messages()
        to = sorted(m["To"].addresses[0].addr_spec for m in msgs)
        t.eq(["nina@t1.example", "omar@t1.example", "paul@t1.example", "yuki@t1.example"], to,
             "every digest exactly once across the kill")
        t.eq(sorted(ids.values()), sorted(m["Message-ID"] for m in msgs),
             "Message-IDs are those planned by the dry run (deterministic)")
        args = open(os.path.join(self.capture, "001.args")).read().split("\n")
        t.ok(args[-2] == "--" and "@t1.example" in args[-1], "the recipient is the command's last argument", args)
        t.eq(["-f", "noreply@trust.example.com"], args[-4:-2],
             "the envelope sender is given as -f, by default the From address")
        r = self.notify()
        t.ok(r.returncode == 0 and "0 digests sent" in r.stdout and len(self.messages()) == 4,
             "a second run sends nothing new", r.stdout)

        by = {m["To"].addresses[0].addr_spec: m for m in msgs}
        nina = by["nina@t1.example"]
        t.eq("Neuigkeiten zu Dokumenten in Ihrer Bibliothek", str(nina["Subject"]), "nina's digest is German")
        t.ok(nina.get_content_type() == "multipart/alternative"
             and [p.get_content_type() for p in nina.iter_parts()] == ["text/plain", "text/html"],
             "multipart/alternative: text and HTML")
        text = nina.get_body(("plain",)).get_content()
        html = nina.get_body(("html",)).get_content()
        t.ok("https://trust.example.com/de/docs/soc-2027/" in text and "Umfasst die neue Region." in text
             and "https://trust.example.com/stp/notifications?lang=de" in text,
             "text part: absolute link, change note, settings link", text)
        t.ok('<a href="https://trust.example.com/de/docs/soc-2027/">' in html and 'lang="de"' in html,
             "HTML part: absolute link, language", html)
        t.ok("public-report" not in text, "an unchanged document is not listed", text)
        t.ok('dir="rtl"' in by["omar@t1.example"].get_body(("html",)).get_content(),
             "Arabic digests are right-to-left")
        yuki = by["yuki@t1.example"].get_body(("plain",)).get_content()
        t.ok("soc-2027" in yuki and "t1-pack" not in yuki and "Tenant one pack" not in yuki,
             "a document whose access the user lost is not notified", yuki)
        t.ok(all(m["Auto-Submitted"] == "auto-generated" and m["Date"] for m in msgs), "Auto-Submitted and Date headers")

        # Windows: a daily user hears again only a day after the last digest.
        self.publish_more()
        r = self.notify("--dry-run")
        t.ok("nina@t1.example" not in r.stdout, "within nina's daily window: nothing yet", r.stdout)
        # (past a day after the latest digest: with PostgreSQL one was recorded 601 s ahead, above)
        tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1, minutes=15))
        r = self.notify("--dry-run", "--now", tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ"))
        t.ok("nina@t1.example" in r.stdout and "omar@t1.example" not in r.stdout,
             "a day later nina's digest is due, omar's weekly one is not", r.stdout)
        r = self.notify("--now", "tomorrow")
        t.ok(r.returncode == 2 and "--now" in r.stderr, "a bad --now is a usage error", r.stderr)
        when = tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ")

        # StpBaseURL, as the module records it in the state directory (config.py checks that it
        # does), makes the links; --base-url still wins.
        recorded = os.path.join(self.run, "state", "base-url")
        with open(recorded, "w", encoding="utf-8") as fh:
            fh.write("https://portal.example.org\n")
        try:
            r = self.notify("--dry-run", "--now", when)
            t.ok(r.returncode == 0 and re.search(r"^would send <[0-9a-f]{32}@portal\.example\.org> to nina@", r.stdout, re.M),
                 "StpBaseURL recorded by the module is used over site.xml's base-url", r.stdout + r.stderr)
            r = self.notify("--dry-run", "--now", when, "--base-url", "https://other.example.net")
            t.ok(r.returncode == 0 and "@other.example.net>" in r.stdout, "--base-url wins over StpBaseURL", r.stdout)
        finally:
            os.remove(recorded)

        # No MTA: said so before any digest, with what to do.
        r = subprocess.run([harness.STPCTL, "notify", *self.state_args(), "--site", self.site,
                            "--now", when, "--sendmail", f"{self.run}/no-mta/sendmail -i"],
                           capture_output=True, text=True)
        t.ok(r.returncode == 2 and r.stderr == f"stpctl notify: no mail command at {self.run}/no-mta/sendmail: "
             "install an MTA or pass --sendmail\n", "a missing mail command is named, with what to do", r.stderr)
        if not os.path.exists("/usr/sbin/sendmail"):
            r = subprocess.run([harness.STPCTL, "notify", *self.state_args(), "--site",
                                self.site, "--now", when], capture_output=True, text=True)
            t.ok(r.returncode == 2 and "no mail command at /usr/sbin/sendmail: install an MTA or pass --sendmail"
                 in r.stderr, "without --sendmail and without an MTA: no mail command at /usr/sbin/sendmail", r.stderr)
        else:
            t.ok(True, "the default mail command # SKIP /usr/sbin/sendmail exists here")
        r = self.notify("--dry-run", "--now", when, env={"PATH": "/nonexistent"})
        t.ok(r.returncode == 0 and "would send" in r.stdout, "a dry run needs no mail command", r.stdout + r.stderr)
        # The envelope sender can be another address than From (bounces to a mailbox someone reads).
        shutil.rmtree(self.capture)
        r = self.notify("--now", when, "--envelope-from", "bounces@trust.example.com")
        args = open(os.path.join(self.capture, "001.args")).read().split("\n") if r.returncode == 0 else []
        mail = self.messages()[0] if r.returncode == 0 else {}
        t.ok(args[-4:-2] == ["-f", "bounces@trust.example.com"] and mail["From"].addresses[0].addr_spec == "noreply@trust.example.com",
             "--envelope-from sets -f and leaves From alone", r.stdout + r.stderr, args)
        r = self.notify("--envelope-from", "-oi@x")
        t.ok(r.returncode == 2 and "not a plain address" in r.stderr, "an envelope sender that is an option is refused",
             r.stderr)


    def run_tenant_move(self):
        """A user who moved from t1 to t2 hears nothing more of t1's documents, and an
        address the provider has not verified is never mailed."""
        t = self.tap
        self.capture = os.path.join(self.run, "capture-move")
        # One e-mail domain for both organisations, so that only the tenant decides.
        mover = {"X-Test-Sub": "mover", "X-Test-Tid": "t1", "X-Test-Email": "mover@group.example",
                 "Cookie": "stp_sid=%032x" % 0x30e}  # each browser's session (CSRF tokens)
        unver = {"X-Test-Sub": "unver", "X-Test-Tid": "t1", "X-Test-Email": "unver@t1.example",
                 "Cookie": "stp_sid=%032x" % 0x34e}
        self.httpd.start()
        try:
            for h, docs in ((mover, ["t1-nda-pack", "public-report"]), (unver, ["public-report"])):
                tok = json.loads(request(self.port, "GET", "/stp/library",
                                         dict(h, Accept="application/json")).body)["token"]
                for doc in docs:
                    body = urllib.parse.urlencode({"csrf": tok, "action": "add", "doc": doc}).encode()
                    t.eq(303, request(self.port, "POST", "/stp/library", dict(h, **FORM), body).status,
                         f"{h['X-Test-Sub']} saves {doc}")
                page = request(self.port, "GET", "/stp/notifications", h).text
                ntok = re.search(r'action="/stp/notifications">.*?name="csrf" value="([0-9a-f]{80})"', page, re.S).group(1)
                body = urllib.parse.urlencode({"csrf": ntok, "frequency": "daily", "address": h["X-Test-Email"],
                                               "locale": "en"}).encode()
                t.eq(303, request(self.port, "POST", "/stp/notifications", dict(h, **FORM), body).status,
                     f"{h['X-Test-Sub']} subscribes daily")
            # The settings page refuses an address while the provider says it is not verified.
            page = request(self.port, "GET", "/stp/notifications", dict(unver, **{"X-Test-Email-Verified": "false"}))
            ntok = re.search(r'action="/stp/notifications">.*?name="csrf" value="([0-9a-f]{80})"', page.text, re.S).group(1)
            body = urllib.parse.urlencode({"csrf": ntok, "frequency": "daily", "address": "unver@t1.example",
                                           "locale": "en"}).encode()
            r = request(self.port, "POST", "/stp/notifications",
                        dict(unver, **FORM, **{"X-Test-Email-Verified": "false"}), body)
            t.eq(400, r.status, "the settings page refuses the address of an unverified e-mail claim")
            # Signed in again: mover now in t2, unver's address no longer verified ("0" as a JSON false).
            who = json.loads(request(self.port, "GET", "/stp/whoami", dict(mover, **{"X-Test-Tid": "t2"})).body)
            t.eq("t2", who["tenant"], "mover signs in with tenant t2")
            request(self.port, "GET", "/stp/whoami", dict(unver, **{"X-Test-Email-Verified": "0"}))
        finally:
            self.httpd.stop()
        pack = os.path.join(self.content, "docs", "t1-nda-pack")
        with open(os.path.join(pack, "doc.xml"), encoding="utf-8") as fh:
            s = fh.read()
        with open(os.path.join(pack, "doc.xml"), "w", encoding="utf-8") as fh:
            fh.write(s.replace("<files>", '<change xml:lang="en">Secret t1 remediation plan.</change>\n  <files>'))
        for doc in ("t1-nda-pack", "public-report"):
            with open(os.path.join(self.content, "docs", doc, f"{doc}.txt"), "a", encoding="utf-8") as fh:
                fh.write("A new version.\n")
        harness.publish(self.content, self.site)
        r = self.notify()
        by = {m["To"].addresses[0].addr_spec: m for m in (self.messages() if os.path.exists(self.capture) else [])}
        t.ok(r.returncode == 0 and "mover@group.example" in by, "the moved user gets a digest", r.stdout + r.stderr)
        text = by["mover@group.example"].get_body(("plain",)).get_content() if "mover@group.example" in by else ""
        html = by["mover@group.example"].get_body(("html",)).get_content() if "mover@group.example" in by else ""
        t.ok("public-report" in text and "t1-nda-pack" not in text + html and "Tenant one NDA pack" not in text + html
             and "Secret t1 remediation plan" not in text + html,
             "the digest after the move names nothing of the old tenant", text)
        t.ok("unver@t1.example" not in by, "an address whose e-mail claim is not verified gets no mail", sorted(by))
        t.ok(re.search(r"^skipped https://idp\.test/\|unver: not sent to unver@t1\.example: .*not verified", r.stdout,
                       re.M) and re.search(r", [1-9]\d* skipped$", r.stdout, re.M),
             "stpctl notify names the skipped unverified address and counts it", r.stdout)

    def publish_more(self):
        with open(os.path.join(self.content, "docs", "public-report", "public-report.txt"), "a") as fh:
            fh.write("Another amendment.\n")
        harness.publish(self.content, self.site)


def main(tap):
    _, store = harness.suite_args()
    db = harness.open_store(store)
    try:
        n = Notify(tap, "event", db)
        try:
            n.run_notify()
            n.run_tenant_move()
        finally:
            if os.environ.get("STP_KEEP") is None:
                shutil.rmtree(n.run, ignore_errors=True)
    finally:
        if db:
            db.close()


if __name__ == "__main__":
    harness.main_guard(main)
