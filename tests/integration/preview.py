#!/usr/bin/env python3
"""The editor's preview (`sitegen serve`, StpPreview On) over a real httpd: it listens on
127.0.0.1 only and cannot be reached on this host's other addresses; httpd refuses StpPreview with
a non-loopback Listen or with mod_auth_openidc; an edit is rebuilt and served, a failed build keeps
the previous one and shows its errors in the page and the terminal; the bar's identity sees its
organisation's pages; Ctrl-C stops httpd and removes the temporary site. (The module's own refusal
of a non-loopback peer is tested at glue level, tests/unit/glue_preview.c: nothing can connect to
this preview from another address.) Prints TAP."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from preview_server import Preview  # noqa: E402


def status(port):
    return json.loads(harness.request(port, "GET", "/stp/preview/status").text)


def listeners(port):
    """The local addresses of the sockets listening on `port` (/proc/net/tcp and tcp6)."""
    found = []
    for name, width in (("tcp", 8), ("tcp6", 32)):
        try:
            with open(f"/proc/net/{name}", encoding="ascii") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                raw = bytes.fromhex(addr)
                if width == 8:
                    found.append(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


def other_addresses():
    """This host's addresses that are not loopback (nor link-local, which needs a scope)."""
    out = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    addrs = []
    for m in re.finditer(r"\sinet6?\s([0-9a-f.:]+)/\d+", out):
        a = m.group(1)
        if not (a.startswith("127.") or a == "::1" or a.startswith("fe80:")):
            addrs.append(a)
    return addrs


def refused(addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(5)
        try:
            s.connect((addr, port))
            return False
        except ConnectionRefusedError:
            return True
        except OSError:
            return True  # unreachable: not served either


def configtest(conf_text, run, name):
    path = os.path.join(run, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(conf_text)
    return subprocess.run([harness.HTTPD, "-t", "-f", path], capture_output=True, text=True, env=harness.httpd_env())


def choose(port, cookies, who, page="/en/"):
    """The bar's form, as a browser without JavaScript sends it; returns the cookies it set."""
    r = harness.request(port, "GET", page, {"Cookie": cookies})
    m = re.search(r'<form method="post" action="/stp/preview">.*?name="csrf" value="([0-9a-f]+)"', r.text, re.S)
    sid = re.search(r"stp_sid=([0-9a-f]+)", r.header("set-cookie") or cookies)
    # Without lang: harness.Response keeps one Set-Cookie, and the language's would hide this one.
    body = urllib.parse.urlencode({"as": who, "return": page, "csrf": m.group(1) if m else ""})
    jar = f"stp_sid={sid.group(1)}" if sid else ""
    r = harness.request(port, "POST", "/stp/preview", {"Cookie": jar, "Content-Type": "application/x-www-form-urlencoded"},
                        body.encode())
    got = re.search(r"stp_preview=([^;]*)", r.headers.get("set-cookie", ""))
    return r, f"{jar}; stp_preview={got.group(1)}" if got else jar


def main(tap):
    run = harness.make_run_dir("stp-preview.")
    preview = Preview(run)
    try:
        preview.start()
        port = preview.port
        st = status(port)
        tap.ok(not st["failed"] and st["build"] != "0", "the first build is published", st, preview.output())
        home = harness.request(port, "GET", "/en/")
        tap.ok(home.status == 200 and 'id="stp-preview"' in home.text and "/stp/preview.js" in home.text,
               "the home page is served with the preview bar and its script", home.status, home.text[:400])

        # --- only this machine ------------------------------------------------------------------
        addrs = listeners(port)
        tap.ok(addrs and all(a == "127.0.0.1" for a in addrs), "httpd listens on 127.0.0.1 only", addrs)
        others = other_addresses()
        if others:
            tap.ok(all(refused(a, port) for a in others),
                   f"the preview cannot be reached on this host's other addresses ({', '.join(others)})")
        else:
            tap.ok(True, "# SKIP this host has no address but loopback")
        with open(os.path.join(preview.tmp, "httpd.conf"), encoding="utf-8") as fh:
            conf = fh.read()
        conf = re.sub(r'^PidFile .*$', f'PidFile "{run}/configtest.pid"', conf, flags=re.M)
        ok_run = configtest(conf, run, "same.conf")
        tap.ok(ok_run.returncode == 0, "the preview's own configuration passes configtest", ok_run.stderr)
        wide = configtest(re.sub(r"^Listen 127\.0\.0\.1:\d+$", f"Listen 0.0.0.0:{harness.free_port()}", conf,
                                 flags=re.M), run, "wide.conf")
        tap.ok(wide.returncode != 0 and "StpPreview On with Listen 0.0.0.0" in wide.stderr,
               "httpd refuses StpPreview On with a listener on every address", wide.returncode, wide.stderr)
        extra = configtest(conf.replace("Listen 127.0.0.1:", f"Listen 127.0.0.1:{harness.free_port()}\nListen [::]:"),
                           run, "extra.conf")
        tap.ok(extra.returncode != 0 and "not a loopback address" in extra.stderr,
               "... and with one more listener that is not loopback", extra.returncode, extra.stderr)
        oidc = configtest(conf + f"LoadModule auth_openidc_module {harness.module_dir()}/mod_auth_openidc.so\n", run,
                          "oidc.conf")
        tap.ok(oidc.returncode != 0 and "mod_auth_openidc" in oidc.stderr,
               "httpd refuses StpPreview On next to mod_auth_openidc", oidc.returncode, oidc.stderr)

        # --- rebuilds -----------------------------------------------------------------------------
        body = os.path.join(preview.content, "docs", "public-report", "en.md")
        with open(body, "a", encoding="utf-8") as fh:
            fh.write("\nEdited while the preview runs: lorem-7731.\n")
        before = st["build"]
        harness.wait_until("a rebuild", lambda: status(port)["build"] != before, timeout=30)
        st = status(port)
        page = harness.request(port, "GET", "/en/docs/public-report/")
        tap.ok(not st["failed"] and "lorem-7731" in page.text, "an edited body is rebuilt and served", st)

        meta = os.path.join(preview.content, "docs", "public-report", "doc.xml")
        with open(meta, encoding="utf-8") as fh:
            good = fh.read()
        # The line sitegen must name: the fixture's own, wherever its <title> is.
        where = "doc.xml:%d" % (good[:good.index("<title xml:lang=\"en\">")].count("\n") + 1)
        with open(meta, "w", encoding="utf-8") as fh:
            fh.write(good.replace("<title xml:lang=\"en\">", "<titel xml:lang=\"en\">").replace("</title>", "</titel>", 1))
        before = st["build"]
        harness.wait_until("a failed build", lambda: status(port)["build"] != before, timeout=30)
        st = status(port)
        page = harness.request(port, "GET", "/en/docs/public-report/")
        tap.ok(st["failed"] and "titel" in st["errors"] and where in st["errors"],
               "a failed build is reported with its errors", st)
        tap.ok(page.status == 200 and "lorem-7731" in page.text and "stp-preview-errors" in page.text
               and "&lt;titel&gt;" in page.text, "the previous build is still served, with the errors in the bar",
               page.status, page.text[:600])
        harness.wait_until("the errors in the terminal", lambda: "titel" in preview.output(), timeout=10)
        tap.ok(where in preview.output(), "the errors are printed in the terminal", preview.output())
        with open(meta, "w", encoding="utf-8") as fh:
            fh.write(good)
        before = st["build"]
        harness.wait_until("a good build", lambda: status(port)["build"] != before, timeout=30)
        tap.ok(not status(port)["failed"], "fixing the error publishes again", status(port))

        # A new document: a new directory, watched as it appears.
        new = os.path.join(preview.content, "docs", "preview-new")
        shutil.copytree(os.path.join(preview.content, "docs", "public-report"), new)
        with open(os.path.join(new, "doc.xml"), "w", encoding="utf-8") as fh:
            fh.write(good.replace('id="public-report"', 'id="preview-new"'))
        harness.wait_until("the new document", lambda: harness.request(port, "GET", "/en/docs/preview-new/").status == 200,
                           timeout=30)
        tap.ok(True, "a new document directory is watched and published")

        # --- identities -------------------------------------------------------------------------
        tap.eq(404, harness.request(port, "GET", "/en/org/").status, "anonymous: no organisation page")
        r, jar = choose(port, "", "member.t1")
        tap.ok(r.status == 303 and "stp_preview=member.t1" in jar,
               "the bar's form (without JavaScript) switches to a member of t1", r.status, jar)
        org = harness.request(port, "GET", "/en/org/", {"Cookie": jar})
        tap.ok(org.status == 200 and "Tenant one pack" in org.text and "Tenant two" not in org.text.lower()
               .replace("tenant two</option>", ""), "the member sees t1's organisation page", org.status)
        pack = harness.request(port, "GET", "/download/t2-pack", {"Cookie": jar})
        tap.eq(404, pack.status, "... and t2's documents answer 404 as unknown ones")
        r, jar = choose(port, "", "member.t9")
        tap.eq(400, r.status, "a tenant site.xml does not have is refused")
    finally:
        code = preview.stop()
        tmp = preview.tmp
        tap.eq(0, code, "Ctrl-C (SIGTERM) stops the preview with status 0")
        tap.ok(tmp and not os.path.exists(tmp), "the temporary site is removed", tmp)
        tap.ok(not harness.port_open(preview.port), "httpd has stopped")
        if os.environ.get("STP_KEEP") is None:
            shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.main_guard(main))
