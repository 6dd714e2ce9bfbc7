/*
 * tombstones.c: CNI DELs that podswitchd did not see. When the CNI plugin deletes a pod's
 * attachment it first writes a tombstone, a file <control socket>.deleted/<port>.json
 * holding {"containerId", "ifname"}, then asks podswitchd to remove the port and, when
 * that worked, removes the tombstone again. A tombstone that stays means podswitchd was
 * down (or went down) during the DEL: at its next start the port that carries that
 * attachment in its external_ids (cni.container_id, cni.ifname) is not restored, its back
 * end removes what it left (a pod's persistent tap), and the tombstones are removed.
 * Written before the plugin connects, a tombstone is on disk before a starting podswitchd
 * can read the state: a DEL racing a start is either seen here or answered by the
 * restarted switch. A new ADD of the same attachment removes its tombstone, so a pod
 * re-created with the same names is never mistaken for the deleted one.
 *
 * Control thread, at start only (state_sections.c's "ports" section calls it).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control/tombstones.h"

static char dir_path[4096];
static json_t *loaded; /* [{"file", "containerId", "ifname"}] */

int
psw_tombstones_dir(const char *control_socket, char *out, size_t len)
{
	int n = snprintf(out, len, "%s.deleted", control_socket);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
psw_tombstones_load(const char *dir)
{
	struct dirent *de;
	DIR *d;

	json_decref(loaded);
	loaded = json_array();
	snprintf(dir_path, sizeof(dir_path), "%s", dir);
	d = opendir(dir_path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		char path[sizeof(dir_path) + 256];
		json_t *t;

		size_t n = strlen(de->d_name);

		/* "<port name>.json"; not ".", "..", nor a plugin's "*.json.tmp<pid>". */
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_path, de->d_name);
		t = json_load_file(path, 0, NULL);
		json_array_append_new(loaded, json_pack("{s:s,s:O?,s:O?}", "file", de->d_name,
						       "containerId",
						       json_object_get(t, "containerId"),
						       "ifname", json_object_get(t, "ifname")));
		json_decref(t);
	}
	closedir(d);
	if (json_array_size(loaded) > 0)
		fprintf(stderr, "podswitchd: %zu pod attachment(s) deleted while podswitchd was down (%s)\n",
			json_array_size(loaded), dir_path);
	return 0;
}

bool
psw_tombstones_match(json_t *port, char *why, size_t len)
{
	json_t *ids = json_object_get(port, "external_ids"), *t;
	const char *cid = json_string_value(json_object_get(ids, "cni.container_id"));
	const char *ifn = json_string_value(json_object_get(ids, "cni.ifname"));
	size_t i;

	if (cid == NULL || ifn == NULL)
		return false;
	json_array_foreach(loaded, i, t) {
		const char *tc = json_string_value(json_object_get(t, "containerId"));
		const char *ti = json_string_value(json_object_get(t, "ifname"));

		if (tc != NULL && ti != NULL && strcmp(tc, cid) == 0 && strcmp(ti, ifn) == 0) {
			snprintf(why, len,
				 "its pod attachment (container %s, interface %s) was deleted by the CNI plugin while podswitchd was down",
				 cid, ifn);
			return true;
		}
	}
	return false;
}

void
psw_tombstones_done(void)
{
	json_t *t;
	size_t i;

	json_array_foreach(loaded, i, t) {
		char path[sizeof(dir_path) + 256];

		snprintf(path, sizeof(path), "%s/%s", dir_path,
			 json_string_value(json_object_get(t, "file")));
		if (unlink(path) < 0 && errno != ENOENT)
			fprintf(stderr, "podswitchd: cannot remove %s: %s\n", path, strerror(errno));
	}
	json_decref(loaded);
	loaded = NULL;
}
