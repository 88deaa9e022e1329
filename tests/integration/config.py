#!/usr/bin/env python3
"""Misconfiguration is caught before serving: httpd refuses the configuration (syntax errors) or
refuses to start (post_config), with a message that says what to fix. Prints TAP."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

BASE = """ServerRoot "{run}"
PidFile "{run}/httpd.pid"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User www-data
Group www-data
LoadModule mpm_event_module {moddir}/mod_mpm_event.so
LoadModule authz_core_module {moddir}/mod_authz_core.so
LoadModule stp_module {module}
ErrorLog "{run}/error.log"
"""


def write_conf(run, port, body):
    conf = os.path.join(run, "httpd.conf")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write(BASE.format(run=run, port=port, moddir=harness.module_dir(), module=harness.MODULE) + body)
    return conf


def syntax(run, port, body):
    conf = write_conf(run, port, body)
    r = subprocess.run([harness.HTTPD, "-t", "-f", conf], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def start(run, port, body):
    """Starts httpd in the foreground; returns (exit status or None when it is serving, output)."""
    conf = write_conf(run, port, body)
    try:
        os.remove(os.path.join(run, "error.log"))
    except FileNotFoundError:
        pass
    p = subprocess.Popen([harness.HTTPD, "-DFOREGROUND", "-f", conf], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    # httpd binds its port before post_config runs, so only an answer means it is serving.
    harness.wait_until("httpd to answer or exit", lambda: p.poll() is not None or harness.answers(port))
    status = p.poll()
    if status is None:
        p.terminate()
        p.wait(timeout=30)
    out = p.stdout.read()
    try:
        with open(os.path.join(run, "error.log"), encoding="utf-8", errors="replace") as fh:
            out += fh.read()
    except FileNotFoundError:
        pass
    return status, out


def main(tap):
    run = harness.make_run_dir("stp-config.")
    try:
        site, state = os.path.join(run, "site"), os.path.join(run, "state")
        content = harness.copy_fixture("gate", os.path.join(run, "content"))
        harness.publish(content, site)
        port = harness.free_port()
        good = f'StpSite "{site}"\nStpStateDir "{state}"\nDocumentRoot "{site}/current/public"\n'

        for directive, words in (("StpStateMapSize 10", "between 1M and 1024G"),
                                 ("StpStateMapSize 2T", "between 1M and 1024G"),
                                 ("StpTenantAccessDefault sometimes", "neither open nor assigned"),
                                 ("StpRetentionMonths -1", "number of months"),
                                 ("StpSiteCheckInterval soon", "time from 0 to 3600 seconds"),
                                 ("StpSiteCheckInterval 2h", "time from 0 to 3600 seconds"),
                                 ("StpBaseURL ftp://trust.example.com", "absolute http(s) URL"),
                                 ("StpBaseURL https://trust.example.com/", "without a trailing slash"),
                                 ("StpOIDCRedirectURI https://evil.example/cb", "local path"),
                                 ("StpUserClaim 'a b'", "not a claim name"),
                                 ('<Location /x>\nRequire stp-tenant Bad_Id\n</Location>', "not a tenant id")):
            rc, out = syntax(run, port, good + directive + "\n")
            tap.ok(rc != 0 and words in out, f"config: '{directive.splitlines()[-1 if '<' in directive else 0]}' "
                   f"is refused with a message", out)
        rc, out = syntax(run, port, good + "StpStateMapSize 64M\nStpRetentionMonths 24\nStpSiteCheckInterval 250ms\n"
                         "StpBaseURL https://trust.example.com\nStpConsumerTenants 9188040d-6c67 consumers\n")
        tap.ok(rc == 0, "config: a valid configuration passes apache2 -t", out)

        status, out = start(run, port, f'StpSite "{site}"\nDocumentRoot "{site}/current/public"\n')
        tap.ok(status not in (None, 0) and "add StpStateDir" in out,
               "startup: StpSite without StpStateDir refuses to start and says what to add", out[-1500:])
        status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{state}"\nDocumentRoot "{site}"\n')
        tap.ok(status not in (None, 0) and f"set DocumentRoot to {site}/current/public" in out,
               "startup: a DocumentRoot that exposes the published files refuses to start", out[-1500:])
        status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{state}"\nDocumentRoot "{site}/current"\n')
        tap.ok(status not in (None, 0) and "would serve the gated files" in out,
               "startup: DocumentRoot at the build root (files/, tenants/) refuses to start", out[-1500:])
        os.makedirs(os.path.join(run, "www"))
        status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{run}/www/state"\nDocumentRoot "{run}/www"\n')
        tap.ok(status not in (None, 0) and "under DocumentRoot" in out,
               "startup: a state directory under the DocumentRoot refuses to start", out[-1500:])
        blocker = os.path.join(run, "not-a-dir")
        with open(blocker, "w", encoding="utf-8") as fh:
            fh.write("x")
        status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{blocker}"\nDocumentRoot "{site}/current/public"\n')
        tap.ok(status not in (None, 0) and "cannot set up the state" in out,
               "startup: a state directory that cannot be created refuses to start", out[-1500:])

        status, out = start(run, port, good)
        tap.ok(status is None, "startup: the good configuration serves", out[-1500:])
        key = os.path.join(state, "csrf.key")
        st = os.stat(key)
        tap.ok(st.st_size == 32 and (st.st_mode & 0o077) == 0, "startup: csrf.key is 32 bytes, readable by its owner only")
        status, out = start(run, port, f'StpSite "{run}/empty"\nStpStateDir "{state}"\nDocumentRoot "{run}/www"\n')
        tap.ok(status is None and "no published catalog" in out,
               "startup: a site not yet published starts and says how to publish", out[-1500:])
    finally:
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
