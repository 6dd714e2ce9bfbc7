# tests/e2e/containerd_lib.sh: a private containerd (Debian's) for the test, and `ctr run
# --cni` in a mount namespace of its own (source after lib.sh).
#
# containerd runs with its own root, state, socket and config under $T (CRI off: ctr drives
# it directly). `ctr run --cni` runs the CNI plugins itself, from the directories go-cni
# has built in (/etc/cni/net.d, /opt/cni/bin); ctr has no flag for them, so each ctr runs in
# a private mount namespace where the test's own directories are mounted on those paths:
# the machine's /etc/cni/net.d and /opt/cni/bin are never read or written.
CTRD=$T/containerd
CTRD_PID=
# containerd's shims keep their sockets and fifos under /run/containerd whatever the
# config says; the directories they leave go if the test made them.
[ -e /run/containerd ] && CTRD_RUN_MADE= || CTRD_RUN_MADE=1

containerd_start() {
	mkdir -p "$CTRD/root" "$CTRD/state"
	cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTRD/containerd.sock"
[ttrpc]
  address = "$CTRD/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
	containerd --config "$CTRD/config.toml" >"$T/containerd.log" 2>&1 &
	CTRD_PID=$!
	on_exit containerd_stop
	wait_until 20 'ctr -a "$CTRD/containerd.sock" version >/dev/null 2>&1' \
		|| fail "containerd did not start: $(tail -5 "$T/containerd.log")"
}

containerd_stop() {
	local c
	for c in $(ctr -a "$CTRD/containerd.sock" containers ls -q 2>/dev/null); do
		ctr -a "$CTRD/containerd.sock" tasks kill -s KILL "$c" >/dev/null 2>&1
		sleep 0.5
		ctr -a "$CTRD/containerd.sock" tasks delete -f "$c" >/dev/null 2>&1
		ctr -a "$CTRD/containerd.sock" containers delete "$c" >/dev/null 2>&1
	done
	[ -n "$CTRD_PID" ] && kill -TERM "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null
	CTRD_PID=
	[ -z "$CTRD_RUN_MADE" ] || find /run/containerd -depth -type d -empty -delete 2>/dev/null
}

# ctr_cni NETD CTR-ARGS...: ctr (on the test's containerd) with NETD as
# /etc/cni/net.d and $CNIBIN as /opt/cni/bin, in a private mount namespace.
CNIBIN=$T/cni-bin
ctr_cni() {
	local netd=$1; shift
	mkdir -p "$CNIBIN"
	unshare -m --propagation private sh -c '
		set -e
		mount --bind "$1" /etc/cni/net.d
		if [ ! -d /opt/cni/bin ]; then mount -t tmpfs -o size=1m,mode=755 none /opt; mkdir -p /opt/cni/bin; fi
		mount --bind "$2" /opt/cni/bin
		shift 2
		exec ctr "$@"' ctr_cni "$netd" "$CNIBIN" -a "$CTRD/containerd.sock" "$@"
}

# busybox_rootfs DIR: a root filesystem of Debian's busybox-static (nothing pulled).
busybox_rootfs() {
	mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/etc" "$1/tmp" "$1/shared"
	cp /bin/busybox "$1/bin/busybox"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$1/bin/$a"; done
}
