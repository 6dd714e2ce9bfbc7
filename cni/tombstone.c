/*
 * tombstone.c: the plugin's side of "a DEL while podswitchd is down wins" (cni.h). DEL
 * writes a tombstone naming the attachment before it asks podswitchd to remove the port,
 * and removes it once podswitchd did; a tombstone left means podswitchd may not have seen
 * the DEL, and at its next start it does not restore that port (tombstones.c in
 * switch/control/). ADD removes a stale one, so a pod made again with the same names is
 * never taken for the deleted one. Plugin process only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"

int psw_tombstone(const struct psw_netconf *nc, const struct psw_cni_env *env,
		  const char *port, bool write, struct psw_cni_error *err)
{
	char path[PSW_CNI_PATH_MAX];

	snprintf(path, sizeof(path), "%s.deleted/%s.json", nc->control_socket, port);
	if (write) {
		json_t *t = json_pack("{s:s,s:s,s:s,s:s}", "containerId", env->container_id,
				      "ifname", env->ifname, "network", nc->name, "port", port);
		int rc = psw_json_write_file(path, t, err);

		json_decref(t);
		return rc;
	}
	if (unlink(path) && errno != ENOENT)
		fprintf(stderr, "podswitch: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}
