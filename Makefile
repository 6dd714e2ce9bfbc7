# The two front doors: `make demo` and `make test`. Both do all set-up on a fresh
# Debian 12 machine as root (packages, hugepages, build) and are safe to run again.

BUILD    ?= build
FUZZ_BUILD ?= build-fuzz
ASAN_BUILD ?= build-asan
FUZZ_TIME ?= 60
PREFIX   ?= /usr/local
DESTDIR  ?=
HUGEPAGES ?= 1024

APT_PKGS = dpdk dpdk-dev libdpdk-dev libjansson-dev libnuma-dev libcmocka-dev \
	libnl-route-3-dev libpcap-dev meson ninja-build pkg-config gcc make \
	iproute2 iputils-ping iputils-arping iperf3 tcpdump tshark jq python3 python3-scapy \
	containernetworking-plugins procps psmisc clang libclang-rt-14-dev libmicrohttpd-dev curl \
	python3-prometheus-client llvm

# Only `make benchmark` needs these: the side-by-side peers, the profiler, the plots.
BENCH_PKGS = openvswitch-switch-dpdk linux-perf gnuplot-nox

# `make image` and the tests of the image, the manifests and a container runtime: the tools
# that build and run images, and containerd with a local root filesystem for its containers.
IMAGE_TOOLS = buildah podman mmdebstrap containerd busybox-static python3-yaml

# The image's root filesystem (Debian 12, tools/image.sh): runtime libraries only, with
# their dependencies. podswitchd links DPDK statically (meson.build), so no librte
# package: what it links besides (libpcap, libxdp and libbpf for DPDK's drivers and
# capture filters, libbsd, libnuma), jansson, libnl, libmicrohttpd (/metrics). busybox:
# sh for the probe and the CNI installer. Debian's host-local and static IPAM plugins are
# added from containernetworking-plugins (without the package's other plugins and iptables).
IMAGE_PKGS = busybox libjansson4 libnl-route-3-200 libnuma1 libbsd0 libmicrohttpd12 \
	libpcap0.8 libxdp1 libbpf1
# The image's binaries run on any x86-64 CPU of this level (build/ uses -march=native).
IMAGE_MARCH ?= x86-64-v2
IMAGE_DIR = $(BUILD)/image

.PHONY: all deps bench-deps image-deps apt-install hugepages build test demo install image clean benchmark \
	fuzz fuzz-build test-asan

all: build

# Install only what is missing, so a second run is quick and offline.
deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(APT_PKGS)"

bench-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(BENCH_PKGS)"

image-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(IMAGE_TOOLS)"

apt-install:
	@missing=""; for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

hugepages:
	@cur=$$(cat /proc/sys/vm/nr_hugepages); \
	if [ "$$cur" -lt "$(HUGEPAGES)" ]; then echo $(HUGEPAGES) > /proc/sys/vm/nr_hugepages; fi; \
	mkdir -p /dev/hugepages; \
	grep -qs '/dev/hugepages hugetlbfs' /proc/mounts || mount -t hugetlbfs nodev /dev/hugepages; \
	echo "hugepages: $$(cat /proc/sys/vm/nr_hugepages) x 2MB, hugetlbfs on /dev/hugepages"

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The suite, then every fuzz target for 20 s under ASan+UBSan (a crash, leak or undefined
# behaviour fails `make test`).
test: deps image-deps hugepages build fuzz-build
	@rc=0; tools/leftovers.sh snapshot $(BUILD)/before-suite; \
	meson test -C $(BUILD) --print-errorlogs --num-processes 1 || rc=$$?; \
	tools/summary.sh $(BUILD) || rc=1; \
	tools/leftovers.sh check $(BUILD)/before-suite || rc=1; \
	tests/fuzz/run.sh $(FUZZ_BUILD) 20 || rc=1; \
	exit $$rc

# libFuzzer targets (tests/fuzz/): clang, ASan and UBSan, a build dir of their own.
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

# Every fuzz target (or those in FUZZ_TARGETS) for FUZZ_TIME seconds (default 60); what
# they find stays in $(FUZZ_BUILD)/fuzz-corpus and fuzz-artifacts.
fuzz: deps hugepages fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

# The unit and e2e suites again, built with ASan+UBSan in $(ASAN_BUILD) (tools/asan_suite.sh).
test-asan: deps hugepages
	tools/asan_suite.sh $(ASAN_BUILD)

demo: deps hugepages build
	tools/demo.sh $(BUILD)

benchmark: deps bench-deps hugepages build
	benchmarks/run.sh $(BUILD)

install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	ninja -C $(BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

# The OCI image (README.md "The image"): `make install PREFIX=/usr` from a build directory of
# its own (portable -march, stripped, no tests) into a staging tree, then tools/image.sh.
image: deps image-deps
	@[ -f $(IMAGE_DIR)/meson/build.ninja ] || meson setup $(IMAGE_DIR)/meson --buildtype=debugoptimized \
		-Dtests=false -Dstrip=true -Dc_args=-march=$(IMAGE_MARCH) >/dev/null
	@rm -rf $(IMAGE_DIR)/stage
	@$(MAKE) --no-print-directory install BUILD=$(IMAGE_DIR)/meson PREFIX=/usr \
		DESTDIR=$(abspath $(IMAGE_DIR))/stage >$(IMAGE_DIR)/install.log
	IMAGE_PKGS="$(IMAGE_PKGS)" IMAGE_MARCH=$(IMAGE_MARCH) tools/image.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(ASAN_BUILD)
