#!/usr/bin/env bash
# The demo: publishes the example content, starts the local OpenID provider and httpd with
# mod_auth_openidc in front of mod_stp on 127.0.0.1:8080. Run through ./stp demo (which installs
# the packages, the provider's npm modules and builds first). Ctrl-C stops everything; running it
# again stops what a previous run left behind first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${STP_RUN_DIR:-$ROOT/run/demo}
PORT=${STP_DEMO_PORT:-8080}
OIDC_PORT=${STP_OIDC_PORT:-8081}
HTTPD=${HTTPD:-/usr/sbin/apache2}
MODDIR=$(apxs -q LIBEXECDIR)

die() { echo "stp demo: $*" >&2; exit 2; }
[ -d "$ROOT/conf/oidc/node_modules/oidc-provider" ] || die "the provider's modules are missing: run ./stp deps"

mkdir -p "$RUN/logs"
chmod 755 "$RUN"
# What a previous demo left running (killed terminal, second window).
stop_pid() {
    local f=$1 pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$f"
}
stop_pid "$RUN/httpd.pid"
stop_pid "$RUN/oidc.pid"
for p in "$PORT" "$OIDC_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "127.0.0.1:$p is taken by another program; set STP_DEMO_PORT / STP_OIDC_PORT"
    fi
done

"$ROOT/sitegen/sitegen" -q -o "$RUN/site" "${STP_CONTENT:-$ROOT/content}"

# Secrets for this run only (hex: nothing sed or httpd would read specially).
CLIENT_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
CRYPTO_PASSPHRASE=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
fill() {
    sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$PORT#g" -e "s#@OIDC_PORT@#$OIDC_PORT#g" -e "s#@MODDIR@#$MODDIR#g" \
        -e "s#@ROOT@#$ROOT#g" -e "s#@OIDC_CLIENT_SECRET@#$CLIENT_SECRET#g" \
        -e "s#@OIDC_CRYPTO_PASSPHRASE@#$CRYPTO_PASSPHRASE#g" "$1"
}
(umask 077 && fill "$ROOT/conf/oidc/httpd-openidc.conf.in" >"$RUN/openidc.conf")
fill "$ROOT/conf/demo-httpd.conf.in" >"$RUN/httpd.conf"
"$HTTPD" -t -f "$RUN/httpd.conf" >/dev/null 2>&1 || { "$HTTPD" -t -f "$RUN/httpd.conf"; exit 2; }

oidc=""
httpd=""
stop() {
    trap - INT TERM EXIT
    [ -n "$httpd" ] && kill -TERM "$httpd" 2>/dev/null && wait "$httpd" 2>/dev/null
    [ -n "$oidc" ] && kill -TERM "$oidc" 2>/dev/null && wait "$oidc" 2>/dev/null
    rm -f "$RUN/oidc.pid"
    echo
    echo "stp: demo stopped"
}
trap stop INT TERM EXIT

# The provider first: mod_auth_openidc reads its metadata on the first sign-in.
STP_OIDC_CLIENT_SECRET=$CLIENT_SECRET STP_OIDC_PORT=$OIDC_PORT STP_OIDC_REDIRECT_URIS="http://127.0.0.1:$PORT/stp/oidc-callback" \
    setsid node "$ROOT/conf/oidc/provider.mjs" >"$RUN/logs/oidc.log" 2>&1 &
oidc=$!
echo "$oidc" >"$RUN/oidc.pid"
for _ in $(seq 1 200); do
    grep -q "listening" "$RUN/logs/oidc.log" 2>/dev/null && break
    kill -0 "$oidc" 2>/dev/null || { cat "$RUN/logs/oidc.log" >&2; die "the OpenID provider did not start"; }
    sleep 0.05
done
grep -q "listening" "$RUN/logs/oidc.log" || die "the OpenID provider did not start in 10 s (see $RUN/logs/oidc.log)"

# httpd in its own session: prefork and event signal their whole process group on shutdown.
setsid "$HTTPD" -DFOREGROUND -f "$RUN/httpd.conf" &
httpd=$!
for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/stp/whoami" && break
    kill -0 "$httpd" 2>/dev/null || die "httpd did not start (see $RUN/logs/error.log)"
    sleep 0.05
done

cat <<MSG

  STP demo: http://127.0.0.1:$PORT/
    pages:     http://127.0.0.1:$PORT/en/   (also /de/ /fr/ /ja/ /ar/)
    sign in:   http://127.0.0.1:$PORT/stp/login   (OpenID provider on http://127.0.0.1:$OIDC_PORT)
    accounts (password = the name before the @):
      pat@example.net         a personal account (no organisation)
      alice@contoso.example   member of Contoso (licence e5)
      bob@fabrikam.example    member of Fabrikam
      carol@contoso.example   Contoso administrator (organisation settings: /stp/admin)
      dan@contoso.example     member of Contoso whom nobody listed (see /stp/admin, assigned mode)
      sam@stp-vendor.example  portal-wide staff (any organisation's settings)
    who am I:  http://127.0.0.1:$PORT/stp/whoami
    logs:      $RUN/logs/
  Republish after editing content/:  ./sitegen/sitegen -o $RUN/site content
  Press Ctrl-C to stop.

MSG
wait "$httpd" || true
