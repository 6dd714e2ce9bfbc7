#!/usr/bin/env bash
# tools/image.sh BUILD: assemble podswitch's OCI image (run by `make image`, which has put
# `make install PREFIX=/usr` into BUILD/image/stage first). Nothing comes from a registry:
#   1. a Debian 12 root filesystem of the runtime libraries only (mmdebstrap, variant
#      "extract": the packages in IMAGE_PKGS and their dependencies, no dpkg, no apt, no
#      docs, man pages or locales), committed once as localhost/podswitch-base:<hash> and
#      cached in BUILD/image/rootfs-<hash>.tar (hash of the package list and this script);
#   2. the CNI plugin linked statically (the init container copies it onto the node,
#      whose libraries we do not know) and Debian's host-local and static IPAM plugins;
#   3. the staged install on top, in a second layer: localhost/podswitch:VERSION in
#      podman's storage, and BUILD/podswitch-image.tar (oci-archive).
# A second run rebuilds only what changed (layer 3, seconds). REFRESH=1 rebuilds the root
# filesystem (security updates).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
DIR=$BUILD/image
STAGE=$DIR/stage
PKGS=${IMAGE_PKGS:?IMAGE_PKGS: the runtime packages (the Makefile sets it)}
MARCH=${IMAGE_MARCH:-x86-64-v2}
VERSION=$(meson introspect "$SRC/meson.build" --projectinfo | jq -r .version)
IMAGE=localhost/podswitch:$VERSION
ARCHIVE=$BUILD/podswitch-image.tar
[ -x "$STAGE/usr/sbin/podswitchd" ] || { echo "image.sh: run 'make image' (no $STAGE)" >&2; exit 1; }

# Everything a container needs besides the libraries: /run (DPDK's runtime directory is
# /var/run/dpdk), mount points, a passwd for root, busybox's applets (sh, cp, cmp... for
# the readiness probe and the CNI installer, and for a person debugging a node); no
# documentation, no package manager's files.
prune() {
	local r=$1
	rm -rf "$r"/usr/share/doc "$r"/usr/share/man "$r"/usr/share/info "$r"/usr/share/locale \
		"$r"/usr/share/lintian "$r"/usr/lib/x86_64-linux-gnu/gconv "$r"/var/cache/* \
		"$r"/var/log/* "$r"/etc/apt "$r"/var/lib/apt "$r"/etc/dpkg "$r"/var/lib/dpkg
	mkdir -p "$r"/run "$r"/var/lib/podswitch "$r"/dev/hugepages "$r"/etc/podswitch "$r"/tmp \
		"$r"/sbin "$r"/usr/bin "$r"/usr/sbin
	rm -rf "$r"/var/run
	ln -s /run "$r"/var/run
	chroot "$r" /bin/busybox --install -s
	rm -f "$r"/linuxrc
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r"/etc/passwd
	printf 'root:x:0:\n' >"$r"/etc/group
}

HASH=$(cat "$0" - <<<"$PKGS" | sha256sum | cut -c1-12) # this script and the package list
BASE=localhost/podswitch-base:$HASH
ROOTFS=$DIR/rootfs-$HASH.tar
t0=$SECONDS

# 1. The base: root filesystem and its layer.
if [ -n "${REFRESH:-}" ] || [ ! -f "$ROOTFS" ]; then
	echo "image: Debian 12 root filesystem ($PKGS)"
	rm -f "$DIR"/rootfs-*.tar
	# shellcheck disable=SC2086
	rm -rf "$DIR/rootfs.tmp"
	mmdebstrap --quiet --variant=extract --include="$(echo $PKGS | tr ' ' ,)" \
		bookworm "$DIR/rootfs.tmp" http://deb.debian.org/debian
	prune "$DIR/rootfs.tmp"
	tar -C "$DIR/rootfs.tmp" --numeric-owner -cf "$ROOTFS" .
	rm -rf "$DIR/rootfs.tmp"
fi
if [ -n "${REFRESH:-}" ] || ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
	buildah rmi "$BASE" >/dev/null 2>&1 || true
	echo "image: base layer $BASE"
	c=$(buildah from --quiet scratch)
	buildah add --quiet "$c" "$ROOTFS" / >/dev/null
	buildah config --created-by "mmdebstrap --variant=extract bookworm: $PKGS" "$c"
	buildah commit --quiet --rm --format oci "$c" "$BASE" >/dev/null
fi

# 2. The CNI plugin, static (the runtime on the node executes it, outside the image).
if [ ! -f "$DIR/static/build.ninja" ]; then
	meson setup "$DIR/static" "$SRC" -Dtests=false -Dprefer_static=true \
		-Dc_link_args=-static -Dc_args="-march=$MARCH" >"$DIR/static-setup.log"
fi
# getprotobyname in libnl-3.a warns about static glibc; the plugin never calls it.
ninja -C "$DIR/static" cni/podswitch 2>&1 | grep -E "error|FAILED" || true
install -m 0755 -s "$DIR/static/cni/podswitch" "$STAGE/usr/libexec/cni/podswitch"
if ldd "$STAGE/usr/libexec/cni/podswitch" >/dev/null 2>&1; then
	echo "image.sh: the CNI plugin is not static" >&2; exit 1
fi

# Debian's IPAM plugins: only host-local and static (the package's other 14 plugins, and
# the iptables they pull in, have no use here).
CNIP=$(apt-cache policy containernetworking-plugins | awk '/Candidate:/ {print $2}')
if [ ! -d "$DIR/cni-plugins-$CNIP" ]; then
	rm -rf "$DIR"/cni-plugins-* "$DIR/debs"; mkdir -p "$DIR/debs"
	(cd "$DIR/debs" && apt-get download -q -o APT::Sandbox::User=root "containernetworking-plugins=$CNIP" >/dev/null)
	dpkg-deb -x "$DIR"/debs/containernetworking-plugins_*.deb "$DIR/debs/x"
	mkdir -p "$DIR/cni-plugins-$CNIP"
	cp "$DIR/debs/x/usr/lib/cni/host-local" "$DIR/debs/x/usr/lib/cni/static" "$DIR/cni-plugins-$CNIP/"
	rm -rf "$DIR/debs"
fi
mkdir -p "$STAGE/usr/lib/cni" "$STAGE/usr/libexec/podswitch"
cp "$DIR/cni-plugins-$CNIP"/* "$STAGE/usr/lib/cni/"
install -m 0755 "$SRC/tools/cni-install.sh" "$STAGE/usr/libexec/podswitch/cni-install"
install -m 0755 "$SRC/tools/podswitch-ready.sh" "$STAGE/usr/libexec/podswitch/ready"
rm -rf "$STAGE/usr/share/man"

# 3. podswitch on top of the base.
c=$(buildah from --quiet "$BASE")
trap 'buildah rm "$c" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet "$c" "$STAGE" / >/dev/null
# Root in the container, but with only the capabilities README.md "The image" lists (the
# runtime grants them: podman --cap-add, the DaemonSet's securityContext). podswitchd
# reads /etc/podswitch/podswitchd.json (the ConfigMap on a cluster).
buildah config --user 0:0 --workingdir / --created-by "make install PREFIX=/usr, tools/image.sh" \
	--env PATH=/usr/sbin:/usr/bin:/sbin:/bin --env PODSWITCH_SOCKET=/run/podswitch/podswitchd.sock \
	--entrypoint '["/usr/sbin/podswitchd"]' --cmd '[]' --stop-signal SIGTERM \
	--label org.opencontainers.image.title=podswitch \
	--label org.opencontainers.image.version="$VERSION" \
	--label org.opencontainers.image.description="podswitchd, podswitchctl and the podswitch CNI plugin on Debian 12 with DPDK 22.11" \
	--label io.podswitch.health-cmd="podswitchctl info" \
	--label io.podswitch.capabilities="IPC_LOCK NET_ADMIN SYS_ADMIN" \
	"$c"
old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
buildah commit --quiet --rm --format oci "$c" "$IMAGE" >/dev/null
trap - EXIT
# The image this one replaces, and bases of other package lists, are not kept.
[ -z "$old" ] || [ "$old" = "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ] || podman rmi "$old" >/dev/null 2>&1 || true
buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/podswitch-base:' | grep -v ":$HASH\$" |
	xargs -r buildah rmi >/dev/null 2>&1 || true
rm -f "$ARCHIVE"
buildah push --quiet "$IMAGE" "oci-archive:$ARCHIVE:$IMAGE" >/dev/null

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image: $IMAGE ($((size / 1000000)) MB unpacked, $(( $(stat -c %s "$ARCHIVE") / 1000000 )) MB archive $ARCHIVE) in $((SECONDS - t0)) s"
