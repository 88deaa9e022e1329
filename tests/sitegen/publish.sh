#!/usr/bin/env bash
# Publishing: incremental rebuilds equal full builds byte for byte and rewrite only what changed;
# a run that fails at any point (content error, full disk, killed) leaves the published site as it was.
. "$(dirname "$0")/../lib.sh"
FIXTURE=$ROOT/tests/fixtures/valid

tree_sum() { (cd "$1" && find -L . -type f ! -name catalog.mdb ! -name search.db ! -name .doccache -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64); }
# Files of build $2 that its run wrote: not the same inode as in the previous build $1 (unchanged
# files are shared, by hard link or through a shared shard directory).
inodes() { (cd "$1" && find -L . -type f ! -name catalog.mdb ! -name search.db ! -name .manifest ! -name .doccache -printf '%p %i\n' | sort); }
written() { join -a2 <(inodes "$1") <(inodes "$2") | awk 'NF != 3 || $2 != $3 { print $1 }'; }
# Files whose bytes differ between two builds, or that only one has (the files of a directory only
# the second has; what only the first has stays an "Only in" line).
changed() { (diff -rq "$1" "$2" 2>&1 || true) | grep -v -e catalog.mdb -e search.db -e .manifest -e .doccache |
    sed -E "s#^Files $1/(.*) and .* differ#./\1#; s#^Only in $2/?(.*): (.*)#./\1/\2#" | sed 's#//#/#' |
    while IFS= read -r f; do if [ -d "$2/$f" ]; then (cd "$2" && find -L "$f" -type f); else printf '%s\n' "$f"; fi; done | sort; }
# The search index row by row (an updated index is not byte for byte a new one): every document
# row and, per locale, the text its FTS table holds (the content shadow table, readable without
# the index's own tokenizer).
search_rows() {
    local db="file:$1/current/search.db?immutable=1" l
    sqlite3 "$db" "SELECT doc, lang, title, summary, tile, access, nda, published, tenants, services, regions,
        industries, fp FROM docs ORDER BY doc, lang"
    for l in $(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'locales'" | tr , ' '); do
        sqlite3 "$db" "SELECT d.doc, c.c0, c.c1, c.c2, c.c3 FROM fts_${l//-/_}_content c JOIN docs d ON d.id = c.id
            ORDER BY d.doc"
    done
}
catalog_docs() {
    local site=$1
    for id in $(ls "$FIXTURE/docs"); do "$STPCTL" doc "$site" "$id" 2>&1; done
}

cp -r "$FIXTURE" "$TMP/c"
check "full build publishes" sitegen -o "$TMP/s" "$TMP/c"
check "current is a symlink to a build" test -L "$TMP/s/current" -a -f "$TMP/s/current/catalog.mdb"
first=$(readlink "$TMP/s/current")

# the module's dynamic pages: the build's own stylesheet, and the UI strings
check "the build carries its page stylesheet" cmp -s "$ROOT/xslt/page.xsl" "$TMP/s/current/templates/page.xsl"
check_eq "German UI strings in the catalog" "Geheimhaltungsvereinbarung" "$("$STPCTL" string "$TMP/s" de nda.title)"
check "the NDA text in the catalog" bash -c "'$STPCTL' string '$TMP/s' en nda.text | grep -q ."

# 1. nothing changed: a new build shares every file with the previous one
check "rebuild without changes" sitegen -o "$TMP/s" "$TMP/c"
check_eq "unchanged rebuild rewrites nothing" "" "$(written "$TMP/s/$first" "$TMP/s/current")"
check_eq "unchanged rebuild has the same bytes" "$(tree_sum "$TMP/s/$first")" "$(tree_sum "$TMP/s/current")"

# 2. one body changes: only the pages showing it are rewritten, and the result equals a full build
doc=$(ls "$FIXTURE/docs" | head -1)
prev=$(readlink -f "$TMP/s/current")
printf '\nAn added paragraph about *scope*.\n' >>"$TMP/c/docs/$doc/en.md"
check "incremental build after a body change" sitegen -o "$TMP/s" "$TMP/c"
cur=$(readlink -f "$TMP/s/current")
w=$(written "$prev" "$cur"); c=$(changed "$prev" "$cur")
check_eq "body change rewrites exactly the changed pages" "$c" "$w"
check "body change rewrote the document's pages" grep -q "/$doc.html" <<<"$w"
check "body change left the home page alone" bash -c "! grep -q 'public/en/index.html' <<<'$w'"
check "full build of the same content" sitegen --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full (pages and files)" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"
check_eq "incremental equals full (catalog)" "$(catalog_docs "$TMP/full")" "$(catalog_docs "$TMP/s")"
check_eq "incremental equals full (search index)" "$(search_rows "$TMP/full")" "$(search_rows "$TMP/s")"
check "the search index holds every document" test "$(search_rows "$TMP/s" | wc -l)" -gt 3

# 3. a title changes: listings follow, and still equal a full build
prev=$(readlink -f "$TMP/s/current")
sed -i '0,/<title xml:lang="en">/s//<title xml:lang="en">Renamed: /' "$TMP/c/docs/$doc/doc.xml"
check "incremental build after a title change" sitegen -o "$TMP/s" "$TMP/c"
cur=$(readlink -f "$TMP/s/current")
check_eq "title change rewrites exactly the changed pages" "$(changed "$prev" "$cur")" "$(written "$prev" "$cur")"
rm -rf "$TMP/full"
sitegen --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full after a title change" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"
check_eq "incremental equals full after a title change (search index)" "$(search_rows "$TMP/full")" "$(search_rows "$TMP/s")"
check "the new title is published" grep -q "Renamed: " "$TMP/s/current/public/en/index.html" $(find -L "$TMP/s/current/public/en/docs" -name "$doc.html")

# 3b. only a download's bytes change (doc.xml untouched): the cached document is re-read
f=$(find "$TMP/c/docs/$doc" -maxdepth 1 -type f ! -name '*.xml' ! -name '*.md' | head -1)
printf 'new bytes\n' >>"$f"
new_sha=$(sha256sum "$f" | cut -c1-64)
check "incremental build after a download changed" sitegen -o "$TMP/s" "$TMP/c"
check "the page shows the new SHA-256" grep -q "$new_sha" $(find -L "$TMP/s/current/public/en/docs" -name "$doc.html")
check "the catalog has the new SHA-256" bash -c "'$STPCTL' doc '$TMP/s' '$doc' | grep -q '$new_sha'"
rm -rf "$TMP/full"
sitegen --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full after a download changed" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"

# 3c. a translation is added (a new file in the folder): the German page shows it
printf 'Eine neue deutsche Fassung.\n' >"$TMP/c/docs/$doc/de.md.new" && mv "$TMP/c/docs/$doc/de.md.new" "$TMP/c/docs/$doc/de.md"
check "incremental build after adding a translation" sitegen -o "$TMP/s" "$TMP/c"
check "the German page shows the new body" grep -q "Eine neue deutsche Fassung" $(find -L "$TMP/s/current/public/de/docs" -name "$doc.html")
rm -rf "$TMP/full"
sitegen --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full after adding a translation" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"
check_eq "incremental equals full after adding a translation (search index)" "$(search_rows "$TMP/full")" "$(search_rows "$TMP/s")"

# 3d. the templates change: every page follows (page fingerprints leave the templates out, the
# manifest and the shards carry them)
cp -r "$ROOT/xslt" "$TMP/x"
sed -i 's#<xsl:value-of select="stp:msg(.footer.note.)"/>#&<xsl:text> Template v2.</xsl:text>#' "$TMP/x/page.xsl"
check "incremental build with changed templates" sitegen -t "$TMP/x" -o "$TMP/s" "$TMP/c"
check_eq "every page has the new template" "" "$(grep -RL 'Template v2.' --include='*.html' "$TMP/s/current/public" "$TMP/s/current/tenants")"
rm -rf "$TMP/full"
sitegen -t "$TMP/x" --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full after a template change" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"
check "back to the original templates" sitegen -o "$TMP/s" "$TMP/c"
check_eq "no page keeps the changed template" "" "$(grep -Rl 'Template v2.' --include='*.html' "$TMP/s/current/public" "$TMP/s/current/tenants")"

# 3e. a date changes: What's new follows it into another month, rewriting exactly the pages that
# show it, and equals a full build (policy-v1 moves from February to June, before the May report)
wn=public/en/whats-new
check "What's new before: the May report first, February on a page of its own" \
    grep -q '/en/whats-new/2026-02/' "$TMP/s/current/$wn/index.html"
prev=$(readlink -f "$TMP/s/current")
sed -i 's#<published>2026-02-10</published>#<published>2026-06-15</published>#' "$TMP/c/docs/policy-v1/doc.xml"
check "incremental build after a date change" sitegen -o "$TMP/s" "$TMP/c"
cur=$(readlink -f "$TMP/s/current")
check_eq "date change rewrites exactly the changed pages" "$(changed "$prev" "$cur" | grep -v '^Only in ')" "$(written "$prev" "$cur")"
check "date change rewrote What's new in every locale" bash -c "grep -qx './$wn/index.html' <<<'$(written "$prev" "$cur")' && grep -qx './public/de/whats-new/index.html' <<<'$(written "$prev" "$cur")'"
check "What's new shows the moved document first, on its new date" \
    grep -q '<ol class="docs whatsnew"><li class="doc"><a class="title" href="/en/docs/policy-v1/">.*<time datetime="2026-06-15">' "$TMP/s/current/$wn/index.html"
check "the May report moved to a page of its own, linked as the older month" \
    bash -c "grep -q 'href=\"/en/docs/$doc/\"' '$TMP/s/current/$wn/2026-05/index.html' && grep -q '<a rel=\"next\" href=\"/en/whats-new/2026-05/\"' '$TMP/s/current/$wn/index.html'"
check_eq "February has no page any more" "" "$(ls -d "$TMP/s/current/$wn/2026-02" 2>/dev/null)"
check "the sitemap follows" bash -c "grep -q '/en/whats-new/2026-05/</loc>' '$TMP/s/current/public/sitemap.xml' && ! grep -q '2026-02/</loc>' '$TMP/s/current/public/sitemap.xml'"
rm -rf "$TMP/full"
sitegen --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full after a date change" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"
check_eq "incremental equals full after a date change (search index)" "$(search_rows "$TMP/full")" "$(search_rows "$TMP/s")"
# within the same month: the page is the same page, and it follows too
sed -i 's#<published>2026-06-15</published>#<published>2026-06-20</published>#' "$TMP/c/docs/policy-v1/doc.xml"
check "incremental build after a date change within the month" sitegen -o "$TMP/s" "$TMP/c"
check "What's new shows the new date" grep -q '<time datetime="2026-06-20">' "$TMP/s/current/$wn/index.html"
rm -rf "$TMP/full"
sitegen --full -o "$TMP/full" "$TMP/c"
check_eq "incremental equals full after a date change within the month" "$(tree_sum "$TMP/full/current")" "$(tree_sum "$TMP/s/current")"
check_eq "the tenant's document is on no public What's new page" "" "$(grep -rl tenant-pack "$TMP/s/current/public/"*/whats-new || true)"
check "the tenant's document is on its organisation page, under its month" \
    grep -q '<h3 id="m-2026-08">August 2026</h3><ol class="docs whatsnew"><li class="doc"><a class="title" href="/en/org/docs/tenant-pack/"' "$TMP/s/current/tenants/t1/en/index.html"

# 4. only the current and the previous build are kept
builds=$(ls -d "$TMP/s"/build-* | wc -l)
check_eq "two builds kept" 2 "$builds"
check_eq "the store holds only what those builds use" "" "$(comm -13 <(cat "$TMP"/s/build-*/.manifest | sed -n 's/^\([^ ]*\) @.*/\1/p' | sort -u) <(ls "$TMP/s/store" | sort))"

# 5. a content error publishes nothing
before=$(readlink "$TMP/s/current"); sum=$(tree_sum "$TMP/s/current")
echo '<broken' >"$TMP/c/docs/$doc/doc.xml"
"$SITEGEN" -q -o "$TMP/s" "$TMP/c" 2>/dev/null; rc=$?
check_eq "content error exits 1" 1 "$rc"
check_eq "content error keeps current" "$before" "$(readlink "$TMP/s/current")"
check_eq "content error keeps the bytes" "$sum" "$(tree_sum "$TMP/s/current")"
rm -rf "$TMP/c" && cp -r "$FIXTURE" "$TMP/c"

# 6. the disk fills up in the middle of writing: the run fails and the site stays as it was
mkdir -p "$TMP/small"
if mount -t tmpfs -o size=400k tmpfs "$TMP/small" 2>/dev/null; then
    trap 'umount "$TMP/small" 2>/dev/null; rm -rf "$TMP"' EXIT
    sitegen -o "$TMP/small/s" "$TMP/c"
    before=$(readlink "$TMP/small/s/current"); sum=$(tree_sum "$TMP/small/s/current")
    # the document's downloads grow past what the disk can hold
    for f in "$TMP/c/docs/$doc"/*; do
        case $f in *.xml | *.md) ;; *) head -c 600000 /dev/urandom >"$f" ;; esac
    done
    out=$("$SITEGEN" --today "$TODAY" -q --full -o "$TMP/small/s" "$TMP/c" 2>&1); rc=$?
    check_eq "full disk exits 2" 2 "$rc"
    check "full disk says why" grep -q "the published site is unchanged" <<<"$out"
    check_eq "full disk keeps current" "$before" "$(readlink "$TMP/small/s/current")"
    check_eq "full disk keeps the bytes" "$sum" "$(tree_sum "$TMP/small/s/current")"
    check_eq "full disk leaves no staging behind" "" "$(ls -a "$TMP/small/s" | grep staging || true)"
    umount "$TMP/small"
else
    not_ok "cannot mount a small tmpfs to fill (needs root)"
fi
rm -rf "$TMP/c" && cp -r "$FIXTURE" "$TMP/c"

# 7. killed in the middle: the site stays as it was, and the next run recovers
python3 - "$TMP/c" 3000 <<'PY'
import os, shutil, sys
root, n = sys.argv[1], int(sys.argv[2])
src = sorted(os.listdir(os.path.join(root, "docs")))[0]
base = os.path.join(root, "docs", src)
xml = open(os.path.join(base, "doc.xml"), encoding="utf-8").read()
for i in range(n):
    d = os.path.join(root, "docs", f"{src}-copy{i}")
    shutil.copytree(base, d)
    x = xml.replace(f'id="{src}"', f'id="{src}-copy{i}"', 1)
    import re
    x = re.sub(r'\sseries="[^"]*"', "", x, count=1)
    open(os.path.join(d, "doc.xml"), "w", encoding="utf-8").write(x)
PY
sitegen -o "$TMP/k" "$TMP/c"
before=$(readlink "$TMP/k/current"); sum=$(tree_sum "$TMP/k/current")
# a new site title changes every page, so the run has thousands to write
sed -i '0,/<label xml:lang="en">[^<]*</s//<label xml:lang="en">Changed portal</' "$TMP/c/site.xml"
touch "$TMP/marker"
"$SITEGEN" --today "$TODAY" -q -j1 -o "$TMP/k" "$TMP/c" 2>/dev/null &
pid=$!
# wait until it is writing pages into its staging directory, then kill it
for _ in $(seq 1 2000); do
    n=$(find "$TMP/k/store" -name '*.html' -newer "$TMP/marker" 2>/dev/null | head -200 | wc -l)
    [ "$n" -ge 200 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
kill -9 $pid 2>/dev/null && killed=yes || killed=no
wait $pid 2>/dev/null
check_eq "sitegen was killed while writing" yes "$killed"
check_eq "killed run keeps current" "$before" "$(readlink "$TMP/k/current")"
check_eq "killed run keeps the bytes" "$sum" "$(tree_sum "$TMP/k/current")"
check "next run publishes" sitegen -o "$TMP/k" "$TMP/c"
check_eq "next run cleared the killed run's staging" "" "$(ls -a "$TMP/k" | grep staging || true)"
check "next run has the change" grep -q "Changed portal" $(find -L "$TMP/k/current/public/en/docs" -name "$doc.html")

done_testing
