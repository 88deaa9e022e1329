#!/usr/bin/env python3
"""Digests on several nodes (the PostgreSQL store): two stpctl notify runs started together send
each due digest exactly once; a run killed between claiming a digest and recording it leaves that
digest to the first run after its lease, and every other digest still goes out once. Prints TAP."""

import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import pg  # noqa: E402

CAPTURE = os.path.join(harness.ROOT, "tests", "lib", "capture_sendmail.py")
NOW = "2026-11-30T08:00:00Z"
LATER = "2026-11-30T08:10:01Z"  # past a 600-second lease, within the daily window


def add_users(db, first, last):
    """Users first..last: verified addresses, daily digests due, public-report saved and changed since."""
    db.psql(f"""
        INSERT INTO stp_users SELECT 'https://idp.test/|u' || n, '', 'u' || n || '@example.com', true, 0, false, false, ''
          FROM generate_series({first}, {last}) n;
        INSERT INTO stp_notify (user_key, freq, address, locale, tenant, last_digest)
          SELECT 'https://idp.test/|u' || n, 1, 'u' || n || '@example.com', 'en', '', 0 FROM generate_series({first}, {last}) n;
        INSERT INTO stp_library SELECT 'https://idp.test/|u' || n, 'public-report', 'public-report', 'old', 'old', 0
          FROM generate_series({first}, {last}) n;""")


def notify(db, site, capture, now, extra_env=None, wait=True):
    env = dict(os.environ, CAPTURE_DIR=capture, **(extra_env or {}))
    argv = [harness.STPCTL, "notify", "--dbd", db.params(), "--site", site, "--sendmail", f"python3 {CAPTURE}",
            "--base-url", "https://trust.example.com", "--now", now, "-q"]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate()
    return p.returncode, out, err


def recipients(*dirs):
    got = collections.Counter()
    for d in dirs:
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(".args"):
                got[open(os.path.join(d, name)).read().split("\n")[-1]] += 1
    return got


def main(tap):
    run = harness.make_run_dir("stp-dbdnotify.")
    with pg.Postgres() as db:
        r = subprocess.run([harness.STPCTL, "state-init", "--dbd", db.params()], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "the schema is created", r.stderr)
        content = harness.copy_fixture("gate", os.path.join(run, "content"))
        site = os.path.join(run, "site")
        harness.publish(content, site)
        add_users(db, 1, 40)

        # Two runs at once, as cron starts them on two nodes.
        a, b = os.path.join(run, "a"), os.path.join(run, "b")
        procs = [notify(db, site, d, NOW, wait=False) for d in (a, b)]
        outs = [(p.wait(), p.stdout.read(), p.stderr.read()) for p in procs]
        tap.ok(all(o[0] == 0 for o in outs), "both runs succeed", outs)
        got = recipients(a, b)
        want = {f"u{n}@example.com" for n in range(1, 41)}
        tap.eq(want, set(got), "every due digest went out")
        tap.ok(all(c == 1 for c in got.values()), "... each exactly once between the two runs",
               [k for k, c in got.items() if c != 1])
        tap.eq("40", db.psql("SELECT count(*) FROM stp_notify WHERE last_digest > 0 AND claimed_by = '' "
                             "AND lease_until = 0"), "all 40 recorded as sent, no claim left behind")
        tap.eq("40", db.psql("SELECT count(*) FROM stp_library WHERE seen <> 'old'"),
               "the library entries are marked as heard of")
        # Again: nothing is due.
        c = os.path.join(run, "c")
        rc, out, err = notify(db, site, c, NOW)
        tap.ok(rc == 0 and not recipients(c), "a second run in the window sends nothing", out, err)

        # A run killed between claiming the 4th digest and recording it.
        add_users(db, 41, 50)
        k1, k2, k3 = (os.path.join(run, x) for x in ("k1", "k2", "k3"))
        rc, out, err = notify(db, site, k1, NOW, {"CAPTURE_KILL_AT": "4"})
        tap.ok(rc < 0, "the run is killed at its 4th digest", rc, err)
        tap.eq(3, sum(recipients(k1).values()), "... after sending 3")
        held = db.psql("SELECT count(*) FROM stp_notify WHERE claimed_by <> '' AND last_digest = 0")
        tap.eq("1", held, "... leaving one digest claimed and not recorded")
        rc, out, err = notify(db, site, k2, NOW)
        tap.ok(rc == 0 and "1 claimed by another run" in out, "a run within the lease leaves that digest alone",
               out, err)
        tap.eq(6, sum(recipients(k2).values()), "... and sends the other 6")
        rc, out, err = notify(db, site, k3, LATER)
        tap.eq(1, sum(recipients(k3).values()), "after the lease the next run sends it")
        got = recipients(k1, k2, k3)
        tap.ok(set(got) == {f"u{n}@example.com" for n in range(41, 51)} and all(c == 1 for c in got.values()),
               "each of the 10 digests went out exactly once across the killed run and the two after it", got)
        tap.eq("0", db.psql("SELECT count(*) FROM stp_notify WHERE claimed_by <> ''"), "no claim is left")
    harness.shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
