/*
 * pcapng.h: a pcapng file writer (pcapng.c) for captures: one section, one interface
 * (the captured port, by its podswitch name), enhanced packet blocks with the direction
 * in their flags, an interface statistics block at the end. No DPDK: the capture writer
 * (control/capture.c) hands it byte ranges, the unit test plain buffers. Format:
 * draft-ietf-opsawg-pcapng; read by tcpdump, tshark and Wireshark (libpcap >= 1.1).
 */
#ifndef PSW_CONTROL_PCAPNG_H
#define PSW_CONTROL_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define PSW_PCAPNG_DIR_IN  1    /* EPB flags bits 0-1: inbound */
#define PSW_PCAPNG_DIR_OUT 2    /* outbound */
#define PSW_PCAPNG_BATCH   64   /* packets per psw_pcapng_write call, at most */
#define PSW_PCAPNG_SEGS    8    /* data pieces per packet, at most */

struct psw_pcapng {
	int fd;
	uint64_t bytes;             /* written so far */
};

/* One packet: its data in up to PSW_PCAPNG_SEGS pieces (cap_len bytes in all). */
struct psw_pcapng_pkt {
	uint64_t ts_ns;             /* UTC, nanoseconds since 1970 */
	uint32_t orig_len;          /* on the wire */
	uint32_t cap_len;           /* captured: the sum of seg lengths */
	uint8_t dir;                /* PSW_PCAPNG_DIR_*, 0 unknown */
	unsigned n_seg;
	struct iovec seg[PSW_PCAPNG_SEGS];
};

/* Creates (or truncates) a regular file at path, not following a symbolic link, and
 * writes the section header and the interface (ifname, ifdesc; Ethernet; nanosecond
 * timestamps; snaplen). 0, or -errno with err ("file: ..."). */
int psw_pcapng_open(struct psw_pcapng *w, const char *path, const char *ifname,
		    const char *ifdesc, uint32_t snaplen, char *err, size_t errlen);
/* Writes n (<= PSW_PCAPNG_BATCH) packets. 0 or -errno. */
int psw_pcapng_write(struct psw_pcapng *w, const struct psw_pcapng_pkt *pkts, unsigned n);
/* The interface statistics block: packets seen by the filter, packets lost. 0 or -errno. */
int psw_pcapng_write_stats(struct psw_pcapng *w, uint64_t ts_ns, uint64_t received,
			   uint64_t dropped);
void psw_pcapng_close(struct psw_pcapng *w);

#endif
