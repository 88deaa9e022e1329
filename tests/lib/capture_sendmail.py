#!/usr/bin/env python3
"""A sendmail-compatible command for the tests: stores each message it is given on stdin as
CAPTURE_DIR/NNN.eml next to NNN.args (its arguments). CAPTURE_FAIL=1 makes it fail without
storing; CAPTURE_KILL_AT=N makes its Nth call kill the calling process (stpctl) first, as a
crash between two digests would."""
import os
import signal
import sys

d = os.environ["CAPTURE_DIR"]
os.makedirs(d, exist_ok=True)
counter = os.path.join(d, "calls")
calls = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
with open(counter, "w") as fh:
    fh.write(str(calls))
if os.environ.get("CAPTURE_KILL_AT") == str(calls):
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
message = sys.stdin.buffer.read()
if os.environ.get("CAPTURE_FAIL") == "1":
    sys.exit(75)  # EX_TEMPFAIL
n = len([f for f in os.listdir(d) if f.endswith(".eml")]) + 1
with open(os.path.join(d, f"{n:03d}.args"), "w") as fh:
    fh.write("\n".join(sys.argv[1:]))
with open(os.path.join(d, f"{n:03d}.eml"), "wb") as fh:
    fh.write(message)
