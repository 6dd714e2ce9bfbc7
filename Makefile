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
	iproute2 iputils-ping iperf3 tcpdump jq python3 python3-scapy \
	containernetworking-plugins procps psmisc \
	clang libclang-rt-14-dev llvm

# Only `make benchmark` needs these: the side-by-side peers and the profiler.
BENCH_PKGS = openvswitch-switch-dpdk linux-perf

.PHONY: all deps bench-deps hugepages build test demo install clean benchmark fuzz fuzz-build \
	test-asan

all: build

# Install only what is missing, so a second run is quick and offline.
deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(APT_PKGS)"

bench-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(BENCH_PKGS)"

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
test: deps hugepages build fuzz-build
	@rc=0; meson test -C $(BUILD) --print-errorlogs --num-processes 1 || rc=$$?; \
	tools/summary.sh $(BUILD) || rc=1; \
	tests/fuzz/run.sh $(FUZZ_BUILD) 20 || rc=1; \
	exit $$rc

# libFuzzer targets (tests/fuzz/): clang, ASan and UBSan, a build dir of their own.
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

# Every fuzz target for FUZZ_TIME seconds (default 60); what they find stays in
# $(FUZZ_BUILD)/fuzz-corpus and fuzz-artifacts.
fuzz: deps hugepages fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME)

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

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(ASAN_BUILD)
