/*
 * fuzz_common.h: what the libFuzzer targets of tests/fuzz/ share: an EAL without
 * hugepages or PCI, one lcore, a file prefix of its own (psw_fuzz_<target>_<pid>, which
 * run.sh removes from /var/run/dpdk after the run), and a packet pool with podswitch's
 * mbuf metadata. Targets run the real code on the fuzzer's thread, which plays the
 * control thread and PMD 0 in turn, as the unit tests do.
 */
#ifndef PSW_FUZZ_COMMON_H
#define PSW_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <sanitizer/lsan_interface.h>

/* DPDK's memory (rte_malloc, mbufs, the PMD contexts) is mapped by EAL, not malloc'd: a
 * pointer kept only there (a PMD's rx-queue set, its exact-match cache) would look like a
 * leak. LeakSanitizer scans the mapped parts of a root region. */
static inline int
psw_fuzz_lsan_root(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	__lsan_register_root_region(msl->base_va, msl->len);
	return 0;
}

static inline void
psw_fuzz_eal(const char *target)
{
	static char prefix[64];
	char *argv[] = {(char *)target, "-l", "0", "--no-huge", "--no-pci", "-m", "256",
			"--log-level", "*:error", "--no-telemetry", "--file-prefix", prefix};

	snprintf(prefix, sizeof(prefix), "psw_fuzz_%s_%d", target, (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", target);
		exit(1);
	}
	rte_memseg_list_walk(psw_fuzz_lsan_root, NULL);
}

/* A private directory for the target's sockets and files, under $TMPDIR (run.sh gives
 * each run one of its own and removes it). */
static inline void
psw_fuzz_tmpdir(char *buf, size_t len, const char *target)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/psw_fuzz_%s.XXXXXX", t ? t : "/tmp", target);
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

/* The fuzzer's bytes, read front to back; reads past the end give zeros. */
struct psw_fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
psw_fuzz_u8(struct psw_fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
psw_fuzz_u16(struct psw_fuzz_in *in)
{
	uint16_t v = psw_fuzz_u8(in);

	return (uint16_t)(v << 8 | psw_fuzz_u8(in));
}

static inline uint32_t
psw_fuzz_u32(struct psw_fuzz_in *in)
{
	uint32_t v = psw_fuzz_u16(in);

	return v << 16 | psw_fuzz_u16(in);
}

/* Up to max bytes (fewer when the input ends); returns how many. */
static inline size_t
psw_fuzz_take(struct psw_fuzz_in *in, size_t max, const uint8_t **out)
{
	size_t k = in->n < max ? in->n : max;

	*out = in->p;
	in->p += k;
	in->n -= k;
	return k;
}

#endif
