#!/usr/bin/env python3
"""The man pages (man/mkman.py, written by make): every directive of the module's directive table
is in mod_stp(8), every stpctl command in stpctl(8), every sitegen option in sitegen(1); each page
renders at 80 columns without a warning from man or groff, has a NAME line that whatis reads, and
make install-man installs all three. Prints TAP."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

ROOT = harness.ROOT
PAGES = {"mod_stp.8": "mod_stp", "stpctl.8": "stpctl", "sitegen.1": "sitegen"}


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def rendered(page):
    """The page as a reader sees it at 80 columns, and what man and groff warned about."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="0")
    r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env)
    g = subprocess.run(["groff", "-wall", "-mandoc", "-Tutf8", "-k", page], capture_output=True, text=True, env=env)
    text = re.sub(r".\x08", "", r.stdout)
    return r.returncode, text, (r.stderr + g.stderr).strip()


def main(tap):
    r = subprocess.run(["make", "-s", "-C", ROOT] + ["man/" + p for p in PAGES], capture_output=True, text=True)
    tap.ok(r.returncode == 0, "make writes the three man pages", r.stdout + r.stderr)
    pages = {p: os.path.join(ROOT, "man", p) for p in PAGES}

    for name, path in pages.items():
        rc, text, warnings = rendered(path)
        tap.ok(rc == 0 and not warnings and len(text.splitlines()) > 20,
               f"{name}: man -l renders it at 80 columns without warnings (man --warnings, groff -wall)",
               warnings[:2000], f"exit {rc}")
        # Only the examples copied from docs/ (configuration, JSON) may be wider than the terminal.
        src = read(path)
        examples = "\n".join(re.findall(r"^\.nf\n(.*?)^\.fi$", src, re.M | re.S))
        wide = [line for line in text.splitlines() if len(line) > 80
                and line.strip()[:30].replace('"', "") not in examples.replace("\\-", "-").replace("\\e", "\\").replace('"', "")]
        tap.ok(not wide, f"{name}: no rendered line outside the examples is wider than 80 columns", *wide[:5])
        w = subprocess.run(["lexgrog", path], capture_output=True, text=True)
        tap.ok(w.returncode == 0 and f"{PAGES[name]} - " in w.stdout, f"{name}: lexgrog finds its NAME line (whatis)",
               w.stdout + w.stderr)

    # Every directive of the module's table (AP_INIT_*("Name", ...)) has its own part of mod_stp(8).
    directives = re.findall(r'AP_INIT_[A-Z0-9]+\(\s*"([A-Za-z]+)"', read(os.path.join(ROOT, "mod_stp", "mod_stp.c")))
    page = read(pages["mod_stp.8"])
    headings = set(re.findall(r'^\.SS "([^"]+)"', page, re.M))
    missing = [d for d in directives if d not in headings]
    tap.ok(len(directives) >= 15 and not missing, f"mod_stp(8) has a section for each of the {len(directives)} "
           "directives in the module's table", f"missing: {missing}", f"headings: {sorted(headings)}")
    _, text, _ = rendered(pages["mod_stp.8"])
    tap.ok("REQUIRE STP-TENANT" in text, "mod_stp(8) documents Require stp-tenant")
    tap.ok("OIDCPassClaimsAs environment" in text and "STARTUP CHECKS" in text,
           "mod_stp(8) carries the startup checks and what mod_auth_openidc must provide")

    # Every command stpctl dispatches on (strcmp(cmd, "...")) is a command of stpctl(8).
    commands = sorted(set(c for c in re.findall(r'strcmp\(cmd, "([a-z][a-z-]*)"\)', read(
        os.path.join(ROOT, "stpctl", "stpctl.c")))))
    page = read(pages["stpctl.8"])
    tags = set(re.findall(r"^\.TP\n\\fB([a-z][\w\\-]*)\\fR", page, re.M))
    tags = {t.replace("\\-", "-") for t in tags}
    missing = [c for c in commands if c not in tags]
    tap.ok(len(commands) >= 8 and not missing, f"stpctl(8) lists each of the {len(commands)} commands stpctl "
           "dispatches on", f"missing: {missing}", f"listed: {sorted(tags)}")
    _, text, _ = rendered(pages["stpctl.8"])
    notify_help = subprocess.run([harness.STPCTL, "notify", "--help"], capture_output=True, text=True).stdout
    options = re.findall(r"^  (--[a-z-]+)", notify_help, re.M)
    tap.ok(options and all(o in text for o in options) and "--envelope-from" in options,
           "stpctl(8) has every option of stpctl notify --help", options)

    # sitegen(1): every option of sitegen --help.
    help_text = subprocess.run([harness.SITEGEN, "--help"], capture_output=True, text=True).stdout
    options = re.findall(r"(--[a-z][a-z-]*)", help_text)
    _, text, _ = rendered(pages["sitegen.1"])
    tap.ok(len(options) >= 8 and all(o in text for o in options), "sitegen(1) has every option of sitegen --help",
           [o for o in options if o not in text])

    # The generator refuses what it cannot document rather than writing an empty page.
    r = subprocess.run([sys.executable, os.path.join(ROOT, "man", "mkman.py"), "help", "x", "1", "0", "y",
                        "/bin/false"], capture_output=True, text=True)
    tap.ok(r.returncode != 0 and "did not print its help" in r.stderr and not r.stdout,
           "mkman.py fails on a program without --help", r.stdout, r.stderr)

    # make install-man puts them where man finds them.
    dest = tempfile.mkdtemp(prefix="stp-man.")
    try:
        r = subprocess.run(["make", "-s", "-C", ROOT, "install-man", f"DESTDIR={dest}"], capture_output=True,
                           text=True)
        found = sorted(os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs)
        tap.ok(r.returncode == 0 and len(found) == 3 and all(re.search(r"share/man/man([18])/\w+\.\1$", f)
                                                              for f in found),
               "make install installs sitegen.1 in man1 and stpctl.8, mod_stp.8 in man8", found, r.stderr)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
