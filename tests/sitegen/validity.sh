#!/usr/bin/env bash
# Validity (<valid from until/>, <reviewed>): shown on document pages and in lists in every locale,
# an expired document marked (judged on the day of the build, and again on the next publish);
# sitegen --report and stpctl report list what expires, with their exit statuses; stpctl report
# mails the report to the editors of site.xml through the sendmail command.
. "$(dirname "$0")/../lib.sh"
CAPTURE=$ROOT/tests/lib/capture_sendmail.py
C=$TMP/c
SITE=$TMP/site
cp -r "$ROOT/tests/fixtures/valid" "$C"

# TODAY is 2026-11-22: the audit report has 39 days left, the policy expired 21 days ago, the
# tenant pack is not valid yet (and far from its end).
add() { # add DOC LINE: a line after <published> of DOC's doc.xml
    sed -i "s#^\(  <published>.*</published>\)\$#\1\n  $2#" "$C/docs/$1/doc.xml"
}
add audit-report '<valid from="2026-01-01" until="2026-12-31"/>'
add audit-report '<reviewed>2026-10-01</reviewed>'
add policy-v1 '<valid until="2026-11-01"/>'
add tenant-pack '<valid from="2027-01-01" until="2028-01-01"/>'
sed -i 's#^</site>#  <editors>trust-content@example.com</editors>\n</site>#' "$C/site.xml"

# --- sitegen --report --------------------------------------------------------------------------------
OUT=$("$SITEGEN" --today "$TODAY" --report "$C" 2>"$TMP/err"); RC=$?
check_eq "--report: exit status 3 when a validity ends within 60 days" 3 "$RC"
check_eq "--report: one line per document, soonest first (the expired one too)" \
    "policy-v1 until 2026-11-01 (expired 21 days ago): Information security policy
audit-report until 2026-12-31 (39 days left): Annual audit report" "$OUT"
check_eq "--report: the summary on stderr" \
    "sitegen: 2 documents of $C expire within 60 days or have expired" "$(cat "$TMP/err")"
OUT=$("$SITEGEN" --today "$TODAY" -q --report --days 30 "$C"); RC=$?
check_eq "--report --days 30: only what ends within 30 days" \
    "3 policy-v1 until 2026-11-01 (expired 21 days ago): Information security policy" "$RC $OUT"
OUT=$("$SITEGEN" --today 2026-01-01 -q --report --days 30 "$C"); RC=$?
check_eq "--report: exit status 0 and no line when nothing ends within N days" "0 " "$RC $OUT"
OUT=$("$SITEGEN" --today 2026-12-31 -q --report --days 0 "$C"); RC=$?
check_eq "--report: the last valid day says so" "3 policy-v1 until 2026-11-01 (expired 60 days ago): Information security policy
audit-report until 2026-12-31 (expires today): Annual audit report" "$RC $OUT"
OUT=$("$SITEGEN" --today "$TODAY" --days 5 --check "$C" 2>&1); RC=$?
check_eq "--days without --report is a usage error" "2 sitegen: --days goes with --report" "$RC $OUT"
OUT=$("$SITEGEN" --today "$TODAY" --report --days soon "$C" 2>&1); RC=$?
check_eq "--days takes a number" "2 sitegen: --days takes a number of days from 0 to 36500" "$RC $OUT"
cp -r "$C" "$TMP/broken"
sed -i 's#until="2026-12-31"#until="2025-12-31"#' "$TMP/broken/docs/audit-report/doc.xml"
OUT=$("$SITEGEN" --today "$TODAY" -q --report "$TMP/broken" 2>&1 >/dev/null); RC=$?
check_eq "--report on content with errors: exit status 1, the errors, no report" \
    "1 $TMP/broken/docs/audit-report/doc.xml:5: <valid> until 2025-12-31 is before from 2026-01-01: a validity ends on or after the day it starts" \
    "$RC $(head -n1 <<<"$OUT")"

# --- pages ---------------------------------------------------------------------------------------------
check "content with validity publishes" sitegen -o "$SITE" "$C"
page() { find -L "$SITE/current/$1" -path "*/$2/docs/*/$3.html" | head -1; }
# The text of an HTML file without tags, on one line.
text() { python3 -c 'import html,re,sys; print(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", open(sys.argv[1], encoding="utf-8").read())).split()))' "$1"; }
en=$(text "$(page public en audit-report)")
check "en page: the validity period, dates as the site writes them" grep -qF "Valid January 1, 2026 to December 31, 2026" <<<"$en"
check "en page: the last review" grep -qF "Last reviewed October 1, 2026" <<<"$en"
check_eq "en page: a valid document is not marked expired" "" "$(grep -o 'Expired' <<<"$en")"
de=$(text "$(page public de audit-report)")
check "de page: the validity period in German" grep -qF "Gültig 1. Januar 2026 bis 31. Dezember 2026" <<<"$de"
check "de page: the last review in German" grep -qF "Zuletzt geprüft 1. Oktober 2026" <<<"$de"
pol=$(page public en policy-v1)
check "expired: a notice at the top of the page" grep -qF '<p class="notice expired" role="note">This document expired on November 1, 2026.' "$pol"
check "expired: the mark beside the period" grep -qF '<span class="badge badge-expired">Expired</span>' "$pol"
check "expired: only an until date reads 'until'" grep -qF "Valid until November 1, 2026 Expired" <<<"$(text "$pol")"
check "expired, de: the mark in German" grep -qF '<span class="badge badge-expired">Abgelaufen</span>' "$(page public de policy-v1)"
tp=$(find -L "$SITE/current/tenants/t1/en/docs" -name tenant-pack.html | head -1)
check "not yet valid: marked as such (tenant page)" grep -qF '<span class="badge badge-pending">Not yet valid</span>' "$tp"
tile=$(text "$SITE/current/public/en/reports/audits/index.html")
check "a list shows where the validity ends" grep -qF "Valid until December 31, 2026" <<<"$tile"
check "a list marks an expired document" grep -qF '<span class="badge badge-expired">Expired</span>' \
    "$SITE/current/public/en/reports/policies/index.html"
OUT=$("$STPCTL" doc "$SITE" audit-report)
check_eq "stpctl doc: the validity and review dates from the catalog" \
    "valid-from 2026-01-01 valid-until 2026-12-31 reviewed 2026-10-01" \
    "$(grep -E '^(valid-|reviewed)' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"

# The next publish after the last valid day marks the page, without any change to the content.
check "publishing again on 2027-01-01" "$SITEGEN" --today 2027-01-01 -q -o "$SITE" "$C"
check "the day after its until date, the page is marked expired" grep -qF \
    '<span class="badge badge-expired">Expired</span>' "$(page public en audit-report)"
check "... and so is the list" grep -qF "Valid until December 31, 2026 Expired" \
    <<<"$(text "$SITE/current/public/en/reports/audits/index.html")"
check "publishing again on $TODAY" sitegen -o "$SITE" "$C"

# Every locale of the example content: its own words for the period, the review and the mark.
check "the example content publishes" sitegen -o "$TMP/ex" "$ROOT/content"
for l in en de fr ja ar; do
    want=$(python3 - "$ROOT/xslt/i18n/$l.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
m = {e.get("key"): e.text for e in ET.parse(sys.argv[1]).getroot()}
print("\t".join([m["doc.valid"], m["validity.expired"], m["doc.reviewed"]]))
PY
)
    IFS=$'\t' read -r valid expired reviewed <<<"$want"
    csa=$(find -L "$TMP/ex/current/public/$l/docs" -name csa-star-level2.html | head -1)
    iso=$(find -L "$TMP/ex/current/public/$l/docs" -name iso-27001-cert-2026.html | head -1)
    check "$l: an expired certificate's page says '$valid'" grep -qF "<dt>$valid</dt>" "$csa"
    check "$l: ... and marks it '$expired'" grep -qF "<span class=\"badge badge-expired\">$expired</span>" "$csa"
    check "$l: the page of a reviewed certificate says '$reviewed'" grep -qF "<dt>$reviewed</dt>" "$iso"
done

# --- stpctl report -------------------------------------------------------------------------------------
OUT=$("$STPCTL" report --site "$SITE" --today "$TODAY" 2>"$TMP/err"); RC=$?
check_eq "stpctl report prints the lines of sitegen --report, exit status 3" \
    "3 $("$SITEGEN" --today "$TODAY" -q --report "$C")" "$RC $OUT"
check_eq "stpctl report: the summary on stderr" "stpctl report: 2 documents expire within 60 days or have expired" \
    "$(cat "$TMP/err")"
OUT=$("$STPCTL" report --site "$SITE" --today 2026-01-01 --days 30 -q); RC=$?
check_eq "stpctl report: exit status 0 when nothing expires" "0 " "$RC $OUT"

mail() { CAPTURE_DIR=$TMP/mail "$STPCTL" report --site "$SITE" --today "$TODAY" --sendmail "python3 $CAPTURE" "$@"; }
OUT=$(mail --mail); RC=$?
check_eq "stpctl report --mail: sent to the editors of site.xml, exit status 0" \
    "0 stpctl report: sent <validity-report.2026-11-22.60@trust.example.com> to trust-content@example.com (2 documents)" \
    "$RC $OUT"
check_eq "the recipient follows -- on the sendmail command line" "-- trust-content@example.com" \
    "$(tr '\n' ' ' <"$TMP/mail/001.args")"
python3 - "$TMP/mail/001.eml" "$("$SITEGEN" --today "$TODAY" -q --report "$C")" >"$TMP/mailcheck" <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
body = m.get_content()
print("to", m["To"])
print("from", m["From"])
print("subject", m["Subject"])
print("id", m["Message-ID"])
print("lines", all(line in body.splitlines() for line in sys.argv[2].splitlines()))
print("intro", body.splitlines()[0])
PY
check_eq "the mail: headers and the report's lines in its body" \
    "to trust-content@example.com
from Example Trust Portal <noreply@trust.example.com>
subject Example Trust Portal: 2 documents expire within 60 days or have expired
id <validity-report.2026-11-22.60@trust.example.com>
lines True
intro These current documents of Example Trust Portal have a validity that ends within 60 days of 2026-11-22, or has ended:" \
    "$(cat "$TMP/mailcheck")"
OUT=$(mail --to audit@example.org --days 30 -q); RC=$?
check_eq "--to ADDR instead of the editors" "0 -- audit@example.org" "$RC $(tr '\n' ' ' <"$TMP/mail/002.args")"
check "--days 30: only the expired document in that mail" python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
b = m.get_content()
sys.exit(0 if "policy-v1 until" in b and "audit-report until" not in b else 1)' "$TMP/mail/002.eml"
OUT=$(mail --mail --today 2026-01-01 --days 30); RC=$?
check_eq "nothing expires: no mail, exit status 0" "0 stpctl report: nothing expires within 30 days; nothing sent no third mail" \
    "$RC $OUT $( [ -e "$TMP/mail/003.eml" ] && echo 'a third mail' || echo 'no third mail')"
OUT=$(CAPTURE_FAIL=1 mail --mail 2>&1); RC=$?
check_eq "a failing sendmail: exit status 1 and why" \
    "1 stpctl report: not sent to trust-content@example.com: python3 exited with 75" "$RC $OUT"
OUT=$(mail --to '-oQ/tmp/x@example.org' 2>&1); RC=$?
check_eq "an address that looks like an option is refused" \
    "2 stpctl report: -oQ/tmp/x@example.org is not a plain e-mail address" "$RC $OUT"
OUT=$(mail --to $'a@example.org\r\nBcc: b@example.org' 2>&1); RC=$?
check_eq "an address with a line break is refused" 2 "$RC"
sed -i '/<editors>/d' "$C/site.xml"
check "publishing without <editors>" sitegen -o "$SITE" "$C"
OUT=$(mail --mail 2>&1); RC=$?
check_eq "--mail without <editors> in site.xml says what to do" \
    "2 stpctl report: site.xml names no <editors> address: give --to ADDR" "$RC $OUT"

done_testing
