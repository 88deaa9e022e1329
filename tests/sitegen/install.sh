#!/usr/bin/env bash
# make install and uninstall into a staging directory (DESTDIR): every file of xslt/ (templates,
# UI strings, schemas, assets) is installed as it is in the checkout; a site published with the
# installed templates has its script and style; uninstall leaves nothing, no empty directory
# either. And which templates sitegen uses, as -v says: the checkout's when it runs from the
# build tree, -t when given, the installed ones otherwise.
. "$(dirname "$0")/../lib.sh"
D=$TMP/dest

if [ ! -f "$ROOT/Makefile" ]; then
    not_ok "the source tree is configured (run ./configure first)"
    done_testing
    exit 1
fi
check "make install DESTDIR=..." make -s -C "$ROOT" install DESTDIR="$D"
XSLT=$(find "$D" -type d -path "*/stp/xslt" | head -1)
check "the templates are installed under .../stp/xslt" test -n "$XSLT"
missing=()
while IFS= read -r f; do
    cmp -s "$ROOT/$f" "$XSLT/${f#xslt/}" || missing+=("$f")
done < <(cd "$ROOT" && if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files xslt; else find xslt -type f; fi)
check_eq "every file of xslt/ is installed, byte for byte" "" "${missing[*]}"
check "stp.js is among them" test -f "$XSLT/assets/stp.js"
check_eq "nothing installed there that xslt/ does not have" \
    "$(cd "$ROOT/xslt" && find . -type f | LC_ALL=C sort)" "$(cd "$XSLT" && find . -type f | LC_ALL=C sort)"
check "sitegen is installed" test -x "$(find "$D" -path "*/bin/sitegen" | head -1)"
check "stpctl is installed" test -x "$(find "$D" -path "*/bin/stpctl" | head -1)"
check "mod_stp.so is installed" test -f "$(find "$D" -name mod_stp.so | head -1)"

# --- which templates
OUT=$("$ROOT/sitegen/sitegen" -v --check "$ROOT/tests/fixtures/valid" 2>&1 | head -1)
check_eq "-v from the build tree: the checkout's templates" \
    "sitegen: templates $ROOT/xslt (the checkout's, as sitegen runs from its build tree)" "$OUT"
OUT=$("$ROOT/sitegen/sitegen" -v -t "$XSLT" --check "$ROOT/tests/fixtures/valid" 2>&1 | head -1)
check_eq "-v with -t: those" "sitegen: templates $XSLT (given with -t)" "$OUT"
# The configured directory, from --help; a binary outside the build tree never takes the checkout's
# when templates are installed there.
INSTALLED=$("$ROOT/sitegen/sitegen" --help | sed -n 's/.*templates, UI strings and schemas (default: \(.*\), or the$/\1/p')
cp "$ROOT/sitegen/sitegen" "$TMP/sitegen-elsewhere"
OUT=$("$TMP/sitegen-elsewhere" -v --check "$ROOT/tests/fixtures/valid" 2>&1 | head -1)
if [ -f "$INSTALLED/page.xsl" ]; then
    check_eq "-v outside the build tree, with an install: the installed templates" \
        "sitegen: templates $INSTALLED (installed)" "$OUT"
else
    check_eq "-v outside the build tree, nothing installed: says so" \
        "sitegen: templates $ROOT/xslt (the source tree's, as none are installed)" "$OUT"
fi

# --- a site from the installed templates has every asset (the issue: a 404 for stp.js)
check "publishes with the installed templates" sitegen -t "$XSLT" -o "$TMP/s" "$ROOT/tests/fixtures/valid"
for a in stp.js stp.css; do
    check "the published site has assets/$a" cmp "$ROOT/xslt/assets/$a" "$TMP/s/current/public/assets/$a"
done

# --- uninstall
check "make uninstall DESTDIR=..." make -s -C "$ROOT" uninstall DESTDIR="$D"
check_eq "uninstall leaves no file and no directory it made" "" "$(cd "$D" && find . -mindepth 1)"

done_testing
