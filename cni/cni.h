/*
 * cni.h: what the rooms of the CNI plugin `podswitch` share. The plugin is a short-lived
 * process run by the container runtime (or Multus) once per command; it never touches the
 * packet path, it only asks podswitchd (over the control socket) for a port and plumbs the
 * pod's side: main.c runs a command (cmd_*.c, cmd.h), netconf.c reads the config, env.c
 * the environment, names.c derives names and paths, network.c compares the config's
 * transport with podswitchd's network, ipam.c runs the IPAM plugin, netns.c
 * sets up the kernel interface in the pod's network namespace, result.c writes CNI
 * results, devinfo.c the files a userspace pod reads and its directory's access.
 *
 * Errors are CNI error objects: every function that can fail returns 0 or -1 and fills a
 * struct psw_cni_error with a code from the CNI spec (1.1.0, "Error") and a message.
 */
#ifndef PSW_CNI_H
#define PSW_CNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* CNI spec 1.1.0 well-known error codes. */
#define PSW_CNI_E_INCOMPATIBLE     1  /* incompatible CNI version */
#define PSW_CNI_E_UNSUPPORTED      2  /* unsupported field in network configuration */
#define PSW_CNI_E_NO_CONTAINER     3  /* container unknown or does not exist */
#define PSW_CNI_E_ENV              4  /* invalid necessary environment variables */
#define PSW_CNI_E_IO               5  /* I/O failure */
#define PSW_CNI_E_DECODE           6  /* failed to decode content */
#define PSW_CNI_E_CONFIG           7  /* invalid network config */
#define PSW_CNI_E_TRY_AGAIN        11 /* try again later */
#define PSW_CNI_E_NOT_AVAILABLE    50 /* the plugin is not available (STATUS) */
#define PSW_CNI_E_LIMITED          51 /* not available, existing containers limited */
/* Plugin-specific codes (>= 100). */
#define PSW_CNI_E_SWITCH           100 /* podswitchd refused a request */
#define PSW_CNI_E_NETNS            101 /* the pod interface could not be set up */
#define PSW_CNI_E_CHECK            102 /* CHECK found a difference */
#define PSW_CNI_E_EXISTS           103 /* ADD for an attachment that exists */

#define PSW_CNI_MSG_MAX  512
#define PSW_CNI_PATH_MAX 4096
/* sockaddr_un.sun_path holds 108 bytes including the NUL. */
#define PSW_CNI_SUN_MAX  108
#define PSW_CNI_IFNAME_MAX 16 /* IFNAMSIZ */
#define PSW_CNI_PORT_NAME_MAX 64
/* The MTU range podswitchd's port.add accepts (switch/rpc_port.c): a config outside it
 * fails at parse time, naming "mtu", rather than in port.add after IPAM. */
#define PSW_CNI_MTU_MIN 68
#define PSW_CNI_MTU_MAX 9600
/* podswitchd's limit of VXLAN peers per network (switch/tunnel/tunnel.h). */
#define PSW_CNI_MAX_PEERS 128
#define PSW_CNI_VXLAN_PORT 4789

struct psw_cni_error {
	int code;
	char msg[PSW_CNI_MSG_MAX];
	char details[PSW_CNI_MSG_MAX];
};

/* Sets err and returns -1. */
int psw_cni_err(struct psw_cni_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds details (printf-style) to an error already set; returns -1. */
int psw_cni_err_details(struct psw_cni_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The versions the plugin answers; each gets results of its own shape. */
enum psw_cni_version {
	PSW_CNI_V031,
	PSW_CNI_V040,
	PSW_CNI_V100,
	PSW_CNI_V110,
	PSW_CNI_V_COUNT,
};

#define PSW_CNI_VERSION_LATEST PSW_CNI_V110

/* "0.3.1" ... -> enum, or -1. */
int psw_cni_version_parse(const char *s);
const char *psw_cni_version_name(enum psw_cni_version v);
/* Orders any dotted version string (for choosing a delegate's version); <0, 0, >0. */
int psw_cni_version_cmp(const char *a, const char *b);

enum psw_cni_iface {
	PSW_IFACE_TAP,
	PSW_IFACE_VHOST_USER,
	PSW_IFACE_MEMIF,
};

const char *psw_cni_iface_name(enum psw_cni_iface i);

/* The network configuration (stdin), checked strictly. Pointers to JSON are borrowed from
 * `raw`, which the netconf owns. */
struct psw_netconf {
	json_t *raw;
	enum psw_cni_version version;
	char version_str[16];
	char name[256];
	enum psw_cni_iface iface;
	char control_socket[PSW_CNI_SUN_MAX];  /* podswitchd's control socket */
	char network[PSW_CNI_PORT_NAME_MAX];   /* podswitchd network; "" = none */
	char socket_dir[PSW_CNI_PATH_MAX];     /* host dir holding one dir per pod */
	char lock_file[PSW_CNI_PATH_MAX];
	unsigned mtu;                          /* 0 = the network's, else the device's */
	/* The network's transport and gateway (network.c): podswitchd's network is made
	 * with them when it is missing, and an existing one must agree. */
	bool vxlan_set;
	unsigned vxlan_vni, vxlan_port;
	unsigned n_peers;
	char peers[PSW_CNI_MAX_PEERS][16];     /* IPv4, as inet_ntop writes them */
	unsigned vlan;                         /* 0 = none */
	char gateway[64];                      /* "10.244.1.1/16"; "" = none */
	bool gateway_explicit;                 /* "gateway" (else from the IPAM config) */
	int timeout_ms;                        /* control-socket timeout */
	/* vhost-user */
	bool vhost_switch_server;              /* podswitchd is the server (default client) */
	unsigned queues;
	/* memif */
	bool memif_abstract;
	unsigned memif_ring_size, memif_buffer_size;
	/* userspace pods: who may use the pod directory and socket; "" / false = unset */
	char socket_owner[33];                 /* user name or uid */
	char socket_group[33];                 /* group name or gid */
	bool socket_mode_set;
	unsigned socket_mode;                  /* permission bits (<= 0777) of the socket */
	/* IPAM: "type" and the object (NULL when there is none) */
	json_t *ipam;
	char ipam_type[256];
	json_t *dns;
	json_t *prev_result;
	json_t *valid_attachments;             /* GC: cni.dev/valid-attachments */
	/* runtimeConfig */
	bool mac_set;
	unsigned char mac[6];
	char device_info_file[PSW_CNI_PATH_MAX];
};

/* The CNI_* environment and the parsed CNI_ARGS. */
struct psw_cni_env {
	const char *command;      /* ADD, DEL, CHECK, STATUS, GC, VERSION */
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *path;         /* CNI_PATH */
	/* CNI_ARGS */
	char k8s_namespace[256];
	char k8s_pod[256];
	char k8s_infra_id[256];
	char k8s_pod_uid[64];
	bool ignore_unknown;
	bool mac_set;
	unsigned char mac[6];
};

/* netconf.c */
int psw_netconf_parse(const char *text, size_t len, const char *command,
		      struct psw_netconf *nc, struct psw_cni_error *err);
void psw_netconf_free(struct psw_netconf *nc);
/* env.c: reads CNI_* for `command` (which variables are required depends on it). */
int psw_cni_env_load(struct psw_cni_env *env, struct psw_cni_error *err);
/* "K=V;K=V" into env; unknown keys fail unless IgnoreUnknown is true. */
int psw_cni_args_parse(const char *args, struct psw_cni_env *env, struct psw_cni_error *err);
/* names.c */
int psw_mac_parse(const char *s, unsigned char mac[6]);
void psw_mac_format(const unsigned char mac[6], char out[18]);
/* Locally administered unicast MAC from 6 random bytes. */
void psw_mac_random(unsigned char mac[6]);
/* Non-empty and only [A-Za-z0-9_.-] (names that may become file and directory names). */
bool psw_cni_name_valid(const char *s);
/* FNV-1a 64 of a, a NUL, b: stable across runs (names must match between ADD and DEL). */
uint64_t psw_cni_hash(const char *a, const char *b);
/* podswitchd port name for an attachment: "cni" + 11 hex digits of a hash of
 * (container id, ifname); fits every port type's device-name limits. */
void psw_cni_port_name(const char *container_id, const char *ifname, char out[PSW_CNI_PORT_NAME_MAX]);
/* Host-side tap name (<= 15 chars), unique per (container id, ifname). */
void psw_cni_tap_name(const char *container_id, const char *ifname, char out[PSW_CNI_IFNAME_MAX]);
/* The per-pod directory under socket_dir: "<namespace>_<pod>" when the kubelet names the
 * pod and the socket path fits, else derived from the container id. */
int psw_cni_pod_dir(const struct psw_netconf *nc, const struct psw_cni_env *env,
		    char *out, size_t len, struct psw_cni_error *err);
/* "<pod dir>/<ifname>.sock" (checked < 108 bytes) and "<pod dir>/<ifname>.json". */
int psw_cni_socket_path(const char *pod_dir, const char *ifname, char *out, size_t len,
			struct psw_cni_error *err);
void psw_cni_meta_path(const char *pod_dir, const char *ifname, char *out, size_t len);

/* network.c: podswitchd's network as the config describes it. */
/* "address/len" (IPv4 or IPv6) into its bytes; 0, or -1 when s is not one. */
struct psw_cidr {
	int family;
	unsigned char addr[16];
	unsigned len;
};
int psw_cidr_parse(const char *s, struct psw_cidr *out);
/* Does the config say how to make its network (a transport or a "gateway")? */
bool psw_network_makes(const struct psw_netconf *nc);
/* network.add params for the config's network. New reference. */
json_t *psw_network_add_params(const struct psw_netconf *nc);
/* The entry named name in a network.list result, or NULL (borrowed). */
json_t *psw_network_find(json_t *list, const char *name);
/* An existing network (network.list's entry) agrees with the config: the transport and an
 * explicit gateway the config names are the network's. Else error 7 naming the key. */
int psw_network_agrees(const struct psw_netconf *nc, json_t *net, struct psw_cni_error *err);
/* The pod's MTU on net: the config's "mtu" (error 7 when above the network's), else the
 * network's (VXLAN: the underlay's less 50), else 0 (the device's). */
int psw_network_mtu(const struct psw_netconf *nc, json_t *net, unsigned *mtu,
		    struct psw_cni_error *err);

/* devinfo.c: socketOwner, socketGroup and socketMode resolved (user and group names looked up) at
 * ADD: the pod directory gets them (psw_sock_dir_mode) and podswitchd's port options
 * "owner", "group", "perm" carry them to the socket. */
struct psw_sock_access {
	bool uid_set, gid_set, mode_set;
	unsigned uid, gid;
	unsigned mode;         /* the socket's permission bits */
};

int psw_sock_access_resolve(const struct psw_netconf *nc, struct psw_sock_access *out,
			    struct psw_cni_error *err);
/* The pod directory's mode for a socket mode: the owner gets rwx, and group and others
 * get x (search) wherever they get r or w, so they can reach the socket. */
unsigned psw_sock_dir_mode(unsigned socket_mode);

/* ipam.c: run the IPAM plugin of nc for `command` ("ADD", "DEL", "CHECK", "GC",
 * "STATUS") with the current environment (CNI_COMMAND replaced) and the config on stdin.
 * On ADD *result gets the plugin's result (new reference). The config's cniVersion is
 * lowered to the newest the plugin supports when it does not support ours; GC and STATUS
 * are skipped (0) for plugins older than 1.1.0. */
int psw_ipam_exec(const struct psw_netconf *nc, const char *command, const char *cni_path,
		  json_t **result, struct psw_cni_error *err);
/* Run any plugin binary: stdin -> stdout, with CNI_COMMAND=command. *out gets the parsed
 * stdout (may be NULL for empty output); a non-zero exit turns the printed error into err. */
int psw_plugin_exec(const char *plugin, const char *cni_path, const char *command,
		    const char *stdin_text, json_t **out, struct psw_cni_error *err);
/* First executable `name` on the colon-separated path list. */
int psw_plugin_find(const char *name, const char *cni_path, char *out, size_t len);

/* result.c: the addresses of an IPAM result, normalised. */
struct psw_ip {
	int family;          /* AF_INET or AF_INET6 */
	char address[64];    /* "10.1.0.2/24" */
	char gateway[48];    /* "" when none */
};

#define PSW_MAX_IPS 8

struct psw_ipam_result {
	unsigned n_ips;
	struct psw_ip ips[PSW_MAX_IPS];
	json_t *routes;      /* array of route objects as given (owned) */
	json_t *dns;         /* object or NULL (owned) */
};

/* What ADD made, for the result and the metadata file. */
struct psw_attachment {
	char ifname[PSW_CNI_IFNAME_MAX];
	char mac[18];
	unsigned mtu;
	const char *sandbox;            /* CNI_NETNS */
	enum psw_cni_iface iface;
	char socket_path[PSW_CNI_SUN_MAX]; /* userspace pods: "" for abstract memif */
	char abstract_socket[PSW_CNI_SUN_MAX];
	const char *mode;               /* the pod's role: vhost "server"/"client", memif "client" */
	char port_name[PSW_CNI_PORT_NAME_MAX];
	char meta_path[PSW_CNI_PATH_MAX];
	char pod_dir[PSW_CNI_PATH_MAX];
};

int psw_ipam_result_parse(json_t *res, struct psw_ipam_result *out, struct psw_cni_error *err);
void psw_ipam_result_free(struct psw_ipam_result *r);
/* The ADD result in version v. dns: the IPAM's if set, else the config's. */
json_t *psw_result_build(enum psw_cni_version v, const struct psw_attachment *a,
			 const struct psw_ipam_result *ipam, json_t *conf_dns);
/* When podswitch runs after other plugins of a chain: their prevResult with ours appended
 * (our ips' "interface" indexes shifted past theirs). New reference. */
json_t *psw_result_chain(json_t *prev, json_t *ours);
/* {"cniVersion", "code", "msg", "details"} */
json_t *psw_result_error(const char *version, const struct psw_cni_error *err);
json_t *psw_result_version(const char *requested);
/* Compare the pod's interface and addresses with a prevResult (CHECK). */
int psw_prev_result_parse(json_t *prev, const char *ifname, const char *sandbox,
			  struct psw_ipam_result *out, char mac[18], struct psw_cni_error *err);

/* devinfo.c */
/* The pod-side metadata file (JSON) in the pod directory; written atomically. */
int psw_meta_write(const struct psw_attachment *a, const struct psw_netconf *nc,
		   const struct psw_cni_env *env, const struct psw_ipam_result *ipam,
		   struct psw_cni_error *err);
/* NPWG device-info (spec 1.1.0) for vhost-user or memif into path. */
int psw_devinfo_write(const char *path, const struct psw_attachment *a,
		      struct psw_cni_error *err);
json_t *psw_devinfo_build(const struct psw_attachment *a);
/* A metadata file read back (DEL, GC, ADD's duplicate check): NULL unless it is a regular
 * file (no link followed, no FIFO waited on) of at most PSW_CNI_META_MAX bytes holding
 * JSON. A pod may own its directory and put anything there. */
#define PSW_CNI_META_MAX (64 * 1024)
json_t *psw_json_read_file(const char *path);
/* Write a JSON value to path atomically (tmp + rename), mode 0644; the temporary file is
 * created fresh (O_EXCL, no links followed), so a pod that owns the directory cannot
 * redirect the write. */
int psw_json_write_file(const char *path, json_t *v, struct psw_cni_error *err);

/* tombstone.c: "<control socket>.deleted/<port>.json" names an attachment whose DEL
 * podswitchd may not have seen (switch/control/tombstones.c reads them at its start).
 * write: record it (DEL, before asking podswitchd), else remove it (once podswitchd
 * removed the port, or ADD made it again). */
int psw_tombstone(const struct psw_netconf *nc, const struct psw_cni_env *env,
		  const char *port, bool write, struct psw_cni_error *err);

/* The pod directory's owner and mode as found before an ADD changed them. */
struct psw_dir_state {
	bool saved;
	unsigned uid, gid, mode;
};

/* Give dir the configured owner, group and mode (nothing when none is set); *before
 * keeps what it had, for psw_pod_dir_restore when the ADD fails later. */
int psw_pod_dir_set_access(const char *dir, const struct psw_sock_access *acc,
			   struct psw_dir_state *before, struct psw_cni_error *err);
void psw_pod_dir_restore(const char *dir, const struct psw_dir_state *before);
/* CHECK: dir has the configured owner, group and mode (error 102 naming the key). */
int psw_pod_dir_check_access(const char *dir, const struct psw_netconf *nc,
			     const struct psw_sock_access *acc, struct psw_cni_error *err);

/* DEL, GC: an attachment's files in its pod directory, and the directory once empty. A
 * new sandbox of the same pod reuses the directory: when the metadata file names another
 * container, the files are that sandbox's and stay (a late DEL of the old one must not
 * cut the new one off). */
void psw_pod_files_remove(const char *pod_dir, const char *ifname, const char *container_id);

/* netns.c: kernel interface set-up through libnl-route-3. */
struct psw_link_conf {
	const char *host_name;     /* the tap's name in the host netns */
	const char *netns;         /* CNI_NETNS path */
	const char *ifname;        /* CNI_IFNAME */
	const unsigned char *mac;  /* NULL: keep */
	unsigned mtu;              /* 0: keep */
	const struct psw_ipam_result *ipam;
};

/* Move, rename, set MAC/MTU, up, addresses, routes. Reports the final MAC. */
int psw_netns_setup(const struct psw_link_conf *lc, char mac_out[18], struct psw_cni_error *err);
/* CHECK: the interface exists in the netns, is up and holds every address of ipam
 * (and the MAC when mac is non-empty). */
int psw_netns_check(const char *netns, const char *ifname, const char *mac,
		    const struct psw_ipam_result *ipam, struct psw_cni_error *err);
/* Delete ifname in netns if it is there. 0 also when the netns or link is gone. */
int psw_netns_del_link(const char *netns, const char *ifname, struct psw_cni_error *err);
/* 1 when netns holds an interface named ifname, 0 when it does not, -1 on error. */
int psw_netns_link_exists(const char *netns, const char *ifname, struct psw_cni_error *err);
/* 1 when the netns path exists and is a network namespace, 0 when absent, -1 otherwise. */
int psw_netns_exists(const char *netns, struct psw_cni_error *err);

#endif
