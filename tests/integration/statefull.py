#!/usr/bin/env python3
"""A full state.mdb (docs/architecture.md): past StpStateMapSize a write answers 503 with a log line
that says what to raise, every acknowledged write is still there, and reads keep working.
With --store dbd the same of a full PostgreSQL: past a number of acceptances a trigger fails every
insert with PostgreSQL's disk_full error, as a full disk would. Usage: statefull.py [--store
lmdb|dbd] (prints TAP)."""

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
DBD_ROOM = 300  # acceptances the "disk" of the PostgreSQL variant holds


def fill_at(db, rows):
    """From `rows` acceptances on, PostgreSQL refuses to store one with the error of a full disk."""
    db.psql(f"""
        CREATE FUNCTION stp_test_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT count(*) FROM stp_nda_log) >= {rows} THEN
            RAISE EXCEPTION 'could not extend file "base/16384/16400": No space left on device'
              USING ERRCODE = 'disk_full';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER stp_test_full BEFORE INSERT ON stp_nda_log FOR EACH ROW EXECUTE FUNCTION stp_test_full();""")


def main(tap):
    _, store = harness.suite_args()
    db = harness.open_store(store)
    try:
        fill(tap, db)
    finally:
        if db:
            db.close()


def fill(tap, db):
    run = harness.make_run_dir("stp-statefull.")
    httpd = None
    try:
        content = harness.copy_fixture("gate", os.path.join(run, "content"))
        harness.publish(content, os.path.join(run, "site"))
        port = harness.free_port()
        httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                              {"PORT": port, "PORT2": harness.free_port(), "MPM": "event",
                               "EXTRA": db.httpd_conf() if db else "StpStateMapSize 1M"})
        open(os.path.join(run, "users"), "w").close()
        if db:
            fill_at(db, DBD_ROOM)
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
        full = "PostgreSQL's disk" if db else "the map size"
        tap.ok(first_full is not None and first_full[0] == 503,
               f"a write past {full} answers 503 (after {len(accepted)} acceptances)",
               first_full and first_full[:2])
        if first_full is None:
            return
        tap.ok("<html" in first_full[1] and 'lang="en"' in first_full[1], "... as a page in the site layout")
        log = httpd.error_log()
        if db:
            tap.ok(re.search(r"the PostgreSQL state store: .*No space left on device", log),
                   "... and the error log gives PostgreSQL's reason", log[-1500:])
            tap.eq(DBD_ROOM, len(accepted), f"every one of the {DBD_ROOM} acceptances before it was acknowledged")
        else:
            tap.ok(re.search(r"state\.mdb is full.*StpStateMapSize", log), "... and the error log says what to raise",
                   log[-1500:])
            tap.ok(len(accepted) > 100, f"a 1M map holds {len(accepted)} acceptances before it is full")

        def accepted_by(sub):
            r = harness.request(port, "GET", "/download/nda-pentest", {"X-Test-Sub": sub, "X-Test-Tid": "t1"})
            return r.status

        tap.eq(200, accepted_by(accepted[0]), "the first acknowledged acceptance is still there")
        tap.eq(200, accepted_by(accepted[-1]), "the last acknowledged acceptance is still there")
        tap.eq(302, accepted_by(first_full[2]), "the refused one was not stored")
        if db:
            logged = db.psql("SELECT user_key FROM stp_nda_log ORDER BY seq").splitlines()
            tap.eq([f"{ISSUER}|{sub}" for sub in accepted], logged,
                   "the acceptance log has exactly the acknowledged ones, in order")
            tap.eq(str(len(accepted)), db.psql("SELECT count(*) FROM stp_nda"), "... and so has the acceptances table")
        else:
            r = subprocess.run([harness.STPCTL, "nda-audit", os.path.join(run, "state")], capture_output=True,
                               text=True)
            tap.eq(len(accepted) + 1, len(r.stdout.splitlines()), "the acceptance log has exactly the acknowledged ones")
    finally:
        if httpd:
            httpd.stop()
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
