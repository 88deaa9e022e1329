#!/usr/bin/env bash
# The demo: publishes the example content and serves it through httpd on 127.0.0.1:8080.
# Run through ./stp demo (which installs the packages and builds first). Ctrl-C stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${STP_RUN_DIR:-$ROOT/run/demo}
PORT=${STP_DEMO_PORT:-8080}
HTTPD=${HTTPD:-/usr/sbin/apache2}
MODDIR=$(apxs -q LIBEXECDIR)

mkdir -p "$RUN/logs"
# A previous demo that was not stopped cleanly.
if [ -f "$RUN/httpd.pid" ] && kill -0 "$(cat "$RUN/httpd.pid")" 2>/dev/null; then
    kill "$(cat "$RUN/httpd.pid")" 2>/dev/null || true
    while kill -0 "$(cat "$RUN/httpd.pid" 2>/dev/null)" 2>/dev/null; do sleep 0.1; done
fi
rm -f "$RUN/httpd.pid"

"$ROOT/sitegen/sitegen" -o "$RUN/site" "${STP_CONTENT:-$ROOT/content}"

sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$PORT#g" -e "s#@MODDIR@#$MODDIR#g" -e "s#@ROOT@#$ROOT#g" \
    "$ROOT/conf/demo-httpd.conf.in" >"$RUN/httpd.conf"
"$HTTPD" -t -f "$RUN/httpd.conf" >/dev/null 2>&1 || { "$HTTPD" -t -f "$RUN/httpd.conf"; exit 2; }

cat <<MSG

  STP demo: http://127.0.0.1:$PORT/
    pages:  http://127.0.0.1:$PORT/en/   (also /de/ /fr/ /ja/ /ar/)
    logs:   $RUN/logs/
  Republish after editing content/:  ./sitegen/sitegen -o $RUN/site content
  Press Ctrl-C to stop.

MSG
"$HTTPD" -DFOREGROUND -f "$RUN/httpd.conf" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; echo; echo "stp: demo stopped"' INT TERM
wait $pid || true
