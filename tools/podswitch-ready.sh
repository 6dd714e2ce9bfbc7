#!/bin/sh
# podswitch-ready: the DaemonSet's readiness probe (/usr/libexec/podswitch/ready in the
# image). Ready when podswitchd answers on its control socket (podswitchctl info) and the
# CNI plugin's STATUS passes, asked the way a CNI 1.1.0 runtime asks it (CNI_COMMAND=STATUS,
# the network config on stdin): the node can attach pods. Exit 0 ready, 1 not.
set -eu
SOCK=${PODSWITCH_SOCKET:-/run/podswitch/podswitchd.sock}
PLUGIN=${PODSWITCH_CNI:-/usr/libexec/cni/podswitch}
podswitchctl --socket "$SOCK" --timeout 3 info >/dev/null
printf '{"cniVersion": "1.1.0", "name": "podswitch", "type": "podswitch", "socket": "%s", "timeout": 3000}\n' "$SOCK" |
	env CNI_COMMAND=STATUS "$PLUGIN" >/dev/null
