#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in a copy of the tree and runs each one
# briefly from its seed corpus. A crash, leak-free abort or sanitizer report fails the target.
. "$(dirname "$0")/../lib.sh"
SECONDS_EACH=${FUZZ_SECONDS:-20}
dir=$ROOT/build-fuzz
rm -rf "$dir" && mkdir -p "$dir"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$dir")
if ! (cd "$dir" && autoreconf -fi >/dev/null 2>&1 && ./configure -q --enable-fuzz CC=clang \
        CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
        LDFLAGS="-fsanitize=address,undefined" >"$TMP/configure.log" 2>&1 &&
        make -s -j"$(nproc)" tests/fuzz/fuzz_metadata tests/fuzz/fuzz_markdown tests/fuzz/fuzz_catalog tests/fuzz/fuzz_http \
            tests/fuzz/fuzz_search tests/fuzz/fuzz_dump \
            >"$TMP/make.log" 2>&1); then
    not_ok "fuzz targets build" "$(tail -20 "$TMP/configure.log" "$TMP/make.log" 2>/dev/null)"
    done_testing
    exit 1
fi
ok "fuzz targets build"

# Seed corpora from the fixtures and the example content.
mkdir -p "$TMP/meta" "$TMP/md" "$TMP/cat"
i=0
for f in "$ROOT"/tests/fixtures/valid/docs/*/doc.xml "$ROOT"/content/docs/*/doc.xml; do
    [ -f "$f" ] && cp "$f" "$TMP/meta/$((i++)).xml"
done
for f in "$ROOT"/tests/fixtures/valid/docs/*/*.md "$ROOT"/content/docs/*/*.md; do
    [ -f "$f" ] && cp "$f" "$TMP/md/$((i++)).md"
done
printf '\x01a\x01b' >"$TMP/cat/seed"
# Request input: a URL, a NUL, a form body.
mkdir -p "$TMP/http"
printf '/download/soc-2026/2025\0csrf=ab&action=add&doc=x%%C3%%A9&return=%%2Fen%%2F' >"$TMP/http/1"
printf '/en/org/docs/t1-pack/\0a=1&a=2' >"$TMP/http/2"
printf 'de-CH, en;q=0.5\0stp_lang=ja; x=%%zz' >"$TMP/http/3"
printf '/en/docs/%%2e%%2e/x/\0\xff\xfe=\xc0\xaf' >"$TMP/http/4"
printf '/stp/feedback\0page=%%2Fen%%2F&lang=en&answer=yes&comment=a%%0D%%0Ab%%09c%%C3%%A9' >"$TMP/http/5"
# Search input: what a user typed, a NUL, a filter value.
mkdir -p "$TMP/search"
printf 'iso 27001' >"$TMP/search/1"
printf 'NEAR(iso "type ii") title:x ^a * \0compute' >"$TMP/search/2"
printf '認証 災害復旧 %%_\\ "可用性' >"$TMP/search/3"
printf 'Straße périmètre شَهادة \xff\xc0' >"$TMP/search/4"

# A state dump (stpctl state-export): header, records with escapes, trailer.
mkdir -p "$TMP/dump"
h='{"kind":"header","format":1,"store":"lmdb"}'
t='"nda":%s,"nda_log":0,"library":0,"notify":0,"org":%s,"org_person":0,"org_log":0,"feedback":%s}'
printf '%s\n{"kind":"trailer","user":0,'"$t"'\n' "$h" 0 0 0 >"$TMP/dump/1"
printf '%s\n%s\n%s\n%s\n{"kind":"trailer","user":1,'"$t"'\n' "$h" \
    '{"kind":"user","user":"u\"1","tenant":"t","email":"","email_verified":true,"since":1,"tenant_admin":false,"unlisted":false,"claims":"a\tb\n"}' \
    '{"kind":"org","tenant":"t","mode":"open","industries":["x","y"],"regions":[]}' \
    '{"kind":"feedback","seq":1,"at":2,"page":"/en/","lang":"en","answer":"","comment":"\u00e9\ud83c\udf89\\","user":"","ref":0}' \
    0 1 1 >"$TMP/dump/2"
printf '%s\n{"kind":"nda","user":"u","tenant":"t","version":"v1","accepted":-5}\n{"kind":"trailer","user":0,'"$t"'\n' \
    "$h" 1 0 0 >"$TMP/dump/3"

for t in metadata markdown catalog http search dump; do
    case $t in metadata) corpus=$TMP/meta ;; markdown) corpus=$TMP/md ;; catalog) corpus=$TMP/cat ;; http) corpus=$TMP/http ;; search) corpus=$TMP/search ;; dump) corpus=$TMP/dump ;; esac
    if (cd "$TMP" && ASAN_OPTIONS=detect_leaks=0 "$dir/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" \
            -max_len=65536 -timeout=10 -rss_limit_mb=2048 "$corpus" >"$TMP/$t.log" 2>&1); then
        ok "fuzz_$t: $(grep -oE 'Done [0-9]+ runs' "$TMP/$t.log" | tail -1) in ${SECONDS_EACH}s without a finding"
    else
        not_ok "fuzz_$t found a problem" "$(grep -E 'ERROR|SUMMARY|runtime error|abort' "$TMP/$t.log" | head -5)"
    fi
done
done_testing
