#!/usr/bin/env bash
# stpctl rollout: a build published once reaches three nodes (local site directories) byte for
# byte; a rollout killed in the middle of a copy, a copy that arrives damaged and a node that is
# locked each leave every node serving a complete build that matches its manifest; a node switches
# only once its copy matches; odd node names are refused before anything runs.
. "$(dirname "$0")/../lib.sh"
FIXTURE=$ROOT/tests/fixtures/valid
REAL_RSYNC=$(command -v rsync) || { echo "1..0 # SKIP rsync is not installed"; exit 0; }

cp -r "$FIXTURE" "$TMP/c"
mkdir -p "$TMP/n1" "$TMP/n2" "$TMP/n3" "$TMP/m" "$TMP/bin"
NODES=("$TMP/n1" "$TMP/n2" "$TMP/n3")
SRC=$TMP/src

# Publishes the content again and keeps the new build's manifest, made from the source.
publish() {
    printf '\nRevision %s of the scope.\n' "$1" >>"$TMP/c/docs/audit-report/en.md"
    sitegen -o "$SRC" "$TMP/c" || return 1
    # Every build's files get one time, as two builds published within a second may: the page that
    # changes keeps its size ("Revision 1" -> "Revision 2"), so only its bytes tell the builds apart.
    find "$SRC/$(readlink "$SRC/current")" -type f -exec touch -d '2026-01-15 00:00:00' {} + || return 1
    "$STPCTL" build-manifest "$SRC/current" >"$TMP/m/$(readlink "$SRC/current")"
}
# On failure its output and status go to the check's diagnostics.
rollout() {
    local rc=0
    "$STPCTL" rollout "$@" >"$TMP/out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$TMP/out"; echo "exit status $rc"; }
    return "$rc"
}
# The node serves a build whose tree matches the manifest of the source's build of that name.
serves_complete() {
    local b
    b=$(readlink "$1/current") && [ -f "$TMP/m/$b" ] && "$STPCTL" build-manifest "$1/current" --check "$TMP/m/$b"
}
all_serve_complete() {
    local n
    for n in "${NODES[@]}"; do serves_complete "$n" || return 1; done
}
serving() { local n; for n in "$@"; do readlink "$n/current"; done | tr '\n' ' '; }
# Byte for byte the same tree as the source build: links as links, then with the shard links followed.
identical() {
    diff -r --no-dereference "$SRC/$1" "$2/$1" && diff -r "$SRC/$1/" "$2/$1/" &&
        "$STPCTL" build-manifest "$2/$1" --check "$TMP/m/$1"
}
no_staging() { ! ls -a "$@" | grep -q '^\.rollout-'; }

# The test's rsync: the real one, except for the copy whose destination is $ROLLOUT_TEST_DEST.
#   kill:    stands for a copy killed midway, deterministically: the real rsync copies the first 5
#            files only, the start of the 6th is left under a temporary name as rsync leaves it,
#            then the rollout (its parent) is SIGKILLed.
#   corrupt: the copy completes, then one file only this copy holds (not a hard link) gains a byte.
cat >"$TMP/bin/rsync" <<'EOF'
#!/usr/bin/env bash
last=${*: -1}
[ "$last" = "${ROLLOUT_TEST_DEST:-}" ] || exec "$ROLLOUT_TEST_RSYNC" "$@"
case $ROLLOUT_TEST_MODE in
kill)
    src=${*: -2:1}
    (cd "$src" && find . -type f | LC_ALL=C sort) >"$ROLLOUT_TEST_LIST"
    head -n 5 "$ROLLOUT_TEST_LIST" >"$ROLLOUT_TEST_LIST.5"
    "$ROLLOUT_TEST_RSYNC" "${@:1:$#-2}" --files-from="$ROLLOUT_TEST_LIST.5" "$src" "$last" || exit
    next=$(sed -n 6p "$ROLLOUT_TEST_LIST")
    mkdir -p "${last%/}/$(dirname "$next")"
    head -c 100 "$src/$next" >"${last%/}/$(dirname "$next")/.$(basename "$next").aB3xYz"
    kill -KILL "$PPID"
    exit 137 ;;
corrupt)
    "$ROLLOUT_TEST_RSYNC" "$@" || exit
    f=$(find "${last%/}" -type f -links 1 | head -1)
    [ -n "$f" ] && printf 'x' >>"$f" ;;
esac
EOF
chmod +x "$TMP/bin/rsync"
export ROLLOUT_TEST_RSYNC=$REAL_RSYNC ROLLOUT_TEST_LIST=$TMP/copy.list
fake() { env PATH="$TMP/bin:$PATH" ROLLOUT_TEST_MODE="$1" ROLLOUT_TEST_DEST="$2" "${@:3}"; }

# 1. the first rollout: three new nodes serve the build, byte for byte
check "publish build-1" publish 1
check "rollout of build-1 to three new nodes" rollout "$SRC/current" "${NODES[@]}"
check "it reports three nodes serving" grep -q '^build-1 is served by 3 of 3 nodes$' "$TMP/out"
check_eq "each node serves build-1" "build-1 build-1 build-1 " "$(serving "${NODES[@]}")"
for n in "${NODES[@]}"; do check "$(basename "$n") holds build-1 byte for byte" identical build-1 "$n"; done
check "no staging is left" no_staging "${NODES[@]}"

# 2. killed in the middle of the copy to the second node: the first node has its copy but has not
# switched (every node is copied before any switches), the second holds a partial copy, the third
# nothing; each still serves build-1, complete
check "publish build-2" publish 2
fake kill "$TMP/n2/.rollout-build-2/build-2/" "$STPCTL" rollout "$SRC/build-2" "${NODES[@]}" >"$TMP/out" 2>&1
rc=$?
check_eq "the rollout was killed" 137 "$rc"
check "it was killed during the copy to n2" bash -c "grep -q '^$TMP/n1: copied$' '$TMP/out' && ! grep -q 'n2: copied' '$TMP/out'"
check "n2 holds a partial copy" bash -c "test -d '$TMP/n2/.rollout-build-2/build-2' &&
    ! '$STPCTL' build-manifest '$TMP/n2/.rollout-build-2/build-2' --check '$TMP/m/build-2'"
check_eq "n2's partial copy: 5 files and a partial one" 6 "$(find "$TMP/n2/.rollout-build-2/build-2" -type f | wc -l)"
check_eq "every node still serves build-1" "build-1 build-1 build-1 " "$(serving "${NODES[@]}")"
check "every node serves a complete build" all_serve_complete

# 3. the same rollout again completes it: byte for byte, the previous build kept, unchanged
# files hard-linked to it rather than sent again
check "the rollout again" rollout "$SRC/build-2" "${NODES[@]}"
check "it reports three nodes serving" grep -q '^build-2 is served by 3 of 3 nodes$' "$TMP/out"
check_eq "each node serves build-2" "build-2 build-2 build-2 " "$(serving "${NODES[@]}")"
for n in "${NODES[@]}"; do check "$(basename "$n") holds build-2 byte for byte" identical build-2 "$n"; done
check "build-1 is kept as the previous build" serves_complete "$TMP/n1" -a -d "$TMP/n1/build-1"
check "the partial copy is gone" no_staging "${NODES[@]}"
shared=$(find "$TMP/n3/build-2" -type f -links +1 | wc -l)
check "unchanged files are hard links to the previous build" test "$shared" -gt 0

# 4. a copy that arrives damaged is not switched to; the others are
check "publish build-3" publish 3
fake corrupt "$TMP/n2/.rollout-build-3/build-3/" "$STPCTL" rollout "$SRC/current" "${NODES[@]}" >"$TMP/out" 2>&1
check_eq "the rollout says some nodes did not switch" 1 "$?"
check "n2's copy does not match" grep -q "^$TMP/n2: the copy of build-3 does not match its source" "$TMP/out"
check "the summary names n2" grep -q "^build-3 is served by 2 of 3 nodes; not switched .*: $TMP/n2$" "$TMP/out"
check_eq "n1 and n3 serve build-3, n2 still build-2" "build-3 build-2 build-3 " "$(serving "${NODES[@]}")"
check "every node serves a complete build" all_serve_complete
check "the rollout again" rollout "$SRC/current" "${NODES[@]}"
check "nodes already on build-3 say so" grep -q "^$TMP/n1: already serves build-3$" "$TMP/out"
check "n2 switches once its copy matches" grep -q "^$TMP/n2: switched to build-3 (build-2 kept)$" "$TMP/out"
for n in "${NODES[@]}"; do check "$(basename "$n") holds build-3 byte for byte" identical build-3 "$n"; done
check "the build before the previous one is removed" test ! -e "$TMP/n2/build-1"

# 5. a rollback to the kept build while n3 is locked (a sitegen running there): n1 and n2 switch
# back, n3 stays on build-3
flock "$TMP/n3/.sitegen.lock" "$STPCTL" rollout "$SRC/build-2" "${NODES[@]}" >"$TMP/out" 2>&1
check_eq "the rollback says a node did not switch" 1 "$?"
check "n3 is reported locked" grep -q "^$TMP/n3: .*locked by a running sitegen or rollout" "$TMP/out"
check_eq "n1 and n2 serve build-2 again, n3 build-3" "build-2 build-2 build-3 " "$(serving "${NODES[@]}")"
check "every node serves a complete build" all_serve_complete
check "n1 holds build-2 byte for byte" identical build-2 "$TMP/n1"

# 6. a node killed during its switch, after its copy was renamed into place and before `current`
# moved, holds an unchecked build beside the one it serves (made here: a copy without its
# catalog): the next rollout checks it, finds it incomplete, and replaces it
check "publish build-4" publish 4
mkdir "$TMP/n1/build-4" && cp -a "$SRC/build-4/." "$TMP/n1/build-4/" && rm "$TMP/n1/build-4/catalog.mdb"
check "n1 still serves a complete build" serves_complete "$TMP/n1"
check "rollout of build-4" rollout "$SRC/current" "${NODES[@]}"
check_eq "each node serves build-4" "build-4 build-4 build-4 " "$(serving "${NODES[@]}")"
for n in "${NODES[@]}"; do check "$(basename "$n") holds build-4 byte for byte" identical build-4 "$n"; done

# 7. odd node names and options are refused before anything runs
before=$(find "$TMP/n1" | sort | md5sum)
for bad in '-oProxyCommand=touch@x:/srv/site' 'host;touch x:/srv/site' 'h$(touch x):/srv/site' \
    'user@host:/srv/a b' 'user@host:srv/site' 'user@host:/srv/../etc' '-x@host:/srv' 'relative/site'; do
    rollout "$SRC/current" "$TMP/n1" "$bad"
    check_eq "node '$bad' is refused" "2 1" "$? $(grep -c "^stpctl rollout: .*'$bad'" "$TMP/out")"
done
rollout --ssh-option 'ProxyCommand=sh -c x' "$SRC/current" "$TMP/n1"
check_eq "an ssh option with a space is refused" 2 "$?"
rollout "$TMP/c" "$TMP/n1"
check_eq "a directory that is not a build is refused" 2 "$?"
check_eq "nothing changed on n1" "$before" "$(find "$TMP/n1" | sort | md5sum)"
check "help" "$STPCTL" rollout --help

# 8. over ssh: a private sshd on a loopback port, logged into as this user with a key made here.
# Skipped where sshd cannot run without changing the machine (as root it needs /run/sshd).
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && { [ "$(id -u)" != 0 ] || [ -d /run/sshd ]; }; then
    S=$TMP/ssh
    mkdir -m 700 "$S" "$TMP/r1" "$TMP/r2"
    ssh-keygen -q -t ed25519 -N '' -f "$S/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$S/id"
    cp "$S/id.pub" "$S/authorized_keys"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "ListenAddress 127.0.0.1" "Port $port" "HostKey $S/hostkey" "PidFile $S/sshd.pid" \
        "AuthorizedKeysFile $S/authorized_keys" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
        "UsePAM no" "StrictModes no" >"$S/config"
    exec 4< <(exec /usr/sbin/sshd -D -e -f "$S/config" 2>&1)
    sshd_pid=$!
    trap 'kill "$sshd_pid" 2>/dev/null; rm -rf "$TMP"' EXIT
    ready=
    while IFS= read -r line <&4; do case $line in *"Server listening"*) ready=1; break ;; esac; done
    check_eq "the test's sshd listens" 1 "$ready"
    SSHO=(--ssh-option "Port=$port" --ssh-option "IdentityFile=$S/id" --ssh-option IdentitiesOnly=yes
        --ssh-option "UserKnownHostsFile=$S/known_hosts" --ssh-option StrictHostKeyChecking=accept-new
        --ssh-option LogLevel=ERROR --remote-stpctl "$STPCTL")
    me=$(id -un)
    check "rollout of build-4 over ssh to two nodes" rollout "${SSHO[@]}" "$SRC/build-4" "$me@127.0.0.1:$TMP/r1" "127.0.0.1:$TMP/r2"
    check "both report switching" bash -c "grep -q '^$me@127.0.0.1:$TMP/r1: switched to build-4$' '$TMP/out' &&
        grep -q '^127.0.0.1:$TMP/r2: switched to build-4$' '$TMP/out'"
    check "r1 holds build-4 byte for byte" identical build-4 "$TMP/r1"
    check "r2 holds build-4 byte for byte" identical build-4 "$TMP/r2"
    flock "$TMP/r2/.sitegen.lock" "$STPCTL" rollout "${SSHO[@]}" "$SRC/build-3" "$me@127.0.0.1:$TMP/r1" \
        "127.0.0.1:$TMP/r2" >"$TMP/out" 2>&1
    check_eq "a locked ssh node: the rollout says so" 1 "$?"
    check "the node's own message comes back over ssh" grep -q "^127.0.0.1:$TMP/r2: .*locked by a running sitegen" "$TMP/out"
    check_eq "r1 switched back to build-3, r2 stayed on build-4" "build-3 build-4 " "$(serving "$TMP/r1" "$TMP/r2")"
    check "both serve a complete build" bash -c "$(declare -f serves_complete); TMP='$TMP' STPCTL='$STPCTL';
        serves_complete '$TMP/r1' && serves_complete '$TMP/r2'"
    kill "$sshd_pid"
else
    ok "# SKIP the ssh part: no sshd that can run here without changing the machine"
fi

done_testing
