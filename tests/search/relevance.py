#!/usr/bin/env python3
"""Relevance of /stp/search over the example content (content/): publishes it with sitegen (on a
fixed day, like the generator suites), serves it with httpd and the built module, and asks every
query of tests/search/relevance.tsv as an anonymous reader (Accept: application/json).

relevance.tsv: lang <TAB> query <TAB> expected ids <TAB> within. Lines starting with # are comments.
"expected ids" is a comma-separated list: with within=1 the first result must be the (only) id;
with within=N every listed id must be among the first N results (two documents equally right).
Prints TAP, one test per query, with the ranking it got when it fails."""

import json
import os
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402

TODAY = os.environ.get("TODAY", "2026-11-22")


def load(path):
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not parts[3].isdigit():
                raise ValueError(f"{path}:{n}: want lang, query, ids, within separated by tabs: {line!r}")
            lang, query, ids, within = parts
            rows.append((lang, query, [i.strip() for i in ids.split(",")], int(within), n))
    return rows


def main(tap):
    rows = load(os.path.join(HERE, "relevance.tsv"))
    run = harness.make_run_dir("stp-relevance.")
    site = os.path.join(run, "site")
    r = subprocess.run([harness.SITEGEN, "--today", TODAY, "-q", "-o", site, os.path.join(harness.ROOT, "content")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"sitegen failed ({r.returncode}): {r.stderr}")
    port, port2 = harness.free_port(), harness.free_port()
    httpd = harness.Httpd(run, "tests/integration/httpd.conf.in",
                          {"PORT": port, "PORT2": port2, "MPM": "event", "EXTRA": ""})
    httpd.start()
    try:
        per_lang = {}
        for lang, query, want, within, line in rows:
            per_lang[lang] = per_lang.get(lang, 0) + 1
            target = "/stp/search?" + urllib.parse.urlencode({"q": query, "lang": lang})
            resp = harness.request(port, "GET", target, {"Accept": "application/json"})
            got = [h["id"] for h in json.loads(resp.body)["results"]] if resp.status == 200 else []
            top = got[:within]
            tap.ok(resp.status == 200 and all(w in top for w in want) and len(want) <= within,
                   f"[{lang}] {query} -> {','.join(want)}" + (f" within the top {within}" if within > 1 else " first"),
                   f"relevance.tsv line {line}: {target} answered {resp.status}", f"ranking: {got[:8]}")
        for lang in ("en", "de", "fr", "ja", "ar"):
            tap.ok(per_lang.get(lang, 0) >= 4, f"relevance.tsv has at least 4 queries in {lang} ({per_lang.get(lang, 0)})")
    finally:
        httpd.stop()
        log = httpd.error_log()
        tap.ok("AddressSanitizer" not in log and "exit signal" not in log and "search failed" not in log,
               "no crash and no failed search in the error log", log[-1500:])
        if os.environ.get("STP_KEEP") is None:
            import shutil

            shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
