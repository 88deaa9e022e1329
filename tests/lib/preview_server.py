"""The editor's preview for tests: `sitegen serve` on a copy of a fixture, with the built module
(STP_MODULE, as the other suites), on a free loopback port.

    preview = Preview(run)    # run: a directory of harness.make_run_dir()
    preview.start()           # raises RuntimeError when it does not come up
    ... preview.port, preview.content, preview.tmp (its temporary site), preview.error_log ...
    preview.stop()            # SIGTERM, as Ctrl-C; returns sitegen serve's exit status"""

import os
import re
import signal
import subprocess
import threading

import harness


class Preview:
    def __init__(self, run, fixture="gate", module=None, env=None):
        self.run = run
        self.module = module or harness.MODULE
        self.env = env or harness.httpd_env()
        self.fixture = fixture
        self.port = harness.free_port()
        self.content = os.path.join(run, "content")
        self.proc = None
        self.tmp = None
        self.error_log = None
        self.lines = []  # what sitegen serve printed (builds, errors, httpd's startup)
        self._reader = None

    def start(self):
        harness.copy_fixture(self.fixture, self.content)
        self.proc = subprocess.Popen([harness.SITEGEN, "serve", "--port", str(self.port), "--module", self.module,
                                      self.content], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=self.env,
                                     start_new_session=True)
        # It says where its site is, then (once httpd answers) where the preview is.
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"temporary site in (\S+)", line)
            if m:
                self.tmp = m.group(1)
                self.error_log = os.path.join(self.tmp, "error.log")
            if f"on http://127.0.0.1:{self.port}/" in line:
                break
        else:
            self.proc.wait()
            raise RuntimeError(f"sitegen serve exited with {self.proc.returncode}: {''.join(self.lines)}")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self):
        return "".join(self.lines)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self._reader:
            self._reader.join(timeout=5)
        return self.proc.returncode
