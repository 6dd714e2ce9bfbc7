/*
 * fuzz_cni_prev_result.c: libFuzzer target for the CNI results the plugin reads
 * (cni/result.c): a prevResult (CHECK reads the pod's interface and addresses from it; an
 * ADD in a chain appends its own result to it) and an IPAM plugin's result, which has the
 * same shape. The input is that JSON object; an accepted IPAM result is written back as an
 * ADD result in every cniVersion.
 * Corpus: tests/fuzz/corpus/cni_prev_result/ (results of host-local, static, podswitch).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psw_attachment a = {
		.ifname = "eth0", .mac = "0a:58:0a:01:00:05", .mtu = 1500,
		.sandbox = "/var/run/netns/pod", .iface = PSW_IFACE_TAP, .port_name = "cni0123456789a",
	};
	struct psw_ipam_result r;
	struct psw_cni_error err;
	json_t *v = json_loadb((const char *)data, size, 0, NULL);
	char mac[18];

	if (!v)
		return 0;
	/* CHECK: the interface by name and sandbox, its addresses and routes. */
	if (psw_prev_result_parse(v, "eth0", "/var/run/netns/pod", &r, mac, &err) == 0)
		psw_ipam_result_free(&r);
	/* A delegated IPAM plugin's answer, then our result in each version, chained. */
	if (psw_ipam_result_parse(v, &r, &err) == 0) {
		for (int ver = 0; ver < PSW_CNI_V_COUNT; ver++) {
			json_t *ours = psw_result_build(ver, &a, &r, json_object_get(v, "dns"));
			json_t *chained = psw_result_chain(v, ours);
			char *text = json_dumps(chained, JSON_COMPACT);

			free(text);
			json_decref(chained);
			json_decref(ours);
		}
		psw_ipam_result_free(&r);
	}
	json_decref(v);
	return 0;
}
