/*
 * test_monitoring.c: the pure parts of monitoring: the Prometheus text format
 * (switch/control/metrics_fmt.c: label escaping, HELP/TYPE, samples, a buffer that grows
 * past its first allocation), the metrics address parser (metrics_http.c), and the
 * pcapng writer (pcapng.c), whose files libpcap must read back packet for packet with
 * their lengths, timestamps and bytes, including packets in several pieces and cut ones.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "control/metrics_fmt.h"
#include "control/metrics_http.h"
#include "control/pcapng.h"

/* metrics_http.c's page maker lives with the switch's readers: not in this test. */
int
psw_metrics_render_prom(struct psw_text *t)
{
	(void)t;
	return -1;
}

static void
test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(psw_prom_escape("pod1", out, sizeof(out)), 4);
	assert_string_equal(out, "pod1");
	psw_prom_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	psw_prom_escape("", out, sizeof(out));
	assert_string_equal(out, "");
	/* Truncated to fit, never in the middle of an escape. */
	psw_prom_escape("ab\"", out, 4);
	assert_string_equal(out, "ab");
	psw_prom_escape("\"\"\"", out, 5);
	assert_string_equal(out, "\\\"\\\"");
}

static void
test_text(void **state)
{
	struct psw_text t = {0};

	(void)state;
	psw_prom_head(&t, "podswitch_port_rx_packets_total", "counter", "Packets\nreceived \\ all.");
	psw_prom_sample(&t, "podswitch_port_rx_packets_total",
			(const char *const[]){"port", "po\"d1", NULL}, 42);
	psw_prom_sample(&t, "podswitch_drops_total",
			(const char *const[]){"port", "a", "reason", "no_rule", NULL}, 0);
	psw_prom_sample(&t, "podswitch_rules", NULL, UINT64_MAX);
	psw_prom_sample(&t, "podswitch_x", (const char *const[]){NULL}, 1);
	psw_prom_sample_f(&t, "podswitch_uptime_seconds", NULL, 1.5);
	assert_false(t.oom);
	assert_string_equal(t.buf,
		"# HELP podswitch_port_rx_packets_total Packets\\nreceived \\\\ all.\n"
		"# TYPE podswitch_port_rx_packets_total counter\n"
		"podswitch_port_rx_packets_total{port=\"po\\\"d1\"} 42\n"
		"podswitch_drops_total{port=\"a\",reason=\"no_rule\"} 0\n"
		"podswitch_rules 18446744073709551615\n"
		"podswitch_x 1\n"
		"podswitch_uptime_seconds 1.5\n");
	assert_int_equal(t.len, strlen(t.buf));
	psw_text_free(&t);
}

static void
test_text_grows(void **state)
{
	struct psw_text t = {0};
	char name[32];

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		psw_prom_sample(&t, name, (const char *const[]){"port", "pod", NULL}, i);
	}
	assert_false(t.oom);
	assert_true(t.cap > 16384);
	assert_int_equal(t.len, strlen(t.buf));
	assert_non_null(strstr(t.buf, "\nm4999{port=\"pod\"} 4999\n"));
	assert_memory_equal(t.buf, "m0{port=\"pod\"} 0\nm1{", 20);
	psw_text_free(&t);
}

static void
test_listen(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	(void)state;
	assert_int_equal(psw_metrics_parse_listen("127.0.0.1:9100", "k", &ss, &len, err,
						  sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9100);
	assert_int_equal(psw_metrics_parse_listen("[::1]:0", "k", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	static const char *const bad[] = {"", "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
		"127.0.0.1:65536", "127.0.0.1:-1", "localhost:9100", "::1:9100", "[::1]9100",
		"[::1:9100", "1.2.3.4.5:80", ":9100"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (psw_metrics_parse_listen(bad[i], "metrics.listen", &ss, &len, err,
					     sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "metrics.listen"));
	}
}

/* Three packets: one whole, one in three pieces, one cut at 20 of 100 bytes. */
static void
test_pcapng(void **state)
{
	char path[] = "/tmp/psw-test-pcapng-XXXXXX", err[256], perr[PCAP_ERRBUF_SIZE];
	uint8_t a[60], b[301], c[20];
	struct psw_pcapng w;
	struct psw_pcapng_pkt p[3];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *rd;
	int fd;

	(void)state;
	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(255 - i);
	memset(c, 0xc5, sizeof(c));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(psw_pcapng_open(&w, path, "pod\"1", "podswitch tap port", 16384, err,
					 sizeof(err)), 0);
	memset(p, 0, sizeof(p));
	p[0] = (struct psw_pcapng_pkt){ .ts_ns = 1700000000123456789ull, .orig_len = 60,
		.cap_len = 60, .dir = PSW_PCAPNG_DIR_IN, .n_seg = 1, .seg = {{a, 60}} };
	p[1] = (struct psw_pcapng_pkt){ .ts_ns = 1700000001000000001ull, .orig_len = 301,
		.cap_len = 301, .dir = PSW_PCAPNG_DIR_OUT, .n_seg = 3,
		.seg = {{b, 100}, {b + 100, 1}, {b + 101, 200}} };
	p[2] = (struct psw_pcapng_pkt){ .ts_ns = 1700000002000000000ull, .orig_len = 100,
		.cap_len = 20, .n_seg = 1, .seg = {{c, 20}} };
	assert_int_equal(psw_pcapng_write(&w, p, 3), 0);
	assert_int_equal(psw_pcapng_write(&w, p, 0), 0);
	assert_int_equal(psw_pcapng_write_stats(&w, 1700000003000000000ull, 4, 1), 0);
	assert_true(w.bytes > 400);
	psw_pcapng_close(&w);

	rd = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (rd == NULL)
		fail_msg("libpcap: %s", perr);
	assert_int_equal(pcap_datalink(rd), DLT_EN10MB);
	assert_int_equal(pcap_next_ex(rd, &h, &data), 1);
	assert_int_equal(h->caplen, 60);
	assert_int_equal(h->len, 60);
	assert_int_equal(h->ts.tv_sec, 1700000000);
	assert_int_equal(h->ts.tv_usec, 123456789);    /* nanoseconds, as asked */
	assert_memory_equal(data, a, 60);
	assert_int_equal(pcap_next_ex(rd, &h, &data), 1);
	assert_int_equal(h->caplen, 301);
	assert_memory_equal(data, b, 301);
	assert_int_equal(h->ts.tv_usec, 1);
	assert_int_equal(pcap_next_ex(rd, &h, &data), 1);
	assert_int_equal(h->caplen, 20);
	assert_int_equal(h->len, 100);
	assert_memory_equal(data, c, 20);
	assert_int_equal(pcap_next_ex(rd, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(rd);

	/* Not over something that is not a regular file. */
	assert_int_equal(psw_pcapng_open(&w, "/tmp", "x", "", 100, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "file:"));
	assert_true(psw_pcapng_open(&w, "/nonexistent-dir/x.pcapng", "x", "", 100, err,
				    sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot create"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_grows),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_pcapng),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
