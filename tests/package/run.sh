#!/usr/bin/env bash
# The Debian packages on the system Apache: installs build/packages/*.deb (./stp package) with
# apt-get, checks that the module is enabled and that a2dismod disables it, publishes the example
# content with the packaged sitegen and templates, enables a site made from conf/stp.conf, starts
# the system apache2 on a test port and fetches pages and downloads, signs in through the demo
# OpenID provider (conf/oidc/provider.mjs on STP_PKG_OIDC_PORT, default 18481; skipped without
# its npm modules) and downloads an NDA document; then stops apache2, purges
# the packages and checks that /etc/apache2 is exactly as before (a listing of types, modes,
# link targets and SHA-256 of every file).
#
# Changes the machine while it runs (packages, /etc/apache2, the system apache2 on
# STP_PKG_PORT, default 18480; nothing on port 80): root only, and not while the system apache2
# (/var/run/apache2/apache2.pid) is running. Everything is undone on exit, also on failure.
# Usage: bash tests/package/run.sh [DIR with the .debs, default build/packages]
. "$(dirname "$0")/../lib.sh"
PKGDIR=$(cd "${1:-$ROOT/build/packages}" 2>/dev/null && pwd) || PKGDIR=${1:-$ROOT/build/packages}
PORT=${STP_PKG_PORT:-18480}
OIDC_PORT=${STP_PKG_OIDC_PORT:-18481}
SITE_NAME=stp-pkgtest
PACKAGES=(libapache2-mod-stp stp-tools)
export DEBIAN_FRONTEND=noninteractive
PIDFILE=/var/run/apache2/apache2.pid

system_apache_running() { local p; p=$(cat "$PIDFILE" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

bail() { echo "Bail out! $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || bail "run as root (installs packages into the system Apache)"
ls "$PKGDIR"/libapache2-mod-stp_*.deb "$PKGDIR"/stp-tools_*.deb >/dev/null 2>&1 \
    || bail "no .debs in $PKGDIR: run ./stp package first"
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" && bail "$p is installed already: purge it first"
done
system_apache_running && bail "the system apache2 is running (pid $(cat $PIDFILE)): stop it first"
for p in "$PORT" "$OIDC_PORT"; do
    ss -ltn "sport = :$p" | grep -q LISTEN && bail "port $p is in use (STP_PKG_PORT, STP_PKG_OIDC_PORT)"
done

# /etc/apache2 as a listing: type, mode, owner, link target, content hash.
etc_listing() {
    (cd /etc/apache2 && find . -printf '%y %m %u:%g %p -> %l\n' | sort
     cd /etc/apache2 && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
etc_listing >"$TMP/etc-before"
cp -a /etc/apache2/ports.conf "$TMP/ports.conf.orig"
STARTED=0

cleanup() {
    set +e
    [ -n "${PROVIDER_PID:-}" ] && kill "$PROVIDER_PID" 2>/dev/null && wait "$PROVIDER_PID" 2>/dev/null
    if [ "$STARTED" = 1 ] || system_apache_running; then
        apache2ctl stop >/dev/null 2>&1
        for _ in $(seq 50); do system_apache_running || break; sleep 0.2; done
    fi
    [ -e "/etc/apache2/sites-enabled/$SITE_NAME.conf" ] && a2dissite -q "$SITE_NAME" >/dev/null 2>&1
    rm -f "/etc/apache2/sites-available/$SITE_NAME.conf"
    cp -a "$TMP/ports.conf.orig" /etc/apache2/ports.conf
    for p in "${PACKAGES[@]}"; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
            apt-get purge -y -qq "$p" >/dev/null 2>&1
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# 1. Install: apt-get resolves the dependencies (libapache2-mod-auth-openidc, the libraries).
check "apt-get install the packages" apt-get install -y -qq "$PKGDIR"/libapache2-mod-stp_*.deb "$PKGDIR"/stp-tools_*.deb
check "stp.load is in mods-available" test -f /etc/apache2/mods-available/stp.load
check "the module is enabled (mods-enabled/stp.load)" test -L /etc/apache2/mods-enabled/stp.load
mods=$(apache2ctl -M 2>&1)
if grep -q 'stp_module' <<<"$mods"; then ok "apache2ctl -M lists stp_module"; else not_ok "apache2ctl -M lists stp_module" "$mods"; fi
if grep -q 'auth_openidc_module' <<<"$mods"; then ok "auth_openidc is loaded with it"; else not_ok "auth_openidc is loaded with it"; fi
conf_directives=$(grep -c '^ *#Stp[A-Za-z]* ' /etc/apache2/mods-available/stp.conf)
doc_directives=$(grep -c '^### Stp' "$ROOT/docs/directives.md")
check_eq "mods-available/stp.conf names every directive of docs/directives.md" "$doc_directives" "$conf_directives"
check "the logrotate rule keeps the audit log 400 days" grep -q 'rotate 400' /etc/logrotate.d/libapache2-mod-stp
check "/var/log/stp exists" test -d /var/log/stp
check "the notify timer is installed" test -f /lib/systemd/system/stp-notify.timer
check "the notify settings are in /etc/default/stp-notify" test -f /etc/default/stp-notify
for page in man1/sitegen.1 man8/stpctl.8 man8/mod_stp.8; do
    check "the man page ${page#*/} is installed and renders" \
        bash -c "test -f /usr/share/man/$page.gz && MANWIDTH=80 man -l /usr/share/man/$page.gz 2>&1 | grep -q '^NAME'"
done

# 2. a2dismod / a2enmod.
a2dismod -q stp >/dev/null 2>&1
if apache2ctl -M 2>/dev/null | grep -q stp_module; then not_ok "a2dismod stp unloads the module"; else ok "a2dismod stp unloads the module"; fi
a2enmod -q stp >/dev/null 2>&1
if apache2ctl -M 2>/dev/null | grep -q stp_module; then ok "a2enmod stp loads it again"; else not_ok "a2enmod stp loads it again"; fi

# 3. Publish the example content with the packaged sitegen and its default templates.
check "sitegen's default templates are /usr/share/stp/xslt" bash -c "/usr/bin/sitegen --help 2>&1 | grep -q /usr/share/stp/xslt"
chmod 755 "$TMP"
SRV=$TMP/srv/stp
mkdir -p "$SRV"
check "the packaged sitegen publishes the example content" /usr/bin/sitegen --today "$TODAY" -q -o "$SRV/site" "$ROOT/content"
check "the build carries the packaged assets (stp.js, stp.css)" \
    cmp /usr/share/stp/xslt/assets/stp.js "$SRV/site/current/public/assets/stp.js"

# 4. A site from the example: conf/stp.conf's portal virtual host on 127.0.0.1:PORT without TLS,
#    paths under the temporary directory, generated secrets (never placeholders).
#    Sign-in goes to the demo OpenID provider (conf/oidc/provider.mjs) on OIDC_PORT when its npm
#    modules are there (./stp deps installs them).
CLIENT_SECRET=$(openssl rand -hex 24)
install -m 600 /dev/null "$TMP/secrets.conf"
printf 'OIDCClientSecret "%s"\nOIDCCryptoPassphrase "%s"\n' "$CLIENT_SECRET" "$(openssl rand -hex 24)" >"$TMP/secrets.conf"
PROVIDER_PID=
if [ -d "$ROOT/conf/oidc/node_modules/oidc-provider" ] && command -v node >/dev/null; then
    STP_OIDC_PORT=$OIDC_PORT STP_OIDC_CLIENT_SECRET=$CLIENT_SECRET \
        STP_OIDC_REDIRECT_URIS="http://127.0.0.1:$PORT/stp/oidc-callback" \
        node "$ROOT/conf/oidc/provider.mjs" </dev/null >"$TMP/provider.log" 2>&1 &
    PROVIDER_PID=$!
    for _ in $(seq 100); do grep -q listening "$TMP/provider.log" && break; sleep 0.1; done
fi
python3 - "$ROOT/conf/stp.conf" "$PORT" "$SRV" "$TMP/state" "$TMP/secrets.conf" "$OIDC_PORT" \
    >"/etc/apache2/sites-available/$SITE_NAME.conf" <<'PY'
import re, sys
src, port, srv, state, secrets, oidc_port = sys.argv[1:]
text = open(src).read()
# the portal's virtual host only (not the *:80 redirect), without the TLS lines
start = text.index("<VirtualHost *:443>")
vhost = text[start:text.index("</VirtualHost>", start) + len("</VirtualHost>")]
head = text[:text.index("# Plain HTTP only redirects")]
vhost = "\n".join(l for l in vhost.splitlines()
                  if not re.match(r"\s*(SSL\w+|Header always set Strict-Transport-Security)", l))
base = "http://127.0.0.1:%s" % port
vhost = (vhost.replace("<VirtualHost *:443>", "<VirtualHost 127.0.0.1:%s>" % port)
              .replace("ServerName trust.example.com", "ServerName 127.0.0.1")
              .replace("https://trust.example.com", base)
              .replace("/srv/stp", srv)
              .replace("StpStateDir /var/lib/stp", "StpStateDir " + state)
              .replace("Include /etc/apache2/stp-secrets.conf", "Include " + secrets)
              # the demo provider: its issuer, client and client authentication
              .replace("https://login.example.net", "http://127.0.0.1:" + oidc_port)
              # the provider releases tid and roles with its `stp` scope (conf/stp.conf: "map
              # them to a scope requested here"); without it every user is a personal account
              .replace('OIDCScope "openid email profile"', 'OIDCScope "openid email profile stp"')
              .replace("OIDCClientID     stp-portal",
                       "OIDCClientID     stp-demo\n    OIDCProviderTokenEndpointAuth client_secret_basic"))
print(head + vhost)
PY
check "the site file was made from conf/stp.conf" grep -q "StpSite *$SRV/site" "/etc/apache2/sites-available/$SITE_NAME.conf"
printf 'Listen 127.0.0.1:%s\n' "$PORT" >/etc/apache2/ports.conf
check "a2ensite $SITE_NAME" a2ensite -q "$SITE_NAME"
check "apache2ctl configtest" apache2ctl configtest

# 5. The system apache2 on the test port.
if apache2ctl start >"$TMP/start.log" 2>&1; then STARTED=1; fi
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
if [ "$STARTED" = 1 ] && system_apache_running; then ok "the system apache2 starts"; else
    not_ok "the system apache2 starts" "$(cat "$TMP/start.log")" "$(tail -5 /var/log/apache2/error.log 2>/dev/null)"; fi
B=http://127.0.0.1:$PORT
code() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$@"; }
r=$(code -H 'Accept-Language: de' "$B/")
case "$r" in "302 $B/de/") ok "/ redirects to the reader's language" ;; *) not_ok "/ redirects to the reader's language" "got: $r" ;; esac
r=$(curl -s -w '\n%{http_code}' "$B/en/")
case "$r" in *'/assets/stp.css'*200) ok "the published home page is served" ;; *) not_ok "the published home page is served" "got: ${r: -300}" ;; esac
r=$(code "$B/assets/stp.js")
check_eq "the packaged script is served" "200 " "$r"
r=$(code "$B/download/bcp-dr-whitepaper")
check_eq "a public download is served to anyone" "200 " "$r"
r=$(code "$B/download/bcp-test-results")
case "$r" in 302\ *) ok "an NDA download asks to sign in first" ;; *) not_ok "an NDA download asks to sign in first" "got: $r" ;; esac
r=$(code "$B/files/")
case "$r" in 404*|403*) ok "the gated files are not reachable directly" ;; *) not_ok "the gated files are not reachable directly" "got: $r" ;; esac
sleep 0.3
if grep -q 'decision=serve doc=bcp-dr-whitepaper' /var/log/stp/audit.log 2>/dev/null; then
    ok "the audit log is written to /var/log/stp/audit.log"
else not_ok "the audit log is written to /var/log/stp/audit.log" "$(ls -la /var/log/stp 2>&1)"; fi

# 5b. Sign in through the demo provider, accept the NDA, download the NDA document.
if [ -n "$PROVIDER_PID" ] && grep -q listening "$TMP/provider.log"; then
    out=$(python3 - "$B" "$ROOT" <<'PY'
import os, re, sys, urllib.error, urllib.parse, urllib.request
base, root = sys.argv[1:]
sys.path.insert(0, os.path.join(root, "tests", "lib"))
import oidc_login
n = 0
def ok(cond, name, info=""):
    global n
    n += 1
    print(("ok" if cond else "not ok"), n, "-", name)
    if not cond and info:
        print("#  ", str(info)[:600])
def fetch(opener, url, data=None):
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=30) as r:
            return r.status, r.geturl(), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.geturl(), e.read()
try:
    alice = oidc_login.sign_in(base, "alice@contoso.example", "alice", "/stp/whoami")
    status, _, body = fetch(alice, base + "/stp/whoami")
    ok(status == 200 and b"|alice" in body and b'"tenant":"contoso"' in body.replace(b" ", b""),
       "alice signs in through the demo provider, as a member of contoso", body)
    doc, pdf = "bcp-test-results", "northwind-bcp-dr-test-report-2025.pdf"
    status, _, page = fetch(alice, f"{base}/stp/nda?return=%2Fdownload%2F{doc}")
    token = re.search(rb'action="/stp/nda">.*?name="csrf" value="([0-9a-f]{80})"', page, re.S)
    version = re.search(rb'name="version" value="([^"]+)"', page)
    ok(status == 200 and token and version, "the NDA page has its form", page[-400:])
    form = urllib.parse.urlencode({"csrf": token.group(1).decode(), "version": version.group(1).decode(),
                                   "return": f"/download/{doc}", "lang": "en"}).encode()
    status, url, _ = fetch(alice, base + "/stp/nda", form)
    ok(status == 200 and "accepted=1" in url, "alice accepts the NDA", f"{status} {url}")
    status, _, body = fetch(alice, f"{base}/download/{doc}")
    with open(os.path.join(root, "content", "docs", doc, pdf), "rb") as fh:
        source = fh.read()
    ok(status == 200 and body == source, "the NDA document downloads, byte-identical to the source",
       f"{status} {len(body)} bytes")
except Exception as e:  # noqa: BLE001
    ok(False, "sign-in and NDA download", repr(e))
PY
)
    while IFS= read -r line; do
        case "$line" in
            "ok "*) ok "${line#ok * - }" ;;
            "not ok "*) not_ok "${line#not ok * - }" ;;
            *) echo "$line" ;;
        esac
    done <<<"$out"
    if grep -q 'decision=serve doc=bcp-test-results' /var/log/stp/audit.log 2>/dev/null; then
        ok "the audit log records the NDA download"
    else not_ok "the audit log records the NDA download" "$(tail -3 /var/log/stp/audit.log 2>&1)"; fi
else
    _n=$((_n + 1)); echo "ok $_n - # SKIP sign-in: no demo provider (./stp deps installs conf/oidc's npm modules)"
fi

# 6. Stop, purge, compare.
apache2ctl stop >/dev/null 2>&1
for _ in $(seq 50); do system_apache_running || break; sleep 0.2; done
if system_apache_running; then not_ok "the system apache2 stops"; else ok "the system apache2 stops"; STARTED=0; fi
a2dissite -q "$SITE_NAME" >/dev/null 2>&1
rm -f "/etc/apache2/sites-available/$SITE_NAME.conf"
cp -a "$TMP/ports.conf.orig" /etc/apache2/ports.conf
check "apt-get purge the packages" apt-get purge -y -qq "${PACKAGES[@]}"
left=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null | grep -v 'not-installed' || true)
check_eq "no package is left installed or configured" "" "$left"
check "the module is gone" test ! -e /usr/lib/apache2/modules/mod_stp.so
check "/var/log/stp is removed on purge" test ! -e /var/log/stp
etc_listing >"$TMP/etc-after"
if d=$(diff "$TMP/etc-before" "$TMP/etc-after"); then ok "/etc/apache2 is as it was"; else not_ok "/etc/apache2 is as it was" "$d"; fi
done_testing
