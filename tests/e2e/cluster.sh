# tests/e2e/cluster.sh: several nodes on one machine, for the tests between nodes (issue
# 9). Source after lib.sh (and pods.sh for pods). Everything lives in namespaces the test
# makes and is removed on exit:
#
#   underlay namespace UL: a Linux bridge, one veth per node (the underlay "switch")
#   node namespace NODE[n]: podswitchd n runs here; its uplink is the veth's other end
#     (net_af_packet), its underlay address 192.168.250.<n>/24 (podswitchd owns it: the
#     kernel has no address on that veth); its host port (type host) is here too
#   pods: namespaces of their own, on the node's taps (through the CNI plugin or by hand)
#
# Each node has its own control socket, DPDK file prefix and state directory; PMDs run on
# lcore 1 with idle back-off (2 cores for everything).

UL=psw-ul-$$
declare -A NODE=() NODE_SOCK=() NODE_PID=()

underlay_ip() { echo "192.168.250.$1"; }

# make_underlay: the bridge namespace.
make_underlay() {
	ip netns add $UL
	on_exit "ip netns del $UL"
	ip -n $UL link add br0 type bridge
	ip -n $UL link set br0 up
	ip -n $UL link set lo up
}

# node_config N FILE [extra JSON members]
node_config() {
	local n=$1 f=$2; shift 2
	local extra=${1:-}
	cat >"$f" <<JSON
{
  "eal": {"lcores": "0,1", "main_lcore": 0, "memory_mb": 256, "file_prefix": "${PREFIX}n$n",
          "args": ["--no-pci", "--in-memory"]},
  "pmd_cpus": [1],
  "pmd_idle_sleep_us": 100,
  "mbufs": 8192,
  "control_socket": "$T/n$n.sock",
  "state_dir": "$T/state-n$n",
  "socket_dir": "$T/sockets-n$n"${extra:+,
  $extra}
}
JSON
}

# nctl N ARGS...: podswitchctl against node N.
nctl() { local n=$1; shift; "$PODSWITCHCTL" --socket "$T/n$n.sock" "$@"; }
nctlj() { local n=$1; shift; "$PODSWITCHCTL" --socket "$T/n$n.sock" --json "$@"; }
njget() { local n=$1 q=$2; shift 2; nctlj "$n" "$@" | jq -r "$q"; }

# node_ns N: node N's namespace with its uplink veth in the underlay bridge (once).
node_ns() {
	local n=$1
	local ns=psw-n$n-$$
	NODE[$n]=$ns
	if ! ip netns list | grep -q "^$ns\b"; then
		ip netns add "$ns"
		on_exit "ip netns del $ns"
		ip -n "$ns" link set lo up
		ip link add ul$n-$$ type veth peer name ulb$n-$$
		ip link set ulb$n-$$ netns $UL
		ip -n $UL link set ulb$n-$$ master br0 up
		ip link set ul$n-$$ netns "$ns"
		ip -n "$ns" link set ul$n-$$ name uplink
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.uplink.disable_ipv6=1
		ip -n "$ns" link set uplink up
	fi
}

# start_node N [extra config]: podswitchd with a config of its own (node_config).
start_node() {
	local n=$1 extra=${2:-}
	node_ns "$n"
	node_config "$n" "$T/n$n.json" "$extra"
	node_run "$n" --config "$T/n$n.json"
}

# start_node_files N FILE...: podswitchd with the given config files (merged in order) and
# this node's socket, file prefix and state directory; env (NODE_ENV[N]) as given.
declare -A NODE_ENV=()
start_node_files() {
	local n=$1 f args=(); shift
	node_ns "$n"
	for f in "$@"; do args+=(--config "$f"); done
	node_run "$n" "${args[@]}" --socket "$T/n$n.sock" --file-prefix "${PREFIX}n$n" \
		--state-dir "$T/state-n$n"
}

node_run() {
	local n=$1; shift
	env ${NODE_ENV[$n]:-} ip netns exec "${NODE[$n]}" "$PODSWITCHD" "$@" >>"$T/n$n.log" 2>&1 &
	NODE_PID[$n]=$!
	on_exit "stop_node $n KILL"
	for _ in $(seq 1 100); do
		nctl "$n" info >/dev/null 2>&1 && return 0
		kill -0 "${NODE_PID[$n]}" 2>/dev/null || { tail -20 "$T/n$n.log"; fail "node $n: podswitchd exited at start"; }
		sleep 0.1
	done
	fail "node $n: podswitchd did not open its socket"
}

# stop_node N [SIGNAL]
stop_node() {
	local n=$1 sig=${2:-TERM} pid=${NODE_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	{ wait "$pid"; } 2>/dev/null || true
	NODE_PID[$n]=
	rm -rf "/var/run/dpdk/${PREFIX}n$n"
}

# node_uplink N: the uplink port and underlay address of node N.
node_uplink() {
	local n=$1
	nctl "$n" port add uplink --devargs "net_af_packet$n,iface=uplink" >/dev/null || fail "node $n: uplink port"
	nctl "$n" uplink set uplink --ip "$(underlay_ip "$n")/24" >/dev/null || fail "node $n: uplink set"
}

# peers_of N NODES...: the underlay addresses of the other nodes, comma-separated.
peers_of() {
	local n=$1 p out=; shift
	for p in "$@"; do [ "$p" = "$n" ] || out+="${out:+,}$(underlay_ip "$p")"; done
	echo "$out"
}

# tap_pod N NAME IP/LEN [MAC]: a kernel pod on node N (a tap moved into its namespace),
# in network podnet unless NET is set.
tap_pod() {
	local n=$1 name=$2 ip=$3 mac=${4:-}
	local ns=psw-p$name-$$ ifn=t$name$$
	ip netns add "$ns"
	on_exit "ip netns del $ns"
	ip -n "$ns" link set lo up
	# No IPv6 chatter (router solicitations, MLD reports): tests count packets.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	nctl "$n" port add "$name" --type tap --option ifname="$ifn" --network "${NET:-podnet}" \
		${mac:+--mac $mac} >/dev/null || fail "node $n: pod $name"
	ip -n "${NODE[$n]}" link set "$ifn" netns "$ns"
	ip -n "$ns" link set "$ifn" name eth0
	ip -n "$ns" addr add "$ip" dev eth0
	ip -n "$ns" link set eth0 up
}
