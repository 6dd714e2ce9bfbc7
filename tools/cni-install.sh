#!/bin/sh
# cni-install: the DaemonSet's init container (config/k8s/daemonset.yaml). Puts the CNI
# plugin `podswitch`, the IPAM plugins it needs and the network config into the node's CNI
# directories (mounted from the host), never overwriting another plugin's file:
#   - podswitch (ours): replaced when it differs, through a temporary file and a rename,
#     so the runtime never executes a half-written binary;
#   - host-local, static (IPAM): copied only where the node has none (a node's own
#     host-local, e.g. from its Kubernetes packages, is kept);
#   - the conflist (ours): written when it differs; a file of that name that is not a
#     podswitch config is an error and stays untouched.
# Environment (defaults for the DaemonSet's mounts):
#   CNI_BIN_DIR     /host/opt/cni/bin
#   CNI_CONF_DIR    /host/etc/cni/net.d
#   CNI_CONF_SRC    /etc/podswitch/10-podswitch.conflist (the ConfigMap); empty: no conflist
#   CNI_CONF_NODE_SRC  a node's own conflist, installed instead of CNI_CONF_SRC where it
#                   exists (its host-local range)
#   CNI_CONF_NAME   90-podswitch.conflist: after every other primary network in name
#                   order (runtimes take the first), so podswitch does not take the
#                   primary network from a CNI that is there already; 00-... to take it
#   PLUGIN_DIR      /usr/libexec/cni (podswitch)    IPAM_DIR  /usr/lib/cni (host-local, static)
# It runs with busybox sh in the image, and with any POSIX sh outside.
set -eu
BIN=${CNI_BIN_DIR:-/host/opt/cni/bin}
CONF=${CNI_CONF_DIR:-/host/etc/cni/net.d}
SRC=${CNI_CONF_SRC-/etc/podswitch/10-podswitch.conflist}
# A node's own conflist (its host-local range: its slice of the pod network) wins.
NODE_SRC=${CNI_CONF_NODE_SRC:-}
if [ -n "$SRC" ] && [ -n "$NODE_SRC" ] && [ -f "$NODE_SRC" ]; then
	SRC=$NODE_SRC
fi
NAME=${CNI_CONF_NAME:-90-podswitch.conflist}
PLUGIN_DIR=${PLUGIN_DIR:-/usr/libexec/cni}
IPAM_DIR=${IPAM_DIR:-/usr/lib/cni}

say() { echo "cni-install: $*"; }
die() { echo "cni-install: $*" >&2; exit 1; }

# put SRC DIR NAME: DIR/NAME becomes a copy of SRC, atomically (same directory, rename).
put() {
	cp "$1" "$2/.$3.podswitch-tmp"
	chmod "$4" "$2/.$3.podswitch-tmp"
	mv -f "$2/.$3.podswitch-tmp" "$2/$3"
}

mkdir -p "$BIN" "$CONF"

if [ -f "$BIN/podswitch" ] && cmp -s "$PLUGIN_DIR/podswitch" "$BIN/podswitch"; then
	say "$BIN/podswitch is up to date"
else
	put "$PLUGIN_DIR/podswitch" "$BIN" podswitch 0755
	say "installed $BIN/podswitch"
fi

for p in host-local static; do
	if [ -e "$BIN/$p" ]; then
		say "kept the node's $BIN/$p"
	else
		put "$IPAM_DIR/$p" "$BIN" "$p" 0755
		say "installed $BIN/$p"
	fi
done

if [ -n "$SRC" ]; then
	[ -f "$SRC" ] || die "no network config $SRC"
	grep -q '"type": *"podswitch"' "$SRC" || die "$SRC is not a podswitch network config"
	if [ -e "$CONF/$NAME" ] && ! grep -q '"type": *"podswitch"' "$CONF/$NAME"; then
		die "$CONF/$NAME belongs to another plugin: not overwritten (set CNI_CONF_NAME)"
	fi
	if [ -f "$CONF/$NAME" ] && cmp -s "$SRC" "$CONF/$NAME"; then
		say "$CONF/$NAME is up to date"
	else
		put "$SRC" "$CONF" "$NAME" 0644
		say "installed $CONF/$NAME"
	fi
	first=$(ls "$CONF" | grep -E '\.(conf|conflist|json)$' | head -n 1)
	[ "$first" = "$NAME" ] || say "note: $first comes first in $CONF: it stays the runtime's primary network"
fi
