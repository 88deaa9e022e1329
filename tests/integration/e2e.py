#!/usr/bin/env python3
"""End to end with the real parts: the demo's httpd configuration (mod_auth_openidc in front of
mod_stp) against the local OpenID provider (conf/oidc/provider.mjs, npm oidc-provider), the
example content, and a cookie-keeping HTTP client that fills in the provider's login form.
Prints TAP."""

import hashlib
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import oidc_login  # noqa: E402
from demo_server import CONTENT, Demo  # noqa: E402


def fetch(opener, url, data=None, headers=None):
    """(status, final URL, headers, body) without following redirects off the portal."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.geturl(), dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.geturl(), dict(e.headers), e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main(tap):
    run = harness.make_run_dir("stp-e2e.")
    demo = Demo(run)
    try:
        try:
            demo.start()
            tap.ok(True, "the OpenID provider starts")
        except RuntimeError as e:
            tap.ok(False, "the OpenID provider starts", str(e))
            raise
        base, oidc_port = demo.base, demo.oidc_port

        # Sign in as a member of Contoso through the provider's own login form.
        alice = oidc_login.sign_in(base, "alice@contoso.example", "alice", "/stp/whoami")
        status, url, _, body = fetch(alice, f"{base}/stp/whoami")
        who = json.loads(body)
        tap.ok(who.get("kind") == "member" and who.get("tenant") == "contoso" and who.get("user", "").endswith("|alice")
               and who.get("email") == "alice@contoso.example", "alice signs in through the provider", who)
        tap.ok(who["nda"]["accepted"] is False, "alice has not accepted the NDA yet")

        # An NDA document: sent to the NDA, accept it with the page's token, download the file.
        doc, pdf = "bcp-test-results", "northwind-bcp-dr-test-report-2025.pdf"
        plain = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(
            next(h.cookiejar for h in alice.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))))
        status, _, headers, _ = fetch(plain, f"{base}/download/{doc}")
        tap.ok(status == 302 and headers.get("Location") == f"/stp/nda?return=%2Fdownload%2F{doc}",
               "an NDA download sends alice to the NDA", f"{status} {headers.get('Location')}")
        status, _, _, page = fetch(alice, f"{base}/stp/nda?return=%2Fdownload%2F{doc}")
        token = re.search(rb'action="/stp/nda">.*?name="csrf" value="([0-9a-f]{80})"', page, re.S)
        version = re.search(rb'name="version" value="([^"]+)"', page)
        tap.ok(status == 200 and token and version, "the NDA page has the form", page[-800:])
        form = urllib.parse.urlencode({"csrf": token.group(1).decode(), "version": version.group(1).decode(),
                                       "return": f"/download/{doc}", "lang": "en"}).encode()
        status, url, headers, body = fetch(alice, f"{base}/stp/nda", form)
        tap.ok(status == 200 and url.startswith(f"{base}/stp/nda?accepted=1") and
               f'content="0;url=/download/{doc}"'.encode() in body,
               "accepting the NDA confirms it and starts the download", f"{status} {url}")
        status, url, headers, body = fetch(alice, f"{base}/download/{doc}")
        with open(os.path.join(CONTENT, "docs", doc, pdf), "rb") as fh:
            source = fh.read()
        tap.ok(status == 200 and body == source, "... which is byte-identical to the source",
               f"{status} {url} {len(body)} bytes vs {len(source)}")
        tap.eq(hashlib.sha256(source).hexdigest(), (headers.get("ETag") or "").strip('"'), "... with its SHA-256 as ETag")

        # The organisation pages: alice sees Contoso's, not Fabrikam's.
        status, _, _, body = fetch(alice, f"{base}/en/org/")
        tap.ok(status == 200 and b"contoso-pentest-2026" in body and b"fabrikam-baa-executed" not in body,
               "alice's /en/org/ lists Contoso's documents only", f"{status} {body[-1500:]!r}")
        unknown = fetch(alice, f"{base}/download/no-such-document")
        other = fetch(alice, f"{base}/download/fabrikam-baa-executed")
        tap.ok(other[0] == 404 and other[3] == unknown[3], "Fabrikam's document answers like an unknown one")
        status, _, _, body = fetch(alice, f"{base}/download/contoso-pentest-2026?lang=de")
        with open(os.path.join(CONTENT, "docs", "contoso-pentest-2026", "contoso-dedicated-pentest-bericht-2026.de.pdf"),
                  "rb") as fh:
            tap.ok(status == 200 and body == fh.read(), "alice downloads Contoso's NDA pack in German")

        # A personal account may not have organisation documents.
        pat = oidc_login.sign_in(base, "pat@example.net", "pat", "/stp/whoami")
        tap.eq("personal", json.loads(fetch(pat, f"{base}/stp/whoami")[3]).get("kind"), "pat is a personal account")
        tap.eq(403, fetch(pat, f"{base}/download/{doc}")[0], "pat gets 403 for an NDA document")
        # The operator learns why, once for the sign-in however many requests follow (issue #15).
        fetch(pat, f"{base}/en/")
        with open(demo.error_log, encoding="utf-8", errors="replace") as fh:
            lines = [line for line in fh if "is a personal account" in line]
        tap.ok(len(lines) == 1 and "|pat is a personal account: the tenant claim tid (StpTenantClaim) is missing" in lines[0]
               and "OIDCScope" in lines[0] and "pat@example.net" not in lines[0],
               "the error log says once which claim made pat personal (names only, no values)", lines)
        came = set(lines[0].split("(OIDC_CLAIM_*): ")[1].split(".")[0].split()) if len(lines) == 1 else set()
        tap.ok({"sub", "iss", "email", "iat", "nonce"} <= came and "tid" not in came,
               "... and which claims came (iat and nonce among them: what marks the sign-in)", lines)

        # A tenant administrator, from the roles claim.
        carol = oidc_login.sign_in(base, "carol@contoso.example", "carol", "/stp/whoami")
        tap.eq("tenant-admin", json.loads(fetch(carol, f"{base}/stp/whoami")[3]).get("kind"),
               "carol is a tenant administrator")

        # Claims sent as headers by someone without a session change nothing.
        anon = urllib.request.build_opener(NoRedirect)
        forged = {"OIDC_CLAIM_sub": "alice", "OIDC-CLAIM-tid": "contoso", "X-Remote-User": "alice"}
        status, _, _, body = fetch(anon, f"{base}/stp/whoami", headers=forged)
        tap.ok(status == 200 and json.loads(body)["kind"] == "anonymous", "forged claim headers are ignored", body)
        status, _, headers, _ = fetch(anon, f"{base}/en/org/", headers={"Accept": "text/html"})  # a browser
        tap.ok(status == 302 and headers.get("Location", "").startswith(f"http://127.0.0.1:{oidc_port}/"),
               "anonymous organisation pages send the user to the provider", f"{status} {headers.get('Location')}")

        # mod_auth_openidc signs out on a GET of its redirect URI: another site cannot make it.
        evil = urllib.parse.quote(f"{base}/en/", safe="")
        for label, hdrs in (("Sec-Fetch-Site: cross-site", {"Sec-Fetch-Site": "cross-site"}),
                            ("a foreign Referer", {"Referer": "http://evil.example/page"})):
            status, _, _, body = fetch(plain, f"{base}/stp/oidc-callback?logout={evil}", headers=hdrs)
            tap.ok(status == 403 and json.loads(fetch(alice, f"{base}/stp/whoami")[3]).get("kind") == "member",
                   f"a cross-site sign-out ({label}) is refused and alice stays signed in", status)

        # Sign out: a POST with a token; the session is gone afterwards.
        status, _, headers, _ = fetch(plain, f"{base}/stp/logout", urllib.parse.urlencode(
            {"csrf": token.group(1).decode() if token else ""}).encode())  # the NDA form's token
        tap.ok(status == 403, "sign-out with the token of another form is refused", status)
        try:
            url, status = oidc_login.sign_out(alice, base)
            ok = status == 200 and url == f"{base}/en/"
        except oidc_login.SignInError as e:
            ok, url, status = False, str(e), None
        tap.ok(ok, "sign-out ends the session at the provider too and comes back to /en/", f"{status} {url}")
        tap.eq("anonymous", json.loads(fetch(alice, f"{base}/stp/whoami")[3]).get("kind"), "after sign-out: anonymous")
    finally:
        demo.stop()
        if os.environ.get("STP_KEEP") is None:
            shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    harness.main_guard(main)
