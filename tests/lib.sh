# Shared helpers for the shell test suites. Each suite prints TAP lines ("ok N - name",
# "not ok N - name"); ./stp test counts them across every suite.
# Usage: . tests/lib.sh   (from the repository root; sets ROOT, SITEGEN, STPCTL, TMP)

set -u
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SITEGEN=${SITEGEN:-$ROOT/sitegen/sitegen}
STPCTL=${STPCTL:-$ROOT/stpctl/stpctl}
TODAY=${TODAY:-2026-11-22}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stp-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
_n=0
_failed=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# check NAME CMD...: passes when CMD exits 0
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "command: $*" "${out:0:2000}"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}

# Run sitegen with the suite's fixed day, so that retention is deterministic.
sitegen() { "$SITEGEN" --today "$TODAY" -q "$@"; }

done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }
