#!/usr/bin/env python3
"""Runs a command with a throw-away PostgreSQL 15 (pg.py) whose connection parameters are in
STP_TEST_DBD; exits with the command's status. Used to run the state's unit suites on the
PostgreSQL store: python3 tests/lib/with_pg.py tests/unit/test_core"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg  # noqa: E402

if len(sys.argv) < 2:
    sys.exit("usage: with_pg.py COMMAND [ARGS]")
with pg.Postgres() as db:
    rc = subprocess.run(sys.argv[1:], env=dict(os.environ, STP_TEST_DBD=db.params())).returncode
sys.exit(rc)
