#!/usr/bin/env python3
"""Operating the state (docs/operations.md): a state of the previous format opened by the module
is upgraded with nothing lost; stpctl backup under 64-client write load holds every acknowledged
write, restored elsewhere; restore refuses a state in use and then replaces it; stpctl check finds
a wrong mode and a stale reader; a state of a newer format keeps httpd from starting and is left as
it was. Prints TAP."""

import hashlib
import hmac
import http.client
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

ISSUER = "https://idp.test/"
TOOLS = os.path.join(harness.ROOT, "tests", "tools")
OLD_SUB = "old-alice"


def stpctl(*args):
    return subprocess.run([harness.STPCTL, *args], capture_output=True, text=True)


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def audit_users(state):
    r = stpctl("nda-audit", state)
    if r.returncode != 0:
        raise RuntimeError(f"nda-audit {state}: {r.stderr}")
    return [line.split(",")[1] for line in r.stdout.splitlines()[1:]]


class Acceptor:
    """Posts NDA acceptances, each as a new user, the way the module's form does."""

    def __init__(self, port, secret):
        self.port, self.secret = port, secret

    def accept(self, conn, sub):
        sid, issued = hashlib.sha256(sub.encode()).hexdigest()[:32], "%016x" % int(time.time())
        mac = hmac.new(self.secret, b"\0".join(x.encode() for x in ("stp-csrf-2", f"{ISSUER}|{sub}", sid, "nda",
                                                                     issued)) + b"\0", hashlib.sha256).hexdigest()
        body = urllib.parse.urlencode({"csrf": issued + mac, "version": "v1", "return": "/en/", "lang": "en"})
        conn.request("POST", "/stp/nda", body, {"X-Test-Sub": sub, "X-Test-Tid": "t1", "Cookie": f"stp_sid={sid}",
                                                "Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        return r.status == 303


def downloads(port, sub):
    return harness.request(port, "GET", "/download/nda-pentest", {"X-Test-Sub": sub, "X-Test-Tid": "t1"}).status


def upgrade_not_under(tap, run):
    """stpctl leaves an older state that another process has open (an httpd of the previous
    version, say) to the module, which upgrades it at start."""
    state = os.path.join(run, "state")
    holder = subprocess.Popen([os.path.join(TOOLS, "hold_reader"), state], stdout=subprocess.PIPE, text=True)
    try:
        ready = holder.stdout.readline()
        r = stpctl("nda-audit", state)
        c = stpctl("check", state)
    finally:
        holder.kill()
        holder.wait()
    tap.ok(ready == "reading\n" and r.returncode == 2 and "older format" in r.stderr and "restart httpd" in r.stderr
           and "state.mdb: format 2, older than 3" in c.stdout,
           "upgrade: stpctl does not upgrade a state another process has open, and says why", r.stderr, c.stdout)


def upgrade(tap, run, port, httpd):
    log = httpd.error_log()
    tap.ok("state.mdb upgraded from format 2 to 3" in log, "upgrade: the module logs the upgrade of a format-2 state",
           log[-1500:])
    tap.eq(200, downloads(port, OLD_SUB), "upgrade: the NDA acceptance of the old state still counts")
    lib = json.loads(harness.request(port, "GET", "/stp/library", {"X-Test-Sub": OLD_SUB, "X-Test-Tid": "t1",
                                                                   "Accept": "application/json"}).body)
    tap.ok("soc" in lib.get("series", []), "upgrade: the saved series of the old state is in the library", lib)
    r = stpctl("nda-audit", os.path.join(run, "state"))
    tap.ok(f"{ISSUER}|{OLD_SUB},t1,v1,1" in r.stdout, "upgrade: the acceptance log entry is kept", r.stdout, r.stderr)
    r = stpctl("check", os.path.join(run, "state"))
    tap.ok(r.returncode == 0 and "state.mdb: format 3 (current)" in r.stdout,
           "upgrade: stpctl check sees format 3 and nothing wrong", r.stdout, r.stderr)


def backup_under_load(tap, run, port):
    """64 clients accept the NDA as new users while stpctl backup runs; returns the backup, the
    users acknowledged before it began and those acknowledged after it ended."""
    state = os.path.join(run, "state")
    with open(os.path.join(state, "csrf.key"), "rb") as fh:
        acceptor = Acceptor(port, fh.read())
    acks, lock, stop, errors = [], threading.Lock(), threading.Event(), []
    enough = threading.Event()
    barrier = threading.Barrier(65)

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        n = 0
        while not stop.is_set():
            sub = f"load-{i:02d}-{n:05d}"
            n += 1
            try:
                ok = acceptor.accept(conn, sub)
            except (OSError, http.client.HTTPException):
                # httpd closed the kept-alive connection (MaxKeepAliveRequests): not acknowledged,
                # so either outcome is right; go on with a new one.
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if ok:
                with lock:
                    acks.append((time.monotonic(), sub))
                    if len(acks) >= 300:
                        enough.set()
            else:
                errors.append(sub)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    barrier.wait()
    backup = os.path.join(run, "backup")
    enough.wait(timeout=120)
    began = time.monotonic()
    r = stpctl("backup", state, backup)
    ended = time.monotonic()
    # More writes after the backup, then stop.
    with lock:
        target = len(acks) + 300
    harness.wait_until("more writes after the backup", lambda: len(acks) >= target or errors, timeout=120)
    stop.set()
    for t in threads:
        t.join()
    before = {s for (t, s) in acks if t < began}
    after = {s for (t, s) in acks if t > ended}
    tap.ok(r.returncode == 0 and not errors and len(before) >= 300 and len(after) >= 300,
           f"backup: stpctl backup under 64-client write load ({len(before)} acknowledged before, {len(after)} after)",
           r.stdout, r.stderr, errors[:5])
    www = pwd.getpwnam("www-data")
    modes = {name: (oct(stat.S_IMODE(os.stat(os.path.join(backup, name)).st_mode)),
                    os.stat(os.path.join(backup, name)).st_uid == www.pw_uid)
             for name in (".", "state.mdb", "csrf.key")}
    tap.eq({".": ("0o700", True), "state.mdb": ("0o600", True), "csrf.key": ("0o600", True)}, modes,
           "backup: the copy is 0700/0600 and keeps the owner (www-data)")
    tap.eq(sha256(os.path.join(state, "csrf.key")), sha256(os.path.join(backup, "csrf.key")),
           "backup: the CSRF key is in it")
    again = stpctl("backup", state, backup)
    tap.ok(again.returncode == 2 and "must not exist" in again.stderr, "backup: never writes into an existing OUT",
           again.stderr)
    return backup, before, after, {s for (_, s) in acks}


def restore_elsewhere(tap, run, backup, before, attempted):
    elsewhere = os.path.join(run, "elsewhere")
    r = stpctl("restore", backup, elsewhere)
    tap.ok(r.returncode == 0, "restore: into a new directory while the original is in use elsewhere", r.stdout,
           r.stderr)
    users = audit_users(elsewhere)
    load = {u.split("|", 1)[1] for u in users if u.startswith(f"{ISSUER}|load-")}
    missing = before - load
    tap.ok(not missing, f"restore: every write acknowledged before the backup is there ({len(before)})",
           sorted(missing)[:10])
    tap.ok(load <= attempted and len(users) == len(set(users)),
           "restore: nothing else is, and the acceptance log has each acceptance once")
    tap.ok(f"{ISSUER}|{OLD_SUB}" in users, "restore: the upgraded state's old acceptance came along")
    www = pwd.getpwnam("www-data")
    st = os.stat(os.path.join(elsewhere, "state.mdb"))
    tap.ok(stat.S_IMODE(os.stat(elsewhere).st_mode) == 0o700 and stat.S_IMODE(st.st_mode) == 0o600
           and st.st_uid == www.pw_uid and sha256(os.path.join(elsewhere, "csrf.key")) == sha256(
               os.path.join(backup, "csrf.key")),
           "restore: 0700/0600, owned by www-data as the backup was, with its CSRF key")


def restore_in_place(tap, run, port, httpd, backup, before, after):
    state = os.path.join(run, "state")
    db = os.path.join(state, "state.mdb")
    ino = os.stat(db).st_ino
    r = stpctl("restore", backup, state)
    tap.ok(r.returncode == 1 and "is in use" in r.stderr and "stop httpd" in r.stderr,
           "restore: refuses a state in use (httpd running), saying what to do", r.stdout, r.stderr)
    tap.ok(os.stat(db).st_ino == ino and not [f for f in os.listdir(state) if f.endswith(".restore")],
           "restore: ... and leaves it untouched")
    meanwhile = stpctl("backup", state, os.path.join(run, "backup2"))
    tap.ok(meanwhile.returncode == 0, "restore: (a backup taken meanwhile is not refused: readers never are)",
           meanwhile.stderr)
    httpd.stop()
    r = stpctl("restore", backup, state)
    tap.ok(r.returncode == 0 and os.stat(db).st_ino != ino, "restore: with httpd stopped it replaces the state",
           r.stdout, r.stderr)
    httpd.start()
    tap.eq(200, downloads(port, sorted(before)[0]), "restore: an acceptance from before the backup counts again")
    tap.ok(downloads(port, sorted(after)[-1]) == 302,
           "restore: one acknowledged only after the backup is gone (the state is the backup's)")


def check(tap, run, httpd):
    state = os.path.join(run, "state")
    db = os.path.join(state, "state.mdb")
    r = stpctl("check", state)
    tap.ok(r.returncode == 0 and "0 problems" in r.stdout and "no stale readers" in r.stdout,
           "check: a healthy state while httpd runs: exit 0", r.stdout, r.stderr)
    os.chmod(db, 0o644)
    r = stpctl("check", state)
    os.chmod(db, 0o600)
    tap.ok(r.returncode == 1 and f"{db}: mode 0644, want 0600" in r.stdout, "check: finds a wrong mode (exit 1)",
           r.stdout)
    # httpd clears stale readers whenever it starts a child: stopped, with one live reader keeping
    # the reader table (the last process to close the state takes it with it).
    httpd.stop()
    live = subprocess.Popen([os.path.join(TOOLS, "hold_reader"), state], stdout=subprocess.PIPE, text=True)
    try:
        live_ready = live.stdout.readline()
        holder = subprocess.Popen([os.path.join(TOOLS, "hold_reader"), state], stdout=subprocess.PIPE, text=True)
        ready = holder.stdout.readline()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        r = stpctl("check", state)
        tap.ok(live_ready == ready == "reading\n" and r.returncode == 1
               and f"1 stale reader (process {holder.pid}, gone" in r.stdout and "--fix" in r.stdout,
               "check: finds the stale reader a killed process left (exit 1)", r.stdout, r.stderr)
        r = stpctl("check", state, "--fix")
        tap.ok(r.returncode == 0 and "(cleared)" in r.stdout, "check --fix clears it", r.stdout, r.stderr)
        r = stpctl("check", state)
        tap.ok(r.returncode == 0 and "no stale readers (1 reader slot in use)" in r.stdout,
               "check: none left, the live reader untouched", r.stdout, r.stderr)
    finally:
        live.kill()
        live.wait()
    r = stpctl("check", "--help")
    tap.ok(r.returncode == 0 and "Usage: stpctl check" in r.stdout and "stale" in r.stdout, "check --help")


def newer(tap, run, httpd):
    state = os.path.join(run, "state")
    db = os.path.join(state, "state.mdb")
    httpd.stop()
    subprocess.run([os.path.join(TOOLS, "state_fixture"), "newer", state], check=True)
    before = sha256(db)
    try:
        httpd.start()
        started, why = True, ""
    except RuntimeError as e:
        started, why = False, str(e)
    tap.ok(not started and "written by a newer version of STP" in why and "stpctl restore" in why,
           "newer: httpd does not start on a state of a newer format, and says what to do", why[-1500:])
    r = stpctl("nda-audit", state)
    tap.ok(r.returncode == 2 and "written by a newer version of STP" in r.stderr, "newer: stpctl refuses it too",
           r.stderr)
    r = stpctl("check", state)
    tap.ok(r.returncode == 1 and "format 4, newer than this stpctl's (3)" in r.stdout, "newer: stpctl check says so",
           r.stdout)
    tap.eq(before, sha256(db), "newer: state.mdb is left exactly as it was")


def main(tap):
    run = harness.make_run_dir("stp-stateops.")
    httpd = None
    try:
        content = harness.copy_fixture("gate", os.path.join(run, "content"))
        harness.publish(content, os.path.join(run, "site"))
        port = harness.free_port()
        httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                              {"PORT": port, "PORT2": harness.free_port(), "MPM": "event", "EXTRA": ""})
        open(os.path.join(run, "users"), "w").close()
        # The previous format, written by root as a restore by hand would leave it.
        os.mkdir(os.path.join(run, "state"), 0o700)
        subprocess.run([os.path.join(TOOLS, "state_fixture"), "v2", os.path.join(run, "state"),
                        f"{ISSUER}|{OLD_SUB}", "t1"], check=True)
        upgrade_not_under(tap, run)
        httpd.start()
        upgrade(tap, run, port, httpd)
        backup, before, after, attempted = backup_under_load(tap, run, port)
        restore_elsewhere(tap, run, backup, before, attempted)
        restore_in_place(tap, run, port, httpd, backup, before, after)
        check(tap, run, httpd)
        newer(tap, run, httpd)
    finally:
        if httpd:
            httpd.stop()
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
