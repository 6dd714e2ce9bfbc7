#!/usr/bin/env bash
# tools/leftovers.sh snapshot FILE | check FILE: what a test suite left behind. `snapshot`
# records the processes (podswitchd, dpdk-testpmd, iperf3, ping, OVS) and network
# namespaces that exist before the suite; `check` lists those that appeared since and
# fails if there are any. A pod left running after its test takes CPU from every test
# and benchmark after it (a testpmd pod left by e2e_cni_unprivileged did, unseen).
set -u
mode=${1:?snapshot or check}
file=${2:?file}
names='^(podswitchd|dpdk-testpmd|iperf3|ping|ovs-vswitchd|ovsdb-server)$'
now() {
	ps -eo pid=,comm= | awk -v re="$names" '$2 ~ re { print "process " $1 " " $2 }'
	ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
}
case $mode in
snapshot) now | sort >"$file" ;;
check)
	left=$(comm -13 "$file" <(now | sort))
	[ -z "$left" ] && exit 0
	echo "FAILED: the suite left these behind:"
	while read -r kind id rest; do
		if [ "$kind" = process ]; then
			echo "  $(ps -o pid=,user=,etime=,args= -p "$id" 2>/dev/null | cut -c1-200)"
		else
			echo "  netns $id"
		fi
	done <<<"$left"
	exit 1 ;;
*) echo "usage: $0 snapshot|check FILE" >&2; exit 2 ;;
esac
