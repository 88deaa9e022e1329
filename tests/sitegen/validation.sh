#!/usr/bin/env bash
# Validation: every content rule is reported as path:line: message, all errors of a run together,
# exit status 1, and a failed run leaves the published site exactly as it was.
# Each rule copies tests/fixtures/valid, breaks it in one way and runs sitegen -o on a site that was
# first published from the valid fixture. Line numbers below are those of the fixture's files.
. "$(dirname "$0")/../lib.sh"
FIXTURE=$ROOT/tests/fixtures/valid
SITE=$TMP/site
C=$TMP/c

# The published site: where current points, every entry's type and name, every file's bytes.
site_state() {
    (cd "$SITE" && readlink current &&
        { find . -printf '%y %p %l\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } |
        sha256sum | cut -c1-64)
}
# A content tree's entries and bytes, to show that --check writes nothing.
tree_state() { (cd "$1" && { find . -printf '%y %p %l\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-64); }

# A fresh copy of the valid fixture in $C.
fresh() { rm -rf "$C" && cp -r "$FIXTURE" "$C"; SETUP=""; }

# edit FILE LINE OLD NEW: replaces OLD by NEW on line LINE of $C/FILE. A fixture that no longer has
# OLD on that line makes the test fail (rather than pass for the wrong reason).
edit() {
    local f=$C/$1 n=$2 old=$3 new=$4 lines
    mapfile -t lines <"$f"
    if [[ ${lines[n - 1]-} != *"$old"* ]]; then
        SETUP+="fixture $1:$n does not contain '$old'; "
        return
    fi
    lines[n - 1]=${lines[n - 1]/"$old"/"$new"}
    printf '%s\n' "${lines[@]}" >"$f"
}
# insert FILE AFTER TEXT: inserts TEXT as a new line after line AFTER of $C/FILE.
insert() {
    local f=$C/$1 n=$2 text=$3 lines
    mapfile -t lines <"$f"
    printf '%s\n' "${lines[@]:0:n}" "$text" "${lines[@]:n}" >"$f"
}

# run_sitegen ARGS...: runs sitegen on $C, keeping its status in RC and its error lines in OUT.
run_sitegen() {
    OUT=$("$SITEGEN" --today "$TODAY" -q "$@" 2>&1 >/dev/null)
    RC=$?
}

# expect_error NAME 'path:line: message'...: sitegen -o on $C exits 1, prints each given line exactly,
# ends with the error count, and leaves the published site untouched.
expect_error() {
    local name=$1 problems=() want n
    shift
    run_sitegen -o "$SITE" "$C"
    [ -n "$SETUP" ] && problems+=("setup: $SETUP")
    [ "$RC" = 1 ] || problems+=("exit status $RC, expected 1")
    for want in "$@"; do
        grep -qxF -- "$want" <<<"$OUT" || problems+=("missing: $want")
    done
    n=$(grep -c "^$C/.*:[0-9][0-9]*: " <<<"$OUT")
    grep -qxE "sitegen: $n errors? in $C; nothing was published" <<<"$(tail -n1 <<<"$OUT")" ||
        problems+=("last line is not 'sitegen: $n error(s) in $C; nothing was published'")
    [ "$(site_state)" = "$STATE" ] || problems+=("the published site changed")
    if [ ${#problems[@]} -eq 0 ]; then
        ok "$name"
    else
        local lines
        mapfile -t lines <<<"$OUT"
        not_ok "$name" "${problems[@]}" "stderr:" "${lines[@]/#/  }"
    fi
}

# --- the valid fixture, and a site published from it -------------------------------------------------
fresh
mkdir -p "$TMP/cwd"
before=$(tree_state "$C")
OUT=$(cd "$TMP/cwd" && "$SITEGEN" --check "$C" 2>&1); RC=$?
check_eq "--check on the valid fixture exits 0" 0 "$RC"
check_eq "--check writes nothing into the content" "$before" "$(tree_state "$C")"
check_eq "--check writes nothing into the working directory" "" "$(ls -A "$TMP/cwd")"
check "valid fixture publishes" sitegen -o "$SITE" "$C"
check "current is a symlink to a build" test -L "$SITE/current" -a -d "$SITE/current/"
STATE=$(site_state)

# --- XML and schema: the checker's findings in the editor's words, one line per problem ----------------
fresh
edit docs/audit-report/doc.xml 10 '<change xml:lang="en">First edition.</change>' '<colour>red</colour>'
expect_error "unknown element without a near name lists what may stand there" \
    "$C/docs/audit-report/doc.xml:10: unknown element <colour>; <document> may contain <published>, <tile>, <access>, <title>, <summary>, <change>, <services>, <regions>, <industries>, <files>, <draft>, <valid>, <reviewed>"
check_eq "unknown element: one line, no follow-up" 1 "$(grep -c "^$C/" <<<"$OUT")"

fresh
edit docs/policy-v1/doc.xml 6 '<title xml:lang="en">Information security policy</title>' '<titel xml:lang="en">Information security policy</titel>'
expect_error "a misspelt required element: did you mean, and not also 'missing <title>'" \
    "$C/docs/policy-v1/doc.xml:6: unknown element <titel>; did you mean <title>?"
check_eq "<titel>: one line, no follow-up" 1 "$(grep -c "^$C/" <<<"$OUT")"

fresh
edit docs/audit-report/doc.xml 10 '<change xml:lang="en">First edition.</change>' '<chnage xml:lang="en">First edition.</chnage>'
expect_error "a misspelt optional element is named (not a missing summary)" \
    "$C/docs/audit-report/doc.xml:10: unknown element <chnage>; did you mean <change>?"
check_eq "<chnage>: one line, no follow-up" 1 "$(grep -c "^$C/" <<<"$OUT")"

fresh
edit docs/policy-v1/doc.xml 2 'id="policy-v1"' 'id="ISO-27017-Cert"'
expect_error "an uppercase id: the rule for ids" \
    "$C/docs/policy-v1/doc.xml:2: id 'ISO-27017-Cert' must be lowercase letters, digits and hyphens"
check_eq "uppercase id: one line (not also 'does not match its folder')" 1 "$(grep -c "^$C/" <<<"$OUT")"

fresh
edit docs/policy-v1/doc.xml 3 '<published>2026-02-10</published>' ''
edit docs/policy-v1/doc.xml 7 '<summary xml:lang="en">How we protect customer data.</summary>' ''
expect_error "two missing elements are both reported, in one run" \
    "$C/docs/policy-v1/doc.xml:2: <document> is missing <published>" \
    "$C/docs/policy-v1/doc.xml:2: <document> is missing <summary>"

fresh
edit docs/audit-report/doc.xml 3 '2026-05-04' '2026-5-4'
edit docs/audit-report/doc.xml 5 'level="public"' 'level="pubic"'
edit docs/audit-report/doc.xml 15 'type="text/plain"' 'type="text/plain" size="3"'
expect_error "a bad date, a value outside a choice and an unknown attribute, in one run" \
    "$C/docs/audit-report/doc.xml:3: <published> '2026-5-4' must be a date written YYYY-MM-DD (or a time with its zone, such as 2026-12-01T09:00+01:00)" \
    "$C/docs/audit-report/doc.xml:5: level 'pubic' must be one of public, signin, nda, tenant" \
    "$C/docs/audit-report/doc.xml:15: unknown attribute size on <file>; it may have xml:lang, href, type"

# --- embargo: a moment needs its zone, a day must exist; drafts are checked too ---------------------
fresh
edit docs/audit-report/doc.xml 3 '2026-05-04' '2026-12-01T09:00'
expect_error "a publication time without a zone" \
    "$C/docs/audit-report/doc.xml:3: <published> '2026-12-01T09:00' must be a date written YYYY-MM-DD (or a time with its zone, such as 2026-12-01T09:00+01:00)"

fresh
edit docs/audit-report/doc.xml 3 '2026-05-04' '2026-02-30T09:00Z'
expect_error "a publication moment on a day that does not exist" \
    "$C/docs/audit-report/doc.xml:3: published date '2026-02-30T09:00Z' is not a valid date"

fresh
edit docs/audit-report/doc.xml 3 '<published>2026-05-04</published>' '<published>2026-05-04</published><draft>yes</draft>'
expect_error "<draft/> is empty" \
    "$C/docs/audit-report/doc.xml:3: <draft> must be empty, not text such as 'yes'"

fresh
edit docs/audit-report/doc.xml 3 '<published>2026-05-04</published>' '<published>2026-05-04</published><draft/><tile ref="nope"/>'
expect_error "a draft is checked like any document" \
    "$C/docs/audit-report/doc.xml:4: <tile> may appear only once in <document>"

fresh
edit docs/audit-report/doc.xml 3 '<published>2026-05-04</published>' '<published>2026-05-04</published><published>2026-05-05</published>'
edit docs/audit-report/doc.xml 14 '<files>' '<files>report.txt'
expect_error "an element given twice where once is the rule, and text where only elements belong" \
    "$C/docs/audit-report/doc.xml:3: <published> may appear only once in <document>" \
    "$C/docs/audit-report/doc.xml:14: <files> holds only elements (<file>), not text such as 'report.txt'"

fresh
edit site.xml 7 'name="English"' 'nmae="English"'
expect_error "a misspelt attribute: did you mean, not also 'missing name'" \
    "$C/site.xml:7: unknown attribute nmae on <locale>; did you mean name?"
check_eq "misspelt attribute: one line" 1 "$(grep -c "^$C/" <<<"$OUT")"
# A broken site.xml must not invent errors in documents that are fine (the fixture's German file
# variant was reported as "two files for locale ''").
check_eq "schema error in site.xml reports no errors in valid documents" "" "$(grep "^$C/docs/" <<<"$OUT")"

fresh
edit site.xml 7 '<locale id="en" name="English"/>' '<locale id="en"/>'
expect_error "a missing attribute" "$C/site.xml:7: <locale> needs the attribute name"

fresh
edit docs/policy-v1/doc.xml 6 'Information security policy' 'Information security & privacy policy'
expect_error "a bare & is explained" "$C/docs/policy-v1/doc.xml:6: a bare & is not allowed in XML: write &amp; (as in R&amp;D)"
check_eq "a bare &: one line, no follow-up" 1 "$(grep -c "^$C/" <<<"$OUT")"

fresh
edit docs/policy-v1/doc.xml 7 'How we protect' 'How&nbsp;we protect'
expect_error "an HTML entity is explained" \
    "$C/docs/policy-v1/doc.xml:7: unknown entity &nbsp;: XML knows only &amp; &lt; &gt; &quot; &apos; (write the character itself, such as a non-breaking space, or &amp; for a bare &)"

fresh
edit docs/policy-v1/doc.xml 6 '</title>' '</titel>'
expect_error "not well-formed XML" \
    "$C/docs/policy-v1/doc.xml:6: <title> opened on line 6 is closed by </titel>; the names must be the same"

fresh
edit site.xml 7 'name="English"' 'nmae="English"'
edit docs/audit-report/doc.xml 2 'id="audit-report"' 'id="Audit-Report"'
edit docs/policy-v1/doc.xml 6 '<title xml:lang="en">Information security policy</title>' '<titel xml:lang="en">Information security policy</titel>'
edit docs/tenant-pack/doc.xml 2 '<document id="tenant-pack">' '<document id="tenant-pack">&'
want=("$C/site.xml:7: unknown attribute nmae on <locale>; did you mean name?"
    "$C/docs/audit-report/doc.xml:2: id 'Audit-Report' must be lowercase letters, digits and hyphens"
    "$C/docs/policy-v1/doc.xml:6: unknown element <titel>; did you mean <title>?"
    "$C/docs/tenant-pack/doc.xml:2: a bare & is not allowed in XML: write &amp; (as in R&amp;D)")
expect_error "every problem of every file in one run" "${want[@]}"
check_eq "every problem of every file: exactly these lines" "$(printf '%s\n' "${want[@]}")" "$(grep "^$C/" <<<"$OUT")"

fresh
insert docs/policy-v1/doc.xml 1 '<!DOCTYPE document [<!ENTITY x "y">]>'
expect_error "DOCTYPE in doc.xml is rejected (on its line)" \
    "$C/docs/policy-v1/doc.xml:2: a DOCTYPE declaration is not allowed"

fresh
edit docs/policy-v1/doc.xml 1 '<?xml version="1.0" encoding="UTF-8"?>' '<!DOCTYPE document>'
expect_error "DOCTYPE in doc.xml is rejected (first line)" \
    "$C/docs/policy-v1/doc.xml:1: a DOCTYPE declaration is not allowed"

# --- references to the taxonomy ------------------------------------------------------------------------
fresh
edit docs/audit-report/doc.xml 4 'ref="audits"' 'ref="nope"'
expect_error "unknown tile" "$C/docs/audit-report/doc.xml:4: unknown tile 'nope'"

fresh
edit docs/audit-report/doc.xml 11 'ref="compute"' 'ref="storage"'
expect_error "unknown service" "$C/docs/audit-report/doc.xml:11: unknown service 'storage'"

fresh
edit docs/audit-report/doc.xml 12 'ref="eu"' 'ref="mars"'
expect_error "unknown region" "$C/docs/audit-report/doc.xml:12: unknown region 'mars'"

fresh
edit docs/audit-report/doc.xml 13 'ref="finance"' 'ref="mining"'
expect_error "unknown industry" "$C/docs/audit-report/doc.xml:13: unknown industry 'mining'"

fresh
edit docs/tenant-pack/doc.xml 5 '<tenant ref="t1"/>' '<tenant ref="t2"/>'
expect_error "unknown tenant" "$C/docs/tenant-pack/doc.xml:5: unknown tenant 't2'"

fresh
edit docs/audit-report/doc.xml 7 'xml:lang="de"' 'xml:lang="xx"'
expect_error "title in undeclared locale" "$C/docs/audit-report/doc.xml:7: title in undeclared locale 'xx'"

# --- site.xml ------------------------------------------------------------------------------------------
fresh
edit site.xml 24 '<tile id="policies">' '<tile id="audits">'
expect_error "duplicate tile id in site.xml" "$C/site.xml:24: duplicate tile id 'audits'"

fresh
edit site.xml 8 'id="de"' 'id="en"'
expect_error "duplicate locale" "$C/site.xml:8: duplicate locale 'en'"

fresh
rm "$C/nda/v1.en.md"
expect_error "missing NDA text (reported at <nda>)" \
    "$C/site.xml:10: missing NDA text $C/nda/v1.en.md for version 'v1' in the default locale"

# --- documents -----------------------------------------------------------------------------------------
fresh
edit docs/policy-v1/doc.xml 2 'id="policy-v1"' 'id="policy-v2"'
expect_error "document id must match its folder" \
    "$C/docs/policy-v1/doc.xml:2: document id 'policy-v2' does not match its folder name 'policy-v1'"

fresh
cp -r "$C/docs/policy-v1" "$C/docs/policy-v1-copy"
expect_error "duplicate document id" \
    "$C/docs/policy-v1-copy/doc.xml:2: document id 'policy-v1' does not match its folder name 'policy-v1-copy'" \
    "$C/docs/policy-v1-copy/doc.xml:2: duplicate document id 'policy-v1' (also in $C/docs/policy-v1/doc.xml)"

fresh
edit docs/tenant-pack/doc.xml 2 '<document id="tenant-pack">' '<document id="tenant-pack" series="policy" version="1">'
expect_error "two documents of one series with the same version" \
    "$C/docs/tenant-pack/doc.xml:2: series 'policy' already has version '1' ($C/docs/policy-v1/doc.xml)"

fresh
rm "$C/docs/policy-v1/en.md"
expect_error "missing default-locale body" "$C/docs/policy-v1/doc.xml:2: missing body en.md for the default locale"

fresh
edit docs/policy-v1/doc.xml 6 '<title xml:lang="en">' '<title xml:lang="de">'
expect_error "missing default-locale title" "$C/docs/policy-v1/doc.xml:2: document has no title in the default locale 'en'"

fresh
echo "# Unbekannt" >"$C/docs/policy-v1/xx.md"
expect_error "body file for an undeclared locale" "$C/docs/policy-v1/xx.md:1: body for undeclared locale 'xx'"

# --- files ---------------------------------------------------------------------------------------------
fresh
rm "$C/docs/policy-v1/policy.txt"
expect_error "missing file" "$C/docs/policy-v1/doc.xml:10: file 'policy.txt' does not exist"

fresh
edit docs/policy-v1/doc.xml 10 'href="policy.txt"' 'href="../audit-report/report.txt"'
expect_error "file path with .." \
    "$C/docs/policy-v1/doc.xml:10: file '../audit-report/report.txt' leaves the document folder or is not a plain path"

fresh
edit docs/policy-v1/doc.xml 10 'href="policy.txt"' 'href="/etc/hostname"'
expect_error "absolute file path (schema)" \
    "$C/docs/policy-v1/doc.xml:10: href '/etc/hostname' must be a path inside the document folder, such as report.pdf or de/report.pdf"

fresh
edit docs/policy-v1/doc.xml 10 'href="policy.txt"' 'href="de\x.pdf"'
expect_error "a Windows-style separator" "$C/docs/policy-v1/doc.xml:10: file 'de\x.pdf': use / instead of \ in paths (such as de/report.pdf)"

fresh
edit docs/policy-v1/doc.xml 10 'href="policy.txt"' 'href="C:\reports\x.pdf"'
expect_error "a Windows drive path" \
    "$C/docs/policy-v1/doc.xml:10: file 'C:\reports\x.pdf' is a Windows path: give its path inside the document folder, with / (such as de/report.pdf)"

# --- symbolic links: content is read without following any ------------------------------
LINK="a symbolic link is not allowed in the content tree"
echo "secret outside the content tree" >"$TMP/secret.md"

fresh
ln -sf ../../nda/v1.en.md "$C/docs/policy-v1/policy.txt"
expect_error "symlinked download file (even one pointing into the tree)" \
    "$C/docs/policy-v1/doc.xml:10: file 'policy.txt' is a symbolic link; $LINK"

fresh
mkdir "$C/docs/policy-v1/sub" && mv "$C/docs/policy-v1/policy.txt" "$C/docs/policy-v1/sub/"
ln -s sub "$C/docs/policy-v1/linked"
edit docs/policy-v1/doc.xml 10 'href="policy.txt"' 'href="linked/policy.txt"'
expect_error "download file through a symlinked sub-folder" \
    "$C/docs/policy-v1/doc.xml:10: file 'linked/policy.txt' goes through the symbolic link 'linked'; $LINK"

fresh
rm "$C/docs/policy-v1/en.md" && ln -s "$TMP/secret.md" "$C/docs/policy-v1/en.md"
expect_error "symlinked body" "$C/docs/policy-v1/en.md:1: $LINK" \
    "$C/docs/policy-v1/doc.xml:2: missing body en.md for the default locale"

fresh
ln -s "$TMP/secret.md" "$C/docs/audit-report/de.md.tmp" && rm "$C/docs/audit-report/de.md" &&
    mv "$C/docs/audit-report/de.md.tmp" "$C/docs/audit-report/de.md"
expect_error "symlinked body in another locale" "$C/docs/audit-report/de.md:1: $LINK"

fresh
rm "$C/nda/v1.en.md" && ln -s "$TMP/secret.md" "$C/nda/v1.en.md"
expect_error "symlinked NDA text" "$C/nda/v1.en.md:1: $LINK"

fresh
echo "Vertraulichkeit" >"$TMP/nda.de.md"
ln -s "$TMP/nda.de.md" "$C/nda/v1.de.md"
expect_error "symlinked NDA text in another locale" "$C/nda/v1.de.md:1: $LINK"

fresh
mv "$C/nda" "$TMP/nda-real" && ln -s "$TMP/nda-real" "$C/nda"
expect_error "symlinked nda folder" "$C/nda:1: $LINK"
rm -rf "$TMP/nda-real"

fresh
mv "$C/site.xml" "$TMP/site.xml" && ln -s "$TMP/site.xml" "$C/site.xml"
expect_error "symlinked site.xml" "$C/site.xml:1: $LINK"

fresh
mv "$C/docs/policy-v1/doc.xml" "$TMP/doc.xml" && ln -s "$TMP/doc.xml" "$C/docs/policy-v1/doc.xml"
expect_error "symlinked doc.xml" "$C/docs/policy-v1/doc.xml:1: $LINK"

fresh
mv "$C/docs/policy-v1" "$TMP/policy-v1" && ln -s "$TMP/policy-v1" "$C/docs/policy-v1"
expect_error "symlinked document folder" "$C/docs/policy-v1:1: $LINK"
rm -rf "$TMP/policy-v1"

fresh
mv "$C/docs" "$TMP/docs" && ln -s "$TMP/docs" "$C/docs"
expect_error "symlinked docs folder" "$C/docs:1: $LINK"
rm -rf "$TMP/docs"

# The incremental build's document cache must not let a link through: publish, then swap a body and a
# file of an unchanged folder for links (keeping sizes and times), and publish again.
fresh
SITE2=$TMP/site2
sitegen -o "$SITE2" "$C" >/dev/null 2>&1
saved=$STATE; SITE_SAVED=$SITE; SITE=$SITE2; STATE=$(site_state)
# The same inode, size and times as before, seen through the link: only the link itself differs.
touch -r "$C/docs/policy-v1" "$TMP/dirstamp"
mv "$C/docs/policy-v1/en.md" "$TMP/en.md" && ln -s "$TMP/en.md" "$C/docs/policy-v1/en.md"
touch -r "$TMP/dirstamp" "$C/docs/policy-v1"
expect_error "symlinked body after an incremental build (document cache)" "$C/docs/policy-v1/en.md:1: $LINK"
rm "$C/docs/policy-v1/en.md" && mv "$TMP/en.md" "$C/docs/policy-v1/en.md"
mv "$C/docs/policy-v1/policy.txt" "$TMP/policy.txt" && ln -s "$TMP/policy.txt" "$C/docs/policy-v1/policy.txt"
touch -r "$TMP/dirstamp" "$C/docs/policy-v1"
expect_error "symlinked file after an incremental build (document cache)" \
    "$C/docs/policy-v1/doc.xml:10: file 'policy.txt' is a symbolic link; $LINK"
SITE=$SITE_SAVED; STATE=$saved

# --- series: every version has the same access ---------------------------------------------
SERIES_RULE="every version of a series must have the same access level, tenants, NDA requirement and <require> elements"
fresh
edit docs/tenant-pack/doc.xml 2 '<document id="tenant-pack">' '<document id="tenant-pack" series="policy" version="2">'
expect_error "series mixing a tenant version with a signin version" \
    "$C/docs/tenant-pack/doc.xml:2: series 'policy': 'tenant-pack' is tenant (t1; NDA required) but 'policy-v1' ($C/docs/policy-v1/doc.xml) is signin; $SERIES_RULE"

fresh
edit docs/audit-report/doc.xml 2 '<document id="audit-report">' '<document id="audit-report" series="pack" version="1">'
edit docs/tenant-pack/doc.xml 2 '<document id="tenant-pack">' '<document id="tenant-pack" series="pack" version="2">'
expect_error "series mixing a public version with a tenant version" \
    "$C/docs/tenant-pack/doc.xml:2: series 'pack': 'tenant-pack' is tenant (t1; NDA required) but 'audit-report' ($C/docs/audit-report/doc.xml) is public; $SERIES_RULE"

fresh
edit site.xml 13 '<tenant id="t1"><label xml:lang="en">Tenant One</label></tenant>' \
    '<tenant id="t1"><label xml:lang="en">Tenant One</label></tenant><tenant id="t2"><label xml:lang="en">Tenant Two</label></tenant>'
cp -r "$C/docs/tenant-pack" "$C/docs/tenant-pack-2"
edit docs/tenant-pack-2/doc.xml 2 '<document id="tenant-pack">' '<document id="tenant-pack-2" series="tenant-pack" version="2">'
edit docs/tenant-pack-2/doc.xml 5 '<tenant ref="t1"/>' '<tenant ref="t2"/>'
expect_error "series with versions of two different tenants" \
    "$C/docs/tenant-pack-2/doc.xml:2: series 'tenant-pack': 'tenant-pack-2' is tenant (t2; NDA required) but 'tenant-pack' ($C/docs/tenant-pack/doc.xml) is tenant (t1; NDA required); $SERIES_RULE"
edit docs/tenant-pack-2/doc.xml 5 '<tenant ref="t2"/>' '<tenant ref="t1"/><tenant ref="t2"/>'
expect_error "series whose tenant sets differ" \
    "$C/docs/tenant-pack-2/doc.xml:2: series 'tenant-pack': 'tenant-pack-2' is tenant (t1, t2; NDA required) but 'tenant-pack' ($C/docs/tenant-pack/doc.xml) is tenant (t1; NDA required); $SERIES_RULE"
edit docs/tenant-pack-2/doc.xml 5 '<access level="tenant" nda="true"><tenant ref="t1"/><tenant ref="t2"/></access>' \
    '<access level="tenant"><tenant ref="t1"/></access>'
expect_error "series whose tenant versions differ in the NDA requirement" \
    "$C/docs/tenant-pack-2/doc.xml:2: series 'tenant-pack': 'tenant-pack-2' is tenant (t1) but 'tenant-pack' ($C/docs/tenant-pack/doc.xml) is tenant (t1; NDA required); $SERIES_RULE"
edit docs/tenant-pack-2/doc.xml 5 '<access level="tenant"><tenant ref="t1"/></access>' \
    '<access level="tenant" nda="true"><tenant ref="t1"/><tenant ref="t1"/></access>'
run_sitegen --check "$C"
check_eq "a series whose tenant versions share tenants and NDA flag is valid" "0 " "$RC $(grep "^$C/" <<<"$OUT")"

fresh
edit docs/policy-v1/doc.xml 10 '<file href=' '<file xml:lang="de" href='
expect_error "no default-locale file" \
    "$C/docs/policy-v1/doc.xml:9: no file for the default locale 'en' (a <file> without xml:lang)"

# --- <require> in <access> -------------------------------------------------------------------
RLO=$'\xe2\x80\xae'
fresh
edit docs/audit-report/doc.xml 5 '<access level="public"/>' '<access level="public"><require claim="licence" value="e5"/></access>'
expect_error "<require> on a public document" \
    "$C/docs/audit-report/doc.xml:5: a public document cannot have <require>: requirements need a signed-in reader; use level=\"signin\" (or nda, tenant) or remove the <require>"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' '<access level="signin"><require role="auditor"/></access>'
expect_error "<require> of an unknown role" \
    "$C/docs/policy-v1/doc.xml:5: unknown role 'auditor' in <require>; the only role is tenant-admin"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' '<access level="signin"><require claim="" value="e5"/></access>'
expect_error "<require> of a claim without a name" "$C/docs/policy-v1/doc.xml:5: claim name '' in <require> is empty"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' '<access level="signin"><require claim="licence" value=""/></access>'
expect_error "<require> of an empty claim value" "$C/docs/policy-v1/doc.xml:5: value of claim 'licence' in <require> is empty"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' "<access level=\"signin\"><require claim=\"licence\" value=\"e${RLO}5\"/></access>"
expect_error "<require> of a claim value with a bidi control" \
    "$C/docs/policy-v1/doc.xml:5: claim value contains U+202E RIGHT-TO-LEFT OVERRIDE; bidirectional control characters are not allowed"

fresh
# (sed: bash's ${x/old/new} reads & in new as the match)
sed -i '5s|<access level="signin"/>|<access level="signin"><require claim="licence" value="e\&#10;5"/></access>|' "$C/docs/policy-v1/doc.xml"
expect_error "<require> of a claim value with a control character" \
    "$C/docs/policy-v1/doc.xml:5: value of claim 'licence' in <require> contains a control character"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' '<access level="signin"><require claim="licence" value="e3,e5"/></access>'
expect_error "<require> of a claim value with a comma" \
    "$C/docs/policy-v1/doc.xml:5: value of claim 'licence' in <require> contains a comma (a claim's values are separated by commas: require each one separately)"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' '<access level="signin"><require claim="lic ence" value="e5"/></access>'
expect_error "<require> of a claim name with a space" \
    "$C/docs/policy-v1/doc.xml:5: claim name 'lic ence' in <require> may use only letters, digits, '_', '-', '.' and ':'"

fresh
LONG=$(printf 'v%.0s' {1..129})
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' "<access level=\"signin\"><require claim=\"licence\" value=\"$LONG\"/></access>"
expect_error "<require> of a claim value over 128 bytes" \
    "$C/docs/policy-v1/doc.xml:5: value of claim 'licence' in <require> is longer than 128 bytes"

fresh
edit docs/policy-v1/doc.xml 5 '<access level="signin"/>' '<access level="signin"><require role="tenant-admin"/><require role="tenant-admin"/></access>'
expect_error "the same <require> twice" "$C/docs/policy-v1/doc.xml:5: the same <require> twice"

fresh
cp -r "$C/docs/tenant-pack" "$C/docs/tenant-pack-2"
edit docs/tenant-pack-2/doc.xml 2 '<document id="tenant-pack">' '<document id="tenant-pack-2" series="tenant-pack" version="2">'
edit docs/tenant-pack-2/doc.xml 5 '<tenant ref="t1"/>' '<tenant ref="t1"/><require role="tenant-admin"/>'
expect_error "series whose versions differ in their requirements" \
    "$C/docs/tenant-pack-2/doc.xml:2: series 'tenant-pack': 'tenant-pack-2' is tenant (t1; NDA required) requiring role tenant-admin but 'tenant-pack' ($C/docs/tenant-pack/doc.xml) is tenant (t1; NDA required); $SERIES_RULE"
edit docs/tenant-pack/doc.xml 5 '<tenant ref="t1"/>' '<require claim="licence" value="e5"/><tenant ref="t1"/><require role="tenant-admin"/>'
edit docs/tenant-pack-2/doc.xml 5 '<require role="tenant-admin"/>' '<require role="tenant-admin"/><require claim="licence" value="e5"/>'
run_sitegen --check "$C"
check_eq "versions with the same requirements in another order are valid" "0 " "$RC $(grep "^$C/" <<<"$OUT")"

# --- bidirectional controls in names and texts ---------------------------------------------
RLO=$'\xe2\x80\xae' LRI=$'\xe2\x81\xa6' RLM=$'\xe2\x80\x8f' ALM=$'\xd8\x9c'
BIDI="bidirectional control characters are not allowed"
fresh
edit docs/policy-v1/doc.xml 6 'Information security policy' "Information ${RLO}security policy"
expect_error "RLO in a document title" "$C/docs/policy-v1/doc.xml:6: title contains U+202E RIGHT-TO-LEFT OVERRIDE; $BIDI"

fresh
edit docs/policy-v1/doc.xml 7 'How we protect' "How ${LRI}we protect"
expect_error "LRI in a summary" "$C/docs/policy-v1/doc.xml:7: summary contains U+2066 LEFT-TO-RIGHT ISOLATE; $BIDI"

fresh
edit docs/audit-report/doc.xml 10 'First edition.' "First ${RLO}edition."
expect_error "RLO in a change note" "$C/docs/audit-report/doc.xml:10: change contains U+202E RIGHT-TO-LEFT OVERRIDE; $BIDI"

fresh
mv "$C/docs/policy-v1/policy.txt" "$C/docs/policy-v1/policy${RLO}txt.exe"
edit docs/policy-v1/doc.xml 10 'href="policy.txt"' "href=\"policy${RLO}txt.exe\""
expect_error "RLO in a download file name" \
    "$C/docs/policy-v1/doc.xml:10: file name contains U+202E RIGHT-TO-LEFT OVERRIDE; $BIDI"

fresh
edit site.xml 3 'Example Trust Portal' "Example ${RLO}Trust Portal"
expect_error "RLO in the site label" "$C/site.xml:3: label contains U+202E RIGHT-TO-LEFT OVERRIDE; $BIDI"

fresh
edit site.xml 13 'Tenant One' "Tenant ${RLO}One"
expect_error "RLO in a tenant name" "$C/site.xml:13: label contains U+202E RIGHT-TO-LEFT OVERRIDE; $BIDI"

fresh
edit docs/policy-v1/doc.xml 6 'Information security policy' "Information${RLM} security policy${ALM}"
run_sitegen --check "$C"
check_eq "the marks U+200F and U+061C are allowed in a title" "0 " "$RC $(grep "^$C/" <<<"$OUT")"

# --- NDA texts are Markdown, rendered like bodies ------------------------------------------
fresh
cat >"$C/nda/v1.en.md" <<'MD'
# Heading

## Section

<script>alert(1)</script>

- first item
- second item

Text with <img src=x onerror=alert(2)> inline HTML and a [bad link](javascript:alert(3)).
MD
if sitegen -o "$TMP/nda-site" "$C" >/dev/null 2>&1; then
    nda=$("$STPCTL" string "$TMP/nda-site" en nda.text)
    check "NDA text: # is an <h2> under the page's h1" grep -qF '<h2>Heading</h2>' <<<"$nda"
    check "NDA text: ## is an <h3>" grep -qF '<h3>Section</h3>' <<<"$nda"
    check "NDA text: a Markdown list is a <ul> of <li>" grep -qzF $'<ul>\n<li>first item</li>\n<li>second item</li>\n</ul>' <<<"$nda"
    check_eq "NDA text: no raw HTML, no script, no javascript: link, no literal '#'" "" \
        "$(grep -iE '<script|alert|onerror|<img|javascript:|^#' <<<"$nda")"
    check "NDA text: the rest of the paragraph stays" grep -qF 'inline HTML and a <a href="">bad link</a>' <<<"$nda"
else
    not_ok "NDA text with raw HTML publishes"
fi

# --- Markdown files are UTF-8; bodies are GitHub Flavored Markdown ------------------------
fresh
printf 'Der Bericht wird hier erl\xe4utert, f\xfcr alle.\n' >>"$C/docs/audit-report/de.md"
line=$(wc -l <"$C/docs/audit-report/de.md")
expect_error "a Latin-1 body is refused at its line, with the bytes" \
    "$C/docs/audit-report/de.md:$line: not UTF-8 (bytes E4 FC): save the file as UTF-8"

fresh
printf 'Vertraulich\n\nGro\xdfe Sorgfalt.\n' >"$C/nda/v1.de.md"
expect_error "a Latin-1 NDA text is refused" "$C/nda/v1.de.md:3: not UTF-8 (byte DF): save the file as UTF-8"

fresh
printf 'x\n\xe4\xb8\n\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80\n' >"$C/docs/policy-v1/en.md"
expect_error "a truncated sequence is refused with its bytes" \
    "$C/docs/policy-v1/en.md:2: not UTF-8 (bytes E4 B8): save the file as UTF-8"
printf 'x\n\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80\n' >"$C/docs/policy-v1/en.md"
expect_error "surrogates, overlong forms and code points above U+10FFFF are not UTF-8" \
    "$C/docs/policy-v1/en.md:2: not UTF-8 (bytes ED A0 80 C0 AF F4 90 80 80): save the file as UTF-8"

fresh
cat >"$C/docs/policy-v1/en.md" <<'MD'
# Scope

## Controls

### Detail

###### Deepest

| Control | Result |
| --- | ---: |
| Access reviews | ~~late~~ done |
| [bad](javascript:alert(1)) | <b>raw</b> |

- [x] reviewed
- [ ] signed

See www.example.com and the note[^1].

[^1]: Checked in April.
MD
printf '\xef\xbb\xbfMit BOM: Pr\xc3\xbcfung.\n' >"$C/docs/audit-report/de.md"
if sitegen -o "$TMP/md-site" "$C" >/dev/null 2>&1; then
    page=$(find -L "$TMP/md-site/current" -path "*/en/docs/*/policy-v1.html" | head -1)
    body=$(sed -n '/<div class="body"/,/<h2 id="downloads">/p' "$page" |
        sed -e '1s/.*<div class="body"/<div class="body"/' -e '$s/<h2 id="downloads">.*//')
    check "body: # is an <h2> under the page's h1" grep -qF '<h2>Scope</h2>' <<<"$body"
    check "body: ## is an <h3>" grep -qF '<h3>Controls</h3>' <<<"$body"
    check "body: ### is an <h4>" grep -qF '<h4>Detail</h4>' <<<"$body"
    check "body: ###### stays an <h6> (the last level)" grep -qF '<h6>Deepest</h6>' <<<"$body"
    check_eq "body: no <h1> from Markdown" "" "$(grep -F '<h1' <<<"$body")"
    check "body: a table renders as <table> with a header" grep -qF '<th>Control</th>' <<<"$body"
    check "body: a table cell, aligned as the Markdown says" grep -qF '<td align="right">' <<<"$body"
    check "body: strikethrough" grep -qF '<del>late</del>' <<<"$body"
    check "body: task list boxes" grep -qF '<input type="checkbox" checked disabled' <<<"$body"
    check "body: a bare www address is a link" grep -qF '<a href="http://www.example.com">www.example.com</a>' <<<"$body"
    check "body: footnotes" grep -qF 'Checked in April.' <<<"$body"
    check_eq "body: safe mode in a table (no javascript:, no raw HTML)" "" "$(grep -iE 'javascript:|<b>raw' <<<"$body")"
    de=$(find -L "$TMP/md-site/current" -path "*/de/docs/*/audit-report.html" | head -1)
    check "a body with a byte order mark publishes without it" grep -qF '<p>Mit BOM: Prüfung.</p>' "$de"
else
    not_ok "GitHub Flavored Markdown body publishes"
fi

# --- validity: <valid from until/> and <reviewed> (docs/content-format.md#validity) -----------------------
fresh
insert docs/audit-report/doc.xml 3 '  <valid/>'
expect_error "<valid> with neither from nor until" \
    "$C/docs/audit-report/doc.xml:4: <valid> needs from, until or both, such as <valid from=\"2026-01-01\" until=\"2026-12-31\"/>"

fresh
insert docs/audit-report/doc.xml 3 '  <valid from="2026-06-30" until="2026-01-01"/>'
expect_error "<valid> that ends before it starts" \
    "$C/docs/audit-report/doc.xml:4: <valid> until 2026-01-01 is before from 2026-06-30: a validity ends on or after the day it starts"

fresh
insert docs/audit-report/doc.xml 3 '  <valid from="2026-5-4" until="2026-02-30"/>'
expect_error "<valid>: a date not written YYYY-MM-DD, and a day the month does not have" \
    "$C/docs/audit-report/doc.xml:4: from '2026-5-4' must be a date written YYYY-MM-DD" \
    "$C/docs/audit-report/doc.xml:4: until '2026-02-30' must be a date written YYYY-MM-DD"

fresh
insert docs/audit-report/doc.xml 3 '  <valid until="0226-12-31"/>'
expect_error "<valid>: a year that is a typo" \
    "$C/docs/audit-report/doc.xml:4: until '0226-12-31' in <valid> is out of range: give a year from 2000 to 2199"

fresh
insert docs/audit-report/doc.xml 3 '  <valid untill="2026-12-31"/>'
expect_error "<valid>: a misspelt attribute" \
    "$C/docs/audit-report/doc.xml:4: unknown attribute untill on <valid>; did you mean until?"

fresh
insert docs/audit-report/doc.xml 3 '  <valid until="2026-12-31"/>'
insert docs/audit-report/doc.xml 4 '  <valid until="2027-12-31"/>'
expect_error "<valid> twice" "$C/docs/audit-report/doc.xml:5: <valid> may appear only once in <document>"

fresh
insert docs/audit-report/doc.xml 3 '  <reviewed>2026-13-01</reviewed>'
expect_error "<reviewed>: not a date" "$C/docs/audit-report/doc.xml:4: <reviewed> '2026-13-01' must be a date written YYYY-MM-DD"

fresh
insert docs/audit-report/doc.xml 3 '  <reviewed>1999-12-31</reviewed>'
expect_error "<reviewed>: a year out of range" \
    "$C/docs/audit-report/doc.xml:4: <reviewed> '1999-12-31' is out of range: give a year from 2000 to 2199"

fresh
insert docs/audit-report/doc.xml 3 '  <reviewd>2026-10-01</reviewd>'
expect_error "<reviewed> misspelt" "$C/docs/audit-report/doc.xml:4: unknown element <reviewd>; did you mean <reviewed>?"

fresh
insert site.xml 5 '  <editors>content team</editors>'
expect_error "<editors> must be an e-mail address" \
    "$C/site.xml:6: <editors> 'content team' must be an e-mail address such as trust-content@example.com"

fresh
insert docs/audit-report/doc.xml 3 '  <valid from="2026-01-01" until="2026-12-31"/>'
insert docs/audit-report/doc.xml 4 '  <reviewed>2026-10-01</reviewed>'
insert site.xml 5 '  <editors>trust-content@example.com</editors>'
run_sitegen --check "$C"
check_eq "<valid>, <reviewed> and <editors> as documented are valid" "0 " "$RC $OUT"
# --- images and links in bodies: relative ones name files of the document folder -----------------
IMG=$ROOT/tests/fixtures/images
AR=$C/docs/audit-report
# body LINE...: replaces the English body of audit-report; its lines are numbered from 1.
body() { printf '%s\n' "$@" >"$AR/en.md"; }
fresh; cp "$IMG/scope.png" "$AR/"; body "# Scope" "" "![scope](scope.png)" "![gone](missing.png)"
expect_error "an image that does not exist" "$AR/en.md:4: image 'missing.png' does not exist"
fresh; body "Intro" "" "See [the annex](annex.pdf)."
expect_error "a link to a file that does not exist" "$AR/en.md:3: link 'annex.pdf' does not exist"
fresh; echo notes >"$AR/notes.txt"; body "Intro" "[notes](notes.txt)"
expect_error "a link to a file of the folder that is not a <file>" \
    "$AR/en.md:2: link 'notes.txt' names a file that is not published: list it as a <file> in doc.xml to offer it for download"
fresh; cp "$IMG/scope.png" "$C/docs/tenant-pack/pack.png"; body "![x](../tenant-pack/pack.png)"
expect_error "an image outside the document folder (..)" \
    "$AR/en.md:1: image '../tenant-pack/pack.png' leaves the document folder or is not a plain path"
fresh; cp "$IMG/scope.png" "$C/docs/tenant-pack/pack.png"; body "" "![x](%2e%2e/tenant-pack/pack.png)"
expect_error "an image outside the folder, percent-encoded" \
    "$AR/en.md:2: image '../tenant-pack/pack.png' leaves the document folder or is not a plain path"
fresh; body "[up](sub/%2E%2E/%2E%2E/policy-v1/policy.txt)"
expect_error "a link outside the folder, percent-encoded" \
    "$AR/en.md:1: link 'sub/../../policy-v1/policy.txt' leaves the document folder or is not a plain path"
fresh; body "![x](scope%00.png)"
expect_error "an image address with %00" "$AR/en.md:1: image 'scope%00.png' is not a plain path (it holds %00)"
fresh; ln -s ../../site.xml "$AR/site.png"; body "![x](site.png)"
expect_error "an image that is a symbolic link" "$AR/en.md:1: image 'site.png' is a symbolic link; $LINK"
fresh; mkdir "$C/real"; cp "$IMG/scope.png" "$C/real/"; ln -s ../../real "$AR/pics"; body "![x](pics/scope.png)"
expect_error "an image through a symbolic link" \
    "$AR/en.md:1: image 'pics/scope.png' goes through the symbolic link 'pics'; $LINK"
fresh; mkdir "$AR/img"; cp "$IMG/scope.png" "$AR/img/"; body "![x](img\\scope.png)"
expect_error "an image path with a backslash" "$AR/en.md:1: image 'img\\scope.png': use / instead of \\ in paths (such as de/report.pdf)"
fresh; printf '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' >"$AR/chart.svg"; body "![chart](chart.svg)"
expect_error "an SVG image is refused" \
    "$AR/en.md:1: image 'chart.svg': SVG images are not published (an SVG can carry scripts); export it as PNG"
fresh; printf 'BM' >"$AR/chart.bmp"; body "![chart](chart.bmp)"
expect_error "an image of another type" \
    "$AR/en.md:1: image 'chart.bmp' must be a PNG, JPEG, GIF or WebP file (.png, .jpg, .jpeg, .gif, .webp)"
fresh; printf '<html><script>alert(1)</script></html>' >"$AR/page.png"; body "![x](page.png)"
expect_error "an image whose bytes are not of its type" \
    "$AR/en.md:1: image 'page.png' does not hold PNG data (its first bytes say otherwise)"
fresh; cp "$IMG/scope.png" "$AR/big.png"; truncate -s 11M "$AR/big.png"; body "![x](big.png)"
expect_error "an image larger than 10 MiB" "$AR/en.md:1: image 'big.png' is 11.0 MiB; an image may be at most 10 MiB"
fresh; cp "$IMG/scope.png" "$AR/report.png"; edit docs/audit-report/doc.xml 15 'href="report.txt" type="text/plain"' 'href="report.png"'
body "![x](report.png)"
expect_error "an image that is also a file to download" \
    "$AR/en.md:1: image 'report.png' is also a file to download (<file> in doc.xml): an image in the body is published for everyone who sees the page; show a separate copy"
fresh; body "![x](gone.png)"; printf '%s\n' "Text" "" "[y](gone.pdf)" >"$AR/de.md"
expect_error "image and link problems of every body in one run" \
    "$C/docs/audit-report/de.md:3: link 'gone.pdf' does not exist" "$AR/en.md:1: image 'gone.png' does not exist"

# --- the portal's own words in site.xml: links are web or mail addresses; the default locale is there --
fresh; insert site.xml 4 '  <privacy xml:lang="en" href="javascript:alert(1)">Privacy</privacy>'
expect_error "a footer link that is not a web or mail address" \
    "$C/site.xml:5: privacy href 'javascript:alert(1)' must be a web or mail address starting with https://, http:// or mailto: (and no spaces)"
fresh; insert site.xml 4 '  <contact xml:lang="en" href="https://example.com/contact us">Contact</contact>'
expect_error "a footer link with a space" \
    "$C/site.xml:5: contact href 'https://example.com/contact us' must be a web or mail address starting with https://, http:// or mailto: (and no spaces)"
fresh; insert site.xml 4 '  <imprint xml:lang="de" href="https://example.com/impressum">Impressum</imprint>'
expect_error "a footer link without the default locale" "$C/site.xml:2: site has no imprint in the default locale 'en'"
fresh; insert site.xml 4 '  <tagline xml:lang="en">One.</tagline>'; insert site.xml 5 '  <tagline xml:lang="en">Two.</tagline>'
expect_error "a tagline twice for a locale" "$C/site.xml:6: tagline given twice for locale 'en'"
fresh; insert site.xml 4 '  <footer xml:lang="en">Ok.</footer>'; insert site.xml 5 '  <footer xml:lang="xx">Nope.</footer>'
expect_error "a footer text in an undeclared locale" "$C/site.xml:6: footer in undeclared locale 'xx'"

# --- every error of a run, together --------------------------------------------------------------------
fresh
edit site.xml 22 '<description xml:lang="en">' '<description xml:lang="xx">'
edit docs/audit-report/doc.xml 11 'ref="compute"' 'ref="storage"'
rm "$C/docs/policy-v1/en.md"
edit docs/tenant-pack/doc.xml 5 '<tenant ref="t1"/>' '<tenant ref="t2"/>'
want=("$C/site.xml:22: description in undeclared locale 'xx'"
    "$C/docs/audit-report/doc.xml:11: unknown service 'storage'"
    "$C/docs/policy-v1/doc.xml:2: missing body en.md for the default locale"
    "$C/docs/tenant-pack/doc.xml:5: unknown tenant 't2'")
expect_error "several errors in different files in one run" "${want[@]}"
check_eq "several errors: exactly 4 error lines, in file order" "$(printf '%s\n' "${want[@]}")" "$(grep "^$C/" <<<"$OUT")"
check_eq "several errors: the count" "sitegen: 4 errors in $C; nothing was published" "$(tail -n1 <<<"$OUT")"
run_sitegen --check "$C"
check_eq "--check reports the same errors and exits 1" "1 $(printf '%s\n' "${want[@]}")" "$RC $(grep "^$C/" <<<"$OUT")"

# --- usage ---------------------------------------------------------------------------------------------
run_sitegen -o "$SITE" "$TMP/nope"
check_eq "nonexistent content dir exits 2" 2 "$RC"
check_eq "nonexistent content dir says so" "sitegen: $TMP/nope is not a content directory" "$OUT"
check_eq "nonexistent content dir leaves the site alone" "$STATE" "$(site_state)"
OUT=$("$SITEGEN" 2>&1 >/dev/null); RC=$?
check_eq "no arguments exits 2" 2 "$RC"
check "no arguments prints usage" grep -q '^Usage: sitegen' <<<"$OUT"
OUT=$("$SITEGEN" --help 2>/dev/null); RC=$?
check_eq "--help exits 0" 0 "$RC"
check "--help prints usage on stdout" grep -q '^Usage: sitegen' <<<"$OUT"

done_testing
