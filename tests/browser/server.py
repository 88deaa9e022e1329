#!/usr/bin/env python3
"""The server under the browser tests: publishes the gate fixture and starts a real httpd (event
MPM) with the built module from tests/integration/httpd.conf.in, whose first virtual host turns
X-Test-* request headers into the OIDC claims the module reads.

Prints one JSON line {"port": ..., "run": ...} on stdout once httpd answers, then waits until its
standard input closes; then it stops httpd and removes the run directory (kept with STP_KEEP set).
On a failure it prints {"error": ...} instead and exits 1. (library.mjs reads the error log in the
run directory for crashes.)"""

import base64
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

PASSWORD = "pw"


def main():
    run = harness.make_run_dir("stp-browser.")
    httpd = None
    try:
        try:
            content = harness.copy_fixture("gate", os.path.join(run, "content"))
            harness.publish(content, os.path.join(run, "site"))
            # Basic credentials for the organisation pages (the browser tests do not need them).
            with open(os.path.join(run, "users"), "w", encoding="ascii") as fh:
                sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
                fh.writelines(f"{n}:{{SHA}}{sha}\n" for n in ("alice", "bob", "carol"))
            port, port2 = harness.free_port(), harness.free_port()
            httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                                  {"PORT": port, "PORT2": port2, "MPM": "event", "EXTRA": ""})
            httpd.start()
        except Exception as e:  # noqa: BLE001 - told to run.sh, which reports it as TAP
            print(json.dumps({"error": str(e)}), flush=True)
            return 1
        print(json.dumps({"port": port, "run": run}), flush=True)
        sys.stdin.read()  # until run.sh closes our standard input
        return 0
    finally:
        if httpd:
            httpd.stop()
        if os.environ.get("STP_KEEP") is None:
            shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
