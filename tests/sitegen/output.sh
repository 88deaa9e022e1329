#!/usr/bin/env bash
# The example content, published: what every page, feed and sitemap must hold, in every locale,
# and what must never appear in public output (tenant documents).
. "$(dirname "$0")/../lib.sh"
CONTENT=${CONTENT:-$ROOT/content}

check "example content publishes" sitegen -o "$TMP/s" "$CONTENT"
S=$TMP/s/current
[ -d "$S/public" ] || { done_testing; exit 1; }

# Facts about the content, straight from its XML (not from our output).
python3 - "$CONTENT" "$TODAY" >"$TMP/facts" <<'PY'
import os, sys, xml.etree.ElementTree as ET
root, today = sys.argv[1:]
XL = "{http://www.w3.org/XML/1998/namespace}lang"
site = ET.parse(os.path.join(root, "site.xml")).getroot()
locales = [l.get("id") for l in site.find("locales")]
print("locales", " ".join(locales))
print("rtl", " ".join(l.get("id") for l in site.find("locales") if l.get("dir") == "rtl"))
print("tiles", sum(len(s.findall("tile")) for s in site.find("sections")))
tenants = [t.get("id") for t in site.find("tenants")] if site.find("tenants") is not None else []
print("tenants", " ".join(tenants))
series = {}
for d in sorted(os.listdir(os.path.join(root, "docs"))):
    x = ET.parse(os.path.join(root, "docs", d, "doc.xml")).getroot()
    # Drafts and documents under embargo on the day sitegen is told it is: published nowhere.
    if x.find("draft") is not None or x.findtext("published").strip() > today:
        print("held", d)
        continue
    acc = x.find("access")
    level = acc.get("level")
    series.setdefault(x.get("series") or d, []).append((x.findtext("published"), d))
    print("doc", d, level, ",".join(t.get("ref") for t in acc.findall("tenant")) or "-")
    bodies = [f[:-3] for f in os.listdir(os.path.join(root, "docs", d)) if f.endswith(".md")]
    print("bodies", d, " ".join(sorted(bodies)))
    if level == "tenant":
        # Everything that would betray a tenant document: id, titles, summaries, file names.
        secrets = [d] + [e.text.strip() for e in x.findall("title") + x.findall("summary")]
        secrets += [os.path.basename(f.get("href")) for f in x.find("files")]
        for s in secrets:
            print("secret", d, s)
print("series", sum(1 for v in series.values() if len(v) >= 3), sum(1 for v in series.values() if len(v) >= 2))
for name, v in series.items():
    v.sort(reverse=True)
    for i, (pub, d) in enumerate(v):
        print("version", name, d, pub, "current" if i == 0 else "older")
PY
fact() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$TMP/facts"; }
LOCALES=$(fact locales)
ndocs=$(fact doc | wc -l)
check "at least 40 documents" test "$ndocs" -ge 40
check "at least 12 tiles" test "$(fact tiles)" -ge 12
check_eq "five locales" 5 "$(wc -w <<<"$LOCALES")"
read -r s3 s2 <<<"$(fact series)"
check "at least 3 series with several versions" test "$s2" -ge 3
for level in public signin nda tenant; do
    check "documents at access level $level" grep -q "^doc [^ ]* $level " "$TMP/facts"
done
check "tenant documents for two tenants" test "$(fact doc | awk '$2 == "tenant" { n = split($3, t, ","); for (i = 1; i <= n; i++) print t[i] }' | sort -u | wc -l)" -ge 2

# --- every locale has its pages, marked up for its language and direction
rtl=$(fact rtl)
for l in $LOCALES; do
    dir=ltr; [[ " $rtl " == *" $l "* ]] && dir=rtl
    check "$l: home page" test -f "$S/public/$l/index.html"
    check "$l: lang and dir on every page" bash -c "! grep -L '<html lang=\"$l\" dir=\"$dir\">' \$(find -L '$S/public/$l' -name '*.html') | grep -q ."
    check "$l: Atom feed is well-formed" xmllint --noout "$S/public/$l/feed.xml"
done
check "sitemap is well-formed" xmllint --noout "$S/public/sitemap.xml"
# A document's page in a build (pages live in shard directories; see libstp/stp_paths.h).
docpage() { find -L "$1" -path "*/$2/docs/*/$3.html" | head -1; }
check "tile pages for every tile in every locale" test "$(find "$S/public" -mindepth 4 -maxdepth 4 -path '*/index.html' ! -path '*/docs/*' ! -path '*/whats-new/*' | wc -l)" -eq "$(($(fact tiles) * 5))"

# --- a document page: alternates, language picker that keeps the page, hashes, downloads
doc=$(fact doc | awk '$2 == "public" { print $1; exit }')
page=$(docpage "$S/public" de "$doc")
check "document page exists" test -f "$page"
check_eq "hreflang alternates for every locale plus x-default" 6 "$(grep -o '<link rel="alternate" hreflang="[^"]*"' "$page" | wc -l)"
for l in $LOCALES; do
    check "language picker keeps the page ($l)" grep -q "<a href=\"/$l/docs/$doc/\" hreflang=\"$l\"" "$page"
done
sha=$(sha256sum "$(find "$CONTENT/docs/$doc" -maxdepth 1 -type f ! -name '*.xml' ! -name '*.md' | head -1)" | cut -c1-64)
check "document page shows the file's SHA-256" grep -q "$sha" "$(docpage "$S/public" en "$doc")"
check "download links go through the module" grep -q "href=\"/download/$doc?lang=" "$page"
check "files are published outside public/" test -n "$(find -L "$S/files" -mindepth 2 -maxdepth 2 -type d -name "$doc")"

# --- rich bodies: every locale's example content has a table, a footnote and an image of its folder
rich=$(grep -l '^| ' "$CONTENT"/docs/*/*.md | xargs -n1 dirname | sort | uniq -c | awk '$1 >= 5 { print $2; exit }')
check "an example document has tables in all five locales" test -n "$rich"
rid=$(basename "${rich:-none}")
for l in $LOCALES; do
    md=$CONTENT/docs/$rid/$l.md
    img=$(sed -n 's/^!\[[^]]*\](\([^)]*\)).*/\1/p' "$md" 2>/dev/null | head -1)
    page=$(docpage "$S/public" "$l" "$rid")
    check "$l: the example's body has a table, a footnote and an image" \
        bash -c "grep -q '^| ' '$md' && grep -q '^\[^' '$md' && test -n '$img'"
    check "$l: its table renders" grep -q '<table>' "$page"
    check "$l: its footnote renders" grep -q 'class="footnotes"' "$page"
    if [ -n "$img" ]; then
        h=$(sha256sum "$CONTENT/docs/$rid/$img" | cut -c1-32)
        check "$l: its image renders at the page's URL" grep -qF "<img src=\"/$l/docs/$rid/$h.${img##*.}\"" "$page"
    fi
done
check "the example's image is published once, under public/docs/" \
    test "$(find -L "$S/public" -name "$(sha256sum "$CONTENT/docs/$rid/"*.png | head -1 | cut -c1-32).png" | wc -l)" -eq 1

# --- translations and fallback
fallback_doc=$(fact bodies | awk 'NF == 2 { print $1; exit }')
translated=$(fact bodies | awk '{ for (i = 2; i <= NF; i++) if ($i == "de") { print $1; exit } }')
note_de=$(xmllint --xpath 'string(//msg[@key="doc.fallback"])' "$ROOT/xslt/i18n/de.xml" | sed 's/{language}.*//')
check "a document without a German body says so in German" grep -qF "$note_de" "$(docpage "$S/public" de "$fallback_doc")"
check "a translated body is shown without the note" bash -c "! grep -qF '$note_de' '$(docpage "$S/public" de "$translated")'"
# Documents with <require>: their pages and listings say what is needed, in every locale's words.
for id in $(grep -l '<require ' "$CONTENT"/docs/*/doc.xml | xargs -n1 dirname | xargs -n1 basename); do
    tree=public; t=$(sed -n 's/.*<tenant ref="\([^"]*\)".*/\1/p' "$CONTENT/docs/$id/doc.xml" | head -1)
    [ -n "$t" ] && tree=tenants/$t
    claim=$(sed -n 's/.*<require claim="\([^"]*\)" value="\([^"]*\)".*/\1 \2/p' "$CONTENT/docs/$id/doc.xml")
    role=$(grep -q '<require role="tenant-admin"/>' "$CONTENT/docs/$id/doc.xml" && echo yes)
    # the catalog keeps them, as stpctl shows
    want_cat=$( { [ -n "$role" ] && echo "require role tenant-admin"; [ -n "$claim" ] && echo "require claim $claim"; } | sort)
    check_eq "the catalog keeps $id's requirements" "$want_cat" "$("$STPCTL" doc "$TMP/s" "$id" | grep '^require ' | sort)"
    for l in $LOCALES; do
        label=$(xmllint --xpath 'string(//msg[@key="requires.label"])' "$ROOT/xslt/i18n/$l.xml" | sed 's/{what}.*//')
        page=$(docpage "$S/$tree" "$l" "$id")
        [ -n "$claim" ] && check "$l: $id's page says it requires $claim" grep -qF "$label$claim" "$page"
        if [ -n "$role" ]; then
            want=$(xmllint --xpath 'string(//msg[@key="requires.role.tenant-admin"])' "$ROOT/xslt/i18n/$l.xml")
            check "$l: $id's page says it requires the tenant administrator role" grep -qF "$label$want" "$page"
        fi
    done
done
check "German dates" grep -qE '<time datetime="[0-9-]+">[0-9]+\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) [0-9]{4}</time>' "$S/public/de/index.html"
check "Japanese dates" grep -qE '<time datetime="[0-9-]+">[0-9]{4}年[0-9]+月[0-9]+日</time>' "$S/public/ja/index.html"
check "Arabic month names" grep -qE '<time datetime="[0-9-]+">[^<]*(يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر)' "$S/public/ar/index.html"

# --- UI strings: every key of the default catalog in every locale
for l in $LOCALES; do
    missing=$(comm -23 <(grep -o 'key="[^"]*"' "$ROOT/xslt/i18n/en.xml" | sort) <(grep -o 'key="[^"]*"' "$ROOT/xslt/i18n/$l.xml" | sort))
    check_eq "$l: complete UI strings" "" "$missing"
done

# --- series and retention (judged on $TODAY)
multi=$(fact version | awk '{ n[$1]++ } END { for (k in n) if (n[k] >= 2) print k }')
while read -r name id pub state; do
    grep -qx "$name" <<<"$multi" || continue
    if [ "$state" = current ]; then
        check "current $id is listed" grep -rqs "/docs/$id/" "$S/public/en" "$S/tenants"
        continue
    fi
    retire=$(date -u -d "$pub + 12 months" +%F)
    if [[ "$retire" > "$TODAY" ]]; then
        pages=$(find -L "$S" -path "*/en/docs/*/$id.html")
        check "superseded $id (within retention) has a page that says so" grep -q 'class="notice"' $pages
        check "superseded $id is downloadable (file published)" test -n "$(find -L "$S/files" -mindepth 2 -maxdepth 2 -type d -name "$id")"
    else
        check_eq "retired $id has no page and no file" "" "$(find -L "$S" -name "$id.html" -o -type d -name "$id")"
        check "retired $id stays in the catalog for a 410" bash -c "'$STPCTL' doc '$TMP/s' '$id' | grep -q '^current '"
    fi
done < <(fact version)

# --- tenant documents: on their organisation's pages, nowhere in public output
while read -r id level tenants; do
    [ "$level" = tenant ] || continue
    for t in ${tenants//,/ }; do
        check "tenant doc $id on $t's pages" test -n "$(docpage "$S/tenants/$t" en "$id")"
    done
    for t in $(fact tenants); do
        [[ ",$tenants," == *",$t,"* ]] && continue
        check_eq "tenant doc $id absent from $t's pages" "" "$(grep -Rl "$id" "$S/tenants/$t" || true)"
    done
done < <(fact doc)
leaks=""
while IFS= read -r line; do
    secret=${line#secret * }
    hit=$(grep -RlF -- "$secret" "$S/public" | head -1 || true)
    [ -n "$hit" ] && leaks+="'$secret' in ${hit#$S/}; "
done < <(grep '^secret ' "$TMP/facts")
check_eq "no tenant document id, title, summary or file name anywhere under public/" "" "$leaks"
held=""
for d in $(fact held); do
    hit=$(grep -RlF -- "$d" "$S/public" "$S/tenants" | head -1 || true)
    [ -n "$hit" ] && held+="'$d' in ${hit#$S/}; "
done
check_eq "no draft or embargoed document anywhere under public/ or tenants/" "" "$held"
check "the example content has a draft and an embargoed document" test "$(fact held | wc -w)" -ge 2
check "there were tenant secrets to look for" test "$(grep -c '^secret ' "$TMP/facts")" -ge 10

# --- What's new: every current listed document by date, one month per page, in every locale; the
# organisation pages show their own documents the same way. Judged from the content's XML.
python3 - "$CONTENT" "$S" "$TMP/facts" >"$TMP/whatsnew" <<'PY'
import os, re, sys, xml.etree.ElementTree as ET
content, site, facts = sys.argv[1:]
lines = [l.split() for l in open(facts, encoding="utf-8")]
locales = next(l[1:] for l in lines if l[0] == "locales")
rtl = next(l[1:] for l in lines if l[0] == "rtl")
current = {l[2] for l in lines if l[0] == "version" and l[4] == "current"}
level = {l[1]: l[2] for l in lines if l[0] == "doc"}
tenants_of = {l[1]: l[3].split(",") for l in lines if l[0] == "doc"}
published = {d: ET.parse(os.path.join(content, "docs", d, "doc.xml")).getroot().findtext("published").strip()
             for d in level}
listed = {d for d in current if level[d] != "tenant"}
months = sorted({published[d][:7] for d in listed}, reverse=True)
XL = "{http://www.w3.org/XML/1998/namespace}lang"
def change(d):
    x = ET.parse(os.path.join(content, "docs", d, "doc.xml")).getroot()
    return next((c.text.strip() for c in x.findall("change") if c.get(XL) == "en"), None)
def say(ok, name, detail=""):
    print(("ok" if ok else "not_ok") + "\t" + name + "\t" + str(detail)[:1500])
def entries(html):
    # (id, date) of each document in the page's list, in page order
    return re.findall(r'<li class="doc"><a class="title" href="/[^/]+/(?:org/)?docs/([^/]+)/"[^>]*>.*?<time datetime="([0-9-]+)">', html)
say(len(months) >= 3, "the example content spans at least three months", months)
for lang in locales:
    pages = [("/%s/whats-new/" % lang, os.path.join(site, "public", lang, "whats-new", "index.html"), months[0])]
    pages += [("/%s/whats-new/%s/" % (lang, m), os.path.join(site, "public", lang, "whats-new", m, "index.html"), m) for m in months[1:]]
    seen, order, problems = [], [], []
    for i, (url, path, month) in enumerate(pages):
        if not os.path.isfile(path):
            problems.append("missing " + url)
            continue
        html = open(path, encoding="utf-8").read()
        got = entries(html)
        seen += [d for d, _ in got]
        order += [p for _, p in got]
        if any(not p.startswith(month) for _, p in got):
            problems.append("%s lists documents of another month: %s" % (url, got))
        if sorted(d for d, _ in got) != sorted(d for d in listed if published[d].startswith(month)):
            problems.append("%s does not list exactly its month's documents" % url)
        newer = pages[i - 1][0] if i > 0 else None
        older = pages[i + 1][0] if i + 1 < len(pages) else None
        links = (re.findall(r'<a rel="prev" href="([^"]*)"', html) or [None])[0], (re.findall(r'<a rel="next" href="([^"]*)"', html) or [None])[0]
        if links != (newer, older):
            problems.append("%s: rel=prev/next %s, expected %s" % (url, links, (newer, older)))
        # the list of months: every month, this one marked as the current page
        listed_months = re.findall(r'<li><a href="(/%s/whats-new/[^"]*)" aria-label="[^"]*"( aria-current="page")?>' % lang, html)
        if [u for u, _ in listed_months] != [p[0] for p in pages] or [u for u, c in listed_months if c] != [url]:
            problems.append("%s: the list of months is %s" % (url, listed_months))
        if '<link rel="canonical" href="https://' not in html or html.count('<link rel="alternate" hreflang=') != len(locales) + 1:
            problems.append("%s: no canonical link or hreflang alternates" % url)
    say(not problems, "%s: a What's new page per month, each with its month's documents and links to the newer and older month" % lang, problems)
    say(sorted(seen) == sorted(listed), "%s: What's new lists every current listed document once" % lang,
        sorted(set(seen) ^ listed))
    say(order == sorted(order, reverse=True) and order, "%s: What's new is newest first across its pages" % lang)
    say(not set(seen) & {d for d in level if level[d] == "tenant"}, "%s: no tenant document on What's new" % lang)
    home = open(os.path.join(site, "public", lang, "index.html"), encoding="utf-8").read()
    say('<a href="/%s/whats-new/">' % lang in home, "%s: the home page links to What's new" % lang)
    d = "rtl" if lang in rtl else "ltr"
    say('<html lang="%s" dir="%s">' % (lang, d) in open(pages[-1][1], encoding="utf-8").read(),
        "%s: What's new pages are marked lang=%s dir=%s" % (lang, lang, d))
    say(not os.path.exists(os.path.join(site, "public", lang, "whats-new", months[0])),
        "%s: the newest month is What's new itself, not a page of its own" % lang)
# the change note where the document has one, else its summary
en = open(os.path.join(site, "public", "en", "whats-new", "index.html"), encoding="utf-8").read()
with_note = [d for d in listed if published[d].startswith(months[0]) and change(d)]
say(with_note and all(change(d).replace("'", "&#39;") in en or change(d) in en for d in with_note),
    "What's new shows each document's change note", with_note)
sitemap = open(os.path.join(site, "public", "sitemap.xml"), encoding="utf-8").read()
want = ["/%s/whats-new/" % l for l in locales] + ["/%s/whats-new/%s/" % (l, m) for l in locales for m in months[1:]]
say(all("%s</loc>" % u in sitemap for u in want), "the sitemap has every What's new page",
    [u for u in want if "%s</loc>" % u not in sitemap])
# organisation pages: each tenant's current documents by month, newest first, with change notes
tenant_notes = 0
for t in sorted({t for d in level if level[d] == "tenant" for t in tenants_of[d]}):
    mine = sorted((d for d in current if level[d] == "tenant" and t in tenants_of[d]), key=lambda d: (published[d], d))
    html = open(os.path.join(site, "tenants", t, "en", "index.html"), encoding="utf-8").read()
    got = entries(html)
    say([d for d, _ in got] == sorted(mine, key=lambda d: (published[d], [-ord(c) for c in d]), reverse=True) and mine,
        "%s: the organisation page lists its documents newest first" % t, got)
    heads = re.findall(r'<h3 id="m-([0-9-]+)">', html)
    say(heads == sorted({published[d][:7] for d in mine}, reverse=True), "%s: ... under a heading per month" % t, heads)
    say("What's new for your organization" in html, "%s: ... as What's new for the organisation" % t)
    notes = [change(d) for d in mine if change(d)]
    tenant_notes += len(notes)
    say(all(n in html for n in notes), "%s: ... with their change notes (%d)" % (t, len(notes)))
say(tenant_notes > 0, "some organisation document has a change note to show")
PY
while IFS=$'\t' read -r res name detail; do
    if [ "$res" = ok ]; then ok "$name"; else not_ok "$name" "$detail"; fi
done <"$TMP/whatsnew"
check "What's new checks ran" test "$(wc -l <"$TMP/whatsnew")" -ge 35

# --- example downloads are real PDFs, made reproducibly
pdfs=$(find "$CONTENT/docs" -name '*.pdf' | wc -l)
check "example documents have PDFs" test "$pdfs" -ge 40
bad=$(find "$CONTENT/docs" -name '*.pdf' -print0 | xargs -0 -n1 sh -c 'head -c 5 "$1" | grep -q "%PDF-" && tail -c 6 "$1" | grep -q "%%EOF" || echo "$1"' _)
check_eq "every PDF has a header and an end marker" "" "$bad"
if [ -x "$CONTENT/make-pdfs" ]; then
    cp -r "$CONTENT" "$TMP/regen"
    find "$TMP/regen/docs" -name '*.pdf' -delete
    (cd "$TMP/regen" && ./make-pdfs >/dev/null 2>&1)
    check_eq "make-pdfs reproduces the committed PDFs byte for byte" "" "$(cd "$CONTENT/docs" && find . -name '*.pdf' | sort | while read -r f; do cmp -s "$f" "$TMP/regen/docs/$f" || echo "$f"; done)"
else
    not_ok "content/make-pdfs exists"
fi

done_testing
