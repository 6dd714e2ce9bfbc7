/*
 * pcapng.c: the capture file (pcapng.h). Runs on a capture's writer thread. Blocks are
 * built in host byte order (the section header's magic tells readers which) and written
 * with one writev per batch; the packet bytes are not copied again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/pcapng.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BT_ISB 0x00000005u
#define MAGIC  0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1

#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define EPB_FLAGS 2
#define ISB_IFRECV 4
#define ISB_IFDROP 5

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Appends option (code, len, value, padding) at buf + *off. */
static void
put_opt(uint8_t *buf, size_t *off, uint16_t code, const void *val, uint16_t len)
{
	memcpy(buf + *off, &code, 2);
	memcpy(buf + *off + 2, &len, 2);
	if (len > 0)
		memcpy(buf + *off + 4, val, len);
	memset(buf + *off + 4 + len, 0, pad4(len) - len);
	*off += 4 + pad4(len);
}

static void
put32(uint8_t *buf, size_t *off, uint32_t v)
{
	memcpy(buf + *off, &v, 4);
	*off += 4;
}

/* Writes all of buf[0..len), retrying short writes. 0 or -errno. */
static int
write_all(struct psw_pcapng *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t k = write(w->fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		len -= (size_t)k;
		w->bytes += (uint64_t)k;
	}
	return 0;
}

/* Closes a block started at buf with type: its length at the front and at the end. */
static int
finish_block(struct psw_pcapng *w, uint8_t *buf, size_t off, uint32_t type)
{
	uint32_t total = (uint32_t)off + 4;

	memcpy(buf, &type, 4);
	memcpy(buf + 4, &total, 4);
	put32(buf, &off, total);
	return write_all(w, buf, off);
}

static int
header(struct psw_pcapng *w, const char *ifname, const char *ifdesc, uint32_t snaplen)
{
	uint8_t buf[1024];
	size_t off = 8, nl = strnlen(ifname, 255), dl = strnlen(ifdesc, 255);
	const char *app = "podswitchd " PODSWITCH_VERSION;
	uint8_t tsresol = 9;        /* 10^-9 s */
	uint16_t major = 1, minor = 0;
	uint64_t section_len = UINT64_MAX;
	int rc;

	put32(buf, &off, MAGIC);
	memcpy(buf + off, &major, 2);
	memcpy(buf + off + 2, &minor, 2);
	off += 4;
	memcpy(buf + off, &section_len, 8);
	off += 8;
	put_opt(buf, &off, SHB_USERAPPL, app, (uint16_t)strlen(app));
	put_opt(buf, &off, OPT_END, NULL, 0);
	rc = finish_block(w, buf, off, BT_SHB);
	if (rc != 0)
		return rc;

	off = 8;
	{
		uint16_t lt = LINKTYPE_ETHERNET, reserved = 0;

		memcpy(buf + off, &lt, 2);
		memcpy(buf + off + 2, &reserved, 2);
		off += 4;
	}
	put32(buf, &off, snaplen);
	put_opt(buf, &off, IF_NAME, ifname, (uint16_t)nl);
	if (dl > 0)
		put_opt(buf, &off, IF_DESCRIPTION, ifdesc, (uint16_t)dl);
	put_opt(buf, &off, IF_TSRESOL, &tsresol, 1);
	put_opt(buf, &off, OPT_END, NULL, 0);
	return finish_block(w, buf, off, BT_IDB);
}

int
psw_pcapng_open(struct psw_pcapng *w, const char *path, const char *ifname,
		const char *ifdesc, uint32_t snaplen, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	w->fd = -1;
	w->bytes = 0;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "file: \"%s\" exists and is not a regular file", path);
		return -EEXIST;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "file: cannot create \"%s\": %s", path, strerror(errno));
		return rc;
	}
	rc = header(w, ifname, ifdesc, snaplen);
	if (rc != 0) {
		snprintf(err, errlen, "file: cannot write \"%s\": %s", path, strerror(-rc));
		psw_pcapng_close(w);
	}
	return rc;
}

int
psw_pcapng_write(struct psw_pcapng *w, const struct psw_pcapng_pkt *pkts, unsigned n)
{
	/* Per packet: the block head (28 bytes) and its tail (padding, flags, end of
	 * options, length: at most 3 + 8 + 4 + 4). */
	static __thread uint8_t heads[PSW_PCAPNG_BATCH][28], tails[PSW_PCAPNG_BATCH][20];
	struct iovec iov[PSW_PCAPNG_BATCH * (PSW_PCAPNG_SEGS + 2)];
	unsigned k = 0;

	if (n > PSW_PCAPNG_BATCH)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		const struct psw_pcapng_pkt *p = &pkts[i];
		size_t pad = pad4(p->cap_len) - p->cap_len, off = 0, toff = 0;
		uint32_t flags = p->dir & 3, len, zero_if = 0;
		uint8_t zero[3] = {0};

		len = 28 + (uint32_t)pad4(p->cap_len) + 8 + 4 + 4;
		put32(heads[i], &off, BT_EPB);
		put32(heads[i], &off, len);
		put32(heads[i], &off, zero_if);
		put32(heads[i], &off, (uint32_t)(p->ts_ns >> 32));
		put32(heads[i], &off, (uint32_t)p->ts_ns);
		put32(heads[i], &off, p->cap_len);
		put32(heads[i], &off, p->orig_len);
		memcpy(tails[i], zero, pad);
		toff = pad;
		put_opt(tails[i], &toff, EPB_FLAGS, &flags, 4);
		put_opt(tails[i], &toff, OPT_END, NULL, 0);
		put32(tails[i], &toff, len);
		iov[k++] = (struct iovec){ heads[i], 28 };
		for (unsigned s = 0; s < p->n_seg && s < PSW_PCAPNG_SEGS; s++)
			iov[k++] = p->seg[s];
		iov[k++] = (struct iovec){ tails[i], toff };
	}
	/* One writev per batch; a short write (a full disk) is finished piece by piece. */
	{
		ssize_t done = writev(w->fd, iov, (int)k);
		size_t skip;

		if (done < 0 && errno != EINTR)
			return -errno;
		skip = done > 0 ? (size_t)done : 0;
		w->bytes += skip;
		for (unsigned i = 0; i < k; i++) {
			int rc;

			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			rc = write_all(w, (uint8_t *)iov[i].iov_base + skip, iov[i].iov_len - skip);
			if (rc != 0)
				return rc;
			skip = 0;
		}
	}
	return 0;
}

int
psw_pcapng_write_stats(struct psw_pcapng *w, uint64_t ts_ns, uint64_t received,
		       uint64_t dropped)
{
	uint8_t buf[128];
	size_t off = 8;

	put32(buf, &off, 0);                    /* interface 0 */
	put32(buf, &off, (uint32_t)(ts_ns >> 32));
	put32(buf, &off, (uint32_t)ts_ns);
	put_opt(buf, &off, ISB_IFRECV, &received, 8);
	put_opt(buf, &off, ISB_IFDROP, &dropped, 8);
	put_opt(buf, &off, OPT_END, NULL, 0);
	return finish_block(w, buf, off, BT_ISB);
}

void
psw_pcapng_close(struct psw_pcapng *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
