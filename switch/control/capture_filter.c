/*
 * capture_filter.c: a capture's filter (capture.h), on the control thread. libpcap
 * compiles the tcpdump expression for Ethernet into classic BPF (pcap_compile, as tcpdump
 * does), DPDK turns that into eBPF over an mbuf (rte_bpf_convert) and loads it
 * (rte_bpf_load: verified, and compiled to native code where DPDK has a JIT for the CPU).
 * PMDs run it on each packet of the captured port (datapath/capture_dp.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "control/capture.h"

struct rte_bpf *
psw_capture_filter_compile(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	struct rte_bpf_prm *prm;
	struct bpf_program prog;
	struct rte_bpf *bpf;
	pcap_t *p;

	p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (p == NULL) {
		snprintf(err, errlen, "filter: libpcap cannot start");
		errno = ENOMEM;
		return NULL;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "filter: \"%s\": %s", expr, pcap_geterr(p));
		pcap_close(p);
		errno = EINVAL;
		return NULL;
	}
	prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	pcap_close(p);
	if (prm == NULL) {
		snprintf(err, errlen, "filter: \"%s\": cannot convert to eBPF: %s", expr,
			 rte_strerror(rte_errno));
		errno = EINVAL;
		return NULL;
	}
	bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (bpf == NULL) {
		snprintf(err, errlen, "filter: \"%s\": eBPF program refused: %s", expr,
			 rte_strerror(rte_errno));
		errno = EINVAL;
	}
	return bpf;
}
