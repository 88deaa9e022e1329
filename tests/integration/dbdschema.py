#!/usr/bin/env python3
"""The PostgreSQL state store's schema (docs/architecture.md, "State on PostgreSQL"): stpctl
state-init and state-upgrade against a real PostgreSQL 15 started for the test. Creating is
idempotent, two runs at once create it once, a newer schema is refused with nothing changed,
an upgrade refuses a database without the schema, and bad parameters get a clear error.
Prints TAP."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import pg  # noqa: E402


def stpctl(*args):
    r = subprocess.run([harness.STPCTL, *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def main(tap):
    with pg.Postgres() as db:
        p = db.params()
        rc, out, err = stpctl("state-upgrade", "--dbd", p)
        tap.ok(rc == 1 and "no STP schema: use stpctl state-init" in err, "state-upgrade refuses an empty database",
               rc, err)
        tap.eq("", db.psql("SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"),
               "... and creates nothing")

        # Two runs at once: the advisory lock lets one create, the other finds it done.
        procs = [subprocess.Popen([harness.STPCTL, "state-init", "--dbd", p], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [(pr.wait(), pr.stdout.read(), pr.stderr.read()) for pr in procs]
        tap.ok(all(o[0] == 0 for o in outs), "two state-init runs at once both succeed", outs)
        said = sorted(o[1].strip() for o in outs)
        tap.ok(said[0] == "created the STP schema, version 1" and said[1].endswith("version 1: nothing to do"),
               "... one creates, the other finds it there", said)
        tap.eq("1", db.psql("SELECT version FROM stp_schema"), "the version table says 1")
        tap.eq("1", db.psql("SELECT count(*) FROM stp_schema"), "... in one row")
        tables = db.psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")
        tap.eq("stp_feedback,stp_feedback_rate,stp_library,stp_nda,stp_nda_log,stp_notify,stp_org_log,stp_org_people,"
               "stp_orgs,stp_schema,stp_users", tables, "every table of the state is there")

        rc, out, err = stpctl("state-upgrade", "--dbd", p)
        tap.ok(rc == 0 and "already version 1: nothing to do" in out, "state-upgrade at the current version does nothing",
               rc, out, err)

        with tempfile.NamedTemporaryFile("w", suffix=".dbd") as fh:
            fh.write(p + "\n")
            fh.flush()
            rc, out, err = stpctl("state-init", "--dbd-file", fh.name)
            tap.ok(rc == 0 and "nothing to do" in out, "--dbd-file reads the parameters from a file", rc, out, err)
        rc, out, err = stpctl("state-init", "--dbd-file", "/nonexistent/params")
        tap.ok(rc == 2 and "cannot read the connection parameters from /nonexistent/params" in err,
               "an unreadable --dbd-file is named", rc, err)

        # A newer schema (written by a newer STP): refused, nothing changed.
        db.psql("UPDATE stp_schema SET version = 7")
        for cmd in ("state-upgrade", "state-init"):
            rc, out, err = stpctl(cmd, "--dbd", p)
            tap.ok(rc == 1 and "version 7" in err and "newer" in err, f"{cmd} refuses a newer schema", rc, err)
        tap.eq("7", db.psql("SELECT version FROM stp_schema"), "... and leaves it as it was")
        db.psql("UPDATE stp_schema SET version = 1")

        # Data survives a repeated init.
        db.psql("INSERT INTO stp_library VALUES ('u1', 's1', 'd1', '', '', 1)")
        stpctl("state-init", "--dbd", p)
        tap.eq("d1", db.psql("SELECT doc_id FROM stp_library WHERE user_key = 'u1'"), "a repeated init keeps the data")

        rc, out, err = stpctl("state-init", "--dbd", f"host=127.0.0.1 port={harness.free_port()} dbname=stp user=stp "
                                                        "connect_timeout=5")
        tap.ok(rc == 2 and err.startswith("stpctl: cannot connect: "), "an unreachable server is a clear error", rc, err)
        rc, out, err = stpctl("state-init", "--dbd", p, "--driver", "nosuch")
        tap.ok(rc == 2 and "no apr_dbd driver 'nosuch'" in err, "an unknown driver is named", rc, err)
        rc, out, err = stpctl("state-init")
        tap.ok(rc == 2 and "Usage: stpctl state-init" in err, "no parameters: usage", rc, err)
        rc, out, err = stpctl("state-init", "--help")
        tap.ok(rc == 0 and "--dbd-file FILE" in out, "--help", rc, out)


if __name__ == "__main__":
    harness.main_guard(main)
