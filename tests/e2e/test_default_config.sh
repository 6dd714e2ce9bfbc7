#!/usr/bin/env bash
# Issue 12: the config `make install` installs starts podswitchd on a fresh node with no
# file of its own. `make install DESTDIR=$T/root` (the build's own prefix, so nothing is
# rebuilt); podswitchd runs that very file, only the socket, DPDK file prefix and state
# directory overridden by its flags (a node's defaults belong to the machine's own
# podswitchd). It comes up with no port, the networks every shipped CNI config names
# (config/cni/, config/k8s/), the learning rule, and a PMD that does not sleep.
source "$(dirname "$0")/lib.sh"

prefix=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
make -s -C "$SRC" install BUILD="$BUILD" PREFIX="$prefix" DESTDIR="$T/root" >"$T/install.log" 2>&1 \
	|| fail "make install: $(tail -5 "$T/install.log")"
CONF=$T/root$prefix/etc/podswitch/podswitchd.json
[ -f "$CONF" ] || fail "make install did not install $CONF: $(find "$T/root" -name '*.json')"
cmp -s "$CONF" "$SRC/config/podswitchd.json" || fail "$CONF is not config/podswitchd.json"
[ -x "$T/root$prefix/sbin/podswitchd" ] || fail "no podswitchd under $T/root$prefix/sbin"
ok "make install DESTDIR=$T/root installed podswitchd and $prefix/etc/podswitch/podswitchd.json"

# Nothing in it names a file or device of this machine.
jq -e '(.ports // []) == [] and .pmd_idle_sleep_us == 0' "$CONF" >/dev/null || fail "ports or idle back-off in $CONF"
"$T/root$prefix/sbin/podswitchd" --config "$CONF" --check-config >/dev/null || fail "--check-config $CONF"

"$T/root$prefix/sbin/podswitchd" --config "$CONF" --socket "$SOCK" --file-prefix "$PREFIX" \
	--state-dir "$T/state" >>"$T/podswitchd.log" 2>&1 &
SWITCH_PID=$!
wait_until 30 'ctl info >/dev/null 2>&1 || ! kill -0 $SWITCH_PID' || fail "no answer on $SOCK"
kill -0 "$SWITCH_PID" 2>/dev/null || fail "podswitchd exited at start: $(tail -5 "$T/podswitchd.log")"
ok "podswitchd started with the installed config"

[ "$(ctlj port list | jq '.ports | length')" = 0 ] || fail "ports at start: $(ctl port list)"
nets=$(ctlj network list | jq -r '[.networks[].name] | sort | join(" ")')
[ "$nets" = "dpdknet memifnet podnet" ] || fail "networks: $nets"
# Every network a shipped CNI config or manifest names exists (a pod on it would fail),
# but for those whose config names the transport: the CNI plugin makes them
# (config/cni/nad-vxlan.yaml, run by e2e_cni_vxlan).
for f in "$SRC"/config/cni/* "$SRC"/config/k8s/* "$SRC"/config/k8s/multus/*; do
	[ -f "$f" ] || continue
	grep -q '"vxlan": *{\|"vlan": *[0-9]' "$f" && continue
	for n in $(grep -o '"network": *"[^"]*"' "$f" | sed 's/.*"\([^"]*\)"$/\1/'); do
		case " $nets " in *" $n "*) ;; *) fail "$(basename "$f") names network $n, which the default config lacks";; esac
	done
done
rules=$(ctlj flow list | jq -c '[.flows[] | {priority, match, actions}]')
[ "$rules" = '[{"priority":0,"match":{},"actions":[{"type":"normal"}]}]' ] || fail "rules: $rules"
ok "networks $nets (every one the shipped CNI configs name), rule priority=0,actions=normal, no port"

# Idle back-off off: an idle PMD spins and never sleeps.
sleep 1
sleeps=$(ctlj pmd stats | jq '[.pmds[].sleeps] | add')
[ "$sleeps" = 0 ] || fail "the idle PMD slept $sleeps times: $(ctl pmd stats)"
ok "PMD idle back-off off (0 sleeps while idle)"

stop_switch
ok "SIGTERM: exit 0, socket removed"
