#!/usr/bin/env bash
# The portal's own words from site.xml (tagline, footer text, privacy/contact/imprint links) on the
# static pages, per locale with the default locale's as fallback, escaped; without them, the UI
# strings. The module's pages take the same words from the catalog (tests/unit/glue_error.c).
. "$(dirname "$0")/../lib.sh"
CONTENT=${CONTENT:-$ROOT/content}

check "example content publishes" sitegen -o "$TMP/s" "$CONTENT"
P=$TMP/s/current/public
# words LANG KIND: the text of site.xml's <KIND xml:lang="LANG">, read with Python, not with our code
words() {
    python3 - "$CONTENT/site.xml" "$1" "$2" "${3:-}" <<'PY'
import sys, xml.etree.ElementTree as ET
XL = "{http://www.w3.org/XML/1998/namespace}lang"
root = ET.parse(sys.argv[1]).getroot()
for e in root.findall(sys.argv[3]):
    if e.get(XL) == sys.argv[2]:
        print(e.get("href") if sys.argv[4] == "href" else e.text)
PY
}
esc() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g' <<<"$1"; }

for l in en ar; do
    home=$P/$l/index.html
    doc=$(find -L "$P/$l/docs" -name "gdpr-whitepaper.html" | head -1)
    check "$l: the home page's tagline is site.xml's" grep -qF "<p class=\"intro\">$(esc "$(words $l tagline)")</p>" "$home"
    for page in "$home" "$doc" "$P/$l/whats-new/index.html"; do
        name=${page#"$P/"}
        check "$l: footer text on $name" grep -qF "<p>$(esc "$(words $l footer)")</p>" "$page"
        for k in privacy contact imprint; do
            check "$l: $k link on $name" \
                grep -qF "<a href=\"$(esc "$(words $l $k href)")\" class=\"$k\">$(esc "$(words $l $k)")</a>" "$page"
        done
    done
done
check "ar: the footer is in Arabic, in an rtl page" grep -qF '<html lang="ar" dir="rtl">' "$P/ar/index.html"
check_eq "ar: no English footer words" "" "$(grep -F "$(words en footer)" "$P/ar/index.html")"

# Japanese has no imprint of its own: the default locale's, text and address together.
check_eq "ja: site.xml has no Japanese imprint (the fallback case)" "" "$(words ja imprint)"
check "ja: the imprint falls back to the default locale's" \
    grep -qF "<a href=\"$(esc "$(words en imprint href)")\" class=\"imprint\">$(esc "$(words en imprint)")</a>" "$P/ja/index.html"
check "ja: its own privacy link" grep -qF "class=\"privacy\">$(words ja privacy)</a>" "$P/ja/index.html"

# --- hostile words are text; without any, the UI strings
C=$TMP/c
cp -r "$ROOT/tests/fixtures/valid" "$C"
python3 - "$C/site.xml" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
s = s.replace("<base-url>", """<tagline xml:lang="en">&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D</tagline>
  <footer xml:lang="de">Nur &lt;i&gt;deutsch&lt;/i&gt;</footer>
  <footer xml:lang="en">&lt;!-- x --&gt;Footer</footer>
  <privacy xml:lang="en" href="https://p.example/?a=1&amp;b=&quot;x&quot;&lt;">A&lt;b&gt;</privacy>
  <base-url>""", 1)
open(p, "w", encoding="utf-8").write(s)
PY
check "hostile portal words publish" sitegen -o "$TMP/h" "$C"
H=$TMP/h/current/public
check "tagline: markup shown as text" grep -qF '<p class="intro">&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D</p>' "$H/en/index.html"
check "footer: a comment shown as text" grep -qF '<p>&lt;!-- x --&gt;Footer</p>' "$H/en/index.html"
check "link: address and text escaped" \
    grep -qF '<a href="https://p.example/?a=1&amp;b=%22x%22&lt;" class="privacy">A&lt;b&gt;</a>' "$H/en/index.html"
check "de: its own footer" grep -qF '<p>Nur &lt;i&gt;deutsch&lt;/i&gt;</p>' "$H/de/index.html"
check "de: no tagline of its own, the default locale's" grep -qF '<p class="intro">&lt;script&gt;' "$H/de/index.html"
check_eq "no raw markup from site.xml anywhere" "" "$(grep -rlE '<script>alert|<i>deutsch|<!-- x -->' "$H")"
cp -r "$ROOT/tests/fixtures/valid" "$TMP/plain"
check "content without portal words publishes" sitegen -o "$TMP/p" "$TMP/plain"
check "without portal words: the tagline is the UI string" \
    grep -qF "<p class=\"intro\">$(sed -n 's|.*<msg key="home.intro">\(.*\)</msg>|\1|p' "$ROOT/xslt/i18n/en.xml")</p>" "$TMP/p/current/public/en/index.html"
check "without portal words: the footer is the UI string" \
    grep -qF "<p>$(sed -n 's|.*<msg key="footer.note">\(.*\)</msg>|\1|p' "$ROOT/xslt/i18n/en.xml")</p>" "$TMP/p/current/public/en/index.html"
check_eq "without portal words: no footer links but the feed and site map" "2" \
    "$(grep -o '<p class="links">.*</p>' "$TMP/p/current/public/en/index.html" | grep -o '<a ' | wc -l)"

done_testing
