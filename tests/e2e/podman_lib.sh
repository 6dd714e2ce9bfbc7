# tests/e2e/podman_lib.sh: podswitch's image under podman (source after lib.sh).
# image_build makes the image (`make image`: quick when nothing changed, a minute or two on
# a fresh machine); podman runs with a config of the test's own (CONTAINERS_CONF), which
# fits the test machines: no systemd (cgroupfs, events in a file), hybrid cgroups (crun
# refuses them; runc does not), and no CAP_SYS_RESOURCE (podman's default rlimits are above
# what the machine may set, so the test sets lower ones).
VERSION=$(meson introspect "$SRC/meson.build" --projectinfo | jq -r .version)
IMAGE=localhost/podswitch:$VERSION
ARCHIVE=$BUILD/podswitch-image.tar
# The capabilities podswitchd needs (README.md "The image"): NET_ADMIN (taps), SYS_ADMIN
# (memif listeners inside a pod's netns: setns), IPC_LOCK (DMA-pinned memory for NICs).
CAPS=IPC_LOCK,NET_ADMIN,SYS_ADMIN
CAPS_MASK=0000000000205000 # bits 14, 12, 21

export CONTAINERS_CONF=$T/containers.conf
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=8192:8192"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF

image_build() {
	local t0=$SECONDS
	make -s -C "$SRC" image BUILD="$BUILD" >"$T/image.log" 2>&1 || fail "make image: $(tail -20 "$T/image.log")"
	podman image exists "$IMAGE" || fail "make image made no $IMAGE: $(tail -5 "$T/image.log")"
	[ -s "$ARCHIVE" ] || fail "make image made no $ARCHIVE"
	echo "# $(tail -1 "$T/image.log") (make image: $((SECONDS - t0)) s)"
}

# container_pid NAME: podswitchd's pid on the host.
container_pid() { podman inspect --format '{{.State.Pid}}' "$1"; }
