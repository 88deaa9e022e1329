#!/usr/bin/env python3
"""Misconfiguration is caught before serving: httpd refuses the configuration (syntax errors) or
refuses to start, with a message that says what to fix; every startup check fails `apache2 -t`
(configtest) too, with its message on stderr. Prints TAP."""

import os
import pwd
import shutil
import stat
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
LoadModule alias_module {moddir}/mod_alias.so
LoadModule stp_module {module}
ErrorLog "{run}/error.log"
"""


def write_conf(run, port, body):
    conf = os.path.join(run, "httpd.conf")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write(BASE.format(run=run, port=port, moddir=harness.module_dir(), module=harness.MODULE) + body)
    return conf


def syntax(run, port, body, stderr_only=False):
    conf = write_conf(run, port, body)
    r = subprocess.run([harness.HTTPD, "-t", "-f", conf], capture_output=True, text=True)
    return r.returncode, r.stderr if stderr_only else r.stdout + r.stderr


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
                                 ("StpStaffClaim roles", "takes two arguments"),
                                 ("StpStaffClaim 'a b' PortalStaff", "not a claim name"),
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
        tap.ok(status not in (None, 0) and "not a directory" in out,
               "startup: a state directory that cannot be created refuses to start", out[-1500:])

        status, out = start(run, port, good)
        tap.ok(status is None, "startup: the good configuration serves", out[-1500:])
        key = os.path.join(state, "csrf.key")
        st = os.stat(key)
        tap.ok(st.st_size == 32 and (st.st_mode & 0o077) == 0, "startup: csrf.key is 32 bytes, readable by its owner only")
        status, out = start(run, port, f'StpSite "{run}/empty"\nStpStateDir "{state}"\nDocumentRoot "{run}/www"\n')
        tap.ok(status is None and "no published catalog" in out,
               "startup: a site not yet published starts and says how to publish", out[-1500:])

        # --- links, aliases and other virtual hosts ---
        refused = []  # (name, configuration body, words): each must also fail configtest
        link = os.path.join(run, "www-site-link")
        os.symlink(site, link)
        body = f'StpSite "{site}"\nStpStateDir "{state}"\nDocumentRoot "{link}"\n'
        status, out = start(run, port, body)
        tap.ok(status not in (None, 0) and f"DocumentRoot {link} ({os.path.realpath(site)} after resolving links) "
               "would serve the gated files" in out,
               "startup: a DocumentRoot that is a symbolic link to StpSite refuses to start", out[-1500:])
        refused.append(("DocumentRoot linked to StpSite", body, "would serve the gated files"))

        files_link = os.path.join(run, "files-link")
        os.symlink(os.path.join(site, "current", "files"), files_link)
        body = good + f'Alias /pdf "{files_link}"\n'
        status, out = start(run, port, body)
        line = (BASE + body).splitlines().index(f'Alias /pdf "{files_link}"') + 1
        tap.ok(status not in (None, 0) and f"Alias ({run}/httpd.conf:{line}) {files_link}" in out
               and "would serve the gated files" in out,
               "startup: an Alias to current/files through a symbolic link refuses to start, naming file:line",
               out[-1500:])
        refused.append(("Alias through a link", body, "would serve the gated files"))

        for target in (f"{site}/current/tenants", f"{site}/current/catalog.mdb", f"{site}/store", state):
            status, out = start(run, port, good + f'Alias /x "{target}"\n')
            tap.ok(status not in (None, 0) and ("would serve the gated files" in out or "the users' state" in out),
                   f"startup: an Alias to {target[len(run):]} refuses to start", out[-1500:])
        body = good + f'AliasMatch "^/f/(.*)$" "{site}/current/files/$1"\n'
        status, out = start(run, port, body)
        tap.ok(status not in (None, 0) and "AliasMatch" in out and "would serve the gated files" in out,
               "startup: an AliasMatch into current/files refuses to start", out[-1500:])
        status, out = start(run, port, good + f'Alias /assets "{link}/current/public/assets"\n')
        tap.ok(status is None, "startup: an Alias into the public tree, even through a link, serves", out[-1500:])

        port2 = harness.free_port()
        body = (f'Listen 127.0.0.1:{port2}\nDocumentRoot "{site}"\n'
                f'<VirtualHost 127.0.0.1:{port}>\n  StpSite "{site}"\n  StpStateDir "{state}"\n'
                f'  DocumentRoot "{site}/current/public"\n</VirtualHost>\n'
                f'<VirtualHost 127.0.0.1:{port2}>\n  ServerName other.test\n</VirtualHost>\n')
        vhost_line = (BASE + body).splitlines().index(f'<VirtualHost 127.0.0.1:{port2}>') + 1
        status, out = start(run, port, body)
        tap.ok(status not in (None, 0) and f"virtual host at {run}/httpd.conf:{vhost_line} {site} would serve" in out,
               "startup: a second virtual host that inherits a main DocumentRoot exposing StpSite refuses to start",
               out[-1500:])
        refused.append(("an inherited DocumentRoot", body, f"virtual host at {run}/httpd.conf:{vhost_line}"))

        # --- the state directory as the children's user ---
        locked = os.path.join(run, "locked")
        os.makedirs(locked, mode=0o700)
        os.chmod(locked, 0o700)
        body = f'StpSite "{site}"\nStpStateDir "{locked}/state"\nDocumentRoot "{site}/current/public"\n'
        status, out = start(run, port, body)
        tap.ok(status not in (None, 0) and f"StpStateDir {locked}/state: user www-data cannot reach it "
               "(Permission denied)" in out,
               "startup: a state directory the children's user cannot reach refuses to start, naming dir and user",
               out[-1500:])
        refused.append(("an unreachable state directory", body, "user www-data cannot reach it"))
        tap.ok(not os.path.exists(os.path.join(locked, "state")),
               "startup: the refused state directory was not created")

        # --- placeholder secrets ---
        oidc = os.path.join(harness.module_dir(), "mod_auth_openidc.so")
        if os.path.exists(oidc):
            secrets = os.path.join(run, "secrets.conf")
            with open(secrets, "w", encoding="utf-8") as fh:
                fh.write('OIDCCryptoPassphrase "exec:/bin/echo 9f3kQz7LrTq2VbXw"\n'
                         'OIDCClientSecret "change-me-client-secret"\n')
            oidc_body = (f"LoadModule auth_openidc_module {oidc}\n"
                         "OIDCProviderMetadataURL https://login.example.net/.well-known/openid-configuration\n"
                         "OIDCClientID stp\nOIDCRedirectURI https://trust.example.com/stp/oidc-callback\n")
            body = good + oidc_body + f'Include "{secrets}"\n'
            status, out = start(run, port, body)
            tap.ok(status not in (None, 0) and f"OIDCClientSecret at {secrets}:2 contains \"changeme\"" in out
                   and "placeholder" in out and "9f3kQz" not in out,
                   "startup: a placeholder OIDCClientSecret refuses to start, naming file:line", out[-1500:])
            refused.append(("a placeholder client secret", body, "OIDCClientSecret at"))
            body = good + oidc_body + 'OIDCClientSecret "Tq2VbXw9f3kQz7Lr"\nOIDCCryptoPassphrase "<passphrase>"\n'
            rc, out = syntax(run, port, body, stderr_only=True)
            tap.ok(rc != 0 and "OIDCCryptoPassphrase at" in out and "is a <placeholder>" in out,
                   "configtest: a <placeholder> crypto passphrase is refused", out)
            body = good + oidc_body + 'OIDCClientSecret "Tq2VbXw9f3kQz7Lr"\nOIDCCryptoPassphrase "exec:/bin/echo x"\n'
            rc, out = syntax(run, port, body)
            tap.ok(rc == 0, "configtest: real-looking secrets and an exec: passphrase pass", out)
            rc, out = syntax(run, port, oidc_body + 'OIDCClientSecret change-me\nOIDCCryptoPassphrase change-me\n'
                             f'DocumentRoot "{run}/www"\n')
            tap.ok(rc == 0, "configtest: placeholders pass where no server sets StpSite (mod_stp is not in use)", out)
        else:
            tap.ok(True, "startup: placeholder secrets # SKIP mod_auth_openidc is not installed")

        # Every check above, and those before, under configtest: non-zero exit, the reason on stderr.
        refused += [("StpSite without StpStateDir", f'StpSite "{site}"\nDocumentRoot "{site}/current/public"\n',
                     "add StpStateDir"),
                    ("DocumentRoot at StpSite", f'StpSite "{site}"\nStpStateDir "{state}"\nDocumentRoot "{site}"\n',
                     f"set DocumentRoot to {site}/current/public"),
                    ("state under the DocumentRoot",
                     f'StpSite "{site}"\nStpStateDir "{run}/www/state"\nDocumentRoot "{run}/www"\n', "under DocumentRoot"),
                    ("a state directory that is a file",
                     f'StpSite "{site}"\nStpStateDir "{blocker}"\nDocumentRoot "{site}/current/public"\n',
                     "not a directory")]
        for name, body, words in refused:
            rc, err = syntax(run, port, body, stderr_only=True)
            tap.ok(rc != 0 and words in err and "mod_stp: " in err,
                   f"configtest: {name} fails apache2 -t with the reason on stderr", f"exit {rc}", err)

        # --- state files: the children's, 0600, whatever the umask or a restore left (findings 6, 10) ---
        fresh = os.path.join(run, "fresh", "deeper", "state")
        www = pwd.getpwnam("www-data")
        old = os.umask(0)
        try:
            status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{fresh}"\n'
                                f'DocumentRoot "{site}/current/public"\n')
        finally:
            os.umask(old)
        tap.ok(status is None, "startup: a new state directory under missing parents serves", out[-1500:])
        modes = {}
        for name in ("", "state.mdb", "state.mdb-lock", "csrf.key"):
            st = os.stat(os.path.join(fresh, name))
            modes[name or "."] = (oct(stat.S_IMODE(st.st_mode)), st.st_uid == www.pw_uid, st.st_gid == www.pw_gid)
        tap.eq({".": ("0o700", True, True), "state.mdb": ("0o600", True, True),
                "state.mdb-lock": ("0o600", True, True), "csrf.key": ("0o600", True, True)}, modes,
               "startup: the state directory is 0700 and its files 0600, owned by www-data, even with umask 0")
        tap.eq("0o755", oct(stat.S_IMODE(os.stat(os.path.dirname(fresh)).st_mode)),
               "startup: the parents it created let the children through (0755)")
        db = os.path.join(fresh, "state.mdb")
        os.chmod(db, 0o644)
        os.chown(db, 0, 0)
        status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{fresh}"\nDocumentRoot "{site}/current/public"\n')
        st = os.stat(db)
        tap.ok(status is None and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == www.pw_uid,
               "startup: a restored state.mdb (root's, 0644) is made the children's, 0600", out[-1500:])

        # --- stpctl state-check ---
        os.chmod(db, 0o644)
        os.chown(os.path.join(fresh, "csrf.key"), 0, 0)
        r = subprocess.run([harness.STPCTL, "state-check", fresh, "--user", "www-data"], capture_output=True, text=True)
        tap.ok(r.returncode == 1 and f"{db}: mode 0644, want 0600" in r.stdout
               and f"{fresh}/csrf.key: owner root:root, want www-data:www-data" in r.stdout
               and "state.mdb opens" in r.stdout,
               "stpctl state-check reports a 0644 state.mdb and a root-owned csrf.key (exit 1)", r.stdout, r.stderr)
        tap.ok(stat.S_IMODE(os.stat(db).st_mode) == 0o644, "stpctl state-check without --fix changes nothing")
        r = subprocess.run([harness.STPCTL, "state-check", fresh, "--user", "www-data", "--fix"],
                           capture_output=True, text=True)
        st, key = os.stat(db), os.stat(os.path.join(fresh, "csrf.key"))
        tap.ok(r.returncode == 0 and stat.S_IMODE(st.st_mode) == 0o600 and key.st_uid == www.pw_uid,
               "stpctl state-check --fix repairs mode and owner (exit 0)", r.stdout, r.stderr)
        r = subprocess.run([harness.STPCTL, "state-check", fresh, "--user", "www-data"], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "stpctl state-check after --fix finds nothing", r.stdout, r.stderr)
        copy = os.path.join(run, "backup")
        r = subprocess.run([harness.STPCTL, "backup", fresh, copy], capture_output=True, text=True)
        again = subprocess.run([harness.STPCTL, "backup", fresh, copy], capture_output=True, text=True)
        copy_db = os.path.join(copy, "state.mdb")
        tap.ok(r.returncode == 0 and os.path.exists(copy_db) and stat.S_IMODE(os.stat(copy_db).st_mode) == 0o600
               and os.path.getsize(copy_db) > 0 and again.returncode == 2,
               "stpctl backup writes a 0600 copy and never overwrites one", r.stdout, r.stderr, again.stderr)
        # A link that the children's user could plant, to a root-owned decoy (never a system file:
        # a module without the fix overwrites the target with its lock file and gives it away).
        decoy = os.path.join(run, "decoy")
        with open(decoy, "w", encoding="utf-8") as fh:
            fh.write("root's\n")
        os.chmod(decoy, 0o644)

        def untouched():
            st = os.lstat(decoy)
            with open(decoy, encoding="utf-8") as fh:
                return (st.st_uid, stat.S_IMODE(st.st_mode), fh.read()) == (0, 0o644, "root's\n")

        os.symlink(decoy, os.path.join(fresh, "state.mdb-lock.new"))
        os.rename(os.path.join(fresh, "state.mdb-lock.new"), os.path.join(fresh, "state.mdb-lock"))
        r = subprocess.run([harness.STPCTL, "state-check", fresh, "--user", "www-data", "--fix"],
                           capture_output=True, text=True)
        tap.ok(r.returncode == 1 and "symbolic link" in r.stdout and untouched(),
               "stpctl state-check --fix refuses a planted link and leaves its target alone", r.stdout, r.stderr)
        status, out = start(run, port, f'StpSite "{site}"\nStpStateDir "{fresh}"\nDocumentRoot "{site}/current/public"\n')
        tap.ok(status not in (None, 0) and untouched(),
               "startup: a planted link in the state directory refuses to start and leaves its target alone",
               out[-1500:])
    finally:
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
