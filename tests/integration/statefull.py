#!/usr/bin/env python3
"""A full state.mdb (docs/architecture.md): past StpStateMapSize a write answers 503 with a log line
that says what to raise, every acknowledged write is still there, and reads keep working.
Prints TAP."""

import hashlib
import hmac
import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

ISSUER = "https://idp.test/"


def main(tap):
    run = harness.make_run_dir("stp-statefull.")
    httpd = None
    try:
        content = harness.copy_fixture("gate", os.path.join(run, "content"))
        harness.publish(content, os.path.join(run, "site"))
        port = harness.free_port()
        httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                              {"PORT": port, "PORT2": harness.free_port(), "MPM": "event",
                               "EXTRA": "StpStateMapSize 1M"})
        open(os.path.join(run, "users"), "w").close()
        httpd.start()
        with open(os.path.join(run, "state", "csrf.key"), "rb") as fh:
            secret = fh.read()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        accepted, first_full = [], None
        for i in range(50000):
            sub = f"user-{i:05d}-" + "x" * 40
            # The module's token (stp_csrf.h): issue time, then the MAC over user, session, purpose, time.
            sid, issued = "%032x" % i, "%016x" % int(time.time())
            mac = hmac.new(secret, b"\0".join(x.encode() for x in ("stp-csrf-2", f"{ISSUER}|{sub}", sid, "nda", issued))
                           + b"\0", hashlib.sha256).hexdigest()
            body = urllib.parse.urlencode({"csrf": issued + mac, "version": "v1", "return": "/en/", "lang": "en"})
            conn.request("POST", "/stp/nda", body, {"X-Test-Sub": sub, "X-Test-Tid": "t1", "Cookie": f"stp_sid={sid}",
                                                    "Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            page = r.read()
            if r.status == 303:
                accepted.append(sub)
                continue
            first_full = (r.status, page.decode("utf-8", "replace"), sub)
            break
        conn.close()
        tap.ok(first_full is not None and first_full[0] == 503,
               f"a write past the map size answers 503 (after {len(accepted)} acceptances)",
               first_full and first_full[:2])
        if first_full is None:
            return
        tap.ok("<html" in first_full[1] and 'lang="en"' in first_full[1], "... as a page in the site layout")
        log = httpd.error_log()
        tap.ok(re.search(r"state\.mdb is full.*StpStateMapSize", log), "... and the error log says what to raise",
               log[-1500:])
        tap.ok(len(accepted) > 100, f"a 1M map holds {len(accepted)} acceptances before it is full")

        def accepted_by(sub):
            r = harness.request(port, "GET", "/download/nda-pentest", {"X-Test-Sub": sub, "X-Test-Tid": "t1"})
            return r.status

        tap.eq(200, accepted_by(accepted[0]), "the first acknowledged acceptance is still there")
        tap.eq(200, accepted_by(accepted[-1]), "the last acknowledged acceptance is still there")
        tap.eq(302, accepted_by(first_full[2]), "the refused one was not stored")
        r = subprocess.run([harness.STPCTL, "nda-audit", os.path.join(run, "state")], capture_output=True, text=True)
        tap.eq(len(accepted) + 1, len(r.stdout.splitlines()), "the acceptance log has exactly the acknowledged ones")
    finally:
        if httpd:
            httpd.stop()
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
