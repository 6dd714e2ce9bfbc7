/*
 * fuzz_cni_netconf.c: libFuzzer target for the CNI plugin's network-config parser
 * (cni/netconf.c), fed exactly what the runtime writes to the plugin's stdin. Each input
 * is parsed for every command (their rules differ: GC needs the valid list, CHECK a
 * prevResult); an accepted config must hold what the rest of the plugin assumes (MTU and
 * mode in range, the MAC as written, paths that fit, a transport and gateway podswitchd
 * takes) and derives the names, paths and network.add params an ADD would use.
 * Corpus: tests/fuzz/corpus/cni_netconf/ (the example configs and the tests' configs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

		if (psw_netconf_parse((const char *)data, size, *cmd, &nc, &err)) {
			/* Every refusal says why. */
			if (!err.code || !err.msg[0])
				abort();
			continue;
		}
		/* What was accepted is what the rest of the plugin may assume. */
		if (nc.mtu && (nc.mtu < PSW_CNI_MTU_MIN || nc.mtu > PSW_CNI_MTU_MAX))
			abort();
		if (nc.socket_mode > 0777 || psw_sock_dir_mode(nc.socket_mode) > 0777)
			abort();
		/* The network's transport and gateway: in podswitchd's ranges, one of them,
		 * a gateway it takes, and the network.add params built from them. */
		if (nc.vxlan_set && (nc.vxlan_vni < 1 || nc.vxlan_vni > 16777215 ||
				     nc.vxlan_port < 1 || nc.vxlan_port > 65535 ||
				     nc.n_peers > PSW_CNI_MAX_PEERS || nc.vlan))
			abort();
		if (nc.vlan > 4094 || ((nc.vxlan_set || nc.vlan || nc.gateway_explicit) && !nc.network[0]))
			abort();
		if (nc.gateway[0]) {
			struct psw_cidr g;

			if (psw_cidr_parse(nc.gateway, &g) || g.len < 1)
				abort();
		}
		json_decref(psw_network_add_params(&nc));
		if (nc.socket_dir[0] != '/' || nc.control_socket[0] != '/' ||
		    strlen(nc.control_socket) >= PSW_CNI_SUN_MAX)
			abort();
		if (nc.mac_set) {
			/* runtimeConfig.mac reads back as it was written (lower case). */
			const char *in = json_string_value(json_object_get(
				json_object_get(nc.raw, "runtimeConfig"), "mac"));
			char out[18];

			psw_mac_format(nc.mac, out);
			if (!in || strcasecmp(in, out) || (nc.mac[0] & 1))
				abort();
		}
		if (psw_cni_pod_dir(&nc, &env, dir, sizeof(dir), &err) == 0) {
			if (psw_cni_socket_path(dir, env.ifname, sock, sizeof(sock), &err) == 0 &&
			    strlen(sock) >= PSW_CNI_SUN_MAX)
				abort();
			psw_cni_meta_path(dir, env.ifname, meta, sizeof(meta));
		}
		psw_netconf_free(&nc);
	}
	return 0;
}
