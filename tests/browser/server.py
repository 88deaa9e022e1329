#!/usr/bin/env python3
"""The server under the browser tests, one of three:
  gate (default): publishes the gate fixture and starts a real httpd (event MPM) with the built
    module from tests/integration/httpd.conf.in, whose first virtual host turns X-Test-* request
    headers into the OIDC claims the module reads;
  demo: the demo's real parts (tests/lib/demo_server.py): the example content, the local OpenID
    provider and httpd with mod_auth_openidc in front of mod_stp;
  preview: the editor's preview (tests/lib/preview_server.py: sitegen serve on a copy of the gate
    fixture, StpPreview On); its line also names the content directory ("content") to edit.

Prints one JSON line {"port": ..., "log": ...} (httpd's error log) on stdout once httpd answers, then waits until its
standard input closes; then it stops httpd and removes the run directory (kept with STP_KEEP set).
On a failure it prints {"error": ...} instead and exits 1. (The tests read the error log for crashes.)"""

import base64
import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from demo_server import Demo  # noqa: E402
from preview_server import Preview  # noqa: E402

PASSWORD = "pw"


class GateServer:
    """The gate fixture behind the test virtual host (X-Test-* headers stand in for the claims)."""

    def __init__(self, run):
        self.run = run
        self.port = harness.free_port()
        self.httpd = None
        self.error_log = os.path.join(run, "error.log")  # where tests/integration/httpd.conf.in logs

    def start(self):
        content = harness.copy_fixture("gate", os.path.join(self.run, "content"))
        harness.publish(content, os.path.join(self.run, "site"))
        # Basic credentials for the organisation pages (the browser tests do not need them).
        with open(os.path.join(self.run, "users"), "w", encoding="ascii") as fh:
            sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
            fh.writelines(f"{n}:{{SHA}}{sha}\n" for n in ("alice", "bob", "carol"))
        self.httpd = harness.Httpd(self.run, "tests/integration/httpd.conf.in",
                                   {"PORT": self.port, "PORT2": harness.free_port(), "MPM": "event", "EXTRA": ""})
        self.httpd.start()

    def stop(self):
        if self.httpd:
            self.httpd.stop()


def main():
    run = harness.make_run_dir("stp-browser.")
    kind = sys.argv[1] if len(sys.argv) > 1 else "gate"
    server = Demo(run) if kind == "demo" else Preview(run) if kind == "preview" else GateServer(run)
    try:
        try:
            server.start()
        except Exception as e:  # noqa: BLE001 - told to run.sh, which reports it as TAP
            print(json.dumps({"error": str(e)}), flush=True)
            return 1
        line = {"port": server.port, "log": server.error_log}
        if kind == "preview":
            line["content"] = server.content
        print(json.dumps(line), flush=True)
        sys.stdin.read()  # until run.sh closes our standard input
        return 0
    finally:
        server.stop()
        if os.environ.get("STP_KEEP") is None:
            shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
