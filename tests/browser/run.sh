#!/usr/bin/env bash
# Browser tests: Debian's Chromium (/usr/bin/chromium) driven by playwright-core against a real
# httpd with the built module. Prints TAP only. Usage: bash tests/browser/run.sh [library|e2e|security|pages]
#   library (default): library.mjs against the gate fixture (claims from test headers)
#   e2e: e2e.mjs against the demo's real parts (mod_auth_openidc and the local OpenID provider)
#   security: security.mjs against the gate fixture (hostile NDA text, framing)
#   pages: pages.mjs against the gate fixture (axe-core over every template in en and ar, and what
#     the pages must show: the NDA's structure, the signed-in header, sign-out, the Arabic 404)
#   admin: admin.mjs against the demo's real parts (organisation settings: carol, alice, dan; with
#     JavaScript on and off)
#   preview: preview.mjs against sitegen serve on a copy of the gate fixture (edits reload the page,
#     the bar's tenant view); its third argument is the content directory
# node_modules comes from `./stp deps` (npm ci in tests/browser); this script installs nothing.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
    echo "not ok 1 - node_modules missing: run ./stp deps"
    echo "1..1"
    exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "not ok 1 - /usr/bin/chromium missing: run ./stp deps"
    echo "1..1"
    exit 1
fi

# The server (a co-process on two FIFOs: bash's coproc closes its descriptors as soon as the
# process exits, which loses its last words) prints one JSON line when httpd answers, and stops
# when its standard input closes.
case ${1:-library} in
    library) server=gate test=library.mjs ;;
    e2e) server=demo test=e2e.mjs ;;
    security) server=gate test=security.mjs ;;
    pages) server=gate test=pages.mjs ;;
    admin) server=demo test=admin.mjs ;;
    preview) server=preview test=preview.mjs ;;
    *) echo "not ok 1 - usage: run.sh [library|e2e|security|pages|admin|preview]"; echo "1..1"; exit 2 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stp-browser-run.XXXXXX")
mkfifo "$tmp/in" "$tmp/out"
python3 "$HERE/server.py" "$server" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
server_pid=$!
exec {server_in}>"$tmp/in" {server_out}<"$tmp/out"

stop_server() {
    [ -n "${server_in:-}" ] || return 0
    exec {server_in}>&-
    server_in=
    cat <&"$server_out" | sed 's/^/#   /'
    exec {server_out}<&-
    local rc=0
    wait "$server_pid" || rc=$?
    sed 's/^/#   /' "$tmp/err"
    rm -rf "$tmp"
    return $rc
}
trap stop_server EXIT

line=
IFS= read -r line <&"$server_out"
port=$(printf '%s\n' "$line" | sed -n 's/.*"port": *\([0-9][0-9]*\).*/\1/p')
log=$(printf '%s\n' "$line" | sed -n 's/.*"log": *"\([^"]*\)".*/\1/p')
content=$(printf '%s\n' "$line" | sed -n 's/.*"content": *"\([^"]*\)".*/\1/p')
if [ -z "$port" ] || [ -z "$log" ]; then
    echo "not ok 1 - the test server starts"
    printf '%s\n' "$line" | sed 's/^/#   /'
    stop_server
    echo "1..1"
    exit 1
fi

# node must not hold the server's standard input open, or closing it would not stop the server.
node "$HERE/$test" "$port" "$log" ${content:+"$content"} {server_in}>&- {server_out}<&-
rc=$?
stop_server || rc=1
exit $rc
