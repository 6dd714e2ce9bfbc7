# tests/e2e/cni_lib.sh: helpers for the CNI plugin tests (source after lib.sh). The tests
# play the container runtime exactly: a clean environment with the CNI_* variables the
# kubelet's runtime (or Multus) sets, and the network config on stdin.
CNI=${CNI:-$BUILD/cni/podswitch}
CNI_BIN_PATH=$BUILD/cni:/usr/lib/cni
NSP=pswc$$
PODS=$T/pods
IPAM=$T/ipam

# cni COMMAND CONTAINER_ID NETNS IFNAME CONFIG_FILE [CNI_ARGS]: stdout is the plugin's.
cni() {
	local cmd=$1 cid=$2 ns=$3 ifn=$4 conf=$5 args=${6:-}
	local rc=0
	# The sanitizers' options (make test-asan) are not CNI's: passed on when set.
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" \
		CNI_NETNS="$ns" CNI_IFNAME="$ifn" CNI_PATH="$CNI_BIN_PATH" CNI_ARGS="$args" \
		${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${LSAN_OPTIONS:+LSAN_OPTIONS=$LSAN_OPTIONS} \
		${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
		"$CNI" <"$conf" 2>>"$T/cni.stderr" || rc=$?
	# A sanitizer's report goes to stderr, which a failing test would not show.
	if [ $rc -ne 0 ] && grep -q "Sanitizer\|runtime error" "$T/cni.stderr"; then
		echo "--- the plugin's stderr (last 40 lines)" >&2
		tail -n 40 "$T/cni.stderr" >&2
	fi
	return $rc
}

# k8s_args NAMESPACE POD INFRA_ID: CNI_ARGS as the kubelet's runtime passes them.
k8s_args() { echo "IgnoreUnknown=1;K8S_POD_NAMESPACE=$1;K8S_POD_NAME=$2;K8S_POD_INFRA_CONTAINER_ID=$3"; }

# mkns NAME: a pod's network namespace, removed at exit (not in $(...): on_exit must run
# in the test's shell). Its path is /var/run/netns/NAME.
mkns() {
	ip netns add "$1"
	on_exit ip netns del "$1"
	ip netns exec "$1" ip link set lo up
}

# with_prev CONFIG RESULT OUT: the config with "prevResult" (as a runtime does for CHECK).
with_prev() { jq --slurpfile r "$2" '. + {prevResult: $r[0]}' "$1" >"$3"; }

# rpc METHOD [PARAMS_JSON]: raw JSON-RPC call; prints result (or error), rc 1 on error.
rpc() {
	"$PY" - "$SOCK" "$1" "${2:-{\}}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = {"jsonrpc": "2.0", "id": 1, "method": sys.argv[2], "params": json.loads(sys.argv[3])}
s.sendall((json.dumps(req) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
r = json.loads(buf)
print(json.dumps(r.get("result", r.get("error"))))
sys.exit(0 if "result" in r else 1)
PY
}

# cni_ports: names of ports that carry a CNI identity.
cni_ports() { rpc port.list | jq -r '.ports[] | select(.external_ids["cni.container_id"] != null) | .name'; }

# ipam_leases: addresses host-local holds in $IPAM (one file per address).
ipam_leases() { find "$IPAM" -type f -name '[0-9]*.[0-9]*.[0-9]*.[0-9]*' 2>/dev/null | sort; }

# net_setup: a network for the pods. With network.add (the L2 pipeline) the pods' ports
# join it and a NORMAL rule switches by learned MACs; without it, connect_pods sets static
# outputs between two ports.
NETWORK=
net_setup() {
	if rpc network.add '{"name": "podnet"}' >/dev/null 2>&1; then
		NETWORK=podnet
		ctl flow add "priority=0,actions=normal" >/dev/null || fail "flow add normal"
	fi
}
net_member() { [ -n "$NETWORK" ] && echo "\"network\": \"$NETWORK\"," || true; }

# connect_pods PORT_A PORT_B: only without a network: A <-> B by static outputs.
connect_pods() {
	[ -n "$NETWORK" ] && return 0
	rpc port.set "{\"name\": \"$1\", \"output\": \"$2\"}" >/dev/null || fail "port.set $1"
	rpc port.set "{\"name\": \"$2\", \"output\": \"$1\"}" >/dev/null || fail "port.set $2"
}

# port_of CONTAINER_ID IFNAME: the podswitchd port of an attachment (by external_ids).
port_of() {
	rpc port.list | jq -r --arg c "$1" --arg i "$2" \
		'.ports[] | select(.external_ids["cni.container_id"] == $c and .external_ids["cni.ifname"] == $i) | .name'
}

# The operator's example configs (config/cni/), as the runtime passes them:
# conflist_plugin FILE: the list's first plugin with the list's cniVersion and name.
conflist_plugin() { jq '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$1"; }
# nad_config FILE: the JSON of a NetworkAttachmentDefinition's spec.config block.
nad_config() { sed -n '/^  config: |$/,$p' "$1" | tail -n +2 | sed 's/^    //'; }
# localize: point a config (stdin) at this test's podswitchd, directories and network.
localize() {
	jq --arg s "$SOCK" --arg d "$PODS" --arg i "$IPAM" --arg n "$NETWORK" \
		'.socket = $s | .socketDir = $d | (if .ipam.dataDir then .ipam.dataDir = $i else . end)
		 | (if $n == "" then del(.network) else .network = $n end)'
}
