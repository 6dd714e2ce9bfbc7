#!/usr/bin/env bash
# Issue 2, end to end: podswitchctl's contract with people and scripts, against a real
# podswitchd: --help lists every command, tables and --json, exit 0 / 1 (the server's
# message on stderr) / 2 (usage), the socket from --socket, $PODSWITCH_SOCKET or the
# default, global options anywhere, and --timeout against a server that never answers.
source "$(dirname "$0")/lib.sh"

write_config "$T/sw.json" '"ports": [
    {"name": "sink", "devargs": "net_null0,no-rx=1"}
  ]'
start_switch "$T/sw.json"

# expect RC CMD...: run CMD, check its exit status, keep stdout/stderr in $T/out, $T/err.
expect() {
	local want=$1 rc=0; shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, want $want; stderr: $(cat "$T/err")"
}

# --help and --version.
expect 0 "$PODSWITCHCTL" --help
for cmd in "port add NAME --devargs" "port del NAME" "port set NAME" "port list" "port show NAME" \
	   "stats \[--clear\] \[PORT\]" "pmd stats" "info"; do
	grep -q "^  $cmd" "$T/out" || fail "--help does not list '$cmd'"
done
# ... and so does the man page (a command added without its man page entry fails here).
grep -E '^  [a-z]' "$T/out" | awk '{ if ($2 ~ /^[a-z]+$/) print $1 " " $2; else print $1 }' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 8 ] || fail "--help lists too few commands: $(cat "$T/cmds")"
while read -r cmd; do
	grep -qF "$cmd" "$SRC/ctl/podswitchctl.1" || fail "podswitchctl(1) does not document '$cmd'"
done <"$T/cmds"
expect 0 "$PODSWITCHCTL" --version
ver=$(jget .version info)
grep -qx "podswitchctl $ver" "$T/out" || fail "--version says '$(cat "$T/out")', switch says $ver"
expect 0 "$PODSWITCHCTL" port add --help
grep -q "^usage: podswitchctl port add NAME" "$T/out" || fail "port add --help: $(cat "$T/out")"
expect 2 "$PODSWITCHCTL"
ok "--help and podswitchctl(1) list every command, --version matches the switch"

# Where the socket comes from: --socket over $PODSWITCH_SOCKET over the default.
expect 1 "$PODSWITCHCTL" --socket "$T/none.sock" info
grep -q "^podswitchctl: cannot connect to $T/none.sock: No such file or directory" "$T/err" ||
	fail "no-socket message: $(cat "$T/err")"
expect 0 env PODSWITCH_SOCKET="$SOCK" "$PODSWITCHCTL" info
expect 0 env PODSWITCH_SOCKET="$T/none.sock" "$PODSWITCHCTL" --socket "$SOCK" info
expect 1 env PODSWITCH_SOCKET="$T/none.sock" "$PODSWITCHCTL" info
grep -q "none.sock" "$T/err" || fail "PODSWITCH_SOCKET ignored: $(cat "$T/err")"
expect 0 "$PODSWITCHCTL" port list --json --socket="$SOCK"   # global options anywhere
jq -e '.ports | length == 1' "$T/out" >/dev/null || fail "port list --json: $(cat "$T/out")"
ok "socket from --socket, \$PODSWITCH_SOCKET; options anywhere on the line"

# Human output.
expect 0 ctl info
grep -q "^pid: *$SWITCH_PID$" "$T/out" || fail "info: $(cat "$T/out")"
grep -q "^control_socket: *$SOCK$" "$T/out" || fail "info socket: $(cat "$T/out")"
expect 0 ctl port add r0 --devargs net_ring0 --output sink --rxq 1 --txq 1 \
	--external-id pod=ns/web --external-id ifname=net1
grep -q "^added port r0 (id [0-9]" "$T/out" || fail "port add: $(cat "$T/out")"
expect 0 ctl port list
head -1 "$T/out" | grep -q "^NAME  *ID  *TYPE  *DRIVER  *LINK  *MAC  *MTU  *RXQ  *TXQ  *OUTPUT  *NETWORK  *EXTERNAL_IDS$" ||
	fail "port list header: $(head -1 "$T/out")"
grep -q "^r0  .* sink  .*pod=ns/web,ifname=net1$" "$T/out" || fail "port list row: $(cat "$T/out")"
expect 0 ctl port show r0
grep -q "^output: *sink$" "$T/out" || fail "port show output: $(cat "$T/out")"
grep -q "^external_ids: *pod=ns/web,ifname=net1$" "$T/out" || fail "port show ids: $(cat "$T/out")"
grep -q "^statistics:" "$T/out" || fail "port show stats: $(cat "$T/out")"
expect 0 ctl stats
head -1 "$T/out" | grep -q "^PORT  *RX_PACKETS  *RX_BYTES  *TX_PACKETS  *TX_BYTES  *TX_DROPS  *DROPS$" ||
	fail "stats header: $(head -1 "$T/out")"
grep -q "^r0 " "$T/out" || fail "stats row: $(cat "$T/out")"
expect 0 ctl stats r0
[ "$(grep -c . "$T/out")" -eq 2 ] || fail "stats r0: $(cat "$T/out")"
expect 0 ctl stats --clear
expect 0 ctl pmd stats
head -1 "$T/out" | grep -q "^LCORE  *PACKETS  *ITERATIONS  *BUSY%  *CYCLES/PKT" || fail "pmd stats: $(cat "$T/out")"
expect 0 ctl port set r0 --output none
[ "$(jget .output port show r0)" = null ] || fail "port set --output none"
ok "info, port add/list/show/set, stats, pmd stats print aligned tables"

# Errors: exit 1 with the server's words; usage errors exit 2 and send nothing.
expect 1 ctl port add r0 --devargs net_ring1
grep -q "^podswitchctl: .*exists" "$T/err" || fail "duplicate: $(cat "$T/err")"
expect 1 ctl port show nosuch
grep -q '^podswitchctl: .*no port "nosuch"' "$T/err" || fail "show nosuch: $(cat "$T/err")"
expect 2 ctl port add
grep -q "wants a port NAME" "$T/err" || fail "port add without name: $(cat "$T/err")"
expect 2 ctl port add r9 --rxq many
grep -q -- "--rxq wants an integer" "$T/err" || fail "--rxq many: $(cat "$T/err")"
expect 2 ctl port add r9 --colour red
grep -q -- "unknown option '--colour'" "$T/err" || fail "unknown option: $(cat "$T/err")"
expect 2 ctl port frobnicate
expect 2 ctl nosuchnoun
[ "$(jget '.ports | length' port list)" = 2 ] || fail "usage errors changed ports"
expect 0 ctl port del r0
expect 1 ctl port del r0
ok "server errors exit 1 with its message; usage errors exit 2"

# --timeout: a socket that accepts but never answers.
"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
c, _ = s.accept(); time.sleep(30)' "$T/mute.sock" &
MUTE=$!
on_exit "kill $MUTE"
wait_until 5 test -S "$T/mute.sock" || fail "mute server did not start"
t0=$SECONDS
expect 1 "$PODSWITCHCTL" --socket "$T/mute.sock" --timeout 1 info
[ $((SECONDS - t0)) -le 3 ] || fail "--timeout 1 took $((SECONDS - t0)) s"
grep -q "no reply from podswitchd" "$T/err" || fail "timeout message: $(cat "$T/err")"
ok "--timeout: gives up with a clear message"

stop_switch
