#!/usr/bin/env bash
# Issue 5: the CNI plugin on bad input and failures. Every failure is a CNI error object
# (cniVersion, code, msg) on stdout with a non-zero exit, and a failed ADD leaves nothing
# behind (port, IPAM lease, files). Also: each cniVersion answered in its own shape,
# VERSION, STATUS (code 50 when podswitchd is down), GC by cni.dev/valid-attachments, and
# DEL with podswitchd down (succeeds, releases the lease).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

write_config "$T/sw.json"
start_switch "$T/sw.json"
net_setup
mkns ${NSP}a; NSA=/var/run/netns/${NSP}a

conf() { # conf VERSION [extra members] -> a config file path
	local f=$T/conf.$RANDOM.json
	cat >"$f" <<JSON
{"cniVersion": "$1", "name": "podnet", "type": "podswitch", $(net_member)
 "socket": "$SOCK", "socketDir": "$PODS"${2:+, $2},
 "ipam": {"type": "host-local", "subnet": "10.97.0.0/24", "dataDir": "$IPAM"}}
JSON
	echo "$f"
}

# expect_error CODE MSG_SUBSTRING COMMAND...: the plugin fails with that CNI error.
expect_error() {
	local code=$1 msg=$2; shift 2
	if "$@" >"$T/err.json"; then fail "succeeded, expected error $code: $(cat "$T/err.json")"; fi
	jq -e --argjson c "$code" --arg m "$msg" \
		'.code == $c and (.msg | contains($m)) and (.cniVersion | type == "string")' "$T/err.json" >/dev/null \
		|| fail "expected error $code with \"$msg\", got: $(cat "$T/err.json")"
}

nothing_left() {
	[ -z "$(cni_ports)" ] || fail "$1: ports left: $(cni_ports)"
	[ -z "$(ipam_leases)" ] || fail "$1: IPAM leases left: $(ipam_leases)"
	[ -z "$(find "$PODS" -mindepth 1 -not -name '.podswitch-cni.lock' 2>/dev/null)" ] || fail "$1: files left: $(find "$PODS")"
	ip -n ${NSP}a -o link | grep -v ' lo:' >/dev/null && fail "$1: interface left in the pod: $(ip -n ${NSP}a -o link)"
	ip -o link | grep ' psw[0-9a-f]\{12\}[:@]' >/dev/null && fail "$1: a host tap is left: $(ip -o link | grep psw)"
	return 0
}

# 1. Bad configs: each error names the field.
echo 'this is not json' >"$T/garbage"
expect_error 6 "not valid JSON" cni ADD c1 "$NSA" eth0 "$T/garbage"
echo '{"cniVersion": "1.0.0", "type": "podswitch"}' >"$T/noname"
expect_error 7 '"name" is missing' cni ADD c1 "$NSA" eth0 "$T/noname"
expect_error 2 'unknown field "colour"' cni ADD c1 "$NSA" eth0 "$(conf 1.0.0 '"colour": "blue"')"
expect_error 7 '"mtu" must be' cni ADD c1 "$NSA" eth0 "$(conf 1.0.0 '"mtu": "big"')"
expect_error 7 '"mtu" must be an integer from 68 to 9600' cni ADD c1 "$NSA" eth0 "$(conf 1.0.0 '"mtu": 9601')"
expect_error 7 '"interface" must be' cni ADD c1 "$NSA" eth0 "$(conf 1.0.0 '"interface": "ethernet"')"
expect_error 2 'unknown field "memif.ring"' cni ADD c1 "$NSA" eth0 "$(conf 1.0.0 '"interface": "memif", "memif": {"ring": 4}')"
expect_error 7 '"runtimeConfig.mac" must be' cni ADD c1 "$NSA" eth0 "$(conf 1.0.0 '"runtimeConfig": {"mac": "zz"}')"
expect_error 1 'incompatible CNI version "0.2.0"' cni ADD c1 "$NSA" eth0 "$(conf 0.2.0)"
jq -e '.cniVersion == "1.1.0"' "$T/err.json" >/dev/null || fail "error for an unknown version must be in 1.1.0"
ok "bad config: garbage (6), missing and bad fields (7), unknown fields (2), unknown version (1)"

# 2. Bad environment.
C=$(conf 1.0.0)
expect_error 4 "CNI_NETNS is not set" cni ADD c1 "" eth0 "$C"
expect_error 4 "CNI_IFNAME" cni ADD c1 "$NSA" "bad/name" "$C"
expect_error 4 'unknown key "FOO"' cni ADD c1 "$NSA" eth0 "$C" "FOO=bar"
expect_error 3 "does not exist" cni ADD c1 /var/run/netns/${NSP}missing eth0 "$C"
jq -e '.cniVersion == "1.0.0"' "$T/err.json" >/dev/null || fail "error not in the config's version: $(cat "$T/err.json")"
nothing_left "bad environment"
ok "bad environment: missing CNI_NETNS, bad CNI_IFNAME, unknown CNI_ARGS (4); missing netns (3); nothing left"

# 3. IPAM failures: a missing plugin, a plugin that fails; and a failure after IPAM (the
# name is taken in the pod) releases the lease and removes the port.
jq '.ipam.type = "no-such-ipam"' "$C" >"$T/c-noipam.json"
expect_error 7 'plugin "no-such-ipam" not found' cni ADD c1 "$NSA" eth0 "$T/c-noipam.json"
jq '.ipam.subnet = "not-a-subnet"' "$C" >"$T/c-badipam.json"
if cni ADD c1 "$NSA" eth0 "$T/c-badipam.json" >"$T/err.json"; then fail "ADD with a failing IPAM passed"; fi
jq -e '(.msg | startswith("host-local ADD:")) and (.code | type == "number")' "$T/err.json" >/dev/null || fail "IPAM error: $(cat "$T/err.json")"
if [ -n "$NETWORK" ]; then
	# A network podswitchd lacks, and the config does not say how to make it: found
	# before IPAM runs.
	jq '.network = "nosuchnet"' "$C" >"$T/c-nonet.json"
	expect_error 7 '"network": podswitchd has no network "nosuchnet"' cni ADD c1 "$NSA" eth0 "$T/c-nonet.json"
fi
# A userspace pod whose last step fails (the device-info file cannot be written): port,
# lease, metadata file, socket directory all go.
jq '.interface = "vhost-user" | .runtimeConfig = {CNIDeviceInfoFile: "/proc/nope/dev.json"}' "$C" >"$T/c-devinfo.json"
expect_error 5 "/proc/nope" cni ADD c1 "$NSA" net1 "$T/c-devinfo.json" "$(k8s_args default upod c1)"
nothing_left "failed userspace ADD"
ip -n ${NSP}a link add eth0 type veth peer name eth0peer
expect_error 101 "already exists" cni ADD c1 "$NSA" eth0 "$C"
ip -n ${NSP}a link del eth0
nothing_left "failed ADDs"
ok "IPAM missing (7) or failing (its error passed on); unknown network (7); ADD failing after IPAM (device-info: 5) releases the lease and the port; eth0 taken in the pod (101)"

# A failed ADD releases only what it took. The attachment's port is gone (as after a
# podswitchd that lost it) but its lease is not: a second ADD fails in host-local
# ("duplicate allocation"), and must not ask host-local to DEL the lease it did not take.
cni ADD c3 "$NSA" eth0 "$C" >"$T/c3.json" || fail "ADD c3: $(cat "$T/c3.json")"
IP3=$(jq -r '.ips[0].address | split("/")[0]' "$T/c3.json")
rpc port.del "{\"name\": \"$(port_of c3 eth0)\"}" >/dev/null || fail "port.del of c3"
if cni ADD c3 "$NSA" eth0 "$C" >"$T/err.json"; then fail "second ADD of c3 passed: $(cat "$T/err.json")"; fi
jq -e '.msg | contains("duplicate allocation")' "$T/err.json" >/dev/null || fail "second ADD of c3: $(cat "$T/err.json")"
[ "$(ipam_leases | xargs -r -n1 basename)" = "$IP3" ] || fail "the failed ADD released c3's lease $IP3: $(ipam_leases)"
[ -z "$(cni_ports)" ] || fail "the failed ADD left a port: $(cni_ports)"
cni DEL c3 "$NSA" eth0 "$C" >"$T/out" || fail "DEL c3: $(cat "$T/out")"
nothing_left "DEL c3"
ok "an ADD whose IPAM fails does not release the attachment's existing lease"

# 4. Every cniVersion gets a result of its own shape; VERSION lists them.
for v in 0.3.1 0.4.0 1.0.0 1.1.0; do
	cni ADD cv "$NSA" eth0 "$(conf $v)" >"$T/r.json" || fail "ADD in $v: $(cat "$T/r.json")"
	jq -e --arg v "$v" '.cniVersion == $v and .interfaces[0].sandbox != null and .ips[0].interface == 0' "$T/r.json" >/dev/null || fail "$v result: $(cat "$T/r.json")"
	case $v in
	0.*) jq -e '.ips[0].version == "4"' "$T/r.json" >/dev/null || fail "$v needs ips[].version" ;;
	*) jq -e '.ips[0] | has("version") | not' "$T/r.json" >/dev/null || fail "$v must not have ips[].version" ;;
	esac
	if [ $v = 0.3.1 ]; then
		with_prev "$(conf $v)" "$T/r.json" "$T/chk.json"
		expect_error 1 "CHECK needs cniVersion 0.4.0" cni CHECK cv "$NSA" eth0 "$T/chk.json"
	else
		with_prev "$(conf $v)" "$T/r.json" "$T/chk.json"
		cni CHECK cv "$NSA" eth0 "$T/chk.json" >"$T/out" || fail "CHECK in $v: $(cat "$T/out")"
	fi
	cni DEL cv "$NSA" eth0 "$(conf $v)" >"$T/out" || fail "DEL in $v: $(cat "$T/out")"
	echo "{\"cniVersion\": \"$v\"}" >"$T/ver.json"
	cni VERSION "" "" "" "$T/ver.json" | jq -e --arg v "$v" '.cniVersion == $v and (.supportedVersions | index("0.3.1") and index("0.4.0") and index("1.0.0") and index("1.1.0"))' >/dev/null || fail "VERSION $v"
done
nothing_left "versions"
ok "cniVersion 0.3.1, 0.4.0, 1.0.0, 1.1.0: ADD/CHECK/DEL, each answered in its own version; VERSION"

# 5. GC: attachments of this network not in cni.dev/valid-attachments lose their port,
# lease and files; the valid one and other networks' stay. A userspace pod's directory
# goes too, and so does a directory whose port podswitchd no longer has.
C11=$(conf 1.1.0)
V11=$(conf 1.1.0 '"interface": "vhost-user"')
jq '.name = "othernet" | .ipam.subnet = "10.95.0.0/24"' "$C11" >"$T/other.json"
mkns ${NSP}b; NSB=/var/run/netns/${NSP}b
cni ADD keep "$NSA" eth0 "$C11" >"$T/keep.json" || fail "ADD keep"
cni ADD stale "$NSB" eth0 "$C11" >"$T/stale.json" || fail "ADD stale"
cni ADD stale "$NSB" net1 "$V11" "$(k8s_args default stale-pod stale)" >"$T/stale1.json" || fail "ADD stale net1: $(cat "$T/stale1.json")"
cni ADD other "$NSB" net2 "$T/other.json" >"$T/other-res.json" || fail "ADD othernet"
[ -f "$PODS/default_stale-pod/net1.json" ] || fail "no metadata for the stale vhost pod"
mkdir -p "$PODS/lost"
echo '{"networkName": "podnet", "containerId": "lost", "ifname": "net1"}' >"$PODS/lost/net1.json"
jq '. + {"cni.dev/valid-attachments": [{"containerID": "keep", "ifname": "eth0"}]}' "$C11" >"$T/gc.json"
cni GC "" "" "" "$T/gc.json" >"$T/out" || fail "GC: $(cat "$T/out")"
[ "$(cni_ports | sort)" = "$( (port_of keep eth0; port_of other net2) | sort)" ] || fail "after GC: $(cni_ports)"
[ "$(ipam_leases | wc -l)" = 2 ] || fail "after GC leases: $(ipam_leases)"
ip -n ${NSP}b link show eth0 >/dev/null 2>&1 && fail "stale pod still has eth0"
[ ! -e "$PODS/default_stale-pod" ] || fail "stale pod directory left: $(find "$PODS/default_stale-pod")"
[ ! -e "$PODS/lost" ] || fail "directory of a lost attachment left"
cni DEL other "$NSB" net2 "$T/other.json" >"$T/out" || fail "DEL othernet"
ok "GC removes ports, leases and directories of attachments not in cni.dev/valid-attachments; keeps the valid one and other networks'"

# DEL finds a userspace pod's directory even when its CNI_ARGS differ from ADD's.
cni ADD ctr-v "$NSB" net1 "$V11" "$(k8s_args default vpod ctr-v)" >"$T/out" || fail "ADD vpod: $(cat "$T/out")"
[ -d "$PODS/default_vpod" ] || fail "no directory for vpod"
cni DEL ctr-v "$NSB" net1 "$V11" >"$T/out" || fail "DEL vpod: $(cat "$T/out")"
[ ! -e "$PODS/default_vpod" ] || fail "DEL without CNI_ARGS left $PODS/default_vpod"
ok "DEL without the pod's CNI_ARGS still removes its directory"

# A pod's new sandbox reuses its directory; a late DEL of the old sandbox keeps the new
# sandbox's socket and metadata.
cni ADD old-sb "$NSB" net1 "$V11" "$(k8s_args default re-pod old-sb)" >"$T/out" || fail "ADD old sandbox"
cni DEL old-sb "$NSB" net1 "$V11" "$(k8s_args default re-pod old-sb)" >"$T/out" || fail "DEL old sandbox"
cni ADD new-sb "$NSB" net1 "$V11" "$(k8s_args default re-pod new-sb)" >"$T/out" || fail "ADD new sandbox"
cni DEL old-sb "$NSB" net1 "$V11" "$(k8s_args default re-pod old-sb)" >"$T/out" || fail "late DEL of the old sandbox"
[ "$(jq -r .containerId "$PODS/default_re-pod/net1.json" 2>/dev/null)" = new-sb ] || fail "late DEL removed the new sandbox's metadata"
cni DEL new-sb "$NSB" net1 "$V11" "$(k8s_args default re-pod new-sb)" >"$T/out" || fail "DEL new sandbox"
[ ! -e "$PODS/default_re-pod" ] || fail "directory left after the new sandbox's DEL"
ok "a late DEL of a pod's old sandbox leaves the new sandbox's files alone"

# 6. STATUS up; then podswitchd down: DEL still succeeds (lease released), ADD fails
# with a clear error and leaves nothing, STATUS says 50.
cni STATUS "" "" "" "$C11" >"$T/out" || fail "STATUS with podswitchd up: $(cat "$T/out")"
stop_switch
cni DEL keep "$NSA" eth0 "$C11" >"$T/out" || fail "DEL with podswitchd down: $(cat "$T/out")"
[ -z "$(ipam_leases)" ] || fail "DEL with podswitchd down kept the lease: $(ipam_leases)"
expect_error 11 "podswitchd is not reachable" cni ADD c2 "$NSA" eth0 "$C11"
[ -z "$(ipam_leases)" ] || fail "ADD with podswitchd down took a lease"
expect_error 50 "podswitchd is not reachable" cni STATUS "" "" "" "$C11"
ok "podswitchd down: DEL succeeds and releases IPAM, ADD fails (11) leaving nothing, STATUS fails (50)"
