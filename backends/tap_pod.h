/*
 * tap_pod.h: the pod side of a tap port, for tap.c (tap_pod.c does the netlink work).
 * A pod's tap is identified by its name, its kind (a tap) and a tag podswitchd writes in
 * its alias (IFLA_IFALIAS, "podswitch:<port name>"), which travels with the interface into
 * the pod and survives podswitchd. Control thread (main lcore) only.
 */
#ifndef PSW_BACKENDS_TAP_POD_H
#define PSW_BACKENDS_TAP_POD_H

#include <stddef.h>
#include <jansson.h>

#include "ctl/rpc.h"

#define PSW_TAP_TAG_MAX 80

/* What the CNI plugin set up in the pod, from the port's options. */
struct psw_tap_pod {
	const char *netns;      /* the pod's network namespace (a file) */
	const char *ifname;     /* the interface's name in the pod */
	const char *host_name;  /* its name in podswitchd's namespace before the move */
	const char *tag;        /* "podswitch:<port name>" */
	json_t *ips;            /* [{"address": "10.1.0.5/24", "gateway": "10.1.0.1"}] */
	json_t *routes;         /* [{"dst": "0.0.0.0/0", "gw": ...}] (CNI route objects) */
};

/* Check options.ips and options.routes (absent is fine). Errors name the entry. */
int psw_tap_pod_check(json_t *ips, json_t *routes, struct psw_rpc_error *err);

/* In netns (NULL: podswitchd's own), is there a link named ifname? 1: it is a tap tagged
 * tag (its MAC in mac); 0: no such link; -1: a link of that name that is not ours, or an
 * error (err says which). */
int psw_tap_pod_find(const char *netns, const char *ifname, const char *tag, char mac[18],
		     struct psw_rpc_error *err);

/* Delete the link named ifname in netns (NULL: our own) if it is a tap tagged tag.
 * 1 deleted, 0 nothing to delete (absent, not ours, or the namespace is gone). */
int psw_tap_pod_delete(const char *netns, const char *ifname, const char *tag);

/* Write tag into the alias of ifname (our namespace). */
int psw_tap_pod_tag(const char *ifname, const char *tag, struct psw_rpc_error *err);

/* Rebuild the pod side as the CNI plugin made it: move host_name into netns, rename it
 * ifname there, bring it up, add the addresses and routes. The MAC and MTU were set by
 * ethdev before. On failure the link goes back to our namespace under host_name. */
int psw_tap_pod_setup(const struct psw_tap_pod *pod, struct psw_rpc_error *err);

#endif
