/*
 * fuzz_cni_netconf.c: libFuzzer target for the CNI plugin's network-config parser
 * (cni/netconf.c), fed exactly what the runtime writes to the plugin's stdin. Each input
 * is parsed for every command (their rules differ: GC needs the valid list, CHECK a
 * prevResult); an accepted config then derives the names and paths an ADD would use.
 * Corpus: tests/fuzz/corpus/cni_netconf/ (the example configs and the tests' configs).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const commands[] = {"ADD", "DEL", "CHECK", "GC", "STATUS", NULL};
	struct psw_cni_env env = {
		.command = "ADD", .container_id = "0123456789abcdef", .ifname = "net1",
		.netns = "/var/run/netns/pod",
	};

	strcpy(env.k8s_namespace, "default");
	strcpy(env.k8s_pod, "fuzz-pod");
	for (const char *const *cmd = commands; *cmd; cmd++) {
		struct psw_netconf nc;
		struct psw_cni_error err;
		char dir[PSW_CNI_PATH_MAX], sock[PSW_CNI_SUN_MAX], meta[PSW_CNI_PATH_MAX];

		if (psw_netconf_parse((const char *)data, size, *cmd, &nc, &err))
			continue;
		if (psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err) == 0) {
			psw_cni_socket_path(dir, env.ifname, sock, sizeof(sock), &err);
			psw_cni_meta_path(dir, env.ifname, meta, sizeof(meta));
		}
		psw_sock_dir_mode(nc.socket_mode);
		psw_netconf_free(&nc);
	}
	return 0;
}
