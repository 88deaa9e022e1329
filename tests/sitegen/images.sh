#!/usr/bin/env bash
# Images and links in bodies, published: a relative image of the document folder is copied beside
# the document's pages in the same tree (public/docs/, or tenants/<tid>/docs/ for a tenant
# document, never public/), under the first 32 hex digits of its SHA-256, and every locale's page
# shows it at its own URL; a relative link to one of the document's files goes through the
# download gate. The rules' error messages are in validation.sh.
. "$(dirname "$0")/../lib.sh"
IMG=$ROOT/tests/fixtures/images
C=$TMP/c
cp -r "$ROOT/tests/fixtures/valid" "$C"
AR=$C/docs/audit-report
TP=$C/docs/tenant-pack
mkdir "$AR/img"
cp "$IMG/scope.png" "$AR/img/Scope.PNG"
cp "$IMG/dot.gif" "$AR/"
cp "$IMG/dot.gif" "$AR/img/same-bytes.gif"
# WebP is told by its header only: RIFF, a length, WEBP
printf 'RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00' >"$AR/w.webp"
cat >"$AR/en.md" <<'EOF'
# Scope

![The scope](img/Scope.PNG "Scope diagram")

| Part | Picture |
| --- | --- |
| dot | ![dot](./dot.gif) |
| same | ![same](img/same-bytes.gif) |

![webp](w%2Ewebp) and [the same scope, larger](img/Scope.PNG).

Read [the report](report.txt#page=2), [the German report](report.de.txt) and [elsewhere](https://example.com/x.png).

See also [the policy](../policy-v1/) and [its scope](../policy-v1/#scope).
EOF
printf '%s\n' "# Umfang" "" "![Umfang](img/Scope.PNG)" >"$AR/de.md"
cp "$IMG/other.png" "$TP/secret-diagram.png"
printf '%s\n' "# Tenant evidence pack" "" "![Only for t1](secret-diagram.png)" "" "[The pack](pack.txt)" >"$TP/en.md"

check "content with images publishes" sitegen -o "$TMP/s" "$C"
S=$TMP/s/current
sha() { sha256sum "$1" | cut -c1-32; }
H=$(sha "$IMG/scope.png")
G=$(sha "$IMG/dot.gif")
W=$(sha "$AR/w.webp")
T=$(sha "$IMG/other.png")
page() { find -L "$S/$1" -path "*/$2/docs/*/$3.html" | head -1; }
EN=$(page public en audit-report)
DE=$(page public de audit-report)

# --- public: one copy per tree, at each locale's page URL
files=$(cd "$S" && find -L public -name "*.png" -o -name "*.gif" -o -name "*.webp" | sort)
check_eq "public images: one copy each, beside the document under public/docs/<shard>/<id>/" \
    "$(printf '%s\n' "$G.gif" "$H.png" "$W.webp" | sort)" "$(sed -n 's|^public/docs/[0-9a-f][0-9a-f]/audit-report/||p' <<<"$files" | sort)"
check_eq "public images: nothing else under public/" 3 "$(grep -c . <<<"$files")"
check "public image: the bytes of the folder's file" cmp "$IMG/scope.png" "$(find -L "$S/public/docs" -name "$H.png")"
check "English page: the image at the English page's URL, alt and title kept" \
    grep -qF "<img src=\"/en/docs/audit-report/$H.png\" alt=\"The scope\" title=\"Scope diagram\"" "$EN"
check "German page: the same image at the German page's URL" grep -qF "<img src=\"/de/docs/audit-report/$H.png\" alt=\"Umfang\"" "$DE"
check "an image in a table cell, written ./dot.gif" grep -qF "<img src=\"/en/docs/audit-report/$G.gif\" alt=\"dot\"" "$EN"
check "another file with the same bytes: the same published image" grep -qF "<img src=\"/en/docs/audit-report/$G.gif\" alt=\"same\"" "$EN"
check "a percent-encoded image name" grep -qF "<img src=\"/en/docs/audit-report/$W.webp\"" "$EN"
check "a link to an image shown in the body: the published image" \
    grep -qF "<a href=\"/en/docs/audit-report/$H.png\">the same scope, larger</a>" "$EN"
check "a link to the default file: the download gate, fragment kept" \
    grep -qF '<a href="/download/audit-report?lang=en#page=2">the report</a>' "$EN"
check "a link to the German file: the download gate with its language" \
    grep -qF '<a href="/download/audit-report?lang=de">the German report</a>' "$EN"
check "an absolute address stays as written" grep -qF '<a href="https://example.com/x.png">elsewhere</a>' "$EN"
check "a link to another document's page, relative to this one, stays as written" \
    grep -qF '<a href="../policy-v1/">the policy</a> and <a href="../policy-v1/#scope">its scope</a>' "$EN"
check_eq "no page names the folder's own paths" "" "$(grep -rlE 'src="img/|Scope\.PNG|src="\./dot' "$S/public" 2>/dev/null)"

# --- tenant: only in the tenant's tree
TEN=$(page tenants/t1 en tenant-pack)
check "tenant page: the image at the organisation page's URL" \
    grep -qF "<img src=\"/en/org/docs/tenant-pack/$T.png\" alt=\"Only for t1\"" "$TEN"
check "tenant page: a link to its file goes through the gate" grep -qF '<a href="/download/tenant-pack?lang=en">The pack</a>' "$TEN"
check "tenant image: under tenants/t1/docs/<shard>/tenant-pack/" \
    test -f "$(find -L "$S/tenants/t1/docs" -path "*/tenant-pack/$T.png" | head -1)"
check_eq "tenant image: no copy anywhere under public/" "" "$(find -L "$S/public" -name "$T*")"
check_eq "tenant image: no public file names it" "" "$(grep -rl "$T" "$S/public" 2>/dev/null)"
check_eq "tenant image: not in the catalog, models or search index" "" \
    "$(grep -l "$T" "$S/catalog.mdb" "$S/search.db" 2>/dev/null; grep -rl "$T" "$S/models" 2>/dev/null)"

# --- incremental: a changed image gets a new name, the old one goes
cp "$IMG/other.png" "$AR/img/Scope.PNG"
check "republishes after the image changed" sitegen -o "$TMP/s" "$C"
EN=$(page public en audit-report)
check "the page shows the new image's name" grep -qF "<img src=\"/en/docs/audit-report/$T.png\" alt=\"The scope\"" "$EN"
check_eq "the old image is gone from the published build" "" "$(find -L "$S/public" -name "$H.png")"
check "the new image is under public/ for the public document" test -n "$(find -L "$S/public/docs" -path "*/audit-report/$T.png")"
check_eq "the tenant's image is still only in its tree" "" "$(find -L "$S/public" -path "*/tenant-pack/*")"

# --- incremental: an image added to an unchanged body's folder changes nothing; a new reference does
printf '%s\n' "# Umfang" "" "![Umfang](img/Scope.PNG)" "![Punkt](dot.gif)" >"$AR/de.md"
check "republishes after a body gained an image" sitegen -o "$TMP/s" "$C"
DE=$(page public de audit-report)
check "the German page shows the added image" grep -qF "<img src=\"/de/docs/audit-report/$G.gif\" alt=\"Punkt\"" "$DE"
rm "$AR/dot.gif"
OUT=$("$SITEGEN" --today "$TODAY" -q -o "$TMP/s" "$C" 2>&1)
check_eq "a removed image is an error on the next (cached) build" \
    "$AR/de.md:4: image 'dot.gif' does not exist|$AR/en.md:7: image 'dot.gif' does not exist" \
    "$(grep "^$C" <<<"$OUT" | paste -sd'|')"

done_testing
