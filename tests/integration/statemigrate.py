#!/usr/bin/env python3
"""Moving a state between stores (docs/operations.md, "Moving a state between stores"): a rich LMDB
state written by libstp itself (tests/tools/state_fill: users, NDA acceptances and their log,
libraries with digest records, notification settings, organisations with people and their log,
feedback with awkward text) goes LMDB -> PostgreSQL -> a new LMDB with stpctl state-export and
state-import, and every dump along the way is the same, record for record and byte for byte. The
PostgreSQL copy works as a state (its logs go on after the imported numbers). Refusals change
nothing: a non-empty target, a truncated dump, a corrupted line, an unknown kind, a trailer whose
counts lie, a schema-less database. Prints TAP."""

import json
import os
import shutil
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import pg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gate import ACCOUNTS  # noqa: E402

FILL = os.path.join(harness.ROOT, "tests", "tools", "state_fill")
KINDS = ["user", "nda", "nda_log", "library", "notify", "org", "org_person", "org_log", "feedback"]
WANT = {"user": 4, "nda": 4, "nda_log": 4, "library": 9, "notify": 3, "org": 2, "org_person": 3, "org_log": 9,
        "feedback": 6}


def stpctl(*args, stdin=None):
    r = subprocess.run([harness.STPCTL, *args], input=stdin, capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


def export(*store):
    rc, out, err = stpctl("state-export", *store)
    if rc != 0:
        raise RuntimeError(f"state-export {store}: {err}")
    return out


def lines(dump):
    """The dump's lines (bytes), split only at LF as the format says."""
    return dump.rstrip(b"\n").split(b"\n")


def body(dump):
    """Everything but the header, whose store field names where it came from."""
    return lines(dump)[1:]


def records(dump):
    return [json.loads(line) for line in lines(dump)]


def main(tap):
    tmp = harness.make_run_dir("stp-migrate.")  # 0755: stpctl check opens state.mdb as httpd's User
    try:
        with pg.Postgres() as db:
            run(tap, db, tmp)
            module_check(tap, db, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def node(name, extra=""):
    """An httpd with the module on the gate fixture: its state in StpStateDir, or as `extra` says."""
    run = harness.make_run_dir(f"stp-migrate-{name}.")
    content = harness.copy_fixture("gate", os.path.join(run, "content"))
    harness.publish(content, os.path.join(run, "site"))
    open(os.path.join(run, "users"), "w").close()
    port = harness.free_port()
    httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                          {"PORT": port, "PORT2": harness.free_port(), "MPM": "event", "EXTRA": extra})
    return run, port, httpd


def library(port, who):
    r = harness.request(port, "GET", "/stp/library", dict(ACCOUNTS[who], Accept="application/json"))
    return json.loads(r.body) if r.status == 200 else {"status": r.status}


def module_check(tap, db, tmp):
    """What a user saved on an httpd with state.mdb is listed by an httpd on PostgreSQL after the move."""
    run_a, port_a, a = node("lmdb")
    run_b = None
    try:
        a.start()
        tok = library(port_a, "t1").get("token")
        body = urllib.parse.urlencode({"csrf": tok or "", "action": "add", "doc": "public-report"}).encode()
        r = harness.request(port_a, "POST", "/stp/library", dict(ACCOUNTS["t1"], Accept="application/json", **{
            "Content-Type": "application/x-www-form-urlencoded"}), body)
        tap.eq(200, r.status, "module: a save on the httpd with state.mdb")
        tap.eq(["public-report"], library(port_a, "t1").get("series"), "module: ... listed there")
        a.stop()
        dump = export("--state", os.path.join(run_a, "state"))
        db.psql("CREATE DATABASE moved")
        params = db.params().replace("dbname=stp", "dbname=moved")
        stpctl("state-init", "--dbd", params)
        rc, out, err = stpctl("state-import", "--dbd", params, stdin=dump)
        tap.ok(rc == 0, "module: the state moves into PostgreSQL", rc, out, err)
        run_b, port_b, b = node("dbd", f"LoadModule dbd_module {harness.module_dir()}/mod_dbd.so\n"
                                       f"DBDriver pgsql\nDBDParams \"{params} connect_timeout=2\"\nStpStateStore dbd")
        b.start()
        try:
            tap.eq(["public-report"], library(port_b, "t1").get("series"),
                   "module: the httpd on PostgreSQL lists what was saved on the one with state.mdb")
        finally:
            b.stop()
    finally:
        a.stop()
        for run in (run_a, run_b):
            if run:
                shutil.rmtree(run, ignore_errors=True)


def run(tap, db, tmp):
    dbd = db.params()
    src, back = os.path.join(tmp, "src"), os.path.join(tmp, "back")
    r = subprocess.run([FILL, src], capture_output=True, text=True)
    tap.ok(r.returncode == 0, "state_fill writes a rich LMDB state through libstp", r.stderr)

    # LMDB -> dump
    d1 = export("--state", src)
    recs = records(d1)
    tap.eq({"kind": "header", "format": 1, "store": "lmdb"}, recs[0], "the first line is the header (format, store)")
    tap.eq(dict({"kind": "trailer"}, **WANT), recs[-1], "the last line is the trailer with the count of each kind")
    counted = {k: sum(1 for x in recs[1:-1] if x["kind"] == k) for k in KINDS}
    tap.eq(WANT, counted, "every kind of record is there, as many as the trailer says")
    tap.ok(all(line.startswith(b"{") and line.endswith(b"}") for line in lines(d1)), "one JSON object per line")
    fb = [x for x in recs if x["kind"] == "feedback"]
    tap.eq("Quotes \"double\" and 'single', a backslash \\ and a slash /", fb[1]["comment"],
           "quotes and backslashes come back from the JSON as they were")
    tap.eq("Lines:\nsecond line\nthird\twith a tab", fb[2]["comment"], "line breaks and tabs too (one record, one line)")
    tap.eq("Non-ASCII: \u00e9\u00e8 \u65e5\u672c\u8a9e \U0001f389 \u2028 end", fb[3]["comment"],
           "non-ASCII too (4-byte UTF-8, U+2028)")
    tap.ok(b"\\u2028" in d1 and "\u00e9".encode() in d1, "... U+2028 escaped, other non-ASCII written as UTF-8")
    tap.eq(1, fb[5]["ref"], "a comment keeps the number of the answer it follows")
    users = [x for x in recs if x["kind"] == "user"]
    tap.eq("clearance\tsecret\nregion\t\u00dcber \"all\"\n", users[2]["claims"], "a user's claims, tabs and all")
    tap.eq("carol \"c\" \u00e9\u65e5@idp", users[2]["user"], "a user key with a quote and non-ASCII")
    lib = [x for x in recs if x["kind"] == "library" and x["user"] == "bob@idp" and x["series"] == "soc"]
    notify = [x for x in recs if x["kind"] == "notify" and x["user"] == "bob@idp"]
    tap.ok(lib and lib[0]["seen"] == "fp11111111111111" and notify and notify[0]["last_digest"] == 1700000000000500,
           "the digest bookkeeping is there (what was told, when)", lib, notify)
    tap.eq([1, 2, 3, 4, 5, 6, 7, 8, 9], [x["seq"] for x in recs if x["kind"] == "org_log"],
           "the organisations' log in order, numbers kept")

    # -o FILE: the same dump
    out = os.path.join(tmp, "d1.jsonl")
    rc, _, err = stpctl("state-export", "--state", src, "-o", out)
    tap.ok(rc == 0 and open(out, "rb").read() == d1 and not os.path.exists(out + ".tmp"),
           "-o FILE writes the same dump to FILE", rc, err)
    tap.ok("exported: user 4 nda 4 nda_log 4 library 9 notify 3 org 2 org_person 3 org_log 9 feedback 6 (44 records)"
           in err, "state-export prints the counts on standard error", err)

    # -> PostgreSQL: needs the schema
    rc, out, err = stpctl("state-import", "--dbd", dbd, stdin=d1)
    tap.ok(rc == 1 and "no STP schema: run stpctl state-init" in err, "a database without the schema is refused",
           rc, err)
    tap.eq("", db.psql("SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"),
           "... and nothing is created")
    rc, _, err = stpctl("state-init", "--dbd", dbd)
    tap.ok(rc == 0, "state-init", err)
    rc, out, err = stpctl("state-import", "--dbd", dbd, stdin=d1)
    tap.ok(rc == 0 and b"imported: user 4 nda 4 nda_log 4 library 9 notify 3 org 2 org_person 3 org_log 9 "
           b"feedback 6 (44 records)" in out, "state-import into PostgreSQL prints the counts", rc, out, err)
    tap.eq("4|4|4|9|3|2|3|9|6", db.psql(
        "SELECT (SELECT count(*) FROM stp_users) || '|' || (SELECT count(*) FROM stp_nda) || '|' || "
        "(SELECT count(*) FROM stp_nda_log) || '|' || (SELECT count(*) FROM stp_library) || '|' || "
        "(SELECT count(*) FROM stp_notify) || '|' || (SELECT count(*) FROM stp_orgs) || '|' || "
        "(SELECT count(*) FROM stp_org_people) || '|' || (SELECT count(*) FROM stp_org_log) || '|' || "
        "(SELECT count(*) FROM stp_feedback)"), "the tables hold as many rows as the dump")
    tap.eq("Non-ASCII: \u00e9\u00e8 \u65e5\u672c\u8a9e \U0001f389 \u2028 end",
           db.psql("SELECT comment FROM stp_feedback WHERE seq = 4"), "PostgreSQL holds the text as it was")

    # PostgreSQL -> dump: the same records
    d2 = export("--dbd", dbd)
    tap.eq({"kind": "header", "format": 1, "store": "pgsql"}, records(d2)[0], "the header names PostgreSQL")
    tap.ok(body(d2) == body(d1), "PostgreSQL's dump equals LMDB's, byte for byte after the header",
           [(a, b) for a, b in zip(body(d1), body(d2)) if a != b][:3])

    # -> a new LMDB, created as the module would
    rc, out, err = stpctl("state-import", "--state", back, stdin=d2)
    tap.ok(rc == 0 and b"(44 records)" in out, "state-import into a new LMDB state directory", rc, out, err)
    tap.ok(f"created {back}: run stpctl check {back} --fix".encode() in out, "... and says how to give it to httpd",
           out)
    rc, out, err = stpctl("check", back)
    tap.ok(b"state.mdb: format 3 (current)" in out and b"mode" not in out, "stpctl check: state.mdb at this build's "
           "format, the directory 0700 (only the owner to fix)", rc, out, err)
    stpctl("check", back, "--fix")
    rc, out, err = stpctl("check", back)
    tap.ok(rc == 0 and b"0 problems" in out, "... and after check --fix, nothing", rc, out, err)
    d3 = export("--state", back)
    tap.ok(d3 == d1, "the round trip LMDB -> PostgreSQL -> LMDB gives the same dump, header and all",
           [(a, b) for a, b in zip(lines(d1), lines(d3)) if a != b][:3])
    rc, out, err = stpctl("nda-audit", back)
    tap.ok(rc == 0 and b'"carol ""c"" \xc3\xa9\xe6\x97\xa5@idp",acme,v2 \xe2\x80\x94 2026,3' in out and out.count(b"\n") == 5,
           "the new state works for stpctl (nda-audit lists the 4 acceptances)", out, err)

    # Escapes a writer may choose otherwise (\u for non-ASCII, a surrogate pair, \/) read as the same text.
    escaped = (d1.replace("\u00e9\u00e8".encode(), b"\\u00e9\\u00E8").replace("\U0001f389".encode(), b"\\ud83c\\udf89")
               .replace(b"a slash /", b"a slash \\/"))
    tap.ok(escaped != d1, "(a dump with other escapes)")
    other = os.path.join(tmp, "other")
    rc, out, err = stpctl("state-import", "--state", other, stdin=escaped)
    tap.ok(rc == 0 and export("--state", other) == d1, "\\u escapes, surrogate pairs and \\/ import as the same "
           "text", rc, err)

    # The PostgreSQL copy goes on: new log entries get numbers after the imported ones.
    db.psql("INSERT INTO stp_feedback (at, page, lang, answer, comment, user_key, ref) "
            "VALUES (1, '/en/x/', 'en', 'yes', '', '', 0)")
    tap.eq("7", db.psql("SELECT max(seq) FROM stp_feedback"), "the feedback log's sequence goes on at 7")
    tap.eq("10", db.psql("SELECT nextval(pg_get_serial_sequence('stp_org_log', 'seq'))"),
           "the organisations' log at 10")
    tap.eq("5", db.psql("SELECT nextval(pg_get_serial_sequence('stp_nda_log', 'seq'))"), "the NDA log at 5")
    db.psql("DELETE FROM stp_feedback WHERE seq = 7")

    refusals(tap, db, tmp, d1, src)


def refusals(tap, db, tmp, d1, src):
    dbd = db.params()
    pg_before = export("--dbd", dbd)
    lmdb_before = export("--state", src)

    rc, out, err = stpctl("state-import", "--dbd", dbd, stdin=d1)
    tap.ok(rc == 1 and "the target already holds state (user 4, nda 4" in err and "nothing was imported" in err,
           "a non-empty PostgreSQL target is refused", rc, err)
    rc, out, err = stpctl("state-import", "--state", src, stdin=d1)
    tap.ok(rc == 1 and "already holds state" in err, "a non-empty LMDB target is refused", rc, err)
    tap.ok(export("--dbd", dbd) == pg_before and export("--state", src) == lmdb_before, "... both unchanged")

    ls = lines(d1)
    bad_dumps = {
        "a truncated dump (no trailer)": (b"\n".join(ls[:20]) + b"\n", "truncated: no trailer after line 20"),
        "a dump cut inside a line": (b"\n".join(ls)[:len(b"\n".join(ls[:20])) + 30], "line 21:"),
        "a corrupted line": (b"\n".join(ls[:7] + [ls[7][:-5] + b"x\"}"] + ls[8:]) + b"\n", "line 8:"),
        "an unknown kind": (b"\n".join(ls[:5] + [b'{"kind":"gadget","user":"x"}'] + ls[5:]) + b"\n",
                            "line 6: unknown kind \"gadget\""),
        "a field missing": (b"\n".join(ls[:2] + [ls[2].replace(b',"unlisted":false', b"")] + ls[3:]) + b"\n",
                            "line 3: user: the field \"unlisted\" is missing"),
        "a trailer whose counts lie": (b"\n".join(ls[:-1] + [ls[-1].replace(b'"feedback":6', b'"feedback":7')]) + b"\n",
                                       "the counts of feedback do not agree: 7 in the trailer, 6 lines read"),
        # LMDB finds the second key at its line; PostgreSQL's upsert leaves one row, which the counts find
        "a record twice": (b"\n".join(ls[:2] + [ls[1]] + ls[2:]) + b"\n",
                           ("line 3 (user): a second record with the same key",
                            "the counts of user do not agree: 4 in the trailer, 5 lines read, 4 in the target")),
        "a line after the trailer": (d1 + ls[1] + b"\n", "a line after the trailer"),
        "no header": (b"\n".join(ls[1:]) + b"\n", "line 1: no header"),
        "another format": (d1.replace(b'"format":1', b'"format":2', 1), "format is not 1"),
        "an empty input": (b"", "the dump is empty"),
        "a NUL in a string": (b"\n".join(ls[:2] + [ls[2].replace(b'"tenant":"acme"', b'"tenant":"ac\\u0000me"')]
                                         + ls[3:]) + b"\n", "line 3: a NUL character"),
        "text that is not UTF-8": (b"\n".join(ls[:2] + [ls[2].replace(b"acme", b"ac\xffme", 1)] + ls[3:]) + b"\n",
                                   "line 3: text that is not UTF-8"),
    }
    for store_name in ("PostgreSQL", "LMDB"):
        if store_name == "PostgreSQL":
            db.psql("TRUNCATE stp_users, stp_nda, stp_nda_log, stp_library, stp_notify, stp_orgs, stp_org_people, "
                    "stp_org_log, stp_feedback")
            target = ("--dbd", dbd)
        else:
            target = ("--state", os.path.join(tmp, "empty"))
            # A refused import into a new directory leaves it as the module would create it: empty.
            rc, out, err = stpctl("state-import", *target, stdin=bad_dumps["a corrupted line"][0])
            tap.ok(rc == 1 and os.path.exists(os.path.join(tmp, "empty", "state.mdb")),
                   "LMDB: a refused import into a new directory leaves an empty state there", rc, err)
        empty = export(*target)
        tap.ok(len(lines(empty)) == 2 and records(empty)[1] == dict({"kind": "trailer"}, **{k: 0 for k in KINDS}),
               f"{store_name}: the target is empty before", empty)
        for what, (dump, msg) in bad_dumps.items():
            rc, out, err = stpctl("state-import", *target, stdin=dump)
            msgs = (msg,) if isinstance(msg, str) else msg
            tap.ok(rc == 1 and msgs[store_name == "PostgreSQL" and len(msgs) > 1] in err
                   and "nothing was imported" in err, f"{store_name}: {what} is refused", rc, err)
        tap.ok(export(*target) == empty, f"{store_name}: ... and the target is still empty")

    # The counts in the trailer lie with the records removed as well: still refused (lines read differ).
    cut = b"\n".join([x for x in ls if b'"kind":"org_log"' not in x]) + b"\n"
    rc, out, err = stpctl("state-import", "--dbd", dbd, stdin=cut)
    tap.ok(rc == 1 and "the counts of org_log do not agree: 9 in the trailer, 0 lines read" in err,
           "records missing from a dump are found by the trailer's counts", rc, err)

    # Usage
    rc, out, err = stpctl("state-import")
    tap.ok(rc == 2 and "Usage: stpctl state-import" in err, "no store: usage", rc, err)
    rc, out, err = stpctl("state-export", "--state", src, "--dbd", dbd)
    tap.ok(rc == 2 and "Usage: stpctl state-export" in err, "two stores: usage", rc, err)
    rc, out, err = stpctl("state-export", "--state", os.path.join(tmp, "nosuch"))
    tap.ok(rc == 2 and "cannot open" in err and not out and not os.path.exists(os.path.join(tmp, "nosuch")),
           "exporting a missing state directory is an error that creates nothing", rc, err)
    rc, out, err = stpctl("state-export", "--help")
    tap.ok(rc == 0 and b"--dbd-file FILE" in out and b"Exit status" in out, "state-export --help", rc, out)
    rc, out, err = stpctl("state-import", "--help")
    tap.ok(rc == 0 and b"1 refused" in out, "state-import --help", rc, out)


if __name__ == "__main__":
    harness.main_guard(main)
